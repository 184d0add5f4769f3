"""A small, safe evaluator for learning-rate expressions such as ``"0.95 ** epoch"``.

Configs cannot hold Python lambdas, so ``LambdaLR``/``MultiplicativeLR`` accept a string in the
variable ``epoch``. It is parsed with :mod:`ast` and checked against an allow-list, then turned
into a tree of small closures: nothing is ever passed to ``eval`` or ``exec``.

Allowed: int and float literals; the variable (``epoch``); ``+ - * / // % **``; unary ``-``,
``+`` and ``not``; comparisons (chains too); ``and``/``or``; ``a if cond else b``; calls of
``min max abs`` and of the math functions ``cos sin tan exp log log2 log10 sqrt floor ceil pow``;
the constants ``pi e inf``. Anything else (attribute access, other names, subscripts, lambdas,
comprehensions, keyword arguments, strings, inputs longer than 500 characters, exponents above
1000 in absolute value, nesting deeper than 60 levels) is a
:class:`~trainctl.core.errors.ConfigError` (a ``ValueError``) that names the offending construct.

Example:
    >>> f = compile_expression("min(1.0, (epoch + 1) / 5)")
    >>> [f(e) for e in range(6)]
    [0.2, 0.4, 0.6, 0.8, 1.0, 1.0]
    >>> compile_expression("epoch.__class__")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    trainctl.core.errors.ConfigError: expression 'epoch.__class__': ...access '.__class__'...
"""

from __future__ import annotations

import ast
import math
import operator
import warnings

from ..core.errors import ConfigError

MAX_LENGTH = 500
MAX_EXPONENT = 1000

FUNCTIONS = {
    "min": min, "max": max, "abs": abs,
    "cos": math.cos, "sin": math.sin, "tan": math.tan, "exp": math.exp, "log": math.log,
    "log2": math.log2, "log10": math.log10, "sqrt": math.sqrt, "floor": math.floor,
    "ceil": math.ceil, "pow": math.pow,
}
CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf}


MAX_DEPTH = 60
MAX_INT_BITS = 4096


def _power(a, b):
    if abs(b) > MAX_EXPONENT:
        raise ValueError(f"exponent {b} is larger than {MAX_EXPONENT} in absolute value")
    if isinstance(a, int) and isinstance(b, int) and b > 0 and a.bit_length() * b > MAX_INT_BITS:
        a = float(a)  # a huge exact integer is never a learning rate: overflow instead
    result = a**b
    if isinstance(result, complex):
        raise ValueError(f"{a} ** {b} is not a real number")
    return result


_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: _power,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARE = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
_SYMBOLS = {
    ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
    ast.RShift: ">>", ast.Invert: "~", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
    ast.NotIn: "not in",
}
_CONSTRUCTS = {
    ast.Subscript: "subscript", ast.Lambda: "lambda", ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension", ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression", ast.List: "list", ast.Tuple: "tuple",
    ast.Dict: "dict", ast.Set: "set", ast.Starred: "starred argument",
    ast.NamedExpr: "assignment ':='", ast.JoinedStr: "f-string", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slice",
}


class Expression:
    """A compiled expression; call it with the variable's value.

    A call returns a finite float; an error, an overflow, NaN, infinity or a value below
    ``minimum`` is a :class:`~trainctl.core.errors.ConfigError` naming the expression and the
    variable's value.

    Attributes:
        source: the expression text (what ``state_dict`` stores).
        variable: the name of its variable (``epoch`` unless told otherwise).
        minimum: the smallest value allowed (a learning-rate factor: 0), or None.
    """

    def __init__(self, source: str, variable: str = "epoch", minimum: float | None = None):
        self.source = source
        self.variable = variable
        self.minimum = minimum
        self._fn = _Compiler(source, variable).compile()

    def __call__(self, value) -> float:
        try:
            result = float(self._fn(value))
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"expression {self.source!r} failed at {self.variable}={value}: {exc}"
            ) from None
        if not math.isfinite(result):
            raise ConfigError(f"expression {self.source!r} gave {result} at "
                              f"{self.variable}={value}; it must be a finite number")
        if self.minimum is not None and result < self.minimum:
            raise ConfigError(f"expression {self.source!r} gave {result} at "
                              f"{self.variable}={value}; it must be >= {self.minimum}")
        return result

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Expression)
            and (other.source, other.variable, other.minimum)
            == (self.source, self.variable, self.minimum)
        )

    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        return self  # immutable

    def __reduce__(self):
        return (Expression, (self.source, self.variable, self.minimum))


def compile_expression(source: str, variable: str = "epoch",
                       minimum: float | None = None) -> Expression:
    """Parse and check ``source`` once; the result evaluates it for a value of ``variable``
    (to a finite float, at least ``minimum`` when given).

    Raises:
        ConfigError: the text is not a valid, allowed expression.
    """
    return Expression(source, variable, minimum)


