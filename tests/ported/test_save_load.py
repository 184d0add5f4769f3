"""``tc.save`` / ``tc.load`` for what tutorials save: state_dicts, optimizer and scheduler
state, nested containers; never pickle, and a clear way out for PyTorch's pickle files."""

import io
import json
import pickle
import zipfile
from collections import OrderedDict, namedtuple

import numpy
import pytest

import trainctl as tc
from tests.golden.fixtures import HERE as GOLDEN
from trainctl.core.errors import CheckpointError

sched = tc.optim.lr_scheduler


def assert_same(a, b):
    """Equal structure, types and values (tensors compared by dtype, shape and data)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, tc.Tensor):
        assert a.dtype is b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        assert numpy.array_equal(a.numpy(force=True), b.numpy(force=True), equal_nan=True)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and a != a:
        assert b != b
    else:
        assert a == b


def roundtrip(obj, tmp_path):
    tc.save(obj, tmp_path / "obj.pth")
    return tc.load(tmp_path / "obj.pth")


def test_module_state_dict_roundtrip_and_load(tmp_path):
    model = tc.nn.Sequential(tc.nn.Linear(3, 4), tc.nn.BatchNorm1d(4), tc.nn.Linear(4, 2))
    model(tc.randn(5, 3))  # moves the BatchNorm running stats
    loaded = roundtrip(model.state_dict(), tmp_path)
    assert isinstance(loaded, OrderedDict)
    assert_same(loaded, model.state_dict())
    assert loaded["1.num_batches_tracked"].dtype is tc.int64
    fresh = tc.nn.Sequential(tc.nn.Linear(3, 4), tc.nn.BatchNorm1d(4), tc.nn.Linear(4, 2))
    assert str(fresh.load_state_dict(loaded)) == "<All keys matched successfully>"
    x = tc.randn(2, 3)
    assert tc.equal(fresh.eval()(x), model.eval()(x))


@pytest.mark.parametrize("make", [
    lambda p: tc.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: tc.optim.Adam(p, lr=0.01, amsgrad=True),
    lambda p: tc.optim.AdamW(p, lr=0.01),
    lambda p: tc.optim.RMSprop(p, lr=0.01, momentum=0.5),
    lambda p: tc.optim.Adagrad(p, lr=0.1),
], ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_optimizer_state_dict_roundtrip_resumes_exactly(make, tmp_path):
    def run(model, opt, seeds):
        for i in seeds:
            x = tc.tensor(numpy.random.RandomState(i).randn(8, 3).astype(numpy.float32))
            loss = (model(x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    tc.manual_seed(0)
    model = tc.nn.Linear(3, 2)
    opt = make(model.parameters())
    run(model, opt, range(3))
    tc.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.pth")
    loaded = tc.load(tmp_path / "ck.pth")
    assert_same(loaded["opt"], opt.state_dict())
    run(model, opt, range(3, 5))

    resumed = tc.nn.Linear(3, 2)
    resumed.load_state_dict(loaded["model"])
    opt2 = make(resumed.parameters())
    opt2.load_state_dict(loaded["opt"])
    run(resumed, opt2, range(3, 5))
    assert tc.equal(resumed.weight, model.weight) and tc.equal(resumed.bias, model.bias)


@pytest.mark.parametrize("make", [
    lambda o: sched.StepLR(o, step_size=3, gamma=0.5),
    lambda o: sched.MultiStepLR(o, milestones=[2, 5]),
    lambda o: sched.ExponentialLR(o, gamma=0.9),
    lambda o: sched.CosineAnnealingLR(o, T_max=7),
    lambda o: sched.LambdaLR(o, lambda e: 0.9 ** e),
    lambda o: sched.ReduceLROnPlateau(o, patience=1),
    lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=20),
    lambda o: sched.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3),
    lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=3),
    lambda o: sched.SequentialLR(o, [sched.ConstantLR(o, factor=0.5, total_iters=2),
                                     sched.ExponentialLR(o, gamma=0.9)], milestones=[2]),
], ids=["step", "multistep", "exp", "cosine", "lambda", "plateau", "onecycle", "cyclic",
        "warm_restarts", "sequential"])
def test_scheduler_state_dict_roundtrip_continues_the_same_lrs(make, tmp_path):
    def setup():
        w = tc.zeros(1, requires_grad=True)
        opt = tc.optim.SGD([w], lr=0.1, momentum=0.9)
        return opt, make(opt)

    def advance(opt, s, n):
        lrs = []
        for _ in range(n):
            opt.step()
            s.step(1.0) if isinstance(s, sched.ReduceLROnPlateau) else s.step()
            lrs.append(opt.param_groups[0]["lr"])
        return lrs

    opt, s = setup()
    advance(opt, s, 4)
    tc.save({"opt": opt.state_dict(), "sched": s.state_dict()}, tmp_path / "s.pth")
    want = advance(opt, s, 6)
    loaded = tc.load(tmp_path / "s.pth")
    assert_same(loaded["sched"], roundtrip(loaded["sched"], tmp_path))
    opt2, s2 = setup()
    opt2.load_state_dict(loaded["opt"])
    s2.load_state_dict(loaded["sched"])
    assert advance(opt2, s2, 6) == want


def test_nested_containers_and_plain_values(tmp_path):
    Point = namedtuple("Point", "x y")
    obj = {
        "epoch": 3, "loss": 0.25, "best": float("inf"), "missing": float("nan"), "name": "run",
        "flags": [True, False, None], "pair": (1, "a"), "point": Point(1, 2),
        "int_keys": {0: tc.ones(2), 7: "x"}, "dunder": {"__tensor__": 1},
        "shape": tc.Size([2, 3]), "dtype": tc.float16, "device": tc.device("cpu"),
        "tensors": [tc.tensor(2.5), tc.zeros(0, 3), tc.tensor([True, False]),
                    tc.arange(6, dtype=tc.int32).reshape(2, 3), tc.ones(2, dtype=tc.float16)],
        "array": numpy.arange(4.0), "np_scalar": numpy.float32(1.5),
        "view": tc.arange(12.0).reshape(3, 4)[:, 1],  # not contiguous
        "leaf": tc.tensor([1.0, 2.0], requires_grad=True),
    }
    loaded = roundtrip(obj, tmp_path)
    expected = dict(obj, point=(1, 2), np_scalar=1.5, view=tc.tensor([1.0, 5.0, 9.0]))
    del expected["array"]
    array = loaded.pop("array")
    assert isinstance(array, numpy.ndarray) and array.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert_same(loaded, expected)
    assert isinstance(loaded["shape"], tc.Size) and loaded["leaf"].is_leaf


def test_file_objects_and_map_location(tmp_path):
    buffer = io.BytesIO()
    tc.save({"w": tc.ones(3)}, buffer)
    buffer.seek(0)
    assert tc.load(buffer, map_location="cpu")["w"].tolist() == [1.0, 1.0, 1.0]
    tc.save([tc.zeros(1)], tmp_path / "l.pt")
    assert tc.load(tmp_path / "l.pt", map_location=tc.device("cpu"), weights_only=True)[0].device \
        == "cpu"


def test_saving_a_whole_module_says_to_save_its_state_dict(tmp_path):
    with pytest.raises(TypeError, match=r"whole Linear.*state_dict\(\)"):
        tc.save(tc.nn.Linear(2, 2), tmp_path / "m.pth")
    with pytest.raises(TypeError, match="cannot store an object of type set"):
        tc.save({"s": {1, 2}}, tmp_path / "m.pth")
    assert not (tmp_path / "m.pth").exists()


def _torch_like_zip(path):
    """What torch.save writes: a zip archive holding a pickle (here a harmless one)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"weight": [1.0, 2.0]}, protocol=2))
        z.writestr("archive/version", "3\n")


