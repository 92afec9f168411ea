"""Response bodies in OpenAI's exact shapes: errors, chat completions, legacy completions, models.

(The Responses API's ``Response`` is built in ``responses.py``.)

Pure functions from plain values to JSON-ready dicts; the HTTP layer in ``server.py`` only sends them.
Token counts are whitespace words: cheap, deterministic, good enough for usage bookkeeping.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]
"""A JSON object as parsed by ``json.loads``."""

SYSTEM_FINGERPRINT = "fp_fakeopenai"
"""What every fake answer reports as ``system_fingerprint``."""

_ids = itertools.count(1)
_WORD = re.compile(r"\S+")


def new_id(prefix: str, *, sep: str = "-") -> str:
    """A unique, OpenAI-looking object id (``chatcmpl-fake000001``; ``resp_fake000002`` with ``sep="_"``)."""
    return f"{prefix}{sep}fake{next(_ids):06d}"


# ── errors ────────────────────────────────────────────────────────────────────────────────────────


class ApiError(Exception):
    """Raise from a script (or the server) to answer with an OpenAI-shaped error instead of a reply."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> JsonDict:
        """OpenAI's ``ErrorResponse``: ``{"error": {message, type, param, code}}``."""
        return error_body(self.message, type=self.type, param=self.param, code=self.code)


def error_body(message: str, *, type: str, param: str | None = None, code: str | None = None) -> JsonDict:
    """OpenAI's ``ErrorResponse`` envelope."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def mask_key(key: str) -> str:
    """Mask an API key the way OpenAI echoes it back: ``sk-te****1234``."""
    if len(key) < 12:
        return "*" * len(key)
    return f"{key[:5]}{'*' * 4}{key[-4:]}"


def missing_key() -> ApiError:
    """401 for a request without ``Authorization: Bearer ...``."""
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using "
        "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) "
        "if you're accessing the API from your browser and are prompted for a username and password. You "
        "can obtain an API key from https://platform.openai.com/account/api-keys.",
    )


def invalid_key(key: str) -> ApiError:
    """401 ``invalid_api_key`` for a key the test marked as rejected; the key is masked."""
    return ApiError(
        401,
        f"Incorrect API key provided: {mask_key(key)}. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def model_not_found(model: str) -> ApiError:
    """404 ``model_not_found``: unknown model, or a fine-tune that is still loading."""
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def chat_model_on_completions() -> ApiError:
    """404 for a chat model called on ``/v1/completions``."""
    return ApiError(
        404,
        "This is a chat model and not supported in the v1/completions endpoint. "
        "Did you mean to use v1/chat/completions?",
        param="model",
    )


def completions_model_on_chat() -> ApiError:
    """404 for a legacy completions model called on ``/v1/chat/completions``."""
    return ApiError(
        404,
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?",
        param="model",
    )


def responses_only_model(endpoint_path: str) -> ApiError:
    """404 for a Responses-only model (``o3-pro``, codex, deep research) called elsewhere.

    OpenAI's words on ``v1/chat/completions``; the fake says the same of ``v1/completions``.
    """
    return ApiError(
        404,
        f"This model is only supported in v1/responses and not in {endpoint_path}.",
        param="model",
    )


def completions_model_on_responses() -> ApiError:
    """404 for a legacy completions model called on ``/v1/responses`` (the fake's words, after the chat one)."""
    return ApiError(
        404,
        "This is not a chat model and thus not supported in the v1/responses endpoint. "
        "Did you mean to use v1/completions?",
        param="model",
    )


def invalid_url(method: str, path: str) -> ApiError:
    """404 for a path the API does not have."""
    return ApiError(404, f"Invalid URL ({method} {path})")


def deployment_not_found() -> ApiError:
    """Azure's 404 for an unknown deployment name."""
    return ApiError(
        404,
        "The API deployment for this resource does not exist. If you created the deployment within the "
        "last 5 minutes, please wait a moment and try again.",
        type="invalid_request_error",
        code="DeploymentNotFound",
    )


def fault(status: int, *, model: str | None, retry_after: float | None) -> ApiError:
    """An injected failure with the body OpenAI sends for that status."""
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
    if status == 429:
        wait_ms = round((retry_after or 0.0) * 1000)
        return ApiError(
            429,
            f"Rate limit reached for {model or 'this model'} in organization org-fakeopenai on requests per "
            f"min (RPM): Limit 500, Used 500, Requested 1. Please try again in {wait_ms}ms. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            type="requests",
            code="rate_limit_exceeded",
            headers=headers,
        )
    if status == 404:
        return model_not_found(model or "unknown")
    if status >= 500:
        message = (
            "The server is overloaded or not ready yet."
            if status == 503
            else "The server had an error while processing your request. Sorry about that!"
        )
        return ApiError(status, message, type="server_error", headers=headers)
    return ApiError(status, f"Injected fault: HTTP {status}.", headers=headers)


# ── replies ───────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ToolCall:
    """One function call in a scripted chat reply."""

    name: str
    """The function name."""
    arguments: str | JsonDict = field(default_factory=dict)
    """Its arguments: a JSON string as the model produced it, or a dict (serialised for you)."""
    id: str = ""
    """The call id; empty → a fresh ``call_...`` id."""

    def to_json(self) -> JsonDict:
        """The ``ChatCompletionMessageToolCall`` object."""
        args = self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)
        return {
            "id": self.id or new_id("call"),
            "type": "function",
            "function": {"name": self.name, "arguments": args},
        }


