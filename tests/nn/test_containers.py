"""Sequential, ModuleList and ModuleDict."""

from collections import OrderedDict

import numpy as np
import pytest

import trainctl as tc
from trainctl import nn


def test_sequential_forward_chains_modules():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = tc.randn(5, 3)
    want = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).detach().numpy(), want.detach().numpy())


def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.Linear(2, 2), nn.ReLU(), nn.Tanh()
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    tail = seq[1:]
    # torch keeps the names in a slice
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    assert tail[0] is b
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is c  # renumbered, as torch does
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)
    seq.insert(1, b)
    assert seq[1] is b and len(seq) == 4
    assert seq.pop(1) is b and len(seq) == 3
    both = nn.Sequential(a) + nn.Sequential(c)
    assert list(both) == [a, c]


def test_sequential_from_ordered_dict_uses_the_names():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert isinstance(seq.act, nn.ReLU)
    assert repr(seq).splitlines()[1] == "  (fc): Linear(in_features=2, out_features=3, bias=True)"


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers += [nn.Sigmoid()]
    assert [type(m).__name__ for m in layers][3:] == ["ReLU", "Tanh", "Sigmoid"]
    sub = layers[1:3]
    assert isinstance(sub, nn.ModuleList) and list(sub._modules) == ["0", "1"]
    del layers[0]
    assert list(layers._modules) == [str(i) for i in range(5)]
    layers.insert(0, nn.Identity())
    assert isinstance(layers[0], nn.Identity)
    with pytest.raises(TypeError):
        layers.extend(nn.Linear(1, 1))
    assert repr(nn.ModuleList([nn.Linear(2, 2)] * 0 + [nn.ReLU(), nn.ReLU(), nn.Tanh()])) == (
        "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n)"
    )


def test_module_dict():
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})
    assert list(heads) == ["cls", "box"] and "cls" in heads and len(heads) == 2
    heads["extra"] = nn.ReLU()
    assert list(heads.keys()) == ["cls", "box", "extra"]
    assert [type(m).__name__ for m in heads.values()] == ["Linear", "Linear", "ReLU"]
    assert heads.pop("extra").__class__ is nn.ReLU and "extra" not in heads
    heads.update([("z", nn.Tanh())])
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "box.weight", "box.bias"]
    with pytest.raises(KeyError, match="already exists"):
        heads["keys"] = nn.ReLU()  # would shadow a method
    heads.clear()
    assert len(heads) == 0