@pytest.mark.parametrize("write", [
    _torch_like_zip,
    lambda p: p.write_bytes(pickle.dumps({"a": 1}, protocol=4)),
    lambda p: p.write_bytes(pickle.dumps([1, 2], protocol=2)),
], ids=["torch_zip", "pickle4", "pickle2"])
def test_loading_a_pickle_file_says_how_to_convert_it(write, tmp_path, monkeypatch):
    path = tmp_path / "model.pth"
    write(path)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(CheckpointError) as info:
        tc.load(path)
    message = str(info.value)
    assert "pickle" in message and "never unpickles" in message
    assert "safetensors" in message and "save_file" in message and str(path) in message


def test_weights_converted_from_pytorch_predict_the_same():
    """gen_ported.py saved a torch MLP's state_dict with safetensors.torch.save_file."""
    expected = json.loads((GOLDEN / "ported" / "torch_mlp.json").read_text())
    model = tc.nn.Sequential(tc.nn.Linear(8, 16), tc.nn.ReLU(), tc.nn.Linear(16, 3))
    state = tc.load(GOLDEN / "ported" / "torch_mlp.safetensors")
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    model.load_state_dict(state)
    with tc.no_grad():
        logits = model(tc.tensor(expected["x"]))
    assert numpy.allclose(logits.numpy(), expected["logits"], rtol=1e-5, atol=1e-6)
    assert logits.argmax(1).tolist() == expected["argmax"]
