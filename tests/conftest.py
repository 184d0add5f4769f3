"""Shared test set-up: every test starts from the same seed and with grad mode on."""

import pytest

import trainctl as tc


@pytest.fixture(autouse=True)
def _fresh_state():
    tc.manual_seed(0)
    prev = tc.is_grad_enabled()
    tc.set_grad_enabled(True)
    yield
    tc.set_grad_enabled(prev)
