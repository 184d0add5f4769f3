"""`trainctl list`: only what a config can set, plain sentences, 80 columns, and examples that
load and build."""

import io
import re

import pytest
import yaml
from rich.console import Console

import trainctl as tc
from trainctl import training  # noqa: F401  (registers the metrics and callbacks)
from trainctl.commands.listing import run_list
from trainctl.config import resolve
from trainctl.config.build import build_component, build_model, build_optimizer, build_scheduler
from trainctl.config.describe import (
    describe,
    describe_component,
    example_yaml,
    first_sentence,
    plain_text,
    signature_text,
)
from trainctl.config.registry import KINDS, registry

MARKUP = ("``", ":class:", ":func:", ":mod:", ":meth:", ":attr:")


def listing(*args, width=80):
    out = io.StringIO()
    run_list(*args, console=Console(file=out, width=width, highlight=False))
    return out.getvalue()


def tiny_config(**sections):
    return resolve({
        "data": {"train": {"type": "SyntheticClassification", "n_samples": 20}},
        "model": {"type": "Linear", "in_features": 2, "out_features": 2},
        "loss": "CrossEntropyLoss", "optimizer": {"type": "SGD", "lr": 0.1}, **sections})


def example_of(out: str) -> dict:
    """The YAML after the "In a config" heading of `list KIND NAME`."""
    text = re.split(r"In a config[^\n]*:\n", out)[1]
    return yaml.safe_load(text)


