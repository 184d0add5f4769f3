"""Shared test set-up: every test starts from the same seed and with grad mode on."""

import textwrap

import pytest

import trainctl as tc

from .runs import SPIRALS


@pytest.fixture(autouse=True)
def _fresh_state():
    tc.manual_seed(0)
    prev = tc.is_grad_enabled()
    tc.set_grad_enabled(True)
    yield
    tc.set_grad_enabled(prev)


@pytest.fixture
def cli(capsys):
    """Run trainctl's real entry point in-process: ``cli(*args) -> (exit code, stdout, stderr)``."""

    def run(*args):
        from trainctl.cli import main

        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as e:
            code = e.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def write_config(tmp_path):
    def write(text=SPIRALS, name="cfg.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def invoke(tmp_path, monkeypatch, cli):
    """``cli`` run with tmp_path as the current folder."""
    monkeypatch.chdir(tmp_path)
    return cli
