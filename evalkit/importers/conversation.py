"""How an item becomes the conversation a model is sent, as OpenAI's platform built it — first found wins:

1. the output item's ``sample.input``: the conversation actually sent for that item;
2. the run's ``data_source.input_messages``: a ``template`` of messages whose text reads the item
   (``{{item.question}}``), rendered here, or an ``item_reference`` (``item.messages``) naming the item
   field that holds the conversation;
3. the item's own fields: ``messages`` (a list of messages), or ``input`` (one, as text, or a list).

Templates are rendered by jinja2 in its immutable sandbox, with undefined names an error: a template is
data from a file and may not reach into Python, and a field the item lacks is a broken item, never an
empty string. A value that is not text is written as JSON. The items are untrusted text: they are only
ever substituted, never rendered themselves.

Messages come out in Chat Completions' shape: the Evals input shapes (``{"type": "message"}``,
``input_text`` / ``output_text`` / ``input_image`` parts, one part as ``content``) are turned into it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from evalkit.importers.reading import Where, json_type
from evalkit.importers.run_object import RunSpec
from evalkit.records import Message

if TYPE_CHECKING:
    from jinja2 import Template

__all__ = ["Builder", "ItemError", "chat_messages", "input_builder", "own_messages"]

Builder = Callable[[Mapping[str, Any]], list[Message]]
"""Builds an item's conversation from its fields (``ItemError`` when it cannot)."""

_KEPT = ("role", "content", "name", "tool_calls", "tool_call_id", "refusal")
"""The message keys Chat Completions takes (others, e.g. ``type: message``, are left out)."""
_TEXT_PARTS = ("input_text", "output_text", "text")
_MISSING = re.compile(r"has no attribute '([^']+)'|'([^']+)' is undefined")


class ItemError(Exception):
    """An item cannot be turned into a conversation; ``field`` says which of its fields (``item.question``)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def input_builder(run: RunSpec | None) -> Builder | None:
    """How the run built each item's conversation (its ``input_messages``), or None when it does not say;
    ``InputError`` at the run's field when its template does not compile."""
    given = run.input_messages if run is not None else None
    if run is None or given is None:
        return None
    if given["type"] == "item_reference":
        return _referenced(given["item_reference"])
    where = run.input_where.at("template")
    templates = [_compiled(message, where.at(index)) for index, message in enumerate(given["template"])]

    def build(item: Mapping[str, Any]) -> list[Message]:
        return [_message(render(item), field=None) for render in templates]

    return build


def own_messages(item: Mapping[str, Any]) -> list[Message] | None:
    """The conversation an item holds in its own ``messages`` or ``input`` field, or None."""
    for key in ("messages", "input"):
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return [{"role": "user", "content": value}]
        if isinstance(value, list) and value:
            return chat_messages(value, field=f"item.{key}")
    return None


def chat_messages(value: Any, *, field: str) -> list[Message]:
    """A list of OpenAI input messages (Evals or Chat shapes) in Chat Completions' shape; ``ItemError`` at
    ``field`` when it is not one."""
    if not isinstance(value, list) or not value:
        raise ItemError(f"expected a list of messages, got {json_type(value)}", field=field)
    return [_message(message, field=f"{field}[{index}]") for index, message in enumerate(value)]


def _message(message: Any, *, field: str | None) -> Message:
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise ItemError('expected a message like {"role": ..., "content": ...}', field=field)
    found = {key: value for key, value in message.items() if key in _KEPT}
    if "content" in found:
        found["content"] = _content(found["content"])
    return found


def _content(content: Any) -> Any:
    """Evals content (text, one part, or a list of parts) as Chat content (text, or a list of parts)."""
    if isinstance(content, dict):
        part = _part(content)
        return part["text"] if part.get("type") == "text" else [part]
    if isinstance(content, list):
        return [_part(part) if isinstance(part, dict) else part for part in content]
    return content


def _part(part: dict[str, Any]) -> dict[str, Any]:
    if part.get("type") in _TEXT_PARTS and isinstance(part.get("text"), str):
        return {"type": "text", "text": part["text"]}
    if part.get("type") == "input_image" and isinstance(part.get("image_url"), str):
        image = {"url": part["image_url"], **({"detail": part["detail"]} if part.get("detail") else {})}
        return {"type": "image_url", "image_url": image}
    return part


def _referenced(reference: str) -> Builder:
    path = reference.split(".")[1:]

    def build(item: Mapping[str, Any]) -> list[Message]:
        value: Any = item
        for depth, key in enumerate(path):
            if not isinstance(value, dict) or key not in value:
                field = "item." + ".".join(path[: depth + 1])
                raise ItemError(
                    f"missing: the run's input_messages.item_reference reads {reference}", field=field
                )
            value = value[key]
        if isinstance(value, str):
            return [{"role": "user", "content": value}]
        return chat_messages(value, field=reference)

    return build


def _compiled(message: dict[str, Any], where: Where) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A template message as a function of the item: every text of its content rendered (never a part's
    ``type``); ``InputError`` at the run's field when a text is not a valid template."""
    from jinja2 import TemplateError

    def compile_texts(value: Any, at: Where) -> Any:
        if isinstance(value, str):
            try:
                return _Text(_environment().from_string(value), at.field)
            except TemplateError as exc:
                raise at.error(f"not a valid template: {exc}") from None
        if isinstance(value, dict):
            return {k: v if k == "type" else compile_texts(v, at.at(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [compile_texts(v, at.at(i)) for i, v in enumerate(value)]
        return value

    shape = {k: compile_texts(v, where.at(k)) if k == "content" else v for k, v in message.items()}

    def fill(value: Any, item: Mapping[str, Any]) -> Any:
        if isinstance(value, _Text):
            return value.render(item)
        if isinstance(value, dict):
            return {k: fill(v, item) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v, item) for v in value]
        return value

    return lambda item: fill(shape, item)


class _Text:
    """One text of a template message, compiled, and where it is in the run file."""

    __slots__ = ("template", "where")

    def __init__(self, template: Template, where: str) -> None:
        self.template = template
        self.where = where

    def render(self, item: Mapping[str, Any]) -> str:
        from jinja2 import TemplateError, UndefinedError

        try:
            return self.template.render(item=item)
        except UndefinedError as exc:
            match = _MISSING.search(exc.message or "")
            name = next((group for group in match.groups() if group), None) if match else None
            field = f"item.{name}" if name and name != "item" else "item"
            raise ItemError(f"missing: the run's template ({self.where}) reads it", field=field) from None
        except TemplateError as exc:
            raise ItemError(
                f"the run's template ({self.where}) cannot be rendered for this item: {exc}"
            ) from None


@cache
def _environment() -> Any:
    """The sandbox templates are rendered in: immutable (no call can change a value), undefined names an
    error, no escaping (the result is a message, not HTML), values that are not text written as JSON."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_as_text
    )


def _as_text(value: Any) -> Any:
    """What a substituted value reads as: text as it is, anything else as JSON (``true``, ``[1, 2]``)."""
    from jinja2 import Undefined

    if isinstance(value, (str, Undefined)):  # an undefined name: left for jinja to raise on
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