@pytest.fixture
def cols80(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def test_every_kind_fits_80_columns_without_markup_or_unsettable_arguments(cli, cols80):
    code, out, _ = cli("list")
    assert code == 0
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    for word in ("foreach", "capturable", "differentiable", "fused", "size_average", "reduce=",
                 "params", "optimizer,", "last_epoch", *MARKUP):
        assert word not in out, word
    assert "inplace" not in listing("model")  # a no-op on layers (Normalize honours its own)
    for kind in KINDS:
        assert f"{kind} ({len(registry(kind).names())})" in out


def test_descriptions_are_whole_first_sentences():
    out = listing("scheduler")
    # The sentence that used to be cut after "half a cosine of" is there to its end.
    assert "schedule is periodic)." in " ".join(out.split())
    sgd = describe("optimizer", "SGD")
    assert sgd.summary == "Stochastic gradient descent (PyTorch's torch.optim.SGD)."
    assert describe("optimizer", "Adagrad").summary == "Adagrad (torch.optim.Adagrad)."
    assert describe("metric", "f1").summary == (
        "Harmonic mean of precision and recall (average: auto, macro, micro, weighted, binary).")
    for kind in KINDS:
        for name in registry(kind).names():
            info = describe(kind, name)
            assert not any(m in info.summary + info.doc for m in MARKUP), (kind, name)
            assert info.summary == "" or info.summary.endswith((".", ")")), (kind, name)


def test_markup_is_stripped_and_sentences_end_outside_brackets():
    assert plain_text("See :class:`~trainctl.nn.Linear`, :func:`f` and ``lr``::") == \
        "See Linear, f and lr:"
    assert plain_text(":mod:`trainctl.optim` and :ref:`the guide <guide>`") == \
        "trainctl.optim and the guide"
    assert first_sentence("Adam (e.g. torch.optim.Adam. Fast). Then more.") == \
        "Adam (e.g. torch.optim.Adam. Fast)."
    assert first_sentence("No period at all") == "No period at all"
    assert first_sentence("Ends with a block:\n\n    code") == "Ends with a block."


def test_schedulers_show_interval_and_plateau_its_monitor():
    rows = {name: signature_text(describe("scheduler", name))
            for name in registry("scheduler").names()}
    for name, signature in rows.items():
        assert "optimizer" not in signature and "last_epoch" not in signature, name
        if name == "ReduceLROnPlateau":
            assert "monitor=null" in signature and "interval" not in signature
        else:
            assert signature.endswith("interval=epoch"), name
    assert "steps_per_epoch=auto" in rows["OneCycleLR"]
    out = listing("scheduler")
    assert "interval=epoch" in out and "monitor=null" in out


def test_containers_optimizers_losses_and_samplers_show_config_keys_only():
    assert signature_text(describe("model", "Sequential")) == "layers"
    assert "layers" in listing("model")
    assert describe("model", "ModuleList").python_only
    sgd = signature_text(describe("optimizer", "SGD"))
    assert sgd == ("lr=0.001, momentum=0, dampening=0, weight_decay=0, nesterov=false, "
                   "maximize=false, param_groups=null")
    assert "maximize=false" in signature_text(describe("optimizer", "Adam"))  # honoured
    assert signature_text(describe("loss", "MSELoss")) == "reduction=mean"
    assert signature_text(describe("sampler", "RandomSampler")) == \
        "replacement=false, num_samples=auto"  # the builder gives it the training set's size
    for name in registry("sampler").names():
        assert "data_source" not in signature_text(describe("sampler", name))
    assert signature_text(describe("model", "ReLU")) == ""
    assert describe("model", "Linear").hidden == {
        "device": "the config's top-level `device` places the whole model"}


def test_one_component_in_full(cols80):
    out = listing("optimizer", "SGD")
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    assert "Stochastic gradient descent" in out
    assert "param_groups" in out and "list" in out and "float" in out
    assert "Update rule for each parameter" in out  # the whole docstring
    assert "foreach, differentiable, fused: accepted for PyTorch compatibility" in out
    assert not any(m in out for m in MARKUP)


def test_the_sgd_example_loads_and_builds_on_a_tiny_model(cli, cols80):
    code, out, _ = cli("list", "optimizer", "SGD")
    assert code == 0
    example = example_of(out)
    assert example == {"optimizer": {"type": "SGD", "lr": 0.001, "momentum": 0, "dampening": 0,
                                     "weight_decay": 0, "nesterov": False, "maximize": False}}
    model = tc.nn.Linear(2, 1)
    cfg = tiny_config(**example)
    opt = build_component(example["optimizer"], "optimizer", cfg, ("optimizer",),
                          inject={"params": model.parameters()})
    assert isinstance(opt, tc.optim.SGD) and opt.param_groups[0]["lr"] == 0.001
    assert isinstance(build_optimizer(cfg, model.named_parameters()), tc.optim.SGD)


def test_every_example_is_yaml_and_those_without_placeholders_build():
    model = tc.nn.Linear(2, 2)
    optimizer = tc.optim.SGD(model.parameters(), lr=0.1)
    built = 0
    for kind in KINDS:
        for name in registry(kind).names():
            info = describe(kind, name)
            if info.python_only:
                continue
            text = example_yaml(info)
            assert max(len(line) for line in text.splitlines()) <= 78, (kind, name)
            example = yaml.safe_load(text)
            if "<" in text or kind in ("dataset", "transform") or info.section == "logging":
                continue  # placeholders to fill, files to read, or a run to log
            if kind == "optimizer":
                build_optimizer(tiny_config(**example), model.named_parameters())
            elif kind == "scheduler":
                build_scheduler(tiny_config(**example), optimizer, 5)
            elif kind == "model":
                build_model(tiny_config(**example))
            elif kind == "loss":
                build_component(example["loss"], "loss", tiny_config(), ("loss",))
            elif kind == "sampler":
                build_component(example["data"]["sampler"], "sampler", tiny_config(), (),
                                inject={"data_source": list(range(4))})
            else:
                section = example["train"]["metrics" if kind == "metric" else "callbacks"]
                build_component(section[0], kind, tiny_config(), ())
            built += 1
    assert built > 40


def test_examples_go_in_the_right_section():
    assert example_yaml(describe("scheduler", "StepLR")) == (
        "scheduler:\n  type: StepLR\n  step_size: <int>\n  gamma: 0.1\n  interval: epoch\n")
    assert example_yaml(describe("metric", "accuracy")) == \
        "train:\n  metrics:\n    - {type: accuracy, threshold: 0.5}\n"
    assert example_yaml(describe("model", "ReLU")).startswith(
        "model:\n  type: Sequential\n  layers:\n    - ReLU")
    mlp = describe("model", "MLP")  # a Sequential subclass with its own arguments: no layers
    assert signature_text(mlp).startswith("sizes, activation=ReLU")
    assert example_yaml(mlp).startswith("model:\n  type: MLP\n  sizes: <list>\n")

    class MyLogger:
        """Sends the run somewhere."""

        def __init__(self, every: int = 2):
            pass

        def log_epoch(self, trainer, row):
            pass

    logger = describe_component("callback", "my_logger", MyLogger)
    assert example_yaml(logger) == "logging:\n  - csv\n  - {type: my_logger, every: 2}\n"


def test_unknown_names_and_kinds(cli):
    code, _, err = cli("list", "optimizer", "SDG")
    assert code == 2 and "unknown optimizer 'SDG'; did you mean 'SGD'?" in err
    code, _, err = cli("list", "optimizers", "SGD")
    assert code == 2 and "unknown kind 'optimizers'" in err
