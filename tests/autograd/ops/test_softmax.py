"""The softmax family: stability and gradients.

``logsumexp``'s gradients over every ``dim``/``keepdim`` variant are checked with the reductions
(``test_reduction.py``), as it reduces like them.
"""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import rand
from trainctl.autograd import gradcheck


def test_logsumexp_is_stable():
    x = tc.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]])
    expected = [1000 + numpy.log(2), -1000 + numpy.log(2)]
    numpy.testing.assert_allclose(x.logsumexp(1).numpy(), expected)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_gradients(op, dim):
    assert gradcheck(lambda x: getattr(x, op)(dim), [rand(3, 4, 2)])
    assert gradcheck(lambda x: getattr(tc, op)(x, dim=dim), [rand(3, 4, 2)])


def test_softmax_is_stable_and_normalised():
    x = tc.tensor([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    p = x.softmax(-1)
    assert p.numpy()[0].tolist() == [1.0, 0.0, 0.0]
    numpy.testing.assert_allclose(p.sum(-1).numpy(), [1.0, 1.0], rtol=1e-6)
    lp = x.log_softmax(-1)
    assert numpy.isfinite(lp.numpy()).all()
    numpy.testing.assert_allclose(lp.numpy()[0], [0.0, -1000.0, -2000.0])
