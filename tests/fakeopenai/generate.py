"""From a checked request body and a script to the completion body OpenAI would send.

A script is ``fn(request: FakeRequest) -> str | Reply`` (or a constant ``str``/``Reply``). The default
script echoes the input: the last user message on chat and responses, the prompt on legacy completions.
The answer is then clipped like the real API does: cut before the first ``stop`` sequence, and to
``max_tokens`` words (legacy completions default to 16, as OpenAI's do). A reasoning model spends its
reasoning tokens first out of ``max_completion_tokens`` and the answer gets the rest (``reasoning.py``).
The Responses API's checks and ``Response`` body are in ``responses.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import bodies
from .bodies import ApiError, JsonDict, Reply
from .models import Kind
from .reasoning import split_budget

Script = Callable[["FakeRequest"], "str | Reply"]
"""How a test decides what a model answers."""

# fmt: off
CHAT_PARAMS = frozenset({
    "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "messages", "metadata", "modalities", "model", "moderation", "n",
    "parallel_tool_calls", "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_options",
    "prompt_cache_retention", "reasoning_effort", "response_format", "safety_identifier", "seed",
    "service_tier", "stop", "store", "stream", "stream_options", "temperature", "tool_choice", "tools",
    "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
})
# fmt: on
"""Every body field ``CreateChatCompletionRequest`` accepts (from the OpenAPI spec)."""

# fmt: off
COMPLETIONS_PARAMS = frozenset({
    "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "model", "n",
    "presence_penalty", "prompt", "seed", "stop", "stream", "stream_options", "suffix", "temperature",
    "top_p", "user",
})
# fmt: on
"""Every body field ``CreateCompletionRequest`` accepts (from the OpenAPI spec)."""

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
"""Message roles the chat endpoint accepts."""

MESSAGE_FIELDS = frozenset(
    {"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "refusal", "audio"}
)
"""Fields a request message may carry (training-only ones such as ``weight`` are rejected, as by OpenAI)."""

DEFAULT_COMPLETIONS_MAX_TOKENS = 16
"""OpenAI's default ``max_tokens`` on ``/v1/completions``."""


@dataclass(frozen=True)
class FakeRequest:
    """What a script sees: one generation request (one prompt of a legacy batch)."""

    endpoint: Kind
    """``chat``, ``completions`` or ``responses``."""
    model: str
    """The requested model id (or Azure deployment name)."""
    body: JsonDict = field(repr=False)
    """The parsed JSON body as sent."""
    prompt: str = ""
    """Legacy completions: the prompt being answered; empty on chat."""

    @property
    def messages(self) -> list[JsonDict]:
        """The conversation: chat's ``messages`` as sent; on responses ``instructions`` (as a developer
        message) then the ``input`` items that have a role (a string input is one user message); empty
        on legacy completions."""
        if self.endpoint == "responses":
            return responses_messages(self.body)
        messages = self.body.get("messages", [])
        return list(messages) if isinstance(messages, list) else []

    @property
    def last_user(self) -> str:
        """Text of the last user message (chat, responses) or the prompt (legacy completions)."""
        if self.endpoint == "completions":
            return self.prompt
        users = [m for m in self.messages if m.get("role") == "user"]
        return message_text(users[-1]) if users else ""


TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})
"""Content parts whose ``text`` counts as a message's text (chat's, then the Responses API's)."""


def message_text(message: JsonDict) -> str:
    """The text of a message, whose content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") in TEXT_PART_TYPES
        )
    return ""


def responses_messages(body: JsonDict) -> list[JsonDict]:
    """A Responses body as a conversation: ``instructions`` as a developer message, then the input."""
    messages: list[JsonDict] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "developer", "content": instructions})
    given = body.get("input")
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
    elif isinstance(given, list):
        messages += [item for item in given if isinstance(item, dict) and "role" in item]
    return messages


def default_script(request: FakeRequest) -> str:
    """Echo the input: the last user message, or the prompt."""
    return request.last_user


def run_script(script: Script | str | Reply, request: FakeRequest) -> Reply:
    """Call a script (or take a constant) and normalise its answer to a ``Reply``."""
    result = script(request) if callable(script) else script
    if isinstance(result, Reply):
        return result
    if isinstance(result, str):
        return Reply(content=result)
    raise TypeError(f"a fakeopenai script must return str or Reply, not {type(result).__name__}")


# ── request checks (HTTP 400 as OpenAI words them) ────────────────────────────────────────────────


def check_body(endpoint: Kind, body: Any) -> JsonDict:
    """The body as a dict, or an ``ApiError`` 400 like OpenAI's for the first thing wrong with it."""
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "We could not parse the JSON body of your request. (HINT: The OpenAI API expects "
            "a JSON payload, but what was sent was not valid JSON.)",
        )
    allowed = CHAT_PARAMS if endpoint == "chat" else COMPLETIONS_PARAMS
    for name in body:
        if name not in allowed:
            raise ApiError(400, f"Unrecognized request argument supplied: {name}")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise ApiError(400, "you must provide a model parameter")
    if body.get("stream"):
        raise ApiError(400, "The fake OpenAI server does not stream; send stream=false.", param="stream")
    _check_int(body, "n", low=1)
    _check_int(body, "max_tokens", low=1)
    _check_int(body, "max_completion_tokens", low=1)
    if endpoint == "chat":
        _check_messages(body)
    else:
        _check_prompt(body)
    return body


