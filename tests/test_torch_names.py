"""Every public name of PyTorch's ``torch`` namespace is implemented by ``trainctl`` or refused
with the one-line error: never a bare ``AttributeError``/``ImportError``.

The names come from ``tests/golden/torch_names.json`` (written by
``tests/golden/gen_torch_names.py`` from torch 2.13: its functions, classes, submodules and
dtypes). The refused ones are grouped in ``trainctl/torch_compat/refused.py``.
"""

import importlib
import importlib.util
import pathlib
import subprocess
import sys

import pytest

import trainctl as tc
from tests.golden.fixtures import load_json
from trainctl.torch_compat import refused
from trainctl.torch_compat.unsupported import (
    SUBMODULES,
    TOP_LEVEL,
    UnsupportedFeatureError,
    UnsupportedModuleError,
)

NAMES = load_json("torch_names.json")
KINDS = ("functions", "classes", "modules", "dtypes")
ALL = [(kind, name) for kind in KINDS for name in NAMES[kind]]


def outcome(name):
    """The value of ``tc.<name>``, or the refusal error."""
    try:
        return getattr(tc, name)
    except UnsupportedFeatureError as e:
        return e


def assert_one_line_refusal(error, name):
    message = str(error)
    assert "\n" not in message, message
    feature, sep, instead = message.partition(" is not supported by trainctl: ")
    assert sep and feature and instead.strip(), message
    assert isinstance(error, tc.TrainctlError) and isinstance(error, NotImplementedError)


def test_the_fixture_is_torch_2_13_and_complete():
    assert NAMES["torch"].startswith("2.13")
    assert len(NAMES["functions"]) > 700 and "sinh" in NAMES["functions"]
    assert {"jit", "nn", "distributed"} <= set(NAMES["modules"])


@pytest.mark.parametrize("kind", KINDS)
def test_every_torch_name_is_implemented_or_refused_in_one_line(kind):
    bare = []
    for name in NAMES[kind]:
        try:
            value = outcome(name)
        except AttributeError:
            bare.append(name)
            continue
        if isinstance(value, UnsupportedFeatureError):
            assert isinstance(value, AttributeError), name  # hasattr() answers False
            assert_one_line_refusal(value, name)
        elif kind in ("functions", "classes"):
            assert callable(value), name
    assert not bare, f"bare AttributeError for torch.{', torch.'.join(bare)}"


def test_every_torch_special_function_is_implemented_or_refused():
    for name in NAMES["special"]:
        try:
            value = getattr(tc.special, name)
        except UnsupportedFeatureError as e:
            assert isinstance(e, AttributeError), name
            assert_one_line_refusal(e, name)
            with pytest.raises(UnsupportedModuleError, match=f"torch.special.{name} "):
                exec(f"from trainctl.special import {name}", {})
        else:
            assert callable(value), name
    x = tc.tensor([0.5, -1.0])
    assert tc.special.expit(x).tolist() == tc.sigmoid(x).tolist()
    assert tc.special.gammaln is tc.lgamma and tc.special.psi is tc.digamma
    import trainctl.special

    assert trainctl.special is tc.special


@pytest.mark.parametrize("kind", KINDS)
def test_refused_names_are_refused_at_import_too(kind):
    for name in NAMES[kind]:
        if not isinstance(outcome(name), UnsupportedFeatureError):
            continue
        with pytest.raises(UnsupportedModuleError) as info:  # from trainctl import <name>
            exec(f"from trainctl import {name}", {})
        assert str(info.value) == str(outcome(name))
        assert isinstance(info.value, ImportError)


def test_refused_functions_name_the_torch_function_and_what_to_do():
    assert str(outcome("cholesky")) == (
        "torch.cholesky (linear algebra) is not supported by trainctl: use numpy.linalg on "
        "tensor.detach().numpy() (no gradient)")
    assert str(outcome("conv2d")).endswith("call tc.nn.functional.conv2d")
    assert str(outcome("bfloat16")).startswith("the torch.bfloat16 dtype")
    assert not hasattr(tc, "export") and getattr(tc, "jit", None) is None


def test_the_refusal_tables_hold_no_name_trainctl_implements():
    api = importlib.import_module("trainctl._api")
    stale = [name for name in [*refused.TORCH_NAMES, *TOP_LEVEL] if name in vars(api)]
    assert not stale, f"implemented now: remove {stale} from trainctl/torch_compat/refused.py"


def test_counts_of_implemented_and_refused_names():
    counts = {}
    for kind, name in ALL:
        done = not isinstance(outcome(name), UnsupportedFeatureError)
        counts[kind, done] = counts.get((kind, done), 0) + 1
    # trainctl implements at least these many torch 2.13 names (docs/pytorch.md gives the counts)
    assert counts["functions", True] >= 289 and counts["classes", True] >= 19


# ----------------------------------------------------------------------------- imports


