"""A fine-tuning data file → checked training examples.

The file is what a user would upload to OpenAI: JSONL with one chat row per line (``{"messages": [...],
"tools": [...]?}``, an assistant message may carry ``"weight": 0`` to be context only), or one legacy
``{"prompt", "completion"}`` row per line — one format per file. Every line is checked here, so a bad
line is reported as ``file:line: field: problem`` before any model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from evalkit.data.chat import chat_drafts
from evalkit.data.rows import ROW_SHAPES, RowError, legacy_draft
from evalkit.data.sources import jsonl_rows
from evalkit.errors import DataError
from evalkit.records import TrainingExample

Format = Literal["chat", "completions"]
"""Chat rows train a chat model; legacy prompt/completion rows a completions model."""


@dataclass(frozen=True, slots=True)
class TrainingFile:
    """A checked fine-tuning file."""

    path: Path
    """The file as given."""
    format: Format
    """Which format every row is in."""
    examples: list[TrainingExample]
    """One per row, in file order."""
    tools: list[list[dict[str, Any]] | None]
    """Per example, the row's ``tools`` (function definitions), if any."""
    sha256: str
    """Hash of the file's bytes."""


def read_training_file(path: str | Path) -> TrainingFile:
    """The examples of a fine-tuning JSONL file; ``DataError`` at the first bad line."""
    path = Path(path)
    rows = jsonl_rows(path)
    if not rows.rows:
        raise DataError("the file has no examples", file=rows.file)
    examples: list[TrainingExample] = []
    tools: list[list[dict[str, Any]] | None] = []
    formats: set[Format] = set()
    for raw in rows.rows:
        row: dict[str, Any] = raw.data
        kind: Format = "chat" if "messages" in row else "completions"
        if formats and kind not in formats:
            raise DataError(
                f"mixes chat rows and prompt/completion rows; a fine-tuning file uses one format ({ROW_SHAPES})",
                file=rows.file,
                line=raw.line,
            )
        formats.add(kind)
        try:
            examples.append(_example(row, kind))
        except RowError as exc:
            raise DataError(exc.message, file=rows.file, line=raw.line, field=exc.field) from None
        tools.append(_tools(row, file=rows.file, line=raw.line))
    (kind,) = formats
    return TrainingFile(path=path, format=kind, examples=examples, tools=tools, sha256=rows.sha256)


def _example(row: dict[str, Any], kind: Format) -> TrainingExample:
    if kind == "chat":
        chat_drafts(row, expand_turns=False)  # checks roles, content, weights; needs a weighted answer
        return TrainingExample(messages=tuple(row["messages"]))
    legacy_draft(row, stop=())  # checks that both fields are strings and the completion is not empty
    return TrainingExample(prompt=row["prompt"], completion=row["completion"])


def _tools(row: dict[str, Any], *, file: str, line: int | None) -> list[dict[str, Any]] | None:
    value = row.get("tools")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise DataError("expected a list of tool definitions", file=file, line=line, field="tools")
    return value
