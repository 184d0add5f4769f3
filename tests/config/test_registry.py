"""The registry: one table per kind, lazily filled with the library's components, extended by
``@register``, with did-you-mean for unknown names."""

import pytest

import trainctl as tc
from trainctl.config.describe import describe, signature_text
from trainctl.config.registry import KINDS, Registry, register, registry
from trainctl.core.errors import ConfigError


def test_every_kind_has_a_registry_and_the_library_is_in_it():
    assert KINDS == ("model", "loss", "optimizer", "scheduler", "dataset", "transform", "sampler",
                     "metric", "callback")
    assert registry("model").get("Linear") is tc.nn.Linear
    assert registry("model").get("MLP").__name__ == "MLP"
    assert registry("loss").get("CrossEntropyLoss") is tc.nn.CrossEntropyLoss
    assert "Linear" not in registry("loss") and "MSELoss" not in registry("model")
    assert registry("optimizer").get("AdamW") is tc.optim.AdamW
    assert "Optimizer" not in registry("optimizer")
    sched = tc.optim.lr_scheduler
    assert registry("scheduler").get("ReduceLROnPlateau") is sched.ReduceLROnPlateau
    assert registry("scheduler").get("OneCycleLR") is sched.OneCycleLR
    assert "LRScheduler" not in registry("scheduler")
    assert "SyntheticClassification" in registry("dataset")
    assert "Compose" in registry("transform")
    assert registry("sampler").get("WeightedRandomSampler") is tc.utils.data.WeightedRandomSampler
    assert "BatchSampler" not in registry("sampler")


def test_training_registers_its_metrics_and_callbacks():
    import trainctl.training  # noqa: F401

    assert {"accuracy", "topk_accuracy", "mae", "rmse", "r2"} <= set(registry("metric").names())
    assert "EarlyStopping" in registry("callback")


def test_unknown_names_suggest_close_ones():
    with pytest.raises(ConfigError, match=r"unknown optimizer 'Adm'; did you mean 'Adam'"):
        registry("optimizer").get("Adm")
    with pytest.raises(ConfigError, match=r"did you mean 'SGD'"):
        registry("optimizer").get("sgd")  # case differs only
    with pytest.raises(ConfigError, match=r"model.type: unknown model 'Zzz'; see `trainctl list "
                                          r"model`"):
        registry("model").get("Zzz", where="model.type")
    with pytest.raises(ConfigError, match="unknown component kind 'layer'"):
        registry("layer")


def test_register_adds_once_and_refuses_a_different_object_under_a_taken_name():
    table = Registry("metric")

    def one(pred, target):
        return 1.0

    table.add("one", one)
    table.add("one", one)  # the same object again (a module imported twice) is fine
    with pytest.raises(ValueError, match="a metric named 'one' is already registered"):
        table.add("one", lambda p, t: 2.0)
    table.add("one", len, overwrite=True)
    assert table.get("one") is len


def test_register_decorator_uses_the_name_and_returns_the_object():
    @register("transform", "TestIdentityTransform")
    class Identity:
        def __call__(self, x):
            return x

    assert registry("transform").get("TestIdentityTransform") is Identity
    with pytest.raises(ValueError, match="already registered"):
        register("transform", "TestIdentityTransform")(type("Other", (), {}))


def test_describe_shows_settable_arguments_and_the_first_sentence():
    info = describe("optimizer", "SGD")
    assert signature_text(info).startswith("lr=0.001, momentum=0")
    assert info.summary.startswith("Stochastic gradient descent")
