"""OpenAI, Azure OpenAI and OpenAI-compatible servers, called through the official ``openai`` SDK.

One ``AsyncOpenAI`` (or ``AsyncAzureOpenAI`` when ``AZURE_OPENAI_ENDPOINT`` is set) client serves every
request (Chat, Completions, Responses, and the embeddings scorers ask for: ``POST /embeddings``, the body
``embeddings.create`` would send, through the same ``post`` so that it retries and fails like the rest);
it reads its settings from the environment as the SDK always does. Its HTTP transport is the
SDK's ``DefaultAioHttpClient`` (the ``openai[aiohttp]`` extra), which the SDK recommends for many requests
in flight: at concurrency 64 it makes about 20% more calls per second than the default. Retries are the SDK's own
(429 honouring Retry-After, 408/409, 5xx, timeouts and connection errors, with exponential backoff), so
this module only decides what a failure that survived them means:

- 401/403 → ``ServiceError``: the key was rejected, the run cannot go on — but a 403 "You are not allowed
  to generate embeddings from this model" is a ``CallError(whole_target=True)``: a chat model named as
  the embeddings model of a scorer;
- cannot connect → ``ServiceError``: the server is unreachable;
- 404 ``model_not_found`` for a fine-tune (``ft:…``) on a target's probe call → wait and try again, with
  backoff (``wait_schedule``), until ``model_wait_s`` seconds of waiting are spent: a fine-tune that just
  finished answers so for a few minutes while it loads. Each wait is logged at INFO on this module's
  logger and passed to ``on_model_wait``; printing is left to the caller;
- 404 "This is (not) a chat model…" or ``model_not_found`` → ``CallError(whole_target=True)``; "not a
  chat model" from a model whose lineage is a chat model says it may be served only on the Responses API
  (never re-routed);
- anything else → ``CallError`` for that case.

Answers are untrusted text: one holding lone surrogates (valid JSON, not encodable as UTF-8) has them
written as their escapes (``evalkit.text.encodable``), counted in ``escaped_answers`` for one warning.
A request whose text holds them (a data file's ``"\\ud800"``) is sent with them escaped the same way.

The API key never appears in a message: 401/403 texts are our own, and server texts are redacted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import openai

from evalkit.errors import ServiceError
from evalkit.providers.base import CallError, Reply
from evalkit.providers.openai_errors import model_not_found, refused_setting, whole_target_error
from evalkit.providers.openai_replies import out_of_budget, parse_reply
from evalkit.providers.redact import Redactor
from evalkit.providers.request import CallEndpoint, Request
from evalkit.text import encodable_data

if TYPE_CHECKING:
    import httpx2

    from evalkit.providers.lifecycle import Shutdown

DEFAULT_MAX_ATTEMPTS = 6
"""Attempts per request, the first included (the SDK makes ``max_attempts - 1`` retries)."""
DEFAULT_TIMEOUT_S = 60.0
"""Seconds one attempt may take."""
DEFAULT_MODEL_WAIT_S = 300.0
"""Seconds a target's probe call may spend waiting for a fine-tune to load."""
DEFAULT_WAIT_SCHEDULE: tuple[float, ...] = (5.0, 10.0, 20.0, 30.0)
"""Seconds between tries while a fine-tune loads; the last value repeats until the wait budget is spent."""

logger = logging.getLogger(__name__)
"""Logs each wait for a loading fine-tune at INFO (fields ``target``, ``model``, ``waited_s``)."""


@dataclass(frozen=True, slots=True)
class ModelWait:
    """A probe call found its fine-tune not loaded yet and is about to wait before trying again."""

    target: str
    """The target's name."""
    model: str
    """The model id that answered ``model_not_found``."""
    waited_s: float
    """Seconds waited so far for this model."""
    next_wait_s: float
    """Seconds about to be waited."""
    budget_s: float
    """Most seconds that will be waited in all."""

    def describe(self) -> str:
        """One line for a terminal: ``waiting for ft:… to load (60 s so far, up to 300 s)``."""
        return f"waiting for {self.model} to load ({self.waited_s:g} s so far, up to {self.budget_s:g} s)"


ModelWaitCallback = Callable[[ModelWait], None]
"""Told before each wait for a loading fine-tune (called on the event loop: keep it quick)."""

