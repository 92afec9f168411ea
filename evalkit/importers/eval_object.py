"""The eval object, as ``GET /v1/evals/{id}`` returned it (schema ``Eval`` of OpenAI's spec): its name, its
data source config (what an item holds) and its testing criteria, checked enough that a file of another
kind, or one edited by hand, is refused in one line naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.importers.reading import Where, json_type, read_json, shown

__all__ = ["DATA_SOURCES", "EvalSpec", "read_eval"]

DATA_SOURCES = ("custom", "logs", "stored_completions")
"""The eval's ``data_source_config.type`` values: items of a custom schema, or stored chat completions."""

_WHAT = "an eval object as GET /v1/evals/{id} returns it"


@dataclass(frozen=True, slots=True)
class EvalSpec:
    """What an eval says about its items and how they are graded."""

    id: str
    """The eval's id (``eval_...``)."""
    name: str
    """Its name (may be empty)."""
    created_at: int | None
    """When it was created (Unix seconds), if said."""
    source: str
    """``data_source_config.type``: one of ``DATA_SOURCES``."""
    item_schema: dict[str, Any] | None
    """The JSON Schema every item follows, if the config gives one."""
    schema_where: Where
    """Where that schema is in the file (to point at it when it is not a valid schema)."""
    criteria: list[tuple[Any, Where]]
    """The testing criteria as given (checked by ``evalkit.importers.criteria``), each with its place."""


def read_eval(path: Path) -> EvalSpec:
    """The eval object in ``path``; ``InputError`` naming the file and field when it is not one."""
    document, where = read_json(path, what=_WHAT)
    kind = document.get("object", "eval")
    if kind != "eval":
        raise where.at("object").error(f"{shown(kind)} is not an eval ('eval'); expected {_WHAT}")
    eval_id = _string(document, "id", where, required=True)
    name = _string(document, "name", where, required=False)
    created = document.get("created_at")
    config = document.get("data_source_config")
    at = where.at("data_source_config")
    if not isinstance(config, dict):
        raise at.error(f"expected an object with the item schema, got {json_type(config)}")
    source = config.get("type")
    if source not in DATA_SOURCES:
        raise at.at("type").error(
            f"{shown(source)} is not a data source evalkit can import (allowed: {', '.join(DATA_SOURCES)})"
        )
    schema, schema_where = _item_schema(config, at)
    criteria = document.get("testing_criteria")
    at = where.at("testing_criteria")
    if not isinstance(criteria, list) or not criteria:
        got = "an empty list" if criteria == [] else json_type(criteria)
        raise at.error(f"expected a list of grader objects (at least one), got {got}")
    return EvalSpec(
        id=eval_id,
        name=name,
        created_at=created if isinstance(created, int) and not isinstance(created, bool) else None,
        source=source,
        item_schema=schema,
        schema_where=schema_where,
        criteria=[(criterion, at.at(index)) for index, criterion in enumerate(criteria)],
    )


def _string(document: dict[str, Any], key: str, where: Where, *, required: bool) -> str:
    value = document.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise where.at(key).error(f"expected a non-empty string, got {shown(value)}")
    return value


def _item_schema(config: dict[str, Any], where: Where) -> tuple[dict[str, Any] | None, Where]:
    """The schema of an item: ``schema.properties.item`` as the API returns it, or ``item_schema`` as it
    was created with."""
    if isinstance(config.get("item_schema"), dict):
        return config["item_schema"], where.at("item_schema")
    schema = config.get("schema")
    if schema is None:
        return None, where
    if not isinstance(schema, dict):
        raise where.at("schema").error(f"expected a JSON Schema (an object), got {json_type(schema)}")
    properties = schema.get("properties")
    item = properties.get("item") if isinstance(properties, dict) else None
    return (item, where.at("schema").at("properties").at("item")) if isinstance(item, dict) else (None, where)
