"""Fuzzing LR expressions: random text and random token sequences compile and evaluate to a
finite float or end in one ConfigError line, within a second (see tests/fuzzing.py)."""

import math

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import FUZZ, survive
from trainctl.core.errors import ConfigError
from trainctl.optim.expr import CONSTANTS, FUNCTIONS, compile_expression

TOKENS = [
    "epoch", "x", *FUNCTIONS, *CONSTANTS, "0", "1", "2", "0.5", "1e308", "10", "999", "1000",
    "1001", "-", "+", "*", "/", "//", "%", "**", "(", ")", ",", "<", "<=", "==", "!=", " if ",
    " else ", " and ", " or ", " not ", "__import__", ".", "[", "]", "'", "lambda", ":", " ",
]
EPOCHS = [0, 1, 7, 1000, 10**6]


def evaluate(source: str, minimum):
    fn = compile_expression(source, minimum=minimum)
    for epoch in EPOCHS:
        value = fn(epoch)
        assert isinstance(value, float) and math.isfinite(value)
        assert minimum is None or value >= minimum
    return fn


@FUZZ
@given(source=st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
       minimum=st.sampled_from([None, 0.0]))
def test_fuzz_token_sequences(source, minimum):
    survive(lambda: evaluate(source, minimum), ConfigError)


@FUZZ
@given(source=st.text(max_size=120))
def test_fuzz_random_text(source):
    survive(lambda: evaluate(source, None), ConfigError)


@FUZZ
@given(a=st.sampled_from(TOKENS[:16]), b=st.sampled_from(TOKENS[:16]),
       c=st.sampled_from(TOKENS[:16]), op=st.sampled_from(["**", "*", "/", "-", "%", "//"]))
def test_fuzz_well_formed_arithmetic(a, b, c, op):
    """Mostly valid expressions, so evaluation (not only parsing) is exercised."""
    for source in (f"{a}({b}) {op} {c}", f"({a} {op} {b}) {op} {c}", f"{a}({b} {op} {c})"):
        survive(lambda source=source: evaluate(source, 0.0), ConfigError)