@dataclass(frozen=True)
class Reply:
    """A scripted answer with more than text: tool calls, a refusal, a forced finish reason."""

    content: str | None = None
    """The answer text (None for a pure tool-call answer)."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Function calls the model makes (chat only)."""
    refusal: str | None = None
    """A refusal message (chat only); content is then usually None."""
    finish_reason: str | None = None
    """Override; by default ``tool_calls``, ``length`` or ``stop`` as the answer warrants."""


def count_tokens(text: str) -> int:
    """The fake's token count: whitespace-separated words."""
    return len(_WORD.findall(text))


def clip(text: str, *, stop: Sequence[str], max_tokens: int | None) -> tuple[str, str]:
    """Apply stop sequences (cut before the first, excluded) and a token budget → (text, finish_reason)."""
    cuts = [i for s in stop if s and (i := text.find(s)) >= 0]
    if cuts:
        text = text[: min(cuts)]
    if max_tokens is not None:
        words = list(_WORD.finditer(text))
        if len(words) > max_tokens:
            end = words[max_tokens - 1].end() if max_tokens > 0 else 0
            return text[:end], "length"
    return text, "stop"


def usage(prompt_tokens: int, completion_tokens: int, *, reasoning_tokens: int = 0) -> JsonDict:
    """``CompletionUsage`` with OpenAI's detail blocks (``completion_tokens`` includes the reasoning)."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_choice(index: int, reply: Reply, finish_reason: str) -> JsonDict:
    """One ``choices[]`` item of a chat completion."""
    message: JsonDict = {
        "role": "assistant",
        "content": reply.content,
        "refusal": reply.refusal,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [call.to_json() for call in reply.tool_calls]
    return {"index": index, "message": message, "logprobs": None, "finish_reason": finish_reason}


def chat_completion(
    model: str,
    choices: list[JsonDict],
    *,
    prompt_tokens: int,
    completion_tokens: int,
    reasoning_tokens: int = 0,
) -> JsonDict:
    """``CreateChatCompletionResponse`` (``completion_tokens`` includes ``reasoning_tokens``)."""
    return {
        "id": new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage(prompt_tokens, completion_tokens, reasoning_tokens=reasoning_tokens),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def text_choice(index: int, text: str, finish_reason: str) -> JsonDict:
    """One ``choices[]`` item of a legacy completion."""
    return {"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason}


def text_completion(
    model: str, choices: list[JsonDict], *, prompt_tokens: int, completion_tokens: int
) -> JsonDict:
    """``CreateCompletionResponse``."""
    return {
        "id": new_id("cmpl"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage(prompt_tokens, completion_tokens),
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def model_object(model_id: str, *, shutdown_date: str | None = None) -> JsonDict:
    """``Model``: what ``GET /v1/models/{id}`` returns, ``shutdown_date`` (YYYY-MM-DD or null) included."""
    owner = "user-fakeopenai" if model_id.startswith("ft:") else "system"
    return {
        "id": model_id,
        "object": "model",
        "created": 1_700_000_000,
        "owned_by": owner,
        "shutdown_date": shutdown_date,
    }


def model_list(models: list[tuple[str, str | None]]) -> JsonDict:
    """``ListModelsResponse`` of (model id, shutdown date) pairs."""
    return {"object": "list", "data": [model_object(m, shutdown_date=d) for m, d in models]}


def check_against_spec(body: JsonDict, schema: str) -> None:
    """Anything else the spec's ``schema`` (``CreateResponse``, …) does not allow: 400 naming where (the
    fake's words); nothing is checked when the spec is absent."""
    from .openapi import load_spec

    spec = load_spec()
    violation = None if spec is None else spec.first_violation(body, schema)
    if violation is not None:
        param, problem = violation
        raise ApiError(
            400,
            f"Invalid '{param}': {problem} (fakeopenai: not a valid {schema}).",
            param=param,
            code="invalid_value",
        )
