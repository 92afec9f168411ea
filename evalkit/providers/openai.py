"""OpenAI, Azure OpenAI and OpenAI-compatible servers, called through the official ``openai`` SDK.

One ``AsyncOpenAI`` (or ``AsyncAzureOpenAI`` when ``AZURE_OPENAI_ENDPOINT`` is set) client serves every
request; it reads its settings from the environment as the SDK always does. Retries are the SDK's own
(429 honouring Retry-After, 408/409, 5xx, timeouts and connection errors, with exponential backoff), so
this module only decides what a failure that survived them means:

- 401/403 → ``ServiceError``: the key was rejected, the run cannot go on;
- cannot connect → ``ServiceError``: the server is unreachable;
- 404 "This is (not) a chat model…" or ``model_not_found`` → ``CallError(whole_target=True)``;
- anything else → ``CallError`` for that case.

The API key never appears in a message: 401/403 texts are our own, and server texts are redacted.
"""

from __future__ import annotations

import os
import re
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import openai

from evalkit.errors import ServiceError
from evalkit.providers.base import CallError, Reply
from evalkit.providers.request import Request
from evalkit.records import Endpoint, Usage, render_tool_calls

if TYPE_CHECKING:
    import httpx2

DEFAULT_MAX_ATTEMPTS = 6
"""Attempts per request, the first included (the SDK makes ``max_attempts - 1`` retries)."""
DEFAULT_TIMEOUT_S = 60.0
"""Seconds one attempt may take."""

_PATHS: dict[Endpoint, str] = {"chat": "/chat/completions", "completions": "/completions"}
_RETRIED_STATUSES = frozenset({408, 409, 429})
_KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_\-*.]{3,}")
_MAX_MESSAGE = 400


class OpenAIProvider:
    """Calls models on an OpenAI-compatible service, one shared SDK client for all requests."""

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self._client = client
        self._azure = isinstance(client, openai.AsyncAzureOpenAI)
        self._identity = service_identity(str(client.base_url))
        self._attempts = client.max_retries + 1
        self._secret = client.api_key if isinstance(client.api_key, str) else ""

    @classmethod
    def from_env(
        cls,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        http_client: httpx2.AsyncClient | None = None,
    ) -> OpenAIProvider:
        """A provider for the service the environment names (``OPENAI_*``, or Azure's variables).

        ``http_client`` replaces the SDK's HTTP client (tests pass one with a mock transport)."""
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        azure = bool(os.environ.get("AZURE_OPENAI_ENDPOINT"))
        options: dict[str, Any] = {"max_retries": max_attempts - 1, "timeout": timeout_s}
        if http_client is not None:
            options["http_client"] = http_client
        try:
            client = openai.AsyncAzureOpenAI(**options) if azure else openai.AsyncOpenAI(**options)
        except (openai.OpenAIError, ValueError) as exc:
            raise ServiceError(_setup_message(str(exc), azure=azure)) from None
        return cls(client)

    @property
    def identity(self) -> str:
        """The service's base URL without credentials or query: part of every cache key."""
        return self._identity

    async def call(self, request: Request) -> Reply:
        """Send ``request`` (retrying as the SDK does) and return the answer, or raise why not."""
        try:
            body = await self._client.post(_PATHS[request.endpoint], body=request.payload, cast_to=object)
        except openai.APIStatusError as exc:
            raise self._status_error(exc, request) from None
        except openai.APIConnectionError as exc:
            raise self._connection_error(exc) from None
        try:
            return _chat_reply(body) if request.endpoint == "chat" else _completion_reply(body)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            shown = self._redact(repr(body)[:200])
            raise CallError(f"{self._identity} answered in an unexpected shape: {shown}") from None

    async def aclose(self) -> None:
        """Close the SDK client and its connections."""
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _status_error(self, exc: openai.APIStatusError, request: Request) -> Exception:
        status = exc.status_code
        if status in (401, 403):
            key_variable = "AZURE_OPENAI_API_KEY" if self._azure else "OPENAI_API_KEY"
            return ServiceError(
                f"the API key was rejected ({status}) by {self._identity}: "
                f"set {key_variable} to a valid key for this service"
            )
        message = self._server_message(exc)
        if status == 404:
            whole = _whole_target_error(exc, message, request, identity=self._identity)
            if whole is not None:
                return whole
        retried = status in _RETRIED_STATUSES or status >= 500
        tries = f" after {self._attempts} attempts" if retried and self._attempts > 1 else ""
        return CallError(f"HTTP {status}{tries} from {self._identity}: {message}")

    def _connection_error(self, exc: openai.APIConnectionError) -> Exception:
        cause = exc.__cause__
        reason = self._redact(str(cause) or type(cause).__name__) if cause is not None else "no connection"
        tries = f"after {self._attempts} attempts" if self._attempts > 1 else "on the only attempt"
        if type(cause).__name__ in ("ConnectError", "ConnectTimeout"):
            variable = "AZURE_OPENAI_ENDPOINT" if self._azure else "OPENAI_BASE_URL"
            return ServiceError(f"cannot reach {self._identity} {tries}: {reason}; check {variable}")
        if isinstance(exc, openai.APITimeoutError):
            return CallError(f"no answer from {self._identity} in time {tries} ({reason})")
        return CallError(f"the connection to {self._identity} failed {tries}: {reason}")

    def _server_message(self, exc: openai.APIStatusError) -> str:
        body = exc.body
        text = body.get("message") if isinstance(body, dict) else body
        if not isinstance(text, str) or not text:
            text = exc.response.reason_phrase or "no details"
        text = self._redact(text)
        return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"

    def _redact(self, text: str) -> str:
        if len(self._secret) >= 8:
            text = text.replace(self._secret, "[key]")
        return _KEY_PATTERN.sub("sk-[key]", text)


