"""The judge model's side of ``judge``: calls through the run's provider and cache, bounded concurrency,
structured output where the service accepts it, and usage counted per judge scorer."""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, dataclass
from typing import Any

from evalkit.providers.base import CallError, Provider, Reply
from evalkit.providers.local.models import cache_name
from evalkit.providers.request import Request
from evalkit.providers.routing import endpoint_for
from evalkit.records import ENDPOINTS, Endpoint
from evalkit.runner.cache import Cache, CachedReply, cache_key
from evalkit.scorers.judge.prompts import (
    JudgePrompt,
)

DEFAULT_CONCURRENCY = 8
"""Judge calls in flight at once, over all judge scorers."""

_REJECTED_FORMAT = re.compile(r"response_format|json_schema", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class JudgeModel:
    """The model a judge scorer asks, and the endpoint it is served on."""

    model: str
    """The model id as the service knows it."""
    endpoint: Endpoint
    """Where it is called."""

    @classmethod
    def parse(cls, spec: str) -> JudgeModel:
        """``gpt-4o`` (endpoint by lineage) or ``gpt-4o@chat`` / ``davinci-002@completions`` (pinned)."""
        model, sep, suffix = spec.strip().rpartition("@")
        for endpoint in ENDPOINTS:
            if sep and suffix == endpoint:
                return cls(model.strip(), endpoint)
        return cls(spec.strip(), endpoint_for(spec))


@dataclass(frozen=True, slots=True)
class Sampling:
    """How the judge samples its verdicts."""

    temperature: float = 0.0
    """Sampling temperature."""
    max_tokens: int = 400
    """Most tokens per verdict."""


@dataclass(slots=True)
class JudgeUsage:
    """What one judge scorer's calls cost, apart from the targets' usage."""

    model: str
    """The judge model."""
    calls: int = 0
    """Verdicts the service answered in this run."""
    cached: int = 0
    """Verdicts that needed no call: from the response cache, or shared with the same question asked at
    the same time (two targets that gave the same answer)."""
    prompt_tokens: int = 0
    """Prompt tokens of the calls made."""
    completion_tokens: int = 0
    """Completion tokens of the calls made."""


class JudgeBackend:
    """Calls judge models through the run's provider and cache, ``concurrency`` calls at a time."""

    def __init__(
        self, provider: Provider, *, cache: Cache | None = None, concurrency: int = DEFAULT_CONCURRENCY
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self._provider = provider
        self._cache = cache
        self._slots = asyncio.Semaphore(concurrency)
        self._usage: dict[str, JudgeUsage] = {}
        self._unstructured: set[str] = set()
        self._broken: dict[str, str] = {}
        self._in_flight: dict[str, asyncio.Future[Reply]] = {}
        self._cache_names: dict[str, str] = {}

    def usage(self) -> dict[str, dict[str, Any]]:
        """Per judge scorer name: ``model``, ``calls``, ``cached``, ``prompt_tokens``, ``completion_tokens``."""
        return {name: asdict(usage) for name, usage in self._usage.items()}

    async def ask(
        self, prompt: JudgePrompt, *, judge: JudgeModel, sampling: Sampling, scorer: str, repeat: int = 0
    ) -> Reply:
        """The judge's reply to ``prompt`` (``repeat``: which of several independent verdicts), from the
        cache when it holds it. Raises ``CallError`` when the call fails, ``ServiceError`` when the
        service cannot be used at all."""
        usage = self._usage.setdefault(scorer, JudgeUsage(judge.model))
        structured, plain = _requests(prompt, judge, sampling, scorer)
        for request in (structured, plain):
            hit = self._cached(request, repeat) if request is not None else None
            if hit is not None:
                usage.cached += 1
                return hit
        question = self._key(plain, repeat)
        shared = self._in_flight.get(question)
        if shared is not None:  # the same question is being asked right now (two targets, one answer)
            usage.cached += 1
            return await asyncio.shield(shared)
        task = asyncio.ensure_future(self._fetch(structured, plain, judge, repeat, usage))
        task.add_done_callback(_retrieve)
        self._in_flight[question] = task
        try:  # shielded: one asker giving up must not cancel the call for the others
            return await asyncio.shield(task)
        finally:
            del self._in_flight[question]

    async def _fetch(
        self, structured: Request | None, plain: Request, judge: JudgeModel, repeat: int, usage: JudgeUsage
    ) -> Reply:
        async with self._slots:
            reply = await self._call(structured, plain, judge, repeat)
        usage.calls += 1
        usage.prompt_tokens += reply.usage.prompt_tokens
        usage.completion_tokens += reply.usage.completion_tokens
        return reply

    async def _call(
        self, structured: Request | None, plain: Request, judge: JudgeModel, repeat: int
    ) -> Reply:
        """Call with structured output unless the model rejected it before; without it if rejected now."""
        if judge.model in self._broken:
            raise CallError(self._broken[judge.model], whole_target=True)
        if structured is not None and judge.model not in self._unstructured:
            try:
                return await self._send(structured, judge, repeat)
            except CallError as exc:
                if not _rejects_response_format(exc):
                    raise
                self._unstructured.add(judge.model)
        return await self._send(plain, judge, repeat)

    async def _send(self, request: Request, judge: JudgeModel, repeat: int) -> Reply:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            reply = await self._provider.call(request)
        except CallError as exc:
            if exc.whole_target:
                self._broken[judge.model] = exc.message
            raise
        if self._cache is not None:
            latency = loop.time() - started
            stored = CachedReply(reply.output, reply.usage, reply.finish_reason, latency)
            self._cache.put(self._key(request, repeat), stored)
        return reply

    def _cached(self, request: Request, repeat: int) -> Reply | None:
        if self._cache is None:
            return None
        hit = self._cache.get(self._key(request, repeat))
        if hit is None:
            return None
        return Reply(output=hit.output, usage=hit.usage, finish_reason=hit.finish_reason)

    def _key(self, request: Request, repeat: int) -> str:
        """The cache key: the request's, as the runner computes it; a repeat's is set apart by its number."""
        payload = request.payload if repeat == 0 else {"payload": request.payload, "repeat": repeat}
        if request.model not in self._cache_names:
            self._cache_names[request.model] = cache_name(request.model)
        return cache_key(self._provider.identity, request.endpoint, self._cache_names[request.model], payload)


def _requests(
    prompt: JudgePrompt, judge: JudgeModel, sampling: Sampling, scorer: str
) -> tuple[Request | None, Request]:
    """The request with structured output (chat models only) and the one without."""
    settings = {"temperature": sampling.temperature, "max_tokens": sampling.max_tokens}
    name = f"judge:{scorer}"
    if judge.endpoint == "completions":
        body = {"model": judge.model, "prompt": prompt.as_text(), **settings}
        return None, Request(name, judge.model, "completions", body)
    messages = [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]
    plain = {"model": judge.model, "messages": messages, **settings}
    structured = {**plain, "response_format": {"type": "json_schema", "json_schema": prompt.schema}}
    return Request(name, judge.model, "chat", structured), Request(name, judge.model, "chat", plain)


def _retrieve(task: asyncio.Future[Reply]) -> None:
    """Mark a shared call's failure as seen: whoever still waits for it gets it; nobody else must."""
    if not task.cancelled():
        task.exception()


def _rejects_response_format(error: CallError) -> bool:
    return error.message.startswith("HTTP 400") and _REJECTED_FORMAT.search(error.message) is not None