def _check_int(body: JsonDict, name: str, *, low: int) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ApiError(
            400,
            f"Invalid '{name}': expected an integer >= {low}, got {value!r}.",
            param=name,
            code="invalid_value",
        )


def _missing(name: str) -> ApiError:
    return ApiError(
        400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
    )


def _check_messages(body: JsonDict) -> None:
    messages = body.get("messages")
    if messages is None:
        raise _missing("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
            "an empty array instead.",
            param="messages",
            code="empty_array",
        )
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ROLES:
            supported = ", ".join(f"'{r}'" for r in ROLES)
            raise ApiError(
                400,
                f"Invalid value: {role!r}. Supported values are: {supported}.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        extra = sorted(set(message) - MESSAGE_FIELDS)
        if extra:
            raise ApiError(
                400, f"Additional properties are not allowed ({extra[0]!r} was unexpected) - 'messages.{i}'"
            )


def _check_prompt(body: JsonDict) -> None:
    prompt = body.get("prompt")
    if prompt is None:
        raise _missing("prompt")
    if isinstance(prompt, str):
        return
    if not isinstance(prompt, list) or not prompt or not all(isinstance(p, str) for p in prompt):
        raise ApiError(
            400,
            "Invalid 'prompt': the fake accepts a string or a non-empty list of strings.",
            param="prompt",
            code="invalid_type",
        )


# ── answers ───────────────────────────────────────────────────────────────────────────────────────


def _stops(body: JsonDict) -> list[str]:
    stop = body.get("stop")
    if isinstance(stop, str):
        return [stop]
    return [s for s in stop or [] if isinstance(s, str)]


def _clip_reply(reply: Reply, body: JsonDict, max_tokens: int | None) -> tuple[Reply, str]:
    if reply.content is None:
        text, finish = None, "stop"
    else:
        text, finish = bodies.clip(reply.content, stop=_stops(body), max_tokens=max_tokens)
    if reply.tool_calls:
        finish = "tool_calls"
    finish = reply.finish_reason or finish
    clipped = Reply(content=text, tool_calls=reply.tool_calls, refusal=reply.refusal, finish_reason=finish)
    return clipped, finish


def spend(
    reply: Reply, body: JsonDict, budget: int | None, reasoning_tokens: int | None
) -> tuple[Reply, str, int]:
    """A reply clipped to what ``budget`` leaves after reasoning: (reply, finish_reason, reasoning spent).

    ``reasoning_tokens`` is None for a model that does not reason. When reasoning takes the whole
    budget, the answer is empty (``content: ""``, no tool calls) and cut for ``length``.
    """
    if reasoning_tokens is None:
        clipped, finish = _clip_reply(reply, body, budget)
        return clipped, finish, 0
    split = split_budget(reasoning_tokens, budget)
    if split.exhausted:
        return Reply(content=""), "length", split.reasoning_tokens
    clipped, finish = _clip_reply(reply, body, split.answer_tokens)
    return clipped, finish, split.reasoning_tokens


def chat_answer(
    model: str, body: JsonDict, script: Script | str | Reply, *, reasoning_tokens: int | None = None
) -> JsonDict:
    """``CreateChatCompletionResponse`` for a checked chat body.

    ``reasoning_tokens``: what a reasoning model spends per choice (None: the model does not reason,
    and ``max_completion_tokens`` or ``max_tokens`` caps the answer alone).
    """
    request = FakeRequest("chat", model, body)
    budget = body.get("max_completion_tokens") or body.get("max_tokens")
    choices: list[JsonDict] = []
    completion_tokens = reasoning_total = 0
    for index in range(body.get("n") or 1):
        reply, finish, reasoned = spend(run_script(script, request), body, budget, reasoning_tokens)
        choices.append(bodies.chat_choice(index, reply, finish))
        completion_tokens += bodies.count_tokens(reply.content or reply.refusal or "") + reasoned
        reasoning_total += reasoned
    prompt_tokens = sum(bodies.count_tokens(message_text(m)) + 1 for m in request.messages)
    return bodies.chat_completion(
        model,
        choices,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        reasoning_tokens=reasoning_total,
    )


def completions_answer(model: str, body: JsonDict, script: Script | str | Reply) -> JsonDict:
    """``CreateCompletionResponse`` for a checked legacy body (one or more prompts, ``n`` each)."""
    prompts = [body["prompt"]] if isinstance(body["prompt"], str) else list(body["prompt"])
    max_tokens = body.get("max_tokens") or DEFAULT_COMPLETIONS_MAX_TOKENS
    choices: list[JsonDict] = []
    completion_tokens = 0
    for prompt in prompts:
        request = FakeRequest("completions", model, body, prompt=prompt)
        for _ in range(body.get("n") or 1):
            reply, finish = _clip_reply(run_script(script, request), body, max_tokens)
            text = reply.content or ""
            completion_tokens += bodies.count_tokens(text)
            shown = prompt + text if body.get("echo") else text
            choices.append(bodies.text_choice(len(choices), shown, finish))
    prompt_tokens = sum(bodies.count_tokens(p) for p in prompts)
    return bodies.text_completion(
        model, choices, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
    )
