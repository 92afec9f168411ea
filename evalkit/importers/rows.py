"""Each item as a row of the suite's chat JSONL — ``{"id", "messages", "item", "tools"?}`` — and as the case
evalkit reads from that row, so the saved run records exactly the input a later run asks.

The conversation comes from ``evalkit.importers.conversation`` (what was sent, else how the run said to
build it, else the item's own fields). No message of it is taken as the reference: its assistant messages
(few-shot examples, earlier turns) are sent as they are (``"weight": 0``). When the criteria compare the
answer with an item field (``{{item.label}}``) and the item has no ``reference`` of its own, that field's
value follows as the reference assistant message (shown in reports, read by built-in scorers; never
sent); otherwise the row has none and its reference is the item's ``reference`` field, or empty. The item
goes in whole under ``item``: graders read it, no model is sent it.

Graders read ``{{item.id}}`` and ``{{item.reference}}`` as the case's id and reference, so a case keeps
the item's own ``id`` when every item has a distinct one (``case_ids``), and the item's own ``reference``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.data.chat import chat_drafts
from evalkit.data.rows import RowError
from evalkit.importers.conversation import Builder, ItemError, own_messages
from evalkit.importers.items import Item
from evalkit.importers.output_items import OutputItem
from evalkit.records import Case, Message

__all__ = ["NO_INPUT", "Row", "case_ids", "item_row"]

NO_INPUT = (
    "no way to build the conversation this item was sent: give --run RUN.json (its input_messages say "
    "how), or --output-items OUT.jsonl (the conversation each item was sent), or put it in each item's "
    "'messages' or 'input' field"
)


@dataclass(frozen=True, slots=True)
class Row:
    """One item as a data row, and the case evalkit will read from it."""

    item_id: int
    """The item's id (OpenAI's ``datasource_item_id``)."""
    data: dict[str, Any]
    """The JSON object written on its line."""
    case: Case
    """The case that line is read as."""


def item_row(
    item: Item,
    output: OutputItem | None,
    *,
    case_id: str,
    builder: Builder | None,
    reference_field: str | None,
    tools: list[dict[str, Any]] | None,
    line: int,
    source: str,
) -> Row:
    """The row of ``item`` (its ``output`` item, if any, saying what it was sent) on ``line`` of ``source``,
    as case ``case_id``; ``InputError`` at the item when its conversation cannot be built."""
    messages = _conversation(item, output, builder)
    reference = _reference(item.fields, None if "reference" in item.fields else reference_field)
    written: list[Message] = [{**m, "weight": 0} if m.get("role") == "assistant" else m for m in messages]
    if reference.strip():
        written.append({"role": "assistant", "content": reference})
    data: dict[str, Any] = {"id": case_id, "messages": written, "item": item.fields}
    if tools:
        data["tools"] = tools
    try:  # read back as evalkit reads the data file, so the saved run records what a run will ask
        [draft] = chat_drafts(data, expand_turns=False)
    except RowError as exc:
        raise item.error(
            f"its conversation is not one a chat model takes ({exc.field}: {exc.message})"
        ) from None
    assert draft.messages is not None  # a chat row's
    case = Case(
        id=case_id,
        reference=draft.reference,
        messages=draft.messages,
        extras=draft.extras,
        item=draft.item,
        source=source,
        line=line,
    )
    return Row(item_id=item.id, data=data, case=case)


def case_ids(items: Sequence[Item]) -> list[str]:
    """The items' case ids: their own ``id`` fields when every item has a distinct one, else their
    ``datasource_item_id``."""
    own = [item.fields.get("id") for item in items]
    texts = [str(v) for v in own if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip()]
    if len(texts) == len(items) and len(set(texts)) == len(texts):
        return texts
    return [str(item.id) for item in items]


def _conversation(item: Item, output: OutputItem | None, builder: Builder | None) -> list[Message]:
    if output is not None and output.sent:
        return output.sent
    try:
        if builder is not None:
            return builder(item.fields)
        found = own_messages(item.fields)
    except ItemError as exc:
        raise item.error(exc.message, exc.field) from None
    if found is None:
        raise item.error(NO_INPUT)
    return found


def _reference(fields: Mapping[str, Any], name: str | None) -> str:
    value = fields.get(name) if name is not None else None
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
