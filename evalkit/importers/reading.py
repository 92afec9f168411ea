"""Reading what OpenAI's API returned, as the user saved it: a JSON object (the eval, a run), JSON Lines
(the items), or either (the output items: the list, a page of it, or one per line).

Every problem is one ``InputError`` naming the file, the line where there is one, and the field as a path
(``testing_criteria[2].type``), so the user can find it in the file they saved. ``Where`` carries that
location to the checks of each object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.text import display_path

__all__ = ["Records", "Where", "json_type", "read_json", "read_jsonl", "read_records", "shown"]

_SHOWN = 60
"""Characters of a value quoted at most in a message."""


@dataclass(frozen=True, slots=True)
class Where:
    """A value's place in a file: the file, its line (JSON Lines) and its field path inside that line."""

    file: str
    """The file, as the user would type it."""
    line: int | None = None
    """1-based line of a JSON Lines file; None in a JSON document."""
    field: str = ""
    """Path of the value inside the line or document (``testing_criteria[2]``); empty for the whole."""

    def at(self, key: str | int) -> Where:
        """The place of ``key`` inside this value."""
        if isinstance(key, int):
            return Where(self.file, self.line, f"{self.field}[{key}]")
        return Where(self.file, self.line, f"{self.field}.{key}" if self.field else key)

    def error(self, message: str) -> InputError:
        """An ``InputError`` about the value here."""
        return InputError(message, file=self.file, line=self.line, field=self.field or None)


def json_type(value: Any) -> str:
    """The JSON name of a value's type (``an object``, ``a string``, ``null``), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def shown(value: Any) -> str:
    """A value as JSON in a few characters (objects and lists by their type)."""
    if isinstance(value, (dict, list)):
        return json_type(value)
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _text(path: Path, what: str) -> str:
    file = display_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"no such file; expected {what}", file=file) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=file) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=file, line=line) from None


def read_json(path: Path, *, what: str) -> tuple[dict[str, Any], Where]:
    """The JSON object in ``path`` (``what`` says what it should be, for messages) and its place."""
    file = display_path(path)
    text = _text(path, what)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"not valid JSON ({exc.msg} at column {exc.colno}); expected {what}"
        raise InputError(message, file=file, line=exc.lineno) from None
    where = Where(file)
    if not isinstance(value, dict):
        raise where.error(f"expected {what} (a JSON object), got {json_type(value)}")
    return value, where


def read_jsonl(path: Path, *, what: str) -> list[tuple[Any, Where]]:
    """Each line of a JSON Lines file, parsed, with its place (blank lines skipped)."""
    file = display_path(path)
    found: list[tuple[Any, Where]] = []
    for number, line in enumerate(_text(path, what).split("\n"), 1):
        if line.strip():
            found.append((_parsed(line, Where(file, number), what), Where(file, number)))
    if not found:
        raise InputError(f"the file is empty; expected {what}", file=file)
    return found


@dataclass(frozen=True, slots=True)
class Records:
    """The records of a file of listed objects, each with its place."""

    records: list[tuple[Any, Where]]
    """In file order."""
    more: bool = False
    """The last page said ``has_more: true``: the API had records the file lacks."""


def read_records(path: Path, *, what: str) -> Records:
    """The records of a file holding a JSON list of them, a page ``{"object": "list", "data": [...]}``,
    one record, or JSON Lines of records or of pages — as the API returned them, saved either way."""
    file = display_path(path)
    text = _text(path, what)
    pages: list[bool] = []
    try:
        document = json.loads(text)
    except json.JSONDecodeError as whole:
        lines = [(number, line) for number, line in enumerate(text.split("\n"), 1) if line.strip()]
        try:
            json.loads(lines[0][1] if lines else text)
        except json.JSONDecodeError:  # not JSON Lines either: the document's own error, at its line
            message = f"not valid JSON ({whole.msg} at column {whole.colno}); expected {what}"
            raise InputError(message, file=file, line=whole.lineno) from None
        found = [
            record
            for number, line in lines
            for record in _unpaged(_parsed(line, Where(file, number), what), Where(file, number), pages)
        ]
    else:
        found = list(_unpaged(document, Where(file), pages))
    if not found:
        raise InputError(f"holds no records; expected {what}", file=file)
    return Records(found, more=bool(pages) and pages[-1])


def _parsed(line: str, where: Where, what: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise where.error(f"not valid JSON ({exc.msg} at column {exc.colno}); expected {what}") from None


def _unpaged(value: Any, where: Where, pages: list[bool]) -> Iterator[tuple[Any, Where]]:
    """The records of one JSON value (a page, a list, or one record); a page's ``has_more`` noted."""
    if isinstance(value, dict) and isinstance(value.get("data"), list) and value.get("object") == "list":
        pages.append(value.get("has_more") is True)
        value, where = value["data"], where.at("data")
    if isinstance(value, list):
        yield from ((record, where.at(index)) for index, record in enumerate(value))
    else:
        yield value, where
