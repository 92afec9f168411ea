"""Safe arithmetic formulas: a ``multi`` grader's ``calculate_output`` (``"0.5 * fuzzy + 0.5 * exact"``).

Never ``eval``: the text is parsed by ``ast.parse(text, mode="eval")``, every node is checked against the
allow-list below, and ``Formula.evaluate`` walks the checked tree itself. What a formula may hold — what
OpenAI's graders guide documents for ``calculate_output``, plus ``**`` and ``round``:

    numbers          ``0.5``, ``2``, ``1e-3`` (not ``True``/``None``, complex numbers or text)
    names            the ones the caller allows (a multi grader's sub-grader names)
    + - * /          and unary ``-`` ``+``; parentheses
    ^ or **          power: binds tighter than ``*`` and to the right, as in maths (``2^3^2`` is ``2^9``)
    functions        min(a, …), max(a, …), abs, floor, ceil, sqrt, exp (one argument each),
                     log(x[, base]) (natural by default), round(x[, digits]) (Python's: halves to even)

Anything else — attribute access, subscripts, calls of anything but those functions, lambdas,
comprehensions, comparisons, text, unknown names — is refused with a ``FormulaError`` saying what and at
which column. All arithmetic is done on floats, each step checked to be finite, so no formula can build a
huge integer or run for long: ``9**9**9`` is an overflow error at once; so are division by zero and
``log(0)``. Formulas are at most ``MAX_LENGTH`` characters.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "Formula", "FormulaError", "parse_formula"]

MAX_LENGTH = 1000
"""Longest formula accepted, in characters (real ones are a line)."""
MAX_DEPTH = 100
"""Deepest nesting accepted (operations within operations), so that evaluating can never exhaust the stack."""

_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: math.pow,
}
_FUNCTIONS: dict[str, tuple[Callable[..., float], int, int | None]] = {
    "min": (lambda *xs: min(xs), 1, None),
    "max": (lambda *xs: max(xs), 1, None),
    "abs": (abs, 1, 1),
    "floor": (lambda x: float(math.floor(x)), 1, 1),
    "ceil": (lambda x: float(math.ceil(x)), 1, 1),
    "sqrt": (math.sqrt, 1, 1),
    "exp": (math.exp, 1, 1),
    "log": (math.log, 1, 2),
    "round": (lambda x, digits=0.0: float(round(x, _whole(digits))), 1, 2),
}
"""Each function: what it computes, its fewest and most arguments (None: any number)."""
_ALLOWED = "numbers, the allowed names, + - * / ^ **, parentheses and " + ", ".join(_FUNCTIONS)
"""What a formula may use, in words, for error messages."""

_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambda",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.IfExp: "if/else",
    ast.NamedExpr: "assignment (:=)", ast.JoinedStr: "text", ast.List: "lists", ast.Tuple: "tuples",
    ast.Set: "sets", ast.Dict: "dicts", ast.Starred: "unpacking (*)",
}  # fmt: skip
"""What refused constructs are called in messages (any other: its ``ast`` class name)."""


class FormulaError(ValueError):
    """A formula that is not allowed (the message says what and where), or whose value cannot be computed
    (division by zero, overflow, a math domain error, a missing value)."""


@dataclass(frozen=True)
class Formula:
    """A checked formula, ready to evaluate."""

    text: str
    """The formula as written."""
    names: frozenset[str]
    """The names it uses."""
    _tree: ast.expr | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._tree is None:
            object.__setattr__(self, "_tree", parse_formula(self.text, self.names)._tree)

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The formula's value with each name given its value in ``values``; ``FormulaError`` when a name
        has no finite value or the arithmetic fails (division by zero, overflow, ``sqrt(-1)``)."""
        assert self._tree is not None
        given: dict[str, float] = {}
        for name in self.names:
            value = values.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                what = "no value" if name not in values else f"{value!r}, not a finite number"
                raise FormulaError(f"formula {_cut(self.text, 60)!r}: {name!r} has {what}")
            given[name] = float(value)
        try:
            return _value(self._tree, given)
        except FormulaError as exc:
            raise FormulaError(f"formula {_cut(self.text, 60)!r}: {exc}") from None


