"""What a fine-tuning job learned from: per-step training metrics and the training/validation examples.

Pure functions over bytes and plain mappings, no network (``evalkit.targets.jobs`` does the fetching):

- ``parse_result_file``: a job's result file → one metrics record per step. The file is a CSV — base64
  encoded on newer OpenAI jobs, plain on older ones and on Azure — read by header name, so missing,
  extra and reordered columns, empty cells and a byte-order mark are all fine. Azure's and the legacy
  fine-tunes API's column names map to OpenAI's metric names (``train_accuracy`` →
  ``train_mean_token_accuracy``, ``validation_mean_token_accuracy`` → ``valid_mean_token_accuracy``, …).
- ``metrics_record``: a checkpoint's ``metrics`` or a ``metrics`` event's ``data`` → the same record.
- ``merge_training``: several sources of such records → one per step, the first non-null value per
  metric in the order the sources are given.
- ``parse_examples``: a training or validation JSONL file → ``TrainingExample`` records (chat rows,
  legacy prompt/completion rows, DPO rows as their preferred conversation). OpenAI validated these
  files when the job was created, so unreadable lines are skipped and counted, not reported one by one.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from evalkit.records import Message, TrainingExample

METRICS: tuple[str, ...] = (
    "train_loss",
    "train_mean_token_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
    "full_valid_loss",
    "full_valid_mean_token_accuracy",
)
"""OpenAI's per-step metric names, in the order results.json lists them."""

TrainingStep = dict[str, Any]
"""``{"step": int, <metric>: float | None, ...}`` with every name of ``METRICS`` present."""

_ALIASES: dict[str, str] = {
    **{name: name for name in METRICS},
    # OpenAI's result file
    "train_accuracy": "train_mean_token_accuracy",
    "valid_accuracy": "valid_mean_token_accuracy",
    "full_valid_accuracy": "full_valid_mean_token_accuracy",
    # Azure OpenAI's results.csv
    "validation_loss": "valid_loss",
    "validation_mean_token_accuracy": "valid_mean_token_accuracy",
    "full_validation_loss": "full_valid_loss",
    "full_validation_mean_token_accuracy": "full_valid_mean_token_accuracy",
    # the legacy fine-tunes API (ada/babbage/curie/davinci)
    "training_loss": "train_loss",
    "training_token_accuracy": "train_mean_token_accuracy",
    "validation_token_accuracy": "valid_mean_token_accuracy",
}
"""Column or key name (lower case) → OpenAI's metric name."""


class ResultFileError(ValueError):
    """A result file that is not a CSV with a ``step`` column, plain or base64-encoded."""


@dataclass(frozen=True, slots=True)
class ParsedExamples:
    """The examples of one JSONL fine-tuning file, and how many lines could not be read."""

    examples: list[TrainingExample]
    """One per readable line, in file order."""
    skipped: int
    """Non-blank lines that were not JSON, or not a chat, prompt/completion or DPO row."""


def parse_result_file(data: bytes | str) -> list[TrainingStep]:
    """The per-step records of a result file, sorted by step (rows without a whole-number step are
    dropped); ``ResultFileError`` if it is not a result file at all."""
    rows = list(csv.reader(io.StringIO(_result_text(data))))
    if not rows or "step" not in _header(rows[0]):
        raise ResultFileError("not a CSV with a 'step' column, plain or base64-encoded")
    header = _header(rows[0])
    return merge_training(dict(zip(header, row, strict=False)) for row in rows[1:])


def metrics_record(values: Mapping[str, Any], *, step: Any = None) -> TrainingStep | None:
    """``values`` (any of the known names; numbers or numeric text) as a record with OpenAI's names.

    The step is ``step`` if given, else ``values["step"]``; None when there is no whole-number step.
    Unknown names are dropped; empty, non-numeric and non-finite values become None."""
    number = _step(values.get("step") if step is None else step)
    if number is None:
        return None
    record: TrainingStep = {"step": number, **dict.fromkeys(METRICS)}
    for key, value in values.items():
        name = _ALIASES.get(str(key).strip().lower())
        if name is not None and record[name] is None:
            record[name] = _number(value)
    return record


def merge_training(*sources: Iterable[Mapping[str, Any]]) -> list[TrainingStep]:
    """One record per step across ``sources``, sorted by step: for each metric, the first non-null value
    in the order the sources are given (and, within a source, in its order)."""
    merged: dict[int, TrainingStep] = {}
    for source in sources:
        for values in source:
            record = metrics_record(values)
            if record is None:
                continue
            into = merged.setdefault(record["step"], {"step": record["step"], **dict.fromkeys(METRICS)})
            for name in METRICS:
                if into[name] is None:
                    into[name] = record[name]
    return [merged[step] for step in sorted(merged)]


def parse_examples(data: bytes | str) -> ParsedExamples:
    """The examples of a JSONL fine-tuning file; lines that cannot be read are counted in ``skipped``."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data.lstrip("\ufeff")
    examples: list[TrainingExample] = []
    skipped = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        example = _example(line)
        if example is None:
            skipped += 1
        else:
            examples.append(example)
    return ParsedExamples(examples=examples, skipped=skipped)


def _result_text(data: bytes | str) -> str:
    """The CSV text of a result file: base64-decoded when it is base64 of a CSV with a step header."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    decoded = _base64_csv(raw)
    return _text(decoded if decoded is not None else raw)


def _base64_csv(raw: bytes) -> bytes | None:
    compact = b"".join(raw.split())
    if not compact:
        return None
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    first_line = _text(decoded).split("\n", 1)[0]
    return decoded if "step" in _header(next(csv.reader([first_line]), [])) else None


def _text(raw: bytes) -> str:
    return raw.decode("utf-8-sig", errors="replace")


def _header(row: list[str]) -> list[str]:
    return [cell.strip().lstrip("\ufeff").strip().lower() for cell in row]


def _step(value: Any) -> int | None:
    number = _number(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _example(line: str) -> TrainingExample | None:
    try:
        row = json.loads(line)
    except ValueError:
        return None
    if not isinstance(row, dict):
        return None
    messages = _messages(row.get("messages"))
    if messages is not None:
        return TrainingExample(messages=messages)
    prompt, completion = row.get("prompt"), row.get("completion")
    if isinstance(prompt, str) and isinstance(completion, str):
        return TrainingExample(prompt=prompt, completion=completion)
    return _dpo_example(row)


def _dpo_example(row: dict[str, Any]) -> TrainingExample | None:
    """A DPO row (``input.messages`` + ``preferred_output``) as the conversation it prefers."""
    source = row.get("input")
    before = _messages(source.get("messages")) if isinstance(source, dict) else None
    preferred = _messages(row.get("preferred_output"))
    if before is None or preferred is None:
        return None
    return TrainingExample(messages=before + preferred)


def _messages(value: Any) -> tuple[Message, ...] | None:
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in value):
        return None
    return tuple(value)