_PATHS: dict[CallEndpoint, str] = {
    "chat": "/chat/completions",
    "completions": "/completions",
    "responses": "/responses",
    "embeddings": "/embeddings",
}
_RETRIED_STATUSES = frozenset({408, 409, 429})
_NEGLIGIBLE_S = 1e-6
"""A wait budget left over this small (float rounding) is spent."""


class OpenAIProvider:
    """Calls models on an OpenAI-compatible service, one shared SDK client for all requests."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        model_wait_s: float = DEFAULT_MODEL_WAIT_S,
        wait_schedule: Sequence[float] = DEFAULT_WAIT_SCHEDULE,
        on_model_wait: ModelWaitCallback | None = None,
    ) -> None:
        if model_wait_s < 0:
            raise ValueError(f"model_wait_s must be at least 0, got {model_wait_s}")
        if not wait_schedule or min(wait_schedule) <= 0:
            raise ValueError(f"wait_schedule must be positive seconds, got {list(wait_schedule)}")
        self._client = client
        self._azure = isinstance(client, openai.AsyncAzureOpenAI)
        self._identity = service_identity(str(client.base_url))
        self._attempts = client.max_retries + 1
        self._redact = Redactor(client.api_key)
        self._model_wait_s = model_wait_s
        self._wait_schedule = tuple(wait_schedule)
        self._on_model_wait = on_model_wait
        self.escaped_answers = 0
        """Answers whose lone surrogates were written as escapes (see the module docstring)."""
        self.shut_down: dict[str, Shutdown] = {}
        """Models past their shutdown date (``evalkit.targets.lifecycle`` fills it before the calls): a
        ``model_not_found`` for one says when it was shut down."""
        self.served_from: dict[str, str] = {}
        """Served model id → what it serves (a local model id and its files' fingerprint), for a server that
        serves a local run (``evalkit.targets.served`` fills it): part of its answers' cache identity."""

    @classmethod
    def from_env(
        cls,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        model_wait_s: float = DEFAULT_MODEL_WAIT_S,
        wait_schedule: Sequence[float] = DEFAULT_WAIT_SCHEDULE,
        on_model_wait: ModelWaitCallback | None = None,
        http_client: httpx2.AsyncClient | None = None,
        base_url: str | None = None,
    ) -> OpenAIProvider:
        """A provider for the service the environment names (``OPENAI_*``, or Azure's variables).

        ``model_wait_s``: most seconds a target's probe call waits for a fine-tune (``ft:…``) that
        answers ``model_not_found`` to load, trying again after each delay of ``wait_schedule`` (its last
        value repeats); ``on_model_wait`` is told before each wait. ``http_client`` replaces the SDK's
        HTTP client, the SDK's aiohttp one by default (tests pass one with a mock transport). ``base_url``: an
        OpenAI-compatible server to call instead of the one the environment names (``--server``); its key is
        OPENAI_API_KEY when set, else ``EMPTY`` (vLLM and ``transformers serve`` take any)."""
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        azure = base_url is None and bool(os.environ.get("AZURE_OPENAI_ENDPOINT"))
        options: dict[str, Any] = {"max_retries": max_attempts - 1, "timeout": timeout_s}
        if base_url is not None:
            options.update(base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY") or "EMPTY")
        options["http_client"] = http_client if http_client is not None else openai.DefaultAioHttpClient()
        try:
            client = openai.AsyncAzureOpenAI(**options) if azure else openai.AsyncOpenAI(**options)
        except (openai.OpenAIError, ValueError) as exc:
            raise ServiceError(_setup_message(str(exc), azure=azure)) from None
        return cls(
            client, model_wait_s=model_wait_s, wait_schedule=wait_schedule, on_model_wait=on_model_wait
        )

    def cache_identity(self, model: str) -> str:
        """The service's identity: on one service, a model id names the same model for every caller — but
        for a local run's model on a server (``step-2`` today may be another adapter tomorrow), with what it
        serves."""
        served = self.served_from.get(model)
        return self._identity if served is None else f"{self._identity}#{served}"

    @property
    def identity(self) -> str:
        """The service's base URL without credentials or query."""
        return self._identity

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The SDK client every call goes through (``AsyncAzureOpenAI`` for Azure), for other API calls
        (``fine_tuning.jobs``, ``files``) with the same settings. Closed by ``aclose``."""
        return self._client

    async def call(self, request: Request, *, probe: bool = False) -> Reply:
        """Send ``request`` (retrying as the SDK does) and return the answer, or raise why not.

        ``probe``: the target's first call, which may wait for a fine-tune to load."""
        body, load_wait_s = await self._post(request, probe=probe)
        reply = self._reply(body, request.endpoint)
        return replace(reply, load_wait_s=load_wait_s) if load_wait_s else reply

    async def aclose(self) -> None:
        """Close the SDK client and its connections."""
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _post(self, request: Request, *, probe: bool) -> tuple[Any, float]:
        """The answer's body, and the seconds spent before the attempt that got it if the model had to
        load (0 otherwise)."""
        started = time.perf_counter()
        waits = self._load_waits(request) if probe else iter(())
        waited = 0.0
        while True:
            attempt_started = time.perf_counter()
            try:
                try:
                    body = await self._client.post(
                        _PATHS[request.endpoint], body=request.payload, cast_to=object
                    )
                except UnicodeEncodeError:  # lone surrogates in the request's text: sent as their escapes
                    payload = encodable_data(request.payload)
                    body = await self._client.post(_PATHS[request.endpoint], body=payload, cast_to=object)
                return body, (attempt_started - started if waited else 0.0)
            except openai.APIStatusError as exc:
                delay = next(waits, None) if model_not_found(exc) else None
                if delay is None:
                    raise self._status_error(exc, request, waited_s=waited) from None
            except openai.APIConnectionError as exc:
                raise self._connection_error(exc) from None
            self._announce_wait(ModelWait(request.target, request.model, waited, delay, self._model_wait_s))
            await asyncio.sleep(delay)
            waited += delay

    def _load_waits(self, request: Request) -> Iterator[float]:
        """The delays to wait for ``request``'s model to load: none unless it is a fine-tune (and not one
        whose date has passed: that one will not load)."""
        if not request.model.startswith("ft:") or request.model in self.shut_down:
            return iter(())
        return _delays(self._wait_schedule, budget_s=self._model_wait_s)

    def _announce_wait(self, wait: ModelWait) -> None:
        logger.info(
            "%s",
            wait.describe(),
            extra={"target": wait.target, "model": wait.model, "waited_s": wait.waited_s},
        )
        if self._on_model_wait is not None:
            self._on_model_wait(wait)

    def _reply(self, body: Any, endpoint: CallEndpoint) -> Reply:
        try:
            reply = parse_reply(body, endpoint)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            shown = self._redact(repr(body)[:200])
            raise CallError(f"{self._identity} answered in an unexpected shape: {shown}") from None
        self.escaped_answers += reply.escaped
        if not reply.output and reply.finish_reason == "length":
            raise CallError(out_of_budget(reply))
        return reply

    def _status_error(self, exc: openai.APIStatusError, request: Request, *, waited_s: float) -> Exception:
        status = exc.status_code
        if status == 403 and request.endpoint == "embeddings" and "embeddings" in str(exc.message):
            said = self._redact.server_message(exc)  # a model that gives none, not a rejected key
            return CallError(
                f"model '{request.model}' gives no embeddings ({self._identity} said: {said}); name an "
                "embeddings model (text-embedding-3-large, text-embedding-3-small, …)",
                whole_target=True,
            )
        if status in (401, 403):
            key_variable = "AZURE_OPENAI_API_KEY" if self._azure else "OPENAI_API_KEY"
            return ServiceError(
                f"the API key was rejected ({status}) by {self._identity}: "
                f"set {key_variable} to a valid key for this service"
            )
        message = self._redact.server_message(exc)
        if status == 400 and exc.code in ("unsupported_parameter", "unsupported_value"):
            return CallError(refused_setting(exc, message, request), whole_target=True)
        if status == 404:
            shut_down = self.shut_down.get(request.model)
            whole = whole_target_error(
                exc, message, request, identity=self._identity, waited_s=waited_s, shut_down=shut_down
            )
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


def service_identity(url: str) -> str:
    """``url`` with user info, query and fragment removed and no trailing slash."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


def _delays(schedule: tuple[float, ...], *, budget_s: float) -> Iterator[float]:
    """``schedule``'s delays, its last one repeated, the final one cut so that they add up to ``budget_s``."""
    waited = 0.0
    index = 0
    while budget_s - waited > _NEGLIGIBLE_S:
        delay = min(schedule[min(index, len(schedule) - 1)], budget_s - waited)
        yield delay
        waited += delay
        index += 1


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
