"""Formulas of ``multi`` graders (``calculate_output``): arithmetic over the sub-graders' scores, parsed
and evaluated without ``eval`` — anything beyond arithmetic is refused, saying what and where."""

from __future__ import annotations

import math
import time

import pytest

from evalkit.scorers.graders.formula import MAX_LENGTH, Formula, FormulaError, parse_formula

NAMES = ("fuzzy", "exact", "similarity", "x")
VALUES = {"fuzzy": 0.4, "exact": 1.0, "similarity": 0.25, "x": 3.0}


@pytest.mark.parametrize(
    ("text", "value", "names"),
    [
        ("0.5 * fuzzy + 0.5 * exact", 0.7, {"fuzzy", "exact"}),
        ("(fuzzy + exact + similarity) / 3", 0.55, {"fuzzy", "exact", "similarity"}),
        ("x ^ 2", 9.0, {"x"}),
        ("x ** 2", 9.0, {"x"}),
        ("2 ^ 3 ^ 2", 512.0, set()),  # power binds to the right, as in maths
        ("-x ^ 2", -9.0, {"x"}),  # and tighter than unary minus
        ("0.5 * x ^ 2 + 1", 5.5, {"x"}),  # and tighter than *: not (0.5 * x) xor 2
        ("+fuzzy - -exact", 1.4, {"fuzzy", "exact"}),
        ("min(fuzzy, exact) + max(fuzzy, exact, 2)", 2.4, {"fuzzy", "exact"}),
        ("min(x)", 3.0, {"x"}),
        ("abs(fuzzy - exact)", 0.6, {"fuzzy", "exact"}),
        ("floor(x / 2) + ceil(x / 2)", 3.0, {"x"}),
        ("sqrt(similarity)", 0.5, {"similarity"}),
        ("exp(0) + log(exp(2))", 3.0, set()),
        ("log(8, 2)", 3.0, set()),
        ("round(2.5) + round(0.125, 2)", 2.12, set()),  # Python's round: halves to even
        ("  fuzzy\n  * 2 ", 0.8, {"fuzzy"}),
        ("1e-3 * x", 0.003, {"x"}),
    ],
)
def test_good_formulas_evaluate(text: str, value: float, names: set[str]) -> None:
    formula = parse_formula(text, NAMES)
    assert formula.names == frozenset(names)
    assert formula.evaluate(VALUES) == pytest.approx(value)
    assert formula.text == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "calling anything but min, max, abs, floor, ceil, sqrt, exp, log, round is not allowed (column 1"),
        ("().__class__", "attribute access: not allowed (column 1"),
        ("fuzzy + x.y", "attribute access: not allowed (column 9"),
        ("x[0]", "subscripts: not allowed (column 1"),
        ("lambda: 1", "lambda: not allowed (column 1"),
        ("[1 for x in y]", "comprehensions: not allowed (column 1"),
        ("'a' * 9", "'a' is not a number: not allowed (column 1"),
        ("True + x", "True is not a number: not allowed (column 1"),
        ("1j", "1j is not a number: not allowed"),
        ("x if exact else fuzzy", "if/else: not allowed"),
        ("fuzzy > 0.5", "comparisons: not allowed"),
        ("x % 2", "the operator % is not allowed"),
        ("x // 2", "the operator // is not allowed"),
        ("not x", "the operator not is not allowed"),
        ("(x := 2)", "assignment (:=): not allowed"),
        ("min(*x)", "unpacking (*): not allowed"),
        ("log(x, base=2)", "keyword arguments are not allowed"),
        ("open(x)", "calling anything but"),
        ("x(1)", "'x' is not a function"),
        ("min + 1", "min is a function: call it, as in min(x)"),
        ("abs(x, 1)", "abs() takes 1 argument(s), got 2"),
        ("max()", "max() takes at least 1 argument(s), got 0"),
        ("fuzy * 2", "'fuzy' is not a known name (names: exact, fuzzy, similarity, x) (column 1)"),
        ("0.5 *\n  y", "'y' is not a known name (names: exact, fuzzy, similarity, x) (line 2, column 3)"),
        ("1e999", "a number this large is not allowed"),
        ("0.5 * fuzzy +", "not a formula: invalid syntax (at the end)"),
        ("(fuzzy", "not a formula: '(' was never closed (column 1)"),
        ("", "the formula is empty"),
        ("x + " * MAX_LENGTH + "x", f"the formula is longer than {MAX_LENGTH} characters"),
    ],
)
def test_anything_beyond_arithmetic_is_refused_saying_what_and_where(text: str, message: str) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text, NAMES)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_refusals_of_constructs_say_what_a_formula_may_use() -> None:
    with pytest.raises(FormulaError, match=r"a formula may use numbers, the allowed names, \+ - \* / \^ \*\*"):
        parse_formula("x.real", NAMES)


@pytest.mark.parametrize("text", ["9**9**9", "9^9^9", "10 ^ 400", "exp(1000)", "1e308 * 10", "2 ** 99999999999"])
def test_huge_powers_are_an_overflow_at_once_not_a_hang(text: str) -> None:
    started = time.monotonic()
    with pytest.raises(FormulaError, match="too large"):
        parse_formula(text, NAMES)  # a formula of constants is computed when parsed
    assert time.monotonic() - started < 5  # a generous bound: the integer 9**9**9 would take hours


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("fuzzy / exact", {"fuzzy": 1.0, "exact": 0.0}, "division by zero"),
        ("log(fuzzy)", {"fuzzy": 0.0}, "outside the function's domain"),
        ("sqrt(fuzzy - 1)", {"fuzzy": 0.0}, "outside the function's domain"),
        ("fuzzy ^ 0.5", {"fuzzy": -8.0}, "outside the function's domain"),  # no complex results
        ("x ^ 999", {"x": 10.0}, "too large"),
        ("fuzzy + exact", {"fuzzy": 1.0}, "'exact' has no value"),
        ("fuzzy", {"fuzzy": math.nan}, "'fuzzy' has nan, not a finite number"),
    ],
)
def test_math_errors_at_evaluation_are_formula_errors(text: str, values: dict[str, float], message: str) -> None:
    formula = parse_formula(text, NAMES)
    with pytest.raises(FormulaError, match=message) as caught:
        formula.evaluate(values)
    assert str(caught.value).startswith(f"formula {text!r}: ")


def test_a_formula_is_a_plain_value_that_can_be_built_from_its_text() -> None:
    parsed = parse_formula("0.5 * fuzzy + 0.5 * exact", NAMES)
    assert parsed == Formula("0.5 * fuzzy + 0.5 * exact", frozenset({"fuzzy", "exact"}))
    assert Formula("x ^ 2", frozenset({"x"})).evaluate({"x": 4}) == 16.0
    with pytest.raises(FormulaError, match="not a known name"):
        Formula("y + 1", frozenset({"x"}))


def test_a_function_name_can_also_be_an_allowed_name() -> None:
    formula = parse_formula("max(log, 0.5) + log(1)", ["log"])
    assert formula.names == frozenset({"log"})
    assert formula.evaluate({"log": 0.75}) == 0.75


@pytest.mark.parametrize("text", ["-" * 500 + "x", "x" + " + x" * 200, "abs(" * 120 + "x" + ")" * 120, "(" * 300 + "x" + ")" * 300])
def test_deep_nesting_is_refused_when_parsed_never_a_crash_when_evaluated(text: str) -> None:
    with pytest.raises(FormulaError, match="nest"):
        parse_formula(text, NAMES)
    assert parse_formula("x" + " + x" * 40, NAMES).evaluate(VALUES) == 123.0
