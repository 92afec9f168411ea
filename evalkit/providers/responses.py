"""The Responses API (``POST /v1/responses``): a chat conversation as ``input`` items, and the answer back.

    chat message                               Responses input item
    {role, content: "text"}                    {role, content: "text"}   (system, developer, user, assistant)
    content part {type: text, text}            {type: input_text, text}   (output_text in assistant turns)
    content part {type: image_url, image_url}  {type: input_image, image_url: URL}
    assistant {tool_calls: [...]}              {type: function_call, call_id, name, arguments} per call
    {role: tool, tool_call_id, content}        {type: function_call_output, call_id, output}

Request-level fields of a chat case: ``tools`` (``{type: function, function: {...}}``) become Responses
function tools (``{type: function, name, description, parameters, strict}``), ``tool_choice`` naming a
function likewise, ``response_format`` becomes ``text.format``; the rest is passed as it is.

The answer is the text of the ``message`` items' ``output_text`` parts (what the SDK's ``output_text``
joins), or the function calls rendered as JSON when there is no text, or a refusal's text. ``status:
incomplete`` with ``incomplete_details.reason`` becomes the finish reason (``max_output_tokens`` →
``length``, as Chat says it). Usage: ``input_tokens``, ``output_tokens`` (reasoning included) and
``output_tokens_details.reasoning_tokens``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.records import Message, Usage, render_tool_calls

__all__ = ["input_items", "responses_answer", "responses_extras", "responses_usage"]


def input_items(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """A chat conversation as Responses ``input`` items."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            output = message.get("content")
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.get("tool_call_id", ""),
                    "output": output if isinstance(output, str) else _text_of(output),
                }
            )
            continue
        content = message.get("content")
        if content is not None and content != "" or not message.get("tool_calls"):
            items.append({"role": role, "content": _content(content, assistant=role == "assistant")})
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            items.append(
                {
                    "type": "function_call",
                    "call_id": call.get("id", ""),
                    "name": function.get("name", ""),
                    "arguments": function.get("arguments", ""),
                }
            )
    return items


def responses_extras(extras: Mapping[str, Any]) -> dict[str, Any]:
    """A chat case's request-level fields in the Responses API's terms."""
    out: dict[str, Any] = {}
    for key, value in extras.items():
        if key == "tools" and isinstance(value, list):
            out["tools"] = [_tool(tool) for tool in value]
        elif key == "tool_choice" and isinstance(value, dict) and isinstance(value.get("function"), dict):
            out["tool_choice"] = {"type": "function", "name": value["function"].get("name")}
        elif key == "response_format" and isinstance(value, dict):
            out["text"] = {"format": _format(value)}
        else:
            out[key] = value
    return out


def responses_answer(body: Mapping[str, Any]) -> tuple[str, str | None]:
    """The answer text and the finish reason of a Response (raises KeyError/TypeError on other shapes)."""
    output = body["output"]
    texts: list[str] = []
    refusals: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in output:
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or []:
                if part.get("type") == "output_text":
                    texts.append(str(part.get("text", "")))
                elif part.get("type") == "refusal":
                    refusals.append(str(part.get("refusal", "")))
        elif kind == "function_call":
            calls.append({"name": item.get("name"), "arguments": item.get("arguments")})
    answer = "".join(texts) if texts else render_tool_calls(calls) if calls else "".join(refusals)
    status = body.get("status")
    if status == "incomplete":
        reason = (body.get("incomplete_details") or {}).get("reason")
        return answer, "length" if reason == "max_output_tokens" else str(reason or "incomplete")
    if calls and not texts:
        return answer, "tool_calls"
    return answer, "stop" if status in (None, "completed") else str(status)


def responses_usage(body: Mapping[str, Any]) -> Usage:
    """A Response's usage as evalkit counts it."""
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return Usage()
    details = usage.get("output_tokens_details") or {}
    return Usage(
        prompt_tokens=int(usage.get("input_tokens") or 0),
        completion_tokens=int(usage.get("output_tokens") or 0),
        reasoning_tokens=int(details.get("reasoning_tokens") or 0),
    )


def _content(content: Any, *, assistant: bool) -> Any:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        return str(content)
    parts = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            parts.append({"type": "output_text" if assistant else "input_text", "text": part.get("text", "")})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            parts.append({"type": "input_image", "image_url": url})
        else:
            parts.append(part)
    return parts


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _tool(tool: Any) -> Any:
    if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(tool.get("function"), dict):
        return tool
    function = tool["function"]
    converted = {"type": "function", "name": function.get("name")}
    for key in ("description", "parameters", "strict"):
        if key in function:
            converted[key] = function[key]
    return converted


def _format(response_format: dict[str, Any]) -> dict[str, Any]:
    if response_format.get("type") == "json_schema" and isinstance(response_format.get("json_schema"), dict):
        return {"type": "json_schema", **response_format["json_schema"]}
    return response_format
