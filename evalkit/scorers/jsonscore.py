"""``json``: the output is JSON — optionally valid against a JSON Schema, optionally equal to the reference.

With ``extract`` (the default) the JSON may be wrapped: a fenced Markdown block (```` ```json ````) or the
first object or array that parses inside surrounding text. Checks run in order — parse, schema, equal — and
a miss says which one failed. (The module is not called ``json`` so it never shadows the standard one.)
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from evalkit.records import Case, Score
from evalkit.scorers.base import Scorer, binary
from evalkit.suite.scorer_options import JsonOptions

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[^\n`]*\n(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()
_NOT_FOUND = object()
_MAX_ATTEMPTS = 100
"""Bracket positions tried when looking for embedded JSON: bounds the time a degenerate output
(``[[[[…``) can take, since each failed attempt costs up to the parser's nesting limit."""


class JsonScorer(Scorer):
    """1.0 when the output holds JSON that passes every enabled check; ``answer`` is that JSON, compact."""

    kind = "json"

    def __init__(
        self,
        *,
        name: str | None = None,
        schema: dict[str, Any] | None = None,
        equal: bool = False,
        extract: bool = True,
    ) -> None:
        super().__init__(name=name)
        self.validator: Validator | None = _validator(schema) if schema is not None else None
        """Checks the parsed output against the schema; None when there is no schema."""
        self.equal = equal
        """The parsed output must equal the reference parsed as JSON."""
        self.extract = extract
        """Accept JSON in a code fence or surrounded by text."""

    async def score(self, output: str, case: Case) -> Score:
        value = find_json(output, extract=self.extract)
        if value is _NOT_FOUND:
            where = "no JSON object or array found in the output" if self.extract else "output is not JSON"
            return binary(False, explanation=where)
        answer = json.dumps(value, ensure_ascii=False)
        problem = self._schema_problem(value) or self._equality_problem(value, case.reference)
        return binary(problem is None, answer=answer, explanation=problem)

    def check_reference(self, reference: str) -> str | None:
        if self.equal and _parse(reference) is _NOT_FOUND:
            return "reference is not valid JSON, so 'json' with 'equal' cannot compare against it"
        return None

    def _schema_problem(self, value: Any) -> str | None:
        if self.validator is None:
            return None
        from jsonschema.exceptions import best_match

        error = best_match(self.validator.iter_errors(value))
        if error is None:
            return None
        return f"schema violation at {error.json_path}: {error.message}"

    def _equality_problem(self, value: Any, reference: str) -> str | None:
        if not self.equal:
            return None
        expected = _parse(reference)
        if expected is _NOT_FOUND:
            return "reference is not valid JSON"
        return None if json_equal(value, expected) else "not equal to the reference"


def find_json(text: str, *, extract: bool = True) -> Any:
    """The JSON value ``text`` holds: all of it, else (``extract``) a fenced block or the first object or
    array that parses (trying at most the first 100 opening brackets).

    Returns the module's ``_NOT_FOUND`` sentinel when there is none (``null`` is a JSON value).
    """
    value = _parse(text)
    if value is not _NOT_FOUND or not extract:
        return value
    for block in _FENCE.findall(text):
        value = _parse(block)
        if value is not _NOT_FOUND:
            return value
    return _first_embedded(text)


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality: numbers compare by value (``1 == 1.0``) but ``true`` is not ``1``; key order is free."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers):
        return left == right
    return type(left) is type(right) and bool(left == right)


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_FOUND


def _first_embedded(text: str) -> Any:
    """The first ``{...}`` or ``[...]`` in ``text`` that parses as JSON (among the first few tried)."""
    start = _next_opening(text, 0)
    for _ in range(_MAX_ATTEMPTS):
        if start == -1:
            break
        try:
            value, _end = _DECODER.raw_decode(text, start)
        except (ValueError, RecursionError):
            start = _next_opening(text, start + 1)
            continue
        return value
    return _NOT_FOUND


def _next_opening(text: str, start: int) -> int:
    positions = [p for p in (text.find("{", start), text.find("[", start)) if p != -1]
    return min(positions, default=-1)


def _validator(schema: dict[str, Any]) -> Validator:
    """A validator for ``schema`` (checked to be a valid JSON Schema by ``JsonOptions``)."""
    from jsonschema.validators import validator_for

    return validator_for(schema)(schema)


def build_json(options: JsonOptions) -> JsonScorer:
    """The ``json`` scorer a suite entry describes."""
    return JsonScorer(
        name=options.name, schema=options.json_schema, equal=options.equal, extract=options.extract
    )
