"""The Responses API (``POST /v1/responses``): its request checks and the ``Response`` it answers.

A body is checked like OpenAI checks it — in OpenAI's words for what a client is likely to get wrong
(chat's ``messages``/``response_format``, an unknown parameter, a missing ``model``/``input``, a bad role
or content part type, ``max_output_tokens`` below 16) — and then against the spec's ``CreateResponse``
(``openapi.py``), so a body the fake takes is one the spec allows. The fake neither streams nor runs in
the background nor keeps responses: ``stream``/``background`` true and ``previous_response_id`` get 400.

The answer is the spec's ``Response``: ``status`` ``completed``, or ``incomplete`` with
``incomplete_details.reason`` ``max_output_tokens`` when the budget ran out; ``output`` holds a
``reasoning`` item (reasoning models), then a ``message`` item whose ``content`` is one ``output_text``
(or ``refusal``) part, then a ``function_call`` item per scripted tool call. When reasoning took the whole
budget there is no ``message`` item, as with OpenAI. ``usage`` counts the reasoning in ``output_tokens``.
"""

from __future__ import annotations

import time
from typing import Any

from . import bodies
from .bodies import ApiError, JsonDict, Reply, check_against_spec
from .generate import FakeRequest, Script, message_text, run_script, spend
from .reasoning import checked_effort, requested_effort, supported_values

# fmt: off
RESPONSES_PARAMS = frozenset({
    "background", "context_management", "conversation", "include", "input", "instructions",
    "max_output_tokens", "max_tool_calls", "metadata", "model", "moderation", "parallel_tool_calls",
    "previous_response_id", "prompt", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "reasoning", "safety_identifier", "service_tier", "store", "stream", "stream_options", "temperature",
    "text", "tool_choice", "tools", "top_logprobs", "top_p", "truncation", "user",
})
# fmt: on
"""Every body field ``CreateResponse`` accepts (from the OpenAPI spec; a test keeps the two equal)."""

MOVED_PARAMS = {"messages": "input", "response_format": "text.format"}
"""Chat Completions parameters the Responses API names otherwise (OpenAI says where they moved)."""

INPUT_ROLES = ("user", "assistant", "system", "developer")
"""Roles an input message may have."""

INPUT_MESSAGE_FIELDS = frozenset({"type", "role", "content", "id", "status", "phase"})
"""Fields an input message item may carry (``EasyInputMessage``, ``InputMessage``, ``OutputMessage``)."""

CONTENT_PART_TYPES = (
    "input_text",
    "input_image",
    "output_text",
    "refusal",
    "input_file",
    "computer_screenshot",
    "summary_text",
)
"""Content part types an input message may hold, in the order OpenAI lists them."""

MIN_OUTPUT_TOKENS = 16
"""The smallest ``max_output_tokens`` the spec (and OpenAI) takes."""


# ── request checks (HTTP 400 as OpenAI words them) ────────────────────────────────────────────────