@pytest.mark.parametrize("path", sorted(SUBMODULES))
def test_refused_submodules_fail_with_their_line_at_import(path):
    with pytest.raises(UnsupportedModuleError) as info:
        importlib.import_module(f"trainctl.{path}")
    assert_one_line_refusal(info.value, path)
    assert info.value.name == f"trainctl.{path}"


@pytest.mark.parametrize("statement, feature", [
    ("import trainctl.distributed.fsdp", "torch.distributed.fsdp"),
    ("from trainctl import jit", "torch.jit"),
    ("from trainctl.utils.tensorboard import SummaryWriter", "torch.utils.tensorboard"),
    ("from trainctl.cuda.amp import autocast, GradScaler", "torch.cuda.amp"),
    ("from trainctl.cuda import amp", "torch.cuda.amp"),
    ("from trainctl.cuda import Stream", "CUDA streams"),
    ("from trainctl.distributed.rpc import init_rpc", "torch.distributed.rpc"),
    ("import trainctl.fft", "torch.fft"),
])
def test_ported_import_lines_of_refused_features(statement, feature):
    with pytest.raises(ImportError) as info:
        exec(statement, {})
    assert str(info.value).startswith(feature) and "not supported by trainctl" in str(info.value)
    try:
        exec(statement, {})
    except ImportError as e:  # what `try: import torch.fft except ImportError` relies on
        assert isinstance(e, UnsupportedFeatureError)


def test_a_refused_utils_submodule_read_as_an_attribute_says_what_to_use():
    with pytest.raises(AttributeError, match=r"^torch.utils.tensorboard is not supported by "
                                             r"trainctl: list tensorboard in a config's logging"):
        _ = tc.utils.tensorboard
    assert not hasattr(tc.utils, "tensorboard") and not hasattr(tc.utils, "no_such_thing")
    with pytest.raises(AttributeError, match="has no attribute 'no_such_thing'"):
        _ = tc.utils.no_such_thing
    assert tc.utils.data.DataLoader is tc.data.DataLoader


def test_ported_import_lines_of_compat_modules_work():
    namespace = {}
    exec("import trainctl.backends.cudnn as cudnn\nimport trainctl.cuda\n"
         "from trainctl.cuda import is_available\nfrom trainctl.backends import mps\n"
         "import trainctl.accelerator", namespace)
    assert namespace["cudnn"] is tc.backends.cudnn and namespace["mps"] is tc.backends.mps
    assert "__spec__" not in vars(tc.backends.cudnn)  # the namespace is left as it was
    assert tc.cuda.__name__ == tc.cuda.__spec__.name == "trainctl.torch_compat.cuda"
    assert namespace["trainctl"].cuda is tc.cuda
    assert namespace["is_available"] is tc.cuda.is_available


def test_unknown_names_stay_plain_errors():
    with pytest.raises(ImportError, match="cannot import name 'no_such_name'"):
        exec("from trainctl import no_such_name", {})
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("trainctl.no_such_module")
    with pytest.raises(AttributeError) as info:
        tc.no_such_name  # noqa: B018
    assert type(info.value) is AttributeError


def test_compat_imports_work_in_a_fresh_interpreter_without_loading_numpy_first():
    code = ("import sys\nimport trainctl.backends.cudnn as cudnn\ncudnn.benchmark = True\n"
            "assert 'numpy' not in sys.modules\n"
            "import trainctl as tc\nassert tc.backends.cudnn.benchmark is True\n"
            "try:\n    import trainctl.jit\nexcept ImportError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("torch.jit (TorchScript) is not supported by trainctl")


# ----------------------------------------------------------------------------- settings


def test_reproducibility_switches_are_accepted_and_remembered():
    before = tc.are_deterministic_algorithms_enabled(), tc.get_float32_matmul_precision()
    try:
        tc.use_deterministic_algorithms(True, warn_only=True)
        assert tc.are_deterministic_algorithms_enabled()
        assert tc.is_deterministic_algorithms_warn_only_enabled()
        assert tc.get_deterministic_debug_mode() == 1
        tc.set_deterministic_debug_mode("error")
        assert tc.get_deterministic_debug_mode() == 2
        tc.set_float32_matmul_precision("high")
        assert tc.get_float32_matmul_precision() == "high"
        with pytest.raises(RuntimeError, match="precision"):
            tc.set_float32_matmul_precision("low")
    finally:
        tc.use_deterministic_algorithms(before[0])
        tc.set_float32_matmul_precision(before[1])
    assert tc.get_num_threads() >= 1 and tc.get_num_interop_threads() == 1


def test_out_of_memory_is_what_numpy_raises():
    assert tc.OutOfMemoryError is MemoryError
    with pytest.raises(tc.OutOfMemoryError):
        raise MemoryError("numpy could not allocate")


def test_the_docs_list_every_name_as_it_is_now():
    path = pathlib.Path(__file__).parents[1] / "scripts" / "torch_names_doc.py"
    spec = importlib.util.spec_from_file_location("torch_names_doc", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.current() == script.section(), (
        "docs/pytorch.md is out of date: run python scripts/torch_names_doc.py --write")