class _Compiler:
    def __init__(self, source: str, variable: str) -> None:
        self.source = source
        self.variable = variable

    def fail(self, what: str, node: ast.AST | None = None):
        column = getattr(node, "col_offset", None)
        if isinstance(node, ast.Attribute) and node.end_col_offset is not None:
            column = node.end_col_offset - len(node.attr) - 1  # where the '.' is
        where = "" if column is None else f" (column {column})"
        raise ConfigError(f"expression {self.source!r}: {what}{where}")

    def compile(self):
        if not isinstance(self.source, str):
            raise ConfigError(
                f"expression must be a string, got {type(self.source).__name__}"
            )
        if len(self.source) > MAX_LENGTH:
            raise ConfigError(
                f"expression is {len(self.source)} characters long; at most {MAX_LENGTH} "
                f"are allowed (starts {self.source[:40]!r})"
            )
        try:
            with warnings.catch_warnings():  # "1if epoch" parses, with a SyntaxWarning to stderr
                warnings.simplefilter("ignore", SyntaxWarning)
                tree = ast.parse(self.source.strip(), mode="eval")
        except SyntaxError as exc:
            where = f" at column {exc.offset}" if exc.offset else ""
            raise ConfigError(
                f"expression {self.source!r}: invalid syntax{where} ({exc.msg})"
            ) from None
        except (RecursionError, MemoryError, ValueError) as exc:
            raise ConfigError(f"expression {self.source!r} cannot be parsed: {exc}") from None
        self.depth = 0
        return self.visit(tree.body)

    def visit(self, node):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            self.fail(f"{_describe(node)} is not allowed", node)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"expression is nested more than {MAX_DEPTH} levels deep", node)
        try:
            return method(node)
        finally:
            self.depth -= 1

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"the literal {value!r} is not allowed (only numbers)", node)
        return lambda x: value

    def visit_Name(self, node):
        if node.id == self.variable:
            return lambda x: x
        if node.id in CONSTANTS:
            value = CONSTANTS[node.id]
            return lambda x: value
        if node.id in FUNCTIONS:
            self.fail(f"function {node.id!r} must be called, as {node.id}(...)", node)
        self.fail(
            f"unknown name {node.id!r}; allowed names are {self.variable!r}, "
            f"{', '.join(CONSTANTS)} and the functions {', '.join(FUNCTIONS)}",
            node,
        )

    def visit_BinOp(self, node):
        op = _BINARY.get(type(node.op))
        if op is None:
            self.fail(f"operator {_SYMBOLS.get(type(node.op), type(node.op).__name__)!r} "
                      "is not allowed", node)
        if isinstance(node.op, ast.Pow):
            exponent = _constant_value(node.right)
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                self.fail(f"exponent {exponent} is larger than {MAX_EXPONENT}", node.right)
        left, right = self.visit(node.left), self.visit(node.right)
        return lambda x: op(left(x), right(x))

    def visit_UnaryOp(self, node):
        op = _UNARY.get(type(node.op))
        if op is None:
            self.fail(f"operator {_SYMBOLS.get(type(node.op), '?')!r} is not allowed", node)
        operand = self.visit(node.operand)
        return lambda x: op(operand(x))

    def visit_Compare(self, node):
        ops = []
        for op in node.ops:
            fn = _COMPARE.get(type(op))
            if fn is None:
                self.fail(f"comparison {_SYMBOLS.get(type(op), '?')!r} is not allowed", node)
            ops.append(fn)
        first = self.visit(node.left)
        rest = [self.visit(c) for c in node.comparators]

        def compare(x):
            a = first(x)
            for fn, right in zip(ops, rest):
                b = right(x)
                if not fn(a, b):
                    return False
                a = b
            return True

        return compare

    def visit_BoolOp(self, node):
        values = [self.visit(v) for v in node.values]
        if isinstance(node.op, ast.And):
            def both(x):
                result = True
                for v in values:
                    result = v(x)
                    if not result:
                        return result
                return result
            return both

        def either(x):
            result = False
            for v in values:
                result = v(x)
                if result:
                    return result
            return result

        return either

    def visit_IfExp(self, node):
        test, body, orelse = self.visit(node.test), self.visit(node.body), self.visit(node.orelse)
        return lambda x: body(x) if test(x) else orelse(x)

    def visit_Call(self, node):
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                self.fail(f"attribute access '.{node.func.attr}' is not allowed; call "
                          f"{node.func.attr}(...) directly", node.func)
            self.fail(f"calling {_describe(node.func)} is not allowed", node)
        name = node.func.id
        if name not in FUNCTIONS:
            self.fail(f"function {name!r} is not allowed; allowed functions are "
                      f"{', '.join(FUNCTIONS)}", node)
        if node.keywords:
            self.fail(f"keyword argument {node.keywords[0].arg!r} in {name}() is not allowed",
                      node)
        if not node.args:
            self.fail(f"{name}() needs at least one argument", node)
        fn = FUNCTIONS[name]
        args = [self.visit(a) for a in node.args]
        if name == "pow":
            def checked_pow(x):
                a, b = (arg(x) for arg in args)
                if abs(b) > MAX_EXPONENT:
                    raise ValueError(f"exponent {b} is larger than {MAX_EXPONENT}")
                return fn(a, b)
            return checked_pow
        return lambda x: fn(*(arg(x) for arg in args))

    def visit_Attribute(self, node):
        self.fail(f"attribute access '.{node.attr}' is not allowed", node)


def _constant_value(node):
    """The value of a (possibly negated) numeric literal, else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _constant_value(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    return None


def _describe(node) -> str:
    if type(node) in _CONSTRUCTS:
        return _CONSTRUCTS[type(node)]
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}'"
    return f"{type(node).__name__} expression"
