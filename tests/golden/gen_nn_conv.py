"""Golden fixtures for the convolution, pooling and normalization layers (needs torch).

For each case a PyTorch layer is built with a fixed seed and run on a fixed input; the fixture
keeps the input, the layer's initial ``state_dict``, the output, an upstream gradient and the
resulting input and parameter gradients, and the buffers after the steps (batch norm running
statistics). The trainctl tests load the same weights and must reproduce every number.

Writes ``nn_conv.json`` (cases, state_dict key lists) and ``nn_conv.npz`` (arrays). Run with
``python tests/golden/make_golden.py nn_conv``. When trainctl is importable too, it also checks
that a trainctl ``state_dict`` loads into the same torch architecture and computes the same.
"""

import json
import pathlib

import numpy as np
import torch

HERE = pathlib.Path(__file__).parent

# name, layer, args, kwargs, input shape, mode ("train"/"eval"), training steps before the
# recorded one (batch norm), whether the input is rounded to create ties (pooling).
CASES = [
    ("conv1d", "Conv1d", [3, 4, 3], {"stride": 2, "padding": 1, "dilation": 2}, [2, 3, 11]),
    ("conv1d_same_groups", "Conv1d", [4, 6, 4], {"padding": "same", "groups": 2, "bias": False},
     [2, 4, 9]),
    ("conv2d", "Conv2d", [3, 4, 3], {}, [2, 3, 7, 6]),
    ("conv2d_stride_pad", "Conv2d", [3, 5, [3, 2]], {"stride": 2, "padding": [1, 2]},
     [2, 3, 9, 8]),
    ("conv2d_dilation_groups", "Conv2d", [4, 6, 3],
     {"stride": [1, 2], "padding": 2, "dilation": [2, 1], "groups": 2}, [2, 4, 8, 9]),
    ("conv2d_same_even", "Conv2d", [2, 3, [4, 2]], {"padding": "same", "dilation": 2},
     [2, 2, 9, 7]),
    ("conv2d_valid_depthwise", "Conv2d", [4, 4, 3], {"padding": "valid", "groups": 4},
     [3, 4, 6, 6]),
    ("conv2d_lenet1", "Conv2d", [1, 6, 5], {"padding": 2}, [2, 1, 12, 12]),
    ("conv_transpose2d", "ConvTranspose2d", [3, 4, 3],
     {"stride": 2, "padding": 1, "output_padding": 1}, [2, 3, 4, 5]),
    ("conv_transpose2d_groups_dil", "ConvTranspose2d", [4, 6, [3, 2]],
     {"stride": [1, 2], "padding": [1, 0], "groups": 2, "dilation": 2, "bias": False},
     [2, 4, 5, 4]),
    ("conv_transpose1d", "ConvTranspose1d", [2, 3, 3], {"stride": 3, "padding": 1,
                                                          "output_padding": 2}, [2, 2, 6]),
    ("maxpool2d", "MaxPool2d", [2], {}, [2, 3, 8, 8], "train", 0, True),
    ("maxpool2d_overlap_ceil", "MaxPool2d", [3], {"stride": 2, "padding": 1, "ceil_mode": True},
     [2, 3, 10, 9], "train", 0, True),
    ("maxpool2d_dilation", "MaxPool2d", [[3, 2]], {"stride": [2, 1], "dilation": [1, 2],
                                                    "padding": [1, 0]}, [2, 2, 9, 8]),
    ("maxpool1d", "MaxPool1d", [3], {"stride": 2, "padding": 1, "ceil_mode": True},
     [2, 3, 12], "train", 0, True),
    ("avgpool2d", "AvgPool2d", [2], {}, [2, 3, 8, 8]),
    ("avgpool2d_pad_ceil", "AvgPool2d", [3], {"stride": 2, "padding": 1, "ceil_mode": True},
     [2, 3, 10, 9]),
    ("avgpool2d_exclude_pad", "AvgPool2d", [[3, 2]],
     {"stride": [2, 2], "padding": [1, 1], "ceil_mode": True, "count_include_pad": False},
     [2, 2, 9, 7]),
    ("avgpool2d_divisor", "AvgPool2d", [3], {"padding": 1, "divisor_override": 5},
     [2, 2, 7, 7]),
    ("avgpool1d", "AvgPool1d", [3], {"stride": 2, "padding": 1, "count_include_pad": False},
     [2, 3, 12]),
    ("adaptive_avgpool2d", "AdaptiveAvgPool2d", [[3, 2]], {}, [2, 3, 8, 7]),
    ("adaptive_avgpool2d_global", "AdaptiveAvgPool2d", [1], {}, [2, 3, 5, 5]),
    ("adaptive_maxpool2d", "AdaptiveMaxPool2d", [[3, 4]], {}, [2, 3, 8, 7], "train", 0, True),
    ("adaptive_avgpool1d", "AdaptiveAvgPool1d", [4], {}, [2, 3, 9]),
    ("adaptive_maxpool1d", "AdaptiveMaxPool1d", [5], {}, [2, 3, 7], "train", 0, True),
    ("batchnorm1d", "BatchNorm1d", [5], {}, [8, 5], "train", 3),
    ("batchnorm1d_3d_cumulative", "BatchNorm1d", [4], {"momentum": None}, [6, 4, 3], "train", 3),
    ("batchnorm2d", "BatchNorm2d", [3], {"momentum": 0.3}, [4, 3, 5, 5], "train", 3),
    ("batchnorm2d_eval", "BatchNorm2d", [3], {}, [4, 3, 5, 5], "eval", 3),
    ("batchnorm2d_no_affine", "BatchNorm2d", [3], {"affine": False}, [4, 3, 4, 4], "train", 1),
    ("batchnorm2d_untracked_eval", "BatchNorm2d", [3], {"track_running_stats": False},
     [4, 3, 4, 4], "eval", 0),
    ("layernorm", "LayerNorm", [[4, 5]], {}, [3, 2, 4, 5]),
    ("layernorm_1d", "LayerNorm", [6], {"eps": 1e-3}, [5, 6]),
    ("groupnorm", "GroupNorm", [2, 6], {}, [3, 6, 4, 4]),
    ("groupnorm_no_affine", "GroupNorm", [3, 6], {"affine": False}, [2, 6, 5]),
]

