"""``sequence_accuracy`` and ``perplexity``, and the ``Permute`` layer that feeds them."""

import doctest
import math

import numpy
import pytest

import trainctl as tc
from trainctl.config.registry import registry
from trainctl.core.errors import ShapeError
from trainctl.training.metrics import Perplexity, SequenceAccuracy, sequence


def _scores(predicted, n_classes=4):
    """(N, C, T) scores whose arg-max is ``predicted`` (N, T)."""
    p = numpy.asarray(predicted)
    return tc.tensor(numpy.moveaxis(numpy.eye(n_classes)[p], -1, 1).astype(numpy.float32))


def test_sequence_accuracy_needs_every_counted_position():
    m = SequenceAccuracy()
    targets = tc.tensor([[1, 2, 3], [1, 2, 3], [0, 0, -100]])
    m.update(_scores([[1, 2, 3], [1, 2, 0], [0, 0, 3]]), targets)
    assert m.compute() == pytest.approx(2 / 3)  # the -100 position does not count
    m.update(_scores([[3, 3, 3]]), tc.tensor([[3, 3, 3]]))
    assert m.compute() == pytest.approx(3 / 4)
    assert registry("metric").get("sequence_accuracy") is SequenceAccuracy


def test_perplexity_is_exp_of_the_mean_token_cross_entropy():
    rng = numpy.random.default_rng(0)
    logits = rng.standard_normal((3, 5, 4)).astype(numpy.float32)
    targets = numpy.array([[0, 1, 2, 3], [4, 4, -100, 1], [2, 2, 2, 2]])
    m = Perplexity()
    m.update(tc.tensor(logits[:2]), tc.tensor(targets[:2]))
    m.update(tc.tensor(logits[2:]), tc.tensor(targets[2:]))
    loss = tc.nn.functional.cross_entropy(tc.tensor(logits), tc.tensor(targets))
    assert m.compute() == pytest.approx(math.exp(float(loss)), rel=1e-5)
    assert m.mode == "min"
    uniform = Perplexity()
    uniform.update(tc.zeros(2, 7, 3), tc.tensor([[1, 2, 3], [4, 5, 6]]))
    assert uniform.compute() == pytest.approx(7.0)


def test_merge_adds_the_epoch_state():
    a, b = Perplexity(), Perplexity()
    a.update(tc.zeros(1, 4, 2), tc.tensor([[0, 1]]))
    b.update(tc.zeros(1, 4, 2), tc.tensor([[2, 3]]))
    a.merge(b)
    assert a.tokens == 4 and a.compute() == pytest.approx(4.0)


def test_wrong_layouts_say_how_to_fix_them():
    with pytest.raises(ShapeError, match=r"end a model whose output is \(N, T, C\) with Permute"):
        SequenceAccuracy().update(tc.zeros(2, 3, 4), tc.zeros(2, 4, 3, dtype=tc.int64))
    with pytest.raises(ShapeError, match=r"class indices 0\.\.3"):
        Perplexity().update(tc.zeros(1, 4, 2), tc.tensor([[0, 9]]))


def test_permute_layer_feeds_cross_entropy():
    out = tc.nn.Permute([0, 2, 1])(tc.randn(2, 5, 7))
    assert out.shape == (2, 7, 5)
    assert repr(tc.nn.Permute([0, 2, 1])) == "Permute(dims=[0, 2, 1])"
    assert tc.nn.Permute([0, 2, 1]).state_dict() == {}


def test_docstring_examples():
    result = doctest.testmod(sequence, optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed
