"""A suite's test data → ``CaseSet``: read the rows, turn each into cases, give each case an id, check.

Checks that need the whole set happen here: one kind of row per source (chat or prompt/completion), ids
unique, no case repeated (a duplicated case counts twice in every statistic), and every reference one of
the labels of the suite's ``classify`` scorers. Any problem is one ``DataError`` with file, line and field.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from evalkit.data.chat import chat_drafts
from evalkit.data.rows import (
    INLINE_COLUMNS,
    ROW_SHAPES,
    Draft,
    RowError,
    check_inline_keys,
    legacy_draft,
    row_id,
    table_draft,
    table_id,
)
from evalkit.data.sources import RawRow, Rows, data_path, inline_rows, jsonl_rows
from evalkit.errors import DataError
from evalkit.records import Case, CaseSet
from evalkit.suite.model import Columns, Suite
from evalkit.suite.scorer_options import ClassifyOptions

Kind = Literal["chat", "prompt"]
_LABELS_SHOWN = 10


def load_cases(suite: Suite) -> CaseSet:
    """The suite's cases, from its data file, dataset or inline ``cases:``; raises ``DataError``."""
    rows = _read(suite)
    if not rows.rows:
        raise DataError(f"no cases ({rows.empty})", file=rows.file)
    cases = _Assembler(suite, rows).cases()
    return CaseSet(cases=cases, sha256=rows.sha256, source=rows.source)


def _read(suite: Suite) -> Rows:
    spec = suite.data_spec
    if spec is None:
        return inline_rows(suite)
    if spec.hf is not None:
        from evalkit.data.tables import hub_rows

        return hub_rows(spec, suite=suite)
    path = data_path(spec, suite)
    if spec.format == "jsonl":
        return jsonl_rows(path)
    from evalkit.data.tables import table_rows

    assert spec.columns is not None and spec.format is not None
    return table_rows(path, kind=spec.format, columns=spec.columns, suite=suite)


class _Assembler:
    """Turns rows into cases, keeping what the set-wide checks need (ids seen, first row's kind)."""

    def __init__(self, suite: Suite, rows: Rows) -> None:
        spec = suite.data_spec
        self.rows = rows
        self.inline = spec is None
        self.columns: Columns | None = spec.columns if spec is not None else None
        self.expand = spec.expand_turns if spec is not None else False
        self.stop = suite.completions.stop or []
        self.labels = [
            (s.name, s.options) for s in suite.scorers if isinstance(s.options, ClassifyOptions)
        ]
        self.first_kind: tuple[Kind, str] | None = None
        self.seen: dict[str, str] = {}

    def cases(self) -> list[Case]:
        out: list[Case] = []
        for row in self.rows.rows:
            try:
                out.extend(self._cases(row))
            except RowError as exc:
                raise self._error(row, exc.message, field=exc.field) from None
        return out

    def _error(self, row: RawRow, message: str, *, field: str | None = None) -> DataError:
        parts = [p for p in (row.prefix, field) if p]
        return DataError(message, file=self.rows.file, line=row.line, field=".".join(parts) or None)

    def _cases(self, row: RawRow) -> list[Case]:
        if not isinstance(row.data, dict):
            raise RowError(f"expected a mapping ({ROW_SHAPES}), got {type(row.data).__name__}")
        kind, own_id, drafts = self._parse(row.data)
        self._check_kind(kind, row)
        key = own_id if own_id is not None else _content_hash(drafts, expanded=self.expand and kind == "chat")
        self._check_unique(key, row, own=own_id is not None)
        for draft in drafts:
            self._check_labels(draft)
        ids = [key if d.turn is None else f"{key}#{d.turn}" for d in drafts]
        return [self._case(case_id, draft, row) for case_id, draft in zip(ids, drafts, strict=True)]

    def _parse(self, data: dict[str, Any]) -> tuple[Kind, str | None, list[Draft]]:
        if self.columns is not None:
            return "chat", table_id(data, columns=self.columns), [table_draft(data, columns=self.columns)]
        if "messages" in data:
            return "chat", row_id(data.get("id")), chat_drafts(data, expand_turns=self.expand)
        if "prompt" in data or "completion" in data:
            return "prompt", row_id(data.get("id")), [legacy_draft(data, stop=self.stop)]
        if self.inline and ("input" in data or "expected" in data):
            check_inline_keys(data)
            return "chat", row_id(data.get("id")), [table_draft(data, columns=INLINE_COLUMNS)]
        shapes = ROW_SHAPES + ("; an inline case may be {input, expected}" if self.inline else "")
        raise RowError(f"required ({shapes})", field="messages")

    def _check_kind(self, kind: Kind, row: RawRow) -> None:
        if self.first_kind is None:
            self.first_kind = (kind, row.label)
            return
        first, label = self.first_kind
        if kind != first:
            names = {"chat": "a chat", "prompt": "a prompt/completion"}
            raise RowError(
                f"this is {names[kind]} row but {label} is {names[first]} row; use one kind throughout"
            )

    def _check_unique(self, key: str, row: RawRow, *, own: bool) -> None:
        first = self.seen.get(key)
        if first is not None and own:
            raise RowError(f"id {key!r} is used twice (first at {first})", field="id")
        if first is not None:
            raise RowError(f"{row.label} repeats {first} (a duplicated case counts twice; delete one)")
        self.seen[key] = row.label

    def _check_labels(self, draft: Draft) -> None:
        for name, options in self.labels:
            if options.label_of(draft.reference) is None:
                scorer = "" if name == "classify" else f" of scorer {name!r}"
                more = ", …" if len(options.labels) > _LABELS_SHOWN else ""
                shown = ", ".join(options.labels[:_LABELS_SHOWN]) + more
                message = f"reference {draft.reference!r} is not one of the classify labels{scorer} ({shown})"
                raise RowError(message, field=draft.reference_field)

    def _case(self, case_id: str, draft: Draft, row: RawRow) -> Case:
        return Case(
            id=case_id,
            reference=draft.reference,
            messages=draft.messages,
            prompt=draft.prompt,
            extras=draft.extras,
            item={**draft.columns, **draft.item},
            source=self.rows.case_source,
            line=row.number,
        )


def _content_hash(drafts: list[Draft], *, expanded: bool) -> str:
    """First 12 hex digits of the sha256 of the canonical JSON of the input(s) and reference(s)."""
    payload = [_hashable(draft) for draft in drafts]
    canonical = json.dumps(
        payload if expanded else payload[0],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _hashable(draft: Draft) -> dict[str, Any]:
    item: dict[str, Any] = {
        "input": list(draft.messages) if draft.messages is not None else draft.prompt,
        "reference": draft.reference,
    }
    if draft.extras:
        item["extras"] = draft.extras
    if draft.item:
        item["item"] = draft.item
    return item
