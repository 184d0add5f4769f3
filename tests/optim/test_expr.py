"""The safe expression evaluator behind string lr_lambdas: what it accepts and what it refuses."""

import ast
import math
import pathlib

import pytest

import trainctl.optim.expr as expr_module
from trainctl.core.errors import ConfigError
from trainctl.optim.expr import compile_expression

ACCEPTED = [
    ("0.95 ** epoch", lambda epoch: 0.95**epoch),
    ("min(1.0, (epoch + 1) / 5)", lambda epoch: min(1.0, (epoch + 1) / 5)),
    ("epoch // 30", lambda epoch: epoch // 30),
    ("-epoch % 7 + +3", lambda epoch: -epoch % 7 + +3),
    ("1 - epoch / 100 * 2.5e-1", lambda epoch: 1 - epoch / 100 * 2.5e-1),
    ("0.5 * (1 + cos(pi * epoch / 40))", lambda epoch: 0.5 * (1 + math.cos(math.pi * epoch / 40))),
    ("exp(-epoch / 10) + sin(epoch) * tan(0.1)",
     lambda epoch: math.exp(-epoch / 10) + math.sin(epoch) * math.tan(0.1)),
    ("log(epoch + 1) + log2(epoch + 2) - log10(epoch + 3)",
     lambda epoch: math.log(epoch + 1) + math.log2(epoch + 2) - math.log10(epoch + 3)),
    ("sqrt(epoch) + floor(epoch / 3) + ceil(epoch / 4) + pow(2, -epoch)",
     lambda epoch: math.sqrt(epoch) + math.floor(epoch / 3) + math.ceil(epoch / 4)
     + math.pow(2, -epoch)),
    ("max(0.1, 1 - epoch / 20, abs(-0.05))", lambda epoch: max(0.1, 1 - epoch / 20, 0.05)),
    ("1 if epoch < 10 else 0.1 if epoch < 20 else 0.01",
     lambda epoch: 1 if epoch < 10 else 0.1 if epoch < 20 else 0.01),
    ("(5 <= epoch < 15) * 2 + (epoch == 3) + (epoch != 4) + (epoch >= 30) + (epoch > 40)",
     lambda epoch: (5 <= epoch < 15) * 2 + (epoch == 3) + (epoch != 4) + (epoch >= 30)
     + (epoch > 40)),
    ("epoch < 5 and 0.5 or 1.0", lambda epoch: epoch < 5 and 0.5 or 1.0),
    ("0.1 if not epoch % 10 else 1", lambda epoch: 0.1 if not epoch % 10 else 1),
    ("e ** (-epoch / 20) * min(inf, 3)", lambda epoch: math.e ** (-epoch / 20) * 3),
    ("  2 ** 10 ** 0 ", lambda epoch: 2**10**0),
]


@pytest.mark.parametrize("source,reference", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_expressions_equal_python(source, reference):
    fn = compile_expression(source)
    for epoch in range(50):
        assert fn(epoch) == reference(epoch), epoch


REJECTED = [
    ("epoch.__class__", "attribute access '.__class__'"),
    ("math.cos(epoch)", "attribute access '.cos'"),
    ("__import__('os').system('x')", "'.system'"),
    ("open('f')", "function 'open' is not allowed"),
    ("eval('1')", "function 'eval' is not allowed"),
    ("step * 2", "unknown name 'step'"),
    ("__builtins__", "unknown name '__builtins__'"),
    ("cos", "function 'cos' must be called"),
    ("[1, 2][epoch]", "subscript is not allowed"),
    ("[1, 2]", "list is not allowed"),
    ("(1, 2)", "tuple is not allowed"),
    ("{1: 2}", "dict is not allowed"),
    ("epoch[0]", "subscript is not allowed"),
    ("lambda: 1", "lambda is not allowed"),
    ("[x for x in range(3)]", "list comprehension is not allowed"),
    ("sum(x for x in [1])", "function 'sum' is not allowed"),
    ("max(epoch, key=abs)", "keyword argument 'key'"),
    ("max(*[1, 2])", "starred argument is not allowed"),
    ("(y := 3)", "assignment ':=' is not allowed"),
    ("'text'", "the literal 'text' is not allowed"),
    ("True", "the literal True is not allowed"),
    ("1j", "the literal 1j is not allowed"),
    ("f'{epoch}'", "f-string is not allowed"),
    ("epoch @ 2", "operator '@' is not allowed"),
    ("epoch << 2", "operator '<<' is not allowed"),
    ("~epoch", "operator '~' is not allowed"),
    ("epoch in (1, 2)", "comparison 'in' is not allowed"),
    ("epoch is 1", "comparison 'is' is not allowed"),
    ("2 ** 5000", "exponent 5000 is larger than 1000"),
    ("epoch ** -1001", "exponent -1001 is larger than 1000"),
    ("min()", "min() needs at least one argument"),
    ("epoch +", "invalid syntax"),
    ("import os", "invalid syntax"),
    ("1; 2", "invalid syntax"),
    ("epoch + 1\0", "null bytes"),
    ("epoch + " * 100 + "1", "is 801 characters long; at most 500"),
    ("-" * 100 + "epoch", "nested more than 60 levels"),
    ("(" * 210 + "1" + ")" * 210, "too many nested parentheses"),
]


@pytest.mark.parametrize("source,message", REJECTED, ids=[r[0][:30] for r in REJECTED])
def test_rejected_expressions_name_the_offending_construct(source, message):
    with pytest.raises(ConfigError) as info:
        compile_expression(source)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_non_string_is_rejected():
    with pytest.raises(ConfigError, match="must be a string"):
        compile_expression(0.95)


@pytest.mark.parametrize("source,epoch,message", [
    ("1 / epoch", 0, "failed at epoch=0: division by zero"),
    ("epoch // (epoch - 2)", 2, "failed at epoch=2"),
    ("exp(epoch)", 1000, "failed at epoch=1000: math range error"),
    ("log(epoch - 5)", 1, "math domain error"),
    ("2 ** (epoch * 100)", 20, "exponent 2000 is larger than 1000"),
    ("pow(epoch, epoch * 10000)", 2, "exponent 20000 is larger than 1000"),
    ("(-8) ** (1 / 3)", 0, "not a real number"),
    ("(10 ** 999) ** 999", 0, "failed at epoch=0"),
])
def test_evaluation_errors_name_the_epoch(source, epoch, message):
    fn = compile_expression(source)
    with pytest.raises(ConfigError, match="expression .* failed") as info:
        fn(epoch)
    assert message in str(info.value)


def test_compiled_once_and_evaluated_without_parsing(monkeypatch):
    fn = compile_expression("0.9 ** epoch")

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(ast, "parse", no_parse)
    assert [fn(e) for e in range(3)] == [1.0, 0.9, 0.9**2]
    assert fn.source == "0.9 ** epoch" and repr(fn) == "Expression('0.9 ** epoch')"


def test_other_variable_names():
    fn = compile_expression("1 / (1 + x)", variable="x")
    assert fn(3) == 0.25
    with pytest.raises(ConfigError, match="unknown name 'epoch'"):
        compile_expression("epoch", variable="x")


def test_the_evaluator_never_calls_eval_exec_or_compile():
    tree = ast.parse(pathlib.Path(expr_module.__file__).read_text())
    called = {n.func.id for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__"}


@pytest.mark.parametrize("source,epoch,message", [
    ("10 ** 400", 0, "failed at epoch=0: int too large to convert to float"),
    ("10.0 ** 400", 0, "failed at epoch=0: (34, 'Numerical result out of range')"),
    ("exp(1000)", 0, "failed at epoch=0: math range error"),
    ("inf", 3, "gave inf at epoch=3; it must be a finite number"),
    ("inf - inf", 0, "gave nan at epoch=0; it must be a finite number"),
    ("-inf * epoch", 2, "gave -inf at epoch=2"),
    ("sqrt(-1)", 0, "failed at epoch=0: math domain error"),
    ("log(epoch)", 0, "failed at epoch=0: math domain error"),
    ("floor(inf)", 0, "failed at epoch=0: cannot convert float infinity to integer"),
    ("epoch % 0", 4, "failed at epoch=4: integer modulo by zero"),
    ("floor(1e300) * floor(1e300) * 10", 0, "failed at epoch=0: int too large to convert"),
])
def test_overflow_and_non_finite_results_name_the_epoch(source, epoch, message):
    fn = compile_expression(source)
    with pytest.raises(ConfigError) as info:
        fn(epoch)
    assert str(info.value).startswith(f"expression {source!r} ")
    assert message in str(info.value)


def test_results_are_floats_and_a_minimum_is_kept():
    assert compile_expression("epoch > 2")(3) == 1.0
    assert isinstance(compile_expression("epoch // 2")(5), float)
    fn = compile_expression("1 - epoch / 4", minimum=0.0)
    assert fn(4) == 0.0
    with pytest.raises(ConfigError, match=r"^expression '1 - epoch / 4' gave -0.25 at epoch=5; "
                                          r"it must be >= 0.0$"):
        fn(5)


@pytest.mark.parametrize("kind", ["LambdaLR", "MultiplicativeLR"])
@pytest.mark.parametrize("source,bad_epoch,message", [
    ("1 - epoch / 2", 3, "gave -0.5 at epoch=3; it must be >= 0.0"),
    ("exp(epoch * 300)", 3, "failed at epoch=3: math range error"),
    ("10 ** (epoch * 200)", 2, "failed at epoch=2: int too large to convert to float"),
    ("1 / (2 - epoch)", 2, "failed at epoch=2: division by zero"),
    ("inf if epoch == 1 else 1", 1, "gave inf at epoch=1; it must be a finite number"),
])
def test_schedulers_refuse_bad_factors_at_the_step_that_makes_them(kind, source, bad_epoch,
                                                                  message):
    import trainctl as tc

    opt = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=1.0)
    sched = getattr(tc.optim.lr_scheduler, kind)(opt, source)
    for _ in range(1, bad_epoch):
        opt.step()
        sched.step()
    opt.step()
    with pytest.raises(ConfigError) as info:
        sched.step()
    assert str(info.value) == f"expression {source!r} {message}"


def test_a_resumed_expression_keeps_its_minimum():
    import trainctl as tc

    opt = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=1.0)
    sched = tc.optim.lr_scheduler.LambdaLR(opt, "1 - epoch")
    state = sched.state_dict()
    other = tc.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1.0)
    other.load_state_dict(state)
    with pytest.raises(ConfigError, match="gave -1.0 at epoch=2; it must be >= 0.0"):
        other.lr_lambdas[0](2)


def test_syntax_warnings_stay_quiet(recwarn):
    assert compile_expression("1if epoch else 2")(0) == 2.0
    assert not [w for w in recwarn if issubclass(w.category, SyntaxWarning)]
