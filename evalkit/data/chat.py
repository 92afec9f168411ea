"""Chat rows (OpenAI's fine-tuning format) → draft cases; and how tool calls are written as text.

A chat row is ``{"messages": [...], "tools": [...]?, "id": ...?, "item": {...}?}``. The reference is the last
assistant message whose ``weight`` is not 0 (or, with ``expand_turns``, each such message in turn); the input
is the conversation before it, with ``weight`` keys removed and everything else passed through unchanged —
except ``item``, the fields graders read (``{{item.X}}``), which no model is sent. A row with an ``item`` may
have no assistant message (an eval brought from OpenAI's platform, graded by its own criteria): the whole
conversation is sent and the reference is ``item.reference`` (empty when it has none).
A reference made of tool calls is written with ``render_tool_calls``, which the runner also uses for the
model's own tool calls, so the two compare as text.
"""

from __future__ import annotations

import json
from typing import Any

from evalkit.data.rows import Draft, RowError, row_item
from evalkit.records import Message, render_tool_calls
from evalkit.suite.messages import show

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
"""The message roles OpenAI's chat format allows."""

NO_REFERENCE = 'no assistant message to use as the reference (messages with "weight": 0 are context only)'


def chat_drafts(row: dict[str, Any], *, expand_turns: bool) -> list[Draft]:
    """The draft case(s) of one chat row: one per row, or one per weighted assistant turn."""
    messages = _checked_messages(row.get("messages"))
    item = row_item(row)
    weighted = [i for i, m in enumerate(messages) if m["role"] == "assistant" and m.get("weight", 1) != 0]
    clean = tuple({k: v for k, v in m.items() if k != "weight"} if "weight" in m else m for m in messages)
    extras = {k: v for k, v in row.items() if k not in ("messages", "id", "item")}
    if not weighted:
        if "item" not in row:
            raise RowError(NO_REFERENCE, field="messages")
        reference = item.get("reference", "")
        text = reference if isinstance(reference, str) else json.dumps(reference, sort_keys=True)
        return [Draft(reference=text, reference_field="item.reference", messages=clean, extras=extras, item=item)]
    if not expand_turns:
        return [_draft(messages, clean, weighted[-1], extras=extras, item=item, turn=None)]
    return [
        _draft(messages, clean, index, extras=extras, item=item, turn=k) for k, index in enumerate(weighted, 1)
    ]


def _draft(
    messages: list[dict[str, Any]],
    clean: tuple[Message, ...],
    index: int,
    *,
    extras: dict[str, Any],
    item: dict[str, Any],
    turn: int | None,
) -> Draft:
    where = f"messages[{index}]"
    if index == 0:
        raise RowError("the reference assistant message has nothing before it to send", field=where)
    reference, field = _reference(messages[index], where=where)
    return Draft(
        reference=reference, reference_field=field, messages=clean[:index], extras=extras, item=item, turn=turn
    )


def _reference(message: dict[str, Any], *, where: str) -> tuple[str, str]:
    """The reference text of an assistant message and the field it came from."""
    content = message.get("content")
    text = content if isinstance(content, str) else _text_parts(content)
    if text.strip():
        return text, f"{where}.content"
    calls = message.get("tool_calls")
    if not calls and isinstance(message.get("function_call"), dict):
        calls = [{"function": message["function_call"]}]
    if calls:
        _check_tool_calls(calls, where=where)
        return render_tool_calls(calls), f"{where}.tool_calls"
    raise RowError("the reference message has no text content and no tool_calls", field=where)


def _text_parts(content: Any) -> str:
    if not isinstance(content, list):
        return ""
    return "".join(
        part["text"] for part in content if part.get("type") == "text" and isinstance(part.get("text"), str)
    )


def _check_tool_calls(calls: Any, *, where: str) -> None:
    if not isinstance(calls, list):
        raise RowError(f"expected a list, got {show(calls)}", field=f"{where}.tool_calls")
    for j, call in enumerate(calls):
        at = f"{where}.tool_calls[{j}]"
        function = call.get("function") if isinstance(call, dict) else None
        if function is None:
            continue  # a non-function tool call (e.g. "custom"): rendered as it is
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise RowError('expected {"name": ..., "arguments": ...}', field=f"{at}.function")
        arguments = function.get("arguments", "{}")
        if not isinstance(arguments, str):
            raise RowError(f"expected JSON text, got {show(arguments)}", field=f"{at}.function.arguments")
        try:
            json.loads(arguments)
        except json.JSONDecodeError as exc:
            message = f"not valid JSON ({exc.msg} at column {exc.colno})"
            raise RowError(message, field=f"{at}.function.arguments") from None


def _checked_messages(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise RowError(f"expected a list of messages, got {show(value)}", field="messages")
    if not value:
        raise RowError("is empty", field="messages")
    for i, message in enumerate(value):
        _check_message(message, where=f"messages[{i}]")
    return value


def _check_message(message: Any, *, where: str) -> None:
    if not isinstance(message, dict):
        raise RowError(f"expected a message object, got {show(message)}", field=where)
    role = message.get("role")
    if role is None:
        raise RowError(f"required (one of {', '.join(ROLES)})", field=f"{where}.role")
    if role not in ROLES:
        raise RowError(f"{show(role)} is not one of {', '.join(ROLES)}", field=f"{where}.role")
    content = message.get("content")
    if content is not None and not isinstance(content, (str, list)):
        raise RowError(f"expected text or a list of parts, got {show(content)}", field=f"{where}.content")
    if isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise RowError('expected a part like {"type": "text", ...}', field=f"{where}.content[{j}]")
    weight = message.get("weight", 1)
    if isinstance(weight, bool) or weight not in (0, 1):
        raise RowError(f"expected 0 or 1, got {show(weight)}", field=f"{where}.weight")
