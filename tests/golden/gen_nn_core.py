"""Golden fixtures for the core of ``trainctl.nn`` (layers, activations, losses, state dicts).

Needs torch (``/tmp/torchenv/bin/python tests/golden/gen_nn_core.py``); the tests read the files
without it:

- ``nn_core_cases.json`` + ``nn_core_cases.npz``: for each case the module (by its PyTorch name,
  constructor arguments), its state dict, the inputs, an upstream gradient ``v``, and PyTorch's
  output and gradients of ``sum(v * output)`` with respect to every float input and parameter.
- ``nn_core_state_dicts.json``: ``state_dict`` keys and shapes of nested architectures, checked
  here to load into torch with ``strict=True`` (when trainctl is importable beside torch, a
  state dict made by trainctl itself is loaded and both models' outputs are compared).
- ``nn_core_clip.json``: ``clip_grad_norm_`` / ``clip_grad_value_`` results.
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

HERE = pathlib.Path(__file__).parent
RNG = np.random.default_rng(1234)


def _f32(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape).astype(np.float32)


def _arr(key):
    """A constructor argument that the test replaces by the array stored under ``key``."""
    return {"__array__": key}


class Recorder:
    def __init__(self):
        self.cases = []
        self.arrays = {}

    def put(self, key, value):
        value = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        self.arrays[key] = value
        return key

    def case(self, name, module, args=(), kwargs=None, inputs=(), loss=False, ctor_arrays=None,
             train=False, grad_inputs=None):
        """Run ``module(*inputs)`` in torch and record everything the test needs."""
        kwargs = dict(kwargs or {})
        torch_kwargs = dict(kwargs)
        for key, arr in (ctor_arrays or {}).items():
            stored = self.put(f"{name}/ctor/{key}", arr)
            torch_kwargs[key] = torch.from_numpy(arr.copy())
            kwargs[key] = _arr(stored)
        torch.manual_seed(0)
        mod = getattr(nn, module)(*args, **torch_kwargs)
        mod.train(train)
        for key, value in mod.state_dict().items():
            # give parameters reproducible, well-spread values (not torch's RNG stream)
            if value.dtype.is_floating_point and key in dict(mod.named_parameters()):
                new = _f32(*value.shape, low=-1.0, high=1.0)
                if module == "Embedding" and mod.padding_idx is not None:
                    new[mod.padding_idx] = 0
                with torch.no_grad():
                    value.copy_(torch.from_numpy(new))
        state = {k: self.put(f"{name}/state/{k}", v) for k, v in mod.state_dict().items()}
        tensors, input_keys = [], []
        for i, x in enumerate(inputs):
            key = self.put(f"{name}/input{i}", x)
            input_keys.append(key)
            t = torch.from_numpy(x.copy())
            if t.dtype.is_floating_point and (grad_inputs is None or i in grad_inputs):
                t.requires_grad_(True)
            tensors.append(t)
        out = mod(*tensors)
        v = _f32(*out.shape) if out.dim() else np.float32(1.0)
        out.backward(torch.from_numpy(np.asarray(v)))
        grads = {}
        for i, t in enumerate(tensors):
            if t.grad is not None:
                grads[f"input{i}"] = self.put(f"{name}/grad/input{i}", t.grad)
        for k, p in mod.named_parameters():
            if p.grad is not None:
                grads[k] = self.put(f"{name}/grad/{k}", p.grad)
        after = {k: self.put(f"{name}/after/{k}", v) for k, v in mod.state_dict().items()}
        self.cases.append({
            "name": name, "module": module, "args": list(args), "kwargs": kwargs,
            "train": train, "loss": loss, "grad_inputs": grad_inputs, "inputs": input_keys,
            "state": state,
            "v": self.put(f"{name}/v", v), "output": self.put(f"{name}/output", out),
            "grads": grads, "state_after": after,
        })


def layer_cases(r: Recorder):
    r.case("linear", "Linear", (5, 4), inputs=[_f32(3, 5)])
    r.case("linear_nobias_3d", "Linear", (5, 4), {"bias": False}, inputs=[_f32(2, 3, 5)])
    r.case("linear_1d", "Linear", (5, 2), inputs=[_f32(5)])
    r.case("bilinear", "Bilinear", (3, 4, 2), inputs=[_f32(5, 3), _f32(5, 4)])
    r.case("bilinear_nobias", "Bilinear", (3, 2, 4), {"bias": False},
           inputs=[_f32(2, 3, 3), _f32(2, 3, 2)])
    r.case("identity", "Identity", (7,), {"x": 1}, inputs=[_f32(2, 3)])
    r.case("flatten", "Flatten", inputs=[_f32(2, 3, 4)])
    r.case("flatten_range", "Flatten", (0, 1), inputs=[_f32(2, 3, 4)])
    r.case("unflatten", "Unflatten", (1, [2, 3]), inputs=[_f32(2, 6)])
    idx = np.array([[1, 3, 1, 9], [0, 1, 4, 4]], dtype=np.int64)
    r.case("embedding", "Embedding", (10, 4), inputs=[idx])
    r.case("embedding_padding", "Embedding", (10, 4), {"padding_idx": 1}, inputs=[idx])
    r.case("embedding_freq", "Embedding", (10, 4), {"scale_grad_by_freq": True}, inputs=[idx])
    r.case("embedding_max_norm", "Embedding", (10, 4), {"max_norm": 0.8}, inputs=[idx])
    r.case("dropout_eval", "Dropout", (0.3,), inputs=[_f32(3, 4)])


def activation_cases(r: Recorder):
    x = _f32(4, 6, low=-6.0, high=6.0)
    x[0, :3] = [-30.0, 30.0, 0.5]  # tails for softplus, gelu, logsigmoid...
    specs = [
        ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (0.7,), {}),
        ("SELU", (), {}), ("CELU", (1.5,), {}), ("GELU", (), {}),
        ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("Mish", (), {}),
        ("Sigmoid", (), {}), ("Tanh", (), {}), ("Hardtanh", (-0.5, 2.0), {}),
        ("Softplus", (), {}), ("Softplus", (2.0, 5.0), {}), ("Softmax", (), {"dim": 1}),
        ("Softmax", (), {"dim": 0}), ("LogSoftmax", (), {"dim": -1}), ("Softmin", (), {"dim": 1}),
        ("LogSigmoid", (), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}),
        ("Softsign", (), {}),
    ]
    for i, (name, args, kwargs) in enumerate(specs):
        r.case(f"act{i}_{name.lower()}", name, args, kwargs, inputs=[x])


def loss_cases(r: Recorder):
    x, t = _f32(4, 3), _f32(4, 3)
    for red in ("mean", "sum", "none"):
        r.case(f"mse_{red}", "MSELoss", (), {"reduction": red}, inputs=[x, t], loss=True)
        r.case(f"l1_{red}", "L1Loss", (), {"reduction": red}, inputs=[x, t], loss=True)
        r.case(f"smoothl1_{red}", "SmoothL1Loss", (), {"reduction": red, "beta": 0.5},
               inputs=[x, t], loss=True)
        r.case(f"huber_{red}", "HuberLoss", (), {"reduction": red, "delta": 0.7},
               inputs=[x, t], loss=True)
    r.case("smoothl1_beta0", "SmoothL1Loss", (), {"beta": 0.0}, inputs=[x, t], loss=True)

    logits = _f32(5, 4, low=-3, high=3)
    y = np.array([0, 3, 1, 1, 2], dtype=np.int64)
    y_ign = np.array([0, -100, 1, 3, -100], dtype=np.int64)
    w = np.array([0.5, 2.0, 1.0, 1.5], dtype=np.float32)
    probs = RNG.dirichlet(np.ones(4), 5).astype(np.float32)
    logits4 = _f32(2, 4, 3, 2, low=-3, high=3)
    y4 = RNG.integers(0, 4, (2, 3, 2)).astype(np.int64)
    y4[0, 0, 0] = 7  # ignored below
    ce = "CrossEntropyLoss"
    for red in ("mean", "sum", "none"):
        r.case(f"ce_{red}", ce, (), {"reduction": red}, inputs=[logits, y], loss=True)
        r.case(f"ce_weight_{red}", ce, (), {"reduction": red}, ctor_arrays={"weight": w},
               inputs=[logits, y_ign], loss=True)
        r.case(f"ce_smooth_{red}", ce, (), {"reduction": red, "label_smoothing": 0.2},
               inputs=[logits, y_ign], loss=True)
        r.case(f"ce_smooth_weight_{red}", ce, (), {"reduction": red, "label_smoothing": 0.1},
               ctor_arrays={"weight": w}, inputs=[logits, y_ign], loss=True)
        r.case(f"ce_probs_{red}", ce, (), {"reduction": red}, inputs=[logits, probs], loss=True)
        r.case(f"ce_probs_weight_smooth_{red}", ce, (),
               {"reduction": red, "label_smoothing": 0.15}, ctor_arrays={"weight": w},
               inputs=[logits, probs], loss=True)
        r.case(f"ce_4d_{red}", ce, (), {"reduction": red, "ignore_index": 7,
                                        "label_smoothing": 0.05},
               ctor_arrays={"weight": w}, inputs=[logits4, y4], loss=True)
    r.case("ce_unbatched", ce, (), {}, inputs=[logits[0], np.array(2, dtype=np.int64)],
           loss=True)
    r.case("ce_4d_probs", ce, (), {}, inputs=[logits4, RNG.dirichlet(np.ones(4), (2, 3, 2))
                                              .transpose(0, 3, 1, 2).astype(np.float32)],
           loss=True)

    logp = np.log(probs)
    for red in ("mean", "sum", "none"):
        r.case(f"nll_{red}", "NLLLoss", (), {"reduction": red}, inputs=[logp, y], loss=True)
        r.case(f"nll_weight_{red}", "NLLLoss", (), {"reduction": red, "ignore_index": -100},
               ctor_arrays={"weight": w}, inputs=[logp, y_ign], loss=True)
    r.case("nll_4d", "NLLLoss", (), {"ignore_index": 7}, ctor_arrays={"weight": w},
           inputs=[logits4, y4], loss=True)

    p = RNG.uniform(0.02, 0.98, (4, 3)).astype(np.float32)
    tb = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    wb = RNG.uniform(0.5, 2, (4, 3)).astype(np.float32)
    for red in ("mean", "sum", "none"):
        r.case(f"bce_{red}", "BCELoss", (), {"reduction": red}, inputs=[p, tb], loss=True)
        r.case(f"bce_weight_{red}", "BCELoss", (), {"reduction": red},
               ctor_arrays={"weight": wb}, inputs=[p, tb], loss=True)
    extreme = np.array([[0.0, 1.0, 1e-30], [1.0, 0.0, 0.5]], dtype=np.float32)
    # torch's target gradient uses the unclamped logs (infinite here); only the input's is kept
    r.case("bce_clamped", "BCELoss", (), {"reduction": "none"},
           inputs=[extreme, np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.5]], np.float32)],
           loss=True, grad_inputs=[0])
    z = _f32(4, 3, low=-5, high=5)
    z[0, 0], z[1, 1] = 60.0, -60.0
    pw = np.array([0.5, 3.0, 1.0], dtype=np.float32)
    for red in ("mean", "sum", "none"):
        r.case(f"bcel_{red}", "BCEWithLogitsLoss", (), {"reduction": red}, inputs=[z, tb],
               loss=True)
        r.case(f"bcel_pw_{red}", "BCEWithLogitsLoss", (), {"reduction": red},
               ctor_arrays={"pos_weight": pw, "weight": wb[0]}, inputs=[z, tb], loss=True)

    q = RNG.dirichlet(np.ones(3), 4).astype(np.float32)
    q[0, 1] = 0.0
    for red in ("mean", "sum", "none", "batchmean"):
        # a zero target: torch's target gradient there is NaN (0 * log 0); compare the input's
        r.case(f"kl_{red}", "KLDivLoss", (), {"reduction": red}, inputs=[np.log(probs[:4, :3]), q],
               loss=True, grad_inputs=[0])
    r.case("kl_positive_target", "KLDivLoss", (), {"reduction": "sum"},
           inputs=[np.log(probs[:4, :3]), RNG.dirichlet(np.ones(3), 4).astype(np.float32)],
           loss=True)
    r.case("kl_logtarget", "KLDivLoss", (), {"reduction": "batchmean", "log_target": True},
           inputs=[np.log(probs[:4, :3]), _f32(4, 3, low=-3, high=0)], loss=True)

    a, b = _f32(5, 4), _f32(5, 4)
    yy = np.array([1, -1, 1, -1, -1], dtype=np.int64)
    for red in ("mean", "none"):
        r.case(f"cosemb_{red}", "CosineEmbeddingLoss", (), {"reduction": red, "margin": 0.2},
               inputs=[a, b, yy], loss=True)


# ------------------------------------------------------------------------ state dict keys


class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(6, 3, padding_idx=0)
        self.register_buffer("scale", torch.ones(3))
        self.register_buffer("cache", torch.zeros(2), persistent=False)
        self.proj = nn.Linear(3, 2, bias=False)
        self.bil = nn.Bilinear(2, 2, 1)
        self.crit = nn.CrossEntropyLoss(weight=torch.ones(2))
        self.bce = nn.BCEWithLogitsLoss(pos_weight=torch.ones(1))

    def forward(self, idx):
        h = self.proj(self.emb(idx) * self.scale)
        return self.bil(h, h)


def architectures():
    """name -> (torch model, an example input)."""
    torch.manual_seed(0)
    nested = nn.Sequential(OrderedDict(
        enc=nn.Sequential(nn.Linear(4, 8), nn.Tanh()),
        heads=nn.ModuleDict({"b": nn.Linear(8, 2), "a": nn.Sequential(nn.ReLU(), nn.Linear(8, 3))}),
        blocks=nn.ModuleList([nn.Linear(3, 3), nn.GELU(), nn.Linear(3, 5)]),
    ))
    return {
        "mlp": (nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2)),
                np.ones((2, 4), np.float32)),
        "nested": (nested, None),
        "with_buffers": (WithBuffers(), np.array([[1, 2, 0]], dtype=np.int64)),
    }


def trainctl_model(name):
    """The same architecture built with trainctl (imported from this checkout when possible)."""
    sys.path.insert(0, str(HERE.parent.parent))
    import trainctl as tc

    tnn = tc.nn
    if name == "mlp":
        return tnn.Sequential(tnn.Linear(4, 8), tnn.ReLU(), tnn.Dropout(0.5), tnn.Linear(8, 2))
    if name == "nested":
        return tnn.Sequential(OrderedDict(
            enc=tnn.Sequential(tnn.Linear(4, 8), tnn.Tanh()),
            heads=tnn.ModuleDict({"b": tnn.Linear(8, 2),
                                  "a": tnn.Sequential(tnn.ReLU(), tnn.Linear(8, 3))}),
            blocks=tnn.ModuleList([tnn.Linear(3, 3), tnn.GELU(), tnn.Linear(3, 5)]),
        ))

    class TcWithBuffers(tnn.Module):
        def __init__(self):
            super().__init__()
            self.emb = tnn.Embedding(6, 3, padding_idx=0)
            self.register_buffer("scale", tc.ones(3))
            self.register_buffer("cache", tc.zeros(2), persistent=False)
            self.proj = tnn.Linear(3, 2, bias=False)
            self.bil = tnn.Bilinear(2, 2, 1)
            self.crit = tnn.CrossEntropyLoss(weight=tc.ones(2))
            self.bce = tnn.BCEWithLogitsLoss(pos_weight=tc.ones(1))

        def forward(self, idx):
            h = self.proj(self.emb(idx) * self.scale)
            return self.bil(h, h)

    return TcWithBuffers()


def state_dict_fixture():
    out = {}
    for name, (model, example) in architectures().items():
        sd = model.state_dict()
        keys = list(sd)
        shapes = [list(v.shape) for v in sd.values()]
        # A state dict in torch's key order with plain arrays loads strictly into torch.
        rebuilt = OrderedDict((k, torch.zeros(s)) for k, s in zip(keys, shapes))
        result = model.load_state_dict(rebuilt, strict=True)
        assert not result.missing_keys and not result.unexpected_keys
        entry = {"keys": keys, "shapes": shapes,
                 "named_parameters": [k for k, _ in model.named_parameters()],
                 "named_modules": [k for k, _ in model.named_modules()],
                 "repr": repr(model), "checked_with_trainctl": False}
        try:
            tc_model = trainctl_model(name)
        except ImportError as exc:
            print(f"  {name}: trainctl not importable ({exc}); torch-only check")
            tc_model = None
        if tc_model is not None:  # a state dict made by trainctl loads into torch, same outputs
            tc_sd = tc_model.state_dict()
            assert list(tc_sd) == keys, (name, list(tc_sd), keys)
            model.load_state_dict(OrderedDict((k, torch.from_numpy(v.numpy().copy()))
                                              for k, v in tc_sd.items()), strict=True)
            if example is not None:
                import trainctl as tc

                model.eval()
                tc_model.eval()
                want = model(torch.from_numpy(example)).detach().numpy()
                got = tc_model(tc.from_numpy(example)).detach().numpy()
                assert np.allclose(want, got, atol=1e-5), (name, want, got)
            entry["checked_with_trainctl"] = True
        out[name] = entry
    return out


def clip_fixture():
    cases = []
    for norm_type, max_norm in ((2.0, 1.0), (1.0, 0.5), (float("inf"), 0.3), (3.0, 100.0)):
        grads = [_f32(3, 4), _f32(5), _f32(2, 2, 2)]
        params = [torch.zeros(g.shape, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g.copy())
        total = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        cases.append({"norm_type": str(norm_type), "max_norm": max_norm,
                      "grads": [g.tolist() for g in grads], "total_norm": float(total),
                      "clipped": [p.grad.numpy().tolist() for p in params]})
    grads = [_f32(3, 4), _f32(5)]
    params = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    nn.utils.clip_grad_value_(params, 0.5)
    value = {"clip_value": 0.5, "grads": [g.tolist() for g in grads],
             "clipped": [p.grad.numpy().tolist() for p in params]}
    return {"norm": cases, "value": value}


def main():
    r = Recorder()
    layer_cases(r)
    activation_cases(r)
    loss_cases(r)
    (HERE / "nn_core_cases.json").write_text(json.dumps(
        {"torch": torch.__version__, "cases": r.cases}, indent=1))
    np.savez_compressed(HERE / "nn_core_cases.npz", **r.arrays)
    (HERE / "nn_core_state_dicts.json").write_text(json.dumps(state_dict_fixture(), indent=1))
    (HERE / "nn_core_clip.json").write_text(json.dumps(clip_fixture(), indent=1))


if __name__ == "__main__":
    main()
