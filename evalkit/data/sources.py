"""Where rows come from: a JSONL file (parsed line by line here), the suite's inline ``cases:``, and the
data file's path. Tables and datasets are read in ``evalkit.data.tables``.

Each source yields ``Rows``: the raw rows with the line each came from, where errors should point, and
the hash of the data as read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import DataError
from evalkit.suite.messages import show
from evalkit.suite.model import DataSpec, Suite
from evalkit.text import display_path


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as read, not yet checked."""

    data: Any
    """The parsed row (a dict, unless the data is malformed)."""
    number: int
    """``Case.line``: the file line (JSONL), index + 2 (CSV), index + 1 (other sources)."""
    line: int | None
    """Line for error messages: ``number`` for files, the suite file's line for inline cases."""
    label: str
    """How to name the row in a message: ``line 3``, ``row 3``, ``cases[2]``."""
    prefix: str = ""
    """Field prefix for error messages (``cases[2]`` for inline cases)."""


@dataclass(frozen=True, slots=True)
class Rows:
    """All rows of a source and where they came from."""

    rows: list[RawRow]
    """In order."""
    file: str
    """Where error messages point: the data file, the suite file (inline), or ``hf:NAME:SPLIT``."""
    source: str
    """``CaseSet.source``."""
    sha256: str
    """``CaseSet.sha256``."""
    case_source: str | None = None
    """``Case.source``: the data file, None for inline cases and datasets."""
    empty: str = "the file is empty"
    """Why there would be no cases, if there are none."""


def data_path(spec: DataSpec, suite: Suite) -> Path:
    """The data file named by ``spec``, relative to the suite file; DataError if it is not a file."""
    assert spec.path is not None
    path = (suite.path.parent / Path(spec.path).expanduser()).absolute()
    problem = "file not found" if not path.exists() else "not a file" if not path.is_file() else None
    if problem is not None:
        field = "data" if isinstance(suite.data, str) else "data.path"
        file, line = display_path(suite.path), suite.line_of("data", "path")
        raise DataError(f"{problem}: {path}", file=file, line=line, field=field)
    return path


def jsonl_rows(path: Path) -> Rows:
    """The rows of a JSONL file: one JSON object per line, blank lines skipped, UTF-8 (BOM tolerated)."""
    file = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror}", file=file) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=file, line=line) from None
    rows: list[RawRow] = []
    for number, text_line in enumerate(text.split("\n"), 1):
        if text_line.strip():
            row = _json_line(text_line, file=file, line=number)
            rows.append(RawRow(data=row, number=number, line=number, label=f"line {number}"))
    sha256 = hashlib.sha256(raw).hexdigest()
    return Rows(rows=rows, file=file, source=file, sha256=sha256, case_source=file)


def _json_line(text: str, *, file: str, line: int) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg} at column {exc.colno})", file=file, line=line) from None
    if not isinstance(value, dict):
        raise DataError(f"expected a JSON object on each line, got {show(value)}", file=file, line=line)
    return value


def inline_rows(suite: Suite) -> Rows:
    """The suite's own ``cases:``; errors point at the suite file's line of each case."""
    cases = suite.cases or []
    rows = [
        RawRow(
            data=case, number=i + 1, line=suite.line_of("cases", i), label=f"cases[{i}]", prefix=f"cases[{i}]"
        )
        for i, case in enumerate(cases)
    ]
    canonical = json.dumps(cases, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    sha256 = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return Rows(
        rows=rows, file=display_path(suite.path), source="inline", sha256=sha256, empty="cases is empty"
    )