def service_identity(url: str) -> str:
    """``url`` with user info, query and fragment removed and no trailing slash."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


def _whole_target_error(
    exc: openai.APIStatusError, message: str, request: Request, *, identity: str
) -> CallError | None:
    needed = _endpoint_needed(message)
    if needed is not None and needed != request.endpoint:
        return CallError(
            f"model '{request.model}' is served on the {needed} endpoint, not {request.endpoint} "
            f"({identity} said: {message}); call it with --model {request.target}={request.model}@{needed} "
            f"or set 'endpoint: {needed}' on target '{request.target}' in the suite",
            whole_target=True,
        )
    if exc.code in ("model_not_found", "DeploymentNotFound"):
        return CallError(
            f"model '{request.model}' was not found by {identity} ({exc.code}: {message}); check the id and "
            "that this API key may use it (a fine-tune that just finished can take a few minutes to load)",
            whole_target=True,
        )
    return None


def _endpoint_needed(message: str) -> Endpoint | None:
    """The endpoint OpenAI's wrong-endpoint 404 text points to, if it is that text."""
    lowered = message.lower()
    if "not a chat model" in lowered:
        return "completions"
    if "is a chat model" in lowered:
        return "chat"
    return None


def _setup_message(sdk_message: str, *, azure: bool) -> str:
    if azure and "api_version" in sdk_message:
        return "Azure OpenAI needs an API version: set OPENAI_API_VERSION (e.g. 2024-10-21)"
    if azure and "credentials" in sdk_message.lower():
        return "no Azure OpenAI credentials: set AZURE_OPENAI_API_KEY (or AZURE_OPENAI_AD_TOKEN)"
    if "credentials" in sdk_message.lower() or "api_key" in sdk_message:
        return (
            "no OpenAI API key: set OPENAI_API_KEY (for a local server that needs no key, any value will do)"
        )
    return f"cannot set up the OpenAI client: {sdk_message}"


def _chat_reply(body: Any) -> Reply:
    choice = body["choices"][0]
    message = choice["message"]
    output = message.get("content")
    if output is None and message.get("tool_calls"):
        output = render_tool_calls(message["tool_calls"])
    if output is None:
        output = message.get("refusal") or ""
    return Reply(output=str(output), usage=_usage(body), finish_reason=choice.get("finish_reason"))


def _completion_reply(body: Any) -> Reply:
    choice = body["choices"][0]
    return Reply(output=str(choice["text"]), usage=_usage(body), finish_reason=choice.get("finish_reason"))


def _usage(body: dict[str, Any]) -> Usage:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return Usage()
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )


