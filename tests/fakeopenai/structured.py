"""Structured output: OpenAI's checks of a strict ``json_schema``, and replies in OpenAI's grader format.

A request asks for structured output with chat's ``response_format: {"type": "json_schema", "json_schema":
{"name", "schema", "strict"}}`` or the Responses API's ``text.format: {"type": "json_schema", "name",
"schema", "strict"}``. With ``strict: true`` OpenAI answers 400 for a schema its constrained decoding
cannot follow; the fake checks the same rules (``check_format``): the root is an object (not ``anyOf``),
and every object sets ``additionalProperties: false`` and lists each of its properties in ``required``.

What a model answers is still the script's (a test may want a reply that breaks the schema, as a server
that ignores ``response_format`` would send). For graders' replies:

    server.script("gpt-4o", verdict(0.8, steps=[("accuracy", "the answer names the right queue")]))
    requested_schema(request)     # in a script: the schema the request asked its reply to follow, or None
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from .bodies import ApiError, JsonDict
from .generate import FakeRequest
from .models import Kind


def verdict(result: Any, *, steps: Sequence[tuple[str, str]] = (("the answer", "checked"),)) -> str:
    """The JSON text of a model grader's reply: ``{"steps": [{"description", "conclusion"}...], "result"}``."""
    return json.dumps(
        {"steps": [{"description": d, "conclusion": c} for d, c in steps], "result": result}, ensure_ascii=False
    )


def requested_schema(request: FakeRequest) -> JsonDict | None:
    """The JSON Schema ``request`` asked its reply to follow (chat or Responses), or None."""
    found = _json_schema_format(request.endpoint, request.body)
    return None if found is None else found[1].get("schema")


def check_format(endpoint: Kind, body: JsonDict) -> None:
    """OpenAI's 400 for a strict ``json_schema`` its structured output cannot follow (see the module doc)."""
    found = _json_schema_format(endpoint, body)
    if found is None:
        return
    param, spec = found
    if spec.get("strict") is not True:
        return
    name = spec.get("name")
    schema = spec.get("schema")
    prefix = f"Invalid schema for response_format '{name}'"
    if not isinstance(schema, dict) or schema.get("type") != "object":
        kind = schema.get("type") if isinstance(schema, dict) else None
        raise ApiError(
            400,
            f"{prefix}: schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{kind}\"'.",
            param=param,
        )
    for context, problem in _strict_problems(schema, ()):
        raise ApiError(400, f"{prefix}: In context={context!r}, {problem}", param=param)


def _json_schema_format(endpoint: Kind, body: JsonDict) -> tuple[str, JsonDict] | None:
    """(the parameter's name, the json_schema object) of a body asking for structured output, or None."""
    if endpoint == "chat":
        given = body.get("response_format")
        if isinstance(given, dict) and given.get("type") == "json_schema" and isinstance(given.get("json_schema"), dict):
            return "response_format", given["json_schema"]
    elif endpoint == "responses":
        text = body.get("text")
        given = text.get("format") if isinstance(text, dict) else None
        if isinstance(given, dict) and given.get("type") == "json_schema":
            return "text.format", given
    return None


def _strict_problems(node: Any, context: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Where ``node`` breaks strict mode's object rules, depth first."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _strict_problems(item, (*context, str(i)))
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            yield context, "'additionalProperties' is required to be supplied and to be false."
        missing = [key for key in node.get("properties", {}) if key not in (node.get("required") or [])]
        if missing:
            problem = (
                "'required' is required to be supplied and to be an array including every key in properties. "
                f"Missing '{missing[0]}'."
            )
            yield context, problem
    for key in ("properties", "$defs", "definitions"):
        for name, child in (node.get(key) or {}).items():
            yield from _strict_problems(child, (*context, key, name))
    for key in ("items", "anyOf"):
        if key in node:
            yield from _strict_problems(node[key], (*context, key))
