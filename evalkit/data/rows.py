"""One row of test data → draft cases: legacy prompt/completion rows and column-mapped table rows.

A row parser checks the row with plain dict look-ups (no per-row pydantic: 100,000 rows must load in
seconds) and returns ``Draft``s — a case without its id — or raises ``RowError`` naming the field. The
caller adds the file and line. Chat rows are parsed in ``evalkit.data.chat``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.records import Message
from evalkit.suite.messages import show
from evalkit.suite.model import Columns

ROW_SHAPES = 'a chat row has "messages"; a legacy row has "prompt" and "completion"'
"""How to write a row, for messages about a row of the wrong shape."""

INLINE_COLUMNS = Columns(input="input", expected="expected", system="system", id="id")
"""The keys of an inline ``{input, expected, system?, id?}`` case."""


class RowError(Exception):
    """A row is malformed; ``field`` says where in the row (``messages[2].role``), or None for all of it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Draft:
    """A case read from a row, before it gets its id."""

    reference: str
    """The expected answer."""
    reference_field: str
    """Where in the row the reference came from (``messages[3].content``, ``completion``, a column)."""
    messages: tuple[Message, ...] | None = None
    """Chat input, or None for a prompt case."""
    prompt: str | None = None
    """Completions input, or None for a chat case."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Request-level fields of a chat row (``tools``, …)."""
    item: dict[str, Any] = field(default_factory=dict)
    """The row's ``item`` object: fields graders read, never sent to a model."""
    columns: dict[str, Any] = field(default_factory=dict)
    """A table row's unmapped columns, which graders read as ``item`` fields too (not part of the case's
    content hash, so adding a column does not change the ids of cases without an id column)."""
    turn: int | None = None
    """1-based index among the row's weighted assistant turns, when turns are expanded."""


def row_id(value: Any, *, field: str = "id") -> str | None:
    """A row's own id as text (str or int), or None when it has none."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RowError(f"expected a string or an integer, got {show(value)}", field=field)
    text = str(value)
    if not text.strip():
        raise RowError("must not be empty (leave it out to get an id from the content)", field=field)
    return text


def legacy_draft(row: dict[str, Any], *, stop: Sequence[str]) -> Draft:
    """A ``{"prompt", "completion"}`` row: the prompt is sent as it is, the completion is the reference."""
    prompt = _string(row, "prompt")
    completion = _string(row, "completion")
    reference = strip_completion(completion, stop=stop)
    if not reference.strip():
        raise RowError("is empty once its leading space and stop sequence are removed", field="completion")
    return Draft(reference=reference, reference_field="completion", prompt=prompt, item=row_item(row))


def row_item(row: dict[str, Any]) -> dict[str, Any]:
    """A row's ``item`` object (the fields graders read as ``{{item.X}}``), or {} when it has none."""
    item = row.get("item", {})
    if not isinstance(item, dict):
        raise RowError(f"expected an object of fields graders read, got {show(item)}", field="item")
    return item


def strip_completion(completion: str, *, stop: Sequence[str]) -> str:
    """The completion without ONE leading space and without a trailing stop sequence (the longest that
    matches), as the model is expected to answer when called with those stop sequences."""
    text = completion.removeprefix(" ")
    for sequence in sorted(stop, key=len, reverse=True):
        if sequence and text.endswith(sequence):
            return text[: -len(sequence)]
    return text


def _string(row: dict[str, Any], key: str) -> str:
    if key not in row:
        raise RowError(f"required ({ROW_SHAPES})", field=key)
    value = row[key]
    if not isinstance(value, str):
        raise RowError(f"expected a string, got {show(value)}", field=key)
    return value


def table_draft(row: dict[str, Any], *, columns: Columns) -> Draft:
    """A row whose columns hold the input, the expected answer and maybe a system message."""
    text = _cell(row, columns.input, role="input")
    expected = _cell(row, columns.expected, role="expected")
    messages: list[Message] = []
    if columns.system is not None:
        system = row.get(columns.system)
        if system is not None and str(system).strip():
            messages.append({"role": "system", "content": str(system)})
    messages.append({"role": "user", "content": text})
    mapped = {name for name in columns.model_dump().values() if name is not None}
    others = {name: value for name, value in row.items() if name not in mapped}
    return Draft(reference=expected, reference_field=columns.expected, messages=tuple(messages), columns=others)


def table_id(row: dict[str, Any], *, columns: Columns) -> str | None:
    """The id column's value as text, or None when there is no id column or the cell is empty."""
    if columns.id is None:
        return None
    value = row.get(columns.id)
    if value is None or not str(value).strip():
        return None
    return value if isinstance(value, str) else str(value)


def _cell(row: dict[str, Any], name: str, *, role: str) -> str:
    if name not in row:
        raise RowError(f"required (columns.{role} names it)", field=name)
    value = row[name]
    if value is None or not str(value).strip():
        raise RowError(f"is empty (it is the {role} column)", field=name)
    return value if isinstance(value, str) else str(value)


def check_inline_keys(row: dict[str, Any]) -> None:
    """An inline ``{input, expected}`` case may hold only those keys, ``system`` and ``id``."""
    allowed = ("input", "expected", "system", "id")
    for key in row:
        if key not in allowed:
            raise RowError(f"unknown key (allowed: {', '.join(allowed)}; {ROW_SHAPES})", field=str(key))
