"""no_grad / enable_grad / set_grad_enabled as context managers and as decorators."""

import pytest

import trainctl as tc


def test_no_grad_context_stops_recording_and_restores():
    w = tc.ones(2, requires_grad=True)
    with tc.no_grad():
        assert not tc.is_grad_enabled()
        y = w * 2
    assert tc.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ValueError):
        with tc.no_grad():
            raise ValueError("boom")
    assert tc.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    w = tc.ones(2, requires_grad=True)
    with tc.no_grad():
        with tc.enable_grad():
            y = w * 2
        z = w * 2
    assert y.requires_grad and not z.requires_grad


def test_decorators():
    w = tc.ones(2, requires_grad=True)

    @tc.no_grad()
    def infer(t):
        return t * 2

    @tc.enable_grad()
    def train(t):
        return t * 2

    @tc.set_grad_enabled(False)
    def frozen(t):
        return t * 2

    assert tc.is_grad_enabled()  # building the decorator did not switch the mode
    assert not infer(w).requires_grad
    with tc.no_grad():
        assert train(w).requires_grad
    assert not frozen(w).requires_grad
    assert tc.is_grad_enabled()
    assert infer.__name__ == "infer"


def test_set_grad_enabled_as_function_and_context():
    w = tc.ones(2, requires_grad=True)
    tc.set_grad_enabled(False)
    assert not (w * 2).requires_grad
    tc.set_grad_enabled(True)
    assert (w * 2).requires_grad
    with tc.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert tc.is_grad_enabled()
    with tc.no_grad():
        with tc.set_grad_enabled(True):
            assert (w * 2).requires_grad
        assert not tc.is_grad_enabled()


def test_sgd_update_under_no_grad_keeps_identity():
    w = tc.tensor([[2.0], [1.0]], requires_grad=True)
    (w * w).sum().backward()
    before = w
    with tc.no_grad():
        w -= 0.1 * w.grad
    assert w is before and w.is_leaf and w.requires_grad
    assert w.tolist() == [[pytest.approx(1.6)], [pytest.approx(0.8)]]


def test_grad_mode_is_per_thread():
    import threading

    seen = []
    with tc.no_grad():
        worker = threading.Thread(target=lambda: seen.append(tc.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]