def parse_formula(text: str, allowed_names: Collection[str]) -> Formula:
    """``text`` checked to be a formula over ``allowed_names`` (see the module docstring); ``FormulaError``
    saying what is not allowed and at which column, else."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise FormulaError("the formula is empty")
    where = _Columns(text)
    try:
        tree = ast.parse(where.python, mode="eval").body
    except SyntaxError as exc:
        at = where.place((exc.offset or 0) - 1, chars=True)
        raise FormulaError(f"not a formula: {exc.msg} ({at})") from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("not a formula: it cannot be parsed") from None
    if _depth(tree) > MAX_DEPTH:
        raise FormulaError(f"the formula nests more than {MAX_DEPTH} operations deep")
    used = _checked(tree, frozenset(allowed_names), where)
    formula = Formula(text, frozenset(used), tree)
    if not used:
        formula.evaluate({})  # constant: its errors (1/0, 9^9^9) are the formula's own, told now
    return formula


def _checked(tree: ast.expr, allowed: frozenset[str], where: _Columns) -> set[str]:
    """The allowed names ``tree`` reads; ``FormulaError`` at the first node outside the allow-list."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        problem = _problem(node, allowed, called=id(node) in called)
        if problem is not None:
            at = where.place(getattr(node, "col_offset", 0))
            hint = f"; a formula may use {_ALLOWED}" if "not allowed" in problem else ""
            raise FormulaError(f"{problem} ({at}{hint})")
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def _problem(node: ast.AST, allowed: frozenset[str], *, called: bool) -> str | None:
    """Why ``node`` is not allowed in a formula, or None. ``called``: it is the function of a call."""
    if isinstance(node, (ast.Load, ast.operator, ast.unaryop)):
        return None  # told at their BinOp / UnaryOp, which know where they are
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{_cut(repr(value), 20)} is not a number: not allowed"
        return None if _finite_number(value) else "a number this large is not allowed"
    if isinstance(node, ast.Name):
        return None if called else _name_problem(node.id, allowed)
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return _operator_problem(node.op)
    if isinstance(node, ast.Call):
        return _call_problem(node, allowed)
    if isinstance(node, ast.keyword):
        return "keyword arguments are not allowed"
    what = _REFUSED.get(type(node), type(node).__name__)
    return f"{what}: not allowed"


def _name_problem(name: str, allowed: frozenset[str]) -> str | None:
    if name in allowed:
        return None
    if name in _FUNCTIONS:
        return f"{name} is a function: call it, as in {name}(x)"
    known = ", ".join(sorted(allowed)) or "none"
    return f"{name!r} is not a known name (names: {known})"


def _operator_problem(op: ast.operator | ast.unaryop) -> str | None:
    if isinstance(op, ast.operator) and type(op) not in _OPERATORS:
        return f"the operator {_SYMBOLS.get(type(op), type(op).__name__)} is not allowed"
    if isinstance(op, ast.unaryop) and not isinstance(op, (ast.USub, ast.UAdd)):
        return f"the operator {'not' if isinstance(op, ast.Not) else '~'} is not allowed"
    return None


_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^",
}  # fmt: skip


def _call_problem(node: ast.Call, allowed: frozenset[str]) -> str | None:
    if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
        if isinstance(node.func, ast.Name) and node.func.id in allowed:
            return f"{node.func.id!r} is not a function (functions: {', '.join(_FUNCTIONS)})"
        return f"calling anything but {', '.join(_FUNCTIONS)} is not allowed"
    _, fewest, most = _FUNCTIONS[node.func.id]
    count = len(node.args)
    if count < fewest or (most is not None and count > most):
        takes = f"at least {fewest}" if most is None else f"{fewest}" if most == fewest else f"{fewest} or {most}"
        return f"{node.func.id}() takes {takes} argument(s), got {count}"
    return None


def _value(node: ast.expr, values: Mapping[str, float]) -> float:
    """The value of a checked tree, each step checked to be finite."""
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, (int, float))
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _value(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left, values), _value(node.right, values)
        return _computed(_OPERATORS[type(node.op)], left, right)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    function = _FUNCTIONS[node.func.id][0]
    return _computed(function, *(_value(arg, values) for arg in node.args))


def _computed(function: Callable[..., float], *args: float) -> float:
    try:
        result = function(*args)
    except ZeroDivisionError:
        raise FormulaError("division by zero") from None
    except OverflowError:
        raise FormulaError("a value is too large (overflow)") from None
    except ValueError as exc:
        raise FormulaError(f"a value is outside the function's domain ({exc})") from None
    if not math.isfinite(result):
        raise FormulaError("a value is too large (overflow)")
    return float(result)


def _whole(digits: float) -> int:
    """``round``'s digits: a whole number of a sensible size."""
    if digits != int(digits) or abs(digits) > 20:
        raise ValueError(f"round's digits must be a whole number from -20 to 20, got {digits:g}")
    return int(digits)


def _finite_number(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _cut(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _depth(tree: ast.AST) -> int:
    """How many levels deep ``tree`` nests, counted without recursion."""
    depth, level = 0, [tree]
    while level:
        depth += 1
        level = [child for node in level for child in ast.iter_child_nodes(node)]
    return depth


class _Columns:
    """The formula as Python reads it — one line (line breaks are spaces, as in maths), ``^`` written ``**``
    — and the way back from a position in it to one in the original text."""

    def __init__(self, text: str) -> None:
        self.text = text
        python: list[str] = []
        self._origin: list[int] = []  # per character of ``python``, its index in ``text``
        for index, char in enumerate(text):
            written = "**" if char == "^" else " " if char.isspace() else char
            python.append(written)
            self._origin += [index] * len(written)
        joined = "".join(python)
        self.python = joined.strip()
        self._origin = self._origin[len(joined) - len(joined.lstrip()) :]

    def place(self, offset: int, *, chars: bool = False) -> str:
        """Where an offset of ``python`` (UTF-8 bytes, or ``chars``) is in the original text: ``column 7``,
        ``line 2, column 3`` past its first line, or ``at the end``."""
        at = offset if chars else len(self.python.encode()[:offset].decode(errors="ignore"))
        if not 0 <= at < len(self.python):
            return "at the end"
        index = self._origin[at]
        line = self.text.count("\n", 0, index)
        column = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return f"line {line + 1}, column {column}" if line else f"column {column}"
