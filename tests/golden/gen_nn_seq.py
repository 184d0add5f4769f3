"""Golden fixtures for the recurrent and attention layers (needs torch): ``nn_seq.npz``.

For each case of ``seq_cases.py`` a PyTorch layer is built with a fixed seed in float64 and run
on fixed inputs (packed where the case says so, with its masks); the fixture keeps the layer's
initial ``state_dict``, the inputs and initial states, every output, an upstream gradient per
output and the gradients of the inputs, the parameters and the initial states. Run with
``python tests/golden/make_golden.py nn_seq``. When trainctl is importable too, it also checks
that a trainctl ``state_dict`` loads into the torch layer (strict) and computes the same.
"""

import importlib.util
import json
import pathlib
import zlib

import numpy as np
import torch

HERE = pathlib.Path(__file__).parent


def load_cases():
    spec = importlib.util.spec_from_file_location("seq_cases", HERE / "seq_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call_kwargs(m, spec, arrays, prefix):
    """The case's keyword arguments for library ``m``: masks from ``arrays``, constants as is."""
    kwargs = {}
    for key, value in spec.get("call", {}).items():
        kwargs[key] = m.tensor(arrays[f"{prefix}call.{key}"]) if isinstance(value, tuple) \
            else value
    return kwargs


def _case(cases, name, spec, arrays):
    seed = zlib.crc32(name.encode())
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module = cases.build(torch, spec)
    if module is not None:
        module.train()  # dropout is 0: train mode keeps PyTorch off its inference fast paths
        for key, value in module.state_dict().items():
            arrays[f"{name}.init.{key}"] = value.numpy().copy()
    inputs = [rng.standard_normal(s) for s in spec["inputs"]]
    states = [rng.standard_normal(s) * 0.5 for s in spec.get("hx", [])]
    for key, value in cases.make_call_arrays(name, spec, rng).items():
        arrays[f"{name}.{key}"] = value
    xs = [torch.tensor(a, requires_grad=True) for a in inputs]
    hs = [torch.tensor(a, requires_grad=True) for a in states]
    outs = cases.run(torch, module, spec, xs, hs, call_kwargs(torch, spec, arrays, name + "."))
    grads = [rng.standard_normal(tuple(o.shape)) for o in outs]
    torch.autograd.backward(outs, [torch.tensor(g) for g in grads])
    for i, a in enumerate(inputs):
        arrays[f"{name}.input{i}"] = a
        arrays[f"{name}.grad_input{i}"] = xs[i].grad.numpy()
    for i, a in enumerate(states):
        arrays[f"{name}.hx{i}"] = a
        arrays[f"{name}.grad_hx{i}"] = hs[i].grad.numpy()
    for i, (o, g) in enumerate(zip(outs, grads)):
        arrays[f"{name}.output{i}"] = o.detach().numpy()
        arrays[f"{name}.grad_output{i}"] = g
    if module is not None:
        for key, p in module.named_parameters():
            arrays[f"{name}.grad.{key}"] = p.grad.numpy()
    return {"outputs": len(outs), "keys": list(module.state_dict()) if module else []}


def _check_trainctl_state_dict(cases) -> None:
    """A trainctl state_dict loads into the torch layer (strict) and gives the same output."""
    try:
        import trainctl as tc
    except ImportError:
        print("  trainctl not importable: state_dict round trip skipped")
        return
    for name, spec in cases.CASES.items():
        if "layer" not in spec:
            continue
        tc.manual_seed(0)
        ours = cases.build(tc, spec)
        theirs = cases.build(torch, spec)
        theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy(), copy=True))
                                for k, v in ours.state_dict().items()}, strict=True)
        rng = np.random.default_rng(0)
        inputs = [rng.standard_normal(s) for s in spec["inputs"]]
        arrays = cases.make_call_arrays(name, spec, rng)
        a = cases.run(tc, ours, spec, [tc.tensor(x) for x in inputs], [],
                      call_kwargs(tc, spec, arrays, ""))
        b = cases.run(torch, theirs, spec, [torch.tensor(x) for x in inputs], [],
                      call_kwargs(torch, spec, arrays, ""))
        for x, y in zip(a, b):
            assert np.allclose(x.detach().numpy(), y.detach().numpy(), atol=1e-10), name
    print("  trainctl state_dicts load into torch and match")


def main() -> None:
    cases = load_cases()
    arrays, meta = {}, {}
    for name, spec in cases.CASES.items():
        meta[name] = _case(cases, name, spec, arrays)
    (HERE / "nn_seq.json").write_text(json.dumps({"torch": torch.__version__, "cases": meta},
                                                 indent=1) + "\n")
    np.savez_compressed(HERE / "nn_seq.npz", **arrays)
    _check_trainctl_state_dict(cases)


if __name__ == "__main__":
    main()