def check_body(body: Any) -> JsonDict:
    """The body as a dict, or an ``ApiError`` 400 for the first thing wrong with it."""
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "We could not parse the JSON body of your request. (HINT: The OpenAI API expects "
            "a JSON payload, but what was sent was not valid JSON.)",
        )
    for name in body:
        if name in MOVED_PARAMS:
            raise ApiError(
                400,
                f"Unsupported parameter: '{name}'. In the Responses API, this parameter has moved to "
                f"'{MOVED_PARAMS[name]}'. Try again with the new parameter. See the API documentation for "
                "more information: https://platform.openai.com/docs/api-reference/responses/create.",
                param=name,
                code="unsupported_parameter",
            )
        if name not in RESPONSES_PARAMS:
            raise _unknown(name)
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _missing("model")
    for flag, what in (("stream", "stream"), ("background", "run responses in the background")):
        if body.get(flag):
            raise ApiError(400, f"The fake OpenAI server does not {what}; send {flag}=false.", param=flag)
    if body.get("previous_response_id") is not None:
        raise ApiError(
            400,
            f"Previous response with id '{body['previous_response_id']}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    _check_input(body.get("input"))
    _check_max_output_tokens(body.get("max_output_tokens"))
    checked_effort(requested_effort(body), "reasoning.effort")
    check_against_spec(body, "CreateResponse")
    return body


def _unknown(param: str) -> ApiError:
    return ApiError(400, f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


def _missing(param: str) -> ApiError:
    return ApiError(
        400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def _invalid_value(value: object, allowed: tuple[str, ...], param: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid value: {value!r}. Supported values are: {supported_values(allowed)}.",
        param=param,
        code="invalid_value",
    )


def _check_input(given: object) -> None:
    if given is None:
        raise _missing("input")
    if isinstance(given, str):
        return
    if not isinstance(given, list):
        raise ApiError(
            400,
            "Invalid type for 'input': expected one of a string or array of input items, but got "
            f"{_json_type(given)} instead.",
            param="input",
            code="invalid_type",
        )
    if not given:
        raise ApiError(
            400,
            "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty "
            "array instead.",
            param="input",
            code="empty_array",
        )
    for i, item in enumerate(given):
        if isinstance(item, dict) and ("role" in item or item.get("type") == "message"):
            _check_message(item, f"input[{i}]")


def _check_message(item: JsonDict, where: str) -> None:
    for key in item:
        if key not in INPUT_MESSAGE_FIELDS:
            raise _unknown(f"{where}.{key}")
    if item.get("role") not in INPUT_ROLES:
        if "role" not in item:
            raise _missing(f"{where}.role")
        raise _invalid_value(item["role"], INPUT_ROLES, f"{where}.role")
    content = item.get("content")
    if content is None:
        raise _missing(f"{where}.content")
    for j, part in enumerate(content if isinstance(content, list) else []):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in CONTENT_PART_TYPES:
            raise _invalid_value(kind, CONTENT_PART_TYPES, f"{where}.content[{j}].type")


def _check_max_output_tokens(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(
            400,
            f"Invalid type for 'max_output_tokens': expected an integer, but got {_json_type(value)} instead.",
            param="max_output_tokens",
            code="invalid_type",
        )
    if value < MIN_OUTPUT_TOKENS:
        raise ApiError(
            400,
            "Invalid 'max_output_tokens': integer below minimum value. "
            f"Expected a value >= {MIN_OUTPUT_TOKENS}, but got {value} instead.",
            param="max_output_tokens",
            code="integer_below_min_value",
        )



def _json_type(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a decimal", str: "a string", dict: "an object"}
    return "null" if value is None else names.get(type(value), "an array")


# ── the answer ────────────────────────────────────────────────────────────────────────────────────


def responses_answer(
    model: str,
    body: JsonDict,
    script: Script | str | Reply,
    *,
    reasoning_tokens: int | None = None,
    effort: str | None = None,
) -> JsonDict:
    """``Response`` for a checked body.

    ``reasoning_tokens``: what a reasoning model spends (None: the model does not reason); ``effort``:
    the effort it reasoned at, echoed in ``reasoning.effort``.
    """
    request = FakeRequest("responses", model, body)
    reply, finish, reasoned = spend(
        run_script(script, request), body, body.get("max_output_tokens"), reasoning_tokens
    )
    output: list[JsonDict] = []
    if reasoning_tokens is not None:
        output.append({"id": bodies.new_id("rs", sep="_"), "type": "reasoning", "summary": []})
    message = _message_item(reply, finish)
    if message is not None:
        output.append(message)
    output += [_function_call_item(call) for call in reply.tool_calls]
    visible = bodies.count_tokens(reply.content or reply.refusal or "")
    input_tokens = sum(bodies.count_tokens(message_text(m)) + 1 for m in request.messages)
    return response_object(
        model,
        body,
        output,
        incomplete=_incomplete_reason(finish),
        usage=response_usage(input_tokens, visible + reasoned, reasoning_tokens=reasoned),
        effort=effort,
    )


def _incomplete_reason(finish: str) -> str | None:
    return {"length": "max_output_tokens", "content_filter": "content_filter"}.get(finish)


def _message_item(reply: Reply, finish: str) -> JsonDict | None:
    """The assistant ``message`` item; None when there is nothing visible (a pure tool-call answer, or
    reasoning that took the whole budget)."""
    if reply.refusal is not None:
        part: JsonDict = {"type": "refusal", "refusal": reply.refusal}
    elif reply.content is None or (reply.content == "" and finish == "length"):
        return None
    else:
        part = {"type": "output_text", "text": reply.content, "annotations": [], "logprobs": []}
    return {
        "id": bodies.new_id("msg", sep="_"),
        "type": "message",
        "status": "incomplete" if finish == "length" else "completed",
        "role": "assistant",
        "content": [part],
    }


def _function_call_item(call: bodies.ToolCall) -> JsonDict:
    made = call.to_json()
    return {
        "id": bodies.new_id("fc", sep="_"),
        "type": "function_call",
        "call_id": made["id"],
        "name": call.name,
        "arguments": made["function"]["arguments"],
        "status": "completed",
    }


def response_usage(input_tokens: int, output_tokens: int, *, reasoning_tokens: int) -> JsonDict:
    """``ResponseUsage`` (``output_tokens`` includes ``reasoning_tokens``)."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


def response_object(
    model: str,
    body: JsonDict,
    output: list[JsonDict],
    *,
    incomplete: str | None,
    usage: JsonDict,
    effort: str | None,
) -> JsonDict:
    """``Response``: the request's settings echoed, ``status`` from ``incomplete`` (a reason, or None)."""
    now = int(time.time())
    return {
        "id": bodies.new_id("resp", sep="_"),
        "object": "response",
        "created_at": now,
        "status": "completed" if incomplete is None else "incomplete",
        "completed_at": now if incomplete is None else None,
        "background": False,
        "error": None,
        "incomplete_details": None if incomplete is None else {"reason": incomplete},
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": effort, "summary": None},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default",
        "temperature": body.get("temperature") if body.get("temperature") is not None else 1.0,
        "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p") if body.get("top_p") is not None else 1.0,
        "truncation": body.get("truncation") or "disabled",
        "usage": usage,
        "metadata": body.get("metadata") or {},
    }
