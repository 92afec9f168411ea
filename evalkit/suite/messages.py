"""Pydantic's validation errors → one ``SuiteError`` saying where (file:line: field) and what is allowed.

Pydantic reports every problem with a location such as ``('scorers', 1, 'classify', 'labels')`` and a
message written for programmers ("Input should be a valid list"). Here each location becomes a field path
(``scorers[1].classify.labels``) and a line (walking the YAML node tree), each message a sentence for the
person editing the file ("expected a list, got 'a'"), and the first problem by line is reported, with a
count of the rest.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from evalkit.errors import SuiteError
from evalkit.suite.located import ERROR_TYPE, PathElem
from evalkit.suite.model import Suite
from evalkit.suite.scorer_options import SCORER_OPTIONS, ScorerConfig
from evalkit.suite.yamlpos import YamlDoc

_NOUNS: dict[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_BOUNDS: dict[str, tuple[str, str]] = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}
_PREFIXES = ("Value error, ", "Assertion failed, ")
_SHOW_MAX = 40


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem, located and worded for the user."""

    line: int | None
    """1-based line in the suite file."""
    field: str
    """The field path, ``a.b[2].c`` (empty for the whole file)."""
    message: str
    """What is wrong and what is allowed."""


def suite_error(exc: ValidationError, *, doc: YamlDoc, file: str) -> SuiteError:
    """The first problem of ``exc`` (by line) as one ``SuiteError``, counting the others."""
    problems = sorted(
        (problem(error, doc=doc) for error in exc.errors()),
        key=lambda p: (p.line is None, p.line or 0),
    )
    first, more = problems[0], len(problems) - 1
    message = first.message
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return SuiteError(message, file=file, line=first.line, field=first.field or None)


def problem(error: ErrorDetails, *, doc: YamlDoc) -> Problem:
    """One pydantic error, located in the YAML document and reworded."""
    loc = tuple(elem for elem in error["loc"] if not _internal(elem))
    return Problem(line=doc.line_of(loc), field=field_path(loc), message=_message(error, loc))


def field_path(loc: Sequence[PathElem]) -> str:
    """``('scorers', 1, 'classify', 'labels')`` → ``scorers[1].classify.labels``."""
    out = ""
    for elem in loc:
        if isinstance(elem, int):
            out += f"[{elem}]"
        else:
            out += f".{elem}" if out else str(elem)
    return out


def _internal(elem: PathElem) -> bool:
    """Location steps pydantic adds that are not in the document (dict-key markers, validator tags)."""
    return isinstance(elem, str) and (elem == "[key]" or elem.startswith("function-"))


def _message(error: ErrorDetails, loc: tuple[PathElem, ...]) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error["input"]
    if kind == "missing":
        return "required key missing"
    if kind == "extra_forbidden":
        allowed = allowed_keys(loc[:-1])
        return f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
    if kind in _NOUNS:
        return f"expected {_NOUNS[kind]}, got {show(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the allowed values')}, got {show(value)}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {ctx.get(key)}, got {show(value)}"
    if kind == "too_short":
        return _too_short(ctx)
    if kind == "string_pattern_mismatch":
        return f"{show(value)} does not match the pattern {ctx.get('pattern')}"
    return _strip_prefix(error["msg"]) if kind != ERROR_TYPE else error["msg"]


def _too_short(ctx: dict[str, Any]) -> str:
    minimum, actual = ctx.get("min_length", 1), ctx.get("actual_length", 0)
    if ctx.get("field_type") == "List":
        return f"needs at least {minimum} item{'s' if minimum != 1 else ''}, got {actual}"
    return "must not be empty" if minimum == 1 else f"must be at least {minimum} characters long"


def _strip_prefix(message: str) -> str:
    for prefix in _PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def show(value: Any) -> str:
    """A short, readable rendering of a value the user wrote (``'a'``, ``null``, ``a mapping``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 1] + "…"


def allowed_keys(loc: Sequence[PathElem]) -> list[str]:
    """The keys the mapping at ``loc`` accepts (empty if ``loc`` does not lead to a model)."""
    current: Any = Suite
    for elem in loc:
        current = _step(current, elem)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [field.alias or name for name, field in current.model_fields.items()]
    return []


def _step(annotation: Any, elem: PathElem) -> Any:
    """The type one location step below ``annotation`` (None when there is none)."""
    if isinstance(annotation, type) and issubclass(annotation, ScorerConfig):
        return SCORER_OPTIONS.get(str(elem))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if elem in (name, field.alias):
                return field.annotation
        return None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _step(args[0], elem)
    if origin in (Union, types.UnionType):
        found = (_step(arg, elem) for arg in args)
        return next((step for step in found if step is not None), None)
    if origin is list and isinstance(elem, int):
        return args[0]
    if origin is dict:
        return args[1]
    return None