ARCHITECTURES = {
    # The example: the keys must be exactly torch's.
    "conv_bn_mlp": lambda nn: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4),
                                            nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)),
    "lenet5": lambda nn: nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)),
    "norms": lambda nn: nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.GroupNorm(2, 4),
                                      nn.LayerNorm(4), nn.ConvTranspose1d(4, 2, 3)),
}
ARCH_INPUTS = {"conv_bn_mlp": (2, 3, 6, 6), "lenet5": (2, 1, 28, 28), "norms": (3, 2, 6)}


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _build(layer, args, kwargs):
    args = [_tuples(a) for a in args]
    kwargs = {k: _tuples(v) for k, v in kwargs.items()}
    return getattr(torch.nn, layer)(*args, **kwargs)


def _case(index, spec, arrays):
    name, layer, args, kwargs, shape = spec[:5]
    mode, steps, ties = (list(spec[5:]) + ["train", 0, False][len(spec) - 5:])[:3]
    torch.manual_seed(1000 + index)
    module = _build(layer, args, kwargs).double()
    if mode == "eval" and getattr(module, "running_mean", None) is not None:
        with torch.no_grad():  # make the running statistics interesting
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    module.train(mode == "train")
    rng = np.random.default_rng(index)
    for key, value in module.state_dict().items():
        arrays[f"{name}.init.{key}"] = value.numpy().copy()  # training mutates buffers
    for step in range(steps):  # earlier training steps (running statistics)
        x = rng.standard_normal(shape) * 2 + 0.5
        arrays[f"{name}.step{step}"] = x
        if module.training:
            module(torch.tensor(x))
    x = rng.standard_normal(shape) * 2 + 0.5
    if ties:
        x = np.round(x)
    xt = torch.tensor(x, requires_grad=True)
    out = module(xt)
    grad = rng.standard_normal(tuple(out.shape))
    out.backward(torch.tensor(grad))
    arrays[f"{name}.input"] = x
    arrays[f"{name}.output"] = out.detach().numpy()
    arrays[f"{name}.grad_output"] = grad
    arrays[f"{name}.grad_input"] = xt.grad.numpy()
    for key, p in module.named_parameters():
        arrays[f"{name}.grad.{key}"] = p.grad.numpy()
    for key, value in module.state_dict().items():
        arrays[f"{name}.final.{key}"] = value.numpy().copy()
    if layer.startswith(("MaxPool", "AdaptiveMaxPool")):
        module.return_indices = True
        arrays[f"{name}.indices"] = module(torch.tensor(x))[1].numpy()
    return {"name": name, "layer": layer, "args": args, "kwargs": kwargs, "mode": mode,
            "steps": steps}


def _check_trainctl_state_dict() -> None:
    """A trainctl state_dict loads into the torch twin (strict) and gives the same output."""
    try:
        import trainctl as tc
    except ImportError:
        print("  trainctl not importable: state_dict round trip skipped")
        return
    for name, make in ARCHITECTURES.items():
        tc.manual_seed(0)
        ours = make(tc.nn).eval()
        theirs = make(torch.nn).eval()
        state = {k: torch.from_numpy(np.array(v.numpy(), copy=True))
                 for k, v in ours.state_dict().items()}
        theirs.load_state_dict(state, strict=True)
        x = np.random.default_rng(0).standard_normal(ARCH_INPUTS[name]).astype(np.float32)
        a = ours(tc.tensor(x)).detach().numpy()
        b = theirs(torch.tensor(x)).detach().numpy()
        assert np.allclose(a, b, atol=1e-5), f"{name}: outputs differ after loading"
        print(f"  {name}: trainctl state_dict loads into torch and matches")


def main() -> None:
    torch.set_default_dtype(torch.float64)
    arrays, cases = {}, []
    try:
        for i, spec in enumerate(CASES):
            cases.append(_case(i, spec, arrays))
        keys = {name: list(make(torch.nn).state_dict()) for name, make in ARCHITECTURES.items()}
    finally:
        torch.set_default_dtype(torch.float32)
    (HERE / "nn_conv.json").write_text(json.dumps(
        {"torch": torch.__version__, "cases": cases, "state_dict_keys": keys,
         "arch_inputs": ARCH_INPUTS}, indent=1) + "\n")
    np.savez_compressed(HERE / "nn_conv.npz", **arrays)
    _check_trainctl_state_dict()


if __name__ == "__main__":
    main()
