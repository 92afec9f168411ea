"""The eval's items: read from the items file (each line ``{"item": {...}}``, maybe with a ``"sample"``, or
the bare item), checked against the eval's item schema, and matched with a run's output items.

An item's id is its place among the run's data: its 0-based position in the items file, which is the
``datasource_item_id`` OpenAI gave it; with no items file, the output items' own ids. Output items are
matched by that id when the item there is theirs, else by their ``datasource_item``'s content — never by
position alone, so a file of other items is refused rather than paired wrongly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.importers.output_items import OutputItem
from evalkit.importers.reading import Where, json_type, read_jsonl
from evalkit.text import display_path

__all__ = ["Item", "check_items", "items_of_outputs", "match_outputs", "read_items"]

_WHAT = 'the eval\'s items, one JSON object per line: {"item": {...}}'
_MESSAGE_MAX = 160


@dataclass(frozen=True, slots=True)
class Item:
    """One item of the eval's data."""

    id: int
    """Its place among the run's data (OpenAI's ``datasource_item_id``)."""
    fields: dict[str, Any]
    """What templates and graders read as ``item``."""
    where: Where
    """Where the item object is (``ITEMS.jsonl:3: item``, ``OUT.json: data[2].datasource_item``)."""
    has_sample: bool = False
    """Its line carried a ``sample`` too (an answer made before the run, which is not imported)."""

    def error(self, message: str, field: str | None = None) -> InputError:
        """An ``InputError`` about ``field`` (``item.question``) of this item, located in its file."""
        if field is None or field == "item":
            at = self.where
        else:
            rest = field.removeprefix("item.")
            at = Where(self.where.file, self.where.line, f"{self.where.field or 'item'}.{rest}")
        return at.error(message)


def read_items(path: Path) -> list[Item]:
    """The items in ``path``; ``InputError`` at the line of the first that is not an item."""
    items: list[Item] = []
    for index, (line, where) in enumerate(read_jsonl(path, what=_WHAT)):
        if not isinstance(line, dict):
            raise where.error(f"expected {_WHAT}, got {json_type(line)}")
        sample = None
        if "item" in line:
            fields, sample, where = line["item"], line.get("sample"), where.at("item")
            if not isinstance(fields, dict):
                raise where.error(f"expected the item's fields (an object), got {json_type(fields)}")
        else:
            fields = line
        items.append(Item(id=index, fields=fields, where=where, has_sample=sample is not None))
    return items


def check_items(items: Sequence[Item], schema: dict[str, Any] | None, *, schema_where: Where) -> None:
    """``InputError`` at the field of the first item that does not follow the eval's item ``schema``, or at
    the schema when it is not a JSON Schema."""
    if schema is None:
        return
    validator = _validator(schema, schema_where)
    for item in items:
        _check(validator, item)


def items_of_outputs(outputs: Sequence[OutputItem]) -> list[Item]:
    """The items a run's output items carry (``datasource_item``), by id; ``InputError`` when two share one."""
    seen: dict[int, OutputItem] = {}
    for output in outputs:
        first = seen.setdefault(output.item_id, output)
        if first is not output:
            raise output.where.at("datasource_item_id").error(
                f"item {output.item_id} has two output items (the first at {_place(first.where)})"
            )
    return [
        Item(id=output.item_id, fields=output.item, where=output.where.at("datasource_item"))
        for output in sorted(seen.values(), key=lambda output: output.item_id)
    ]


def match_outputs(items: Sequence[Item], outputs: Sequence[OutputItem]) -> dict[int, OutputItem]:
    """Each item's output item, by item id; ``InputError`` at an output item whose item is not among
    ``items``, or that is a second answer to one."""
    by_id = {item.id: item for item in items}
    by_content: dict[str, list[Item]] = {}
    for item in items:
        by_content.setdefault(_canonical(item.fields), []).append(item)
    matched: dict[int, OutputItem] = {}
    for output in outputs:
        found = by_id.get(output.item_id)
        if found is None or _canonical(found.fields) != _canonical(output.item):
            same = [item for item in by_content.get(_canonical(output.item), []) if item.id not in matched]
            found = same[0] if same else None
        if found is None:
            file = display_path(items[0].where.file) if items else "the items file"
            raise output.where.at("datasource_item").error(
                f"item {output.item_id} is not among the items of {file} (neither at position "
                f"{output.item_id} nor anywhere else): give the items this run was made on"
            )
        if found.id in matched:
            first = matched[found.id].where
            raise output.where.error(
                f"a second output item for item {found.id} (the first at {_place(first)})"
            )
        matched[found.id] = output
    return matched


def _place(where: Where) -> str:
    return " ".join(part for part in (f"line {where.line}" if where.line else "", where.field) if part)


def _canonical(fields: Any) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _validator(schema: dict[str, Any], where: Where) -> Any:
    from jsonschema import SchemaError, validators

    cls = validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise where.error(f"not a valid JSON Schema: {_short(exc.message)}") from None
    return cls(schema)


def _check(validator: Any, item: Item) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(item.fields))
    if error is None:
        return
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    raise item.error(f"does not follow the eval's item schema: {_short(error.message)}", f"item{path}")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_MAX else text[: _MESSAGE_MAX - 1] + "…"
