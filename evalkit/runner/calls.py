"""The one path to a model: cache lookup → concurrency slot → provider call → cache store.

Every model call of a run goes through one ``Caller``: the targets' (``run_targets``), the judge's and
the graders' (``JudgeBackend``: verdicts, and the embeddings a ``cosine`` similarity compares) and the
Batch API's (``run_batch``, which looks up and stores through it). So they share
one cache table, one key scheme and one limit on calls in flight.

A cache key is the SHA-256 of (who answers, endpoint, model, request body): "who answers" is the
provider's ``cache_identity(model)`` — the service's base URL for OpenAI(-compatible) models, the
libraries' versions and the weights' fingerprint for ``local:`` ones — so answers never mix across
services or weights. A ``repeat`` (the judge's second verdict on the same question) is keyed apart.
Errors are never stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from evalkit.providers.base import Provider, Reply
from evalkit.providers.request import Request
from evalkit.records import Outcome
from evalkit.runner.cache import Cache, CachedReply, cache_key

DEFAULT_CONCURRENCY = 8
"""Calls in flight at once, over everything a run calls."""


class Caller:
    """Calls models through ``provider``, answering from ``cache`` first, ``concurrency`` calls at a time."""

    def __init__(self, provider: Provider, *, cache: Cache | None = None, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.provider = provider
        """Where calls go."""
        self.cache = cache
        """Where answers are kept (None: neither read nor written)."""
        self.concurrency = concurrency
        """Calls in flight at once, at most."""
        self._slots = asyncio.Semaphore(concurrency)
        self._identities: dict[str, str] = {}

    def key(self, request: Request, *, repeat: int = 0) -> str:
        """The cache key of ``request`` (``repeat``: which of several independent answers to it)."""
        model = request.model
        identity = self._identities.get(model)
        if identity is None:
            identity = self._identities[model] = self.provider.cache_identity(model)
        payload: dict[str, Any] = request.payload if repeat == 0 else {"payload": request.payload, "repeat": repeat}
        return cache_key(identity, request.endpoint, model, payload)

    def lookup(self, request: Request, *, repeat: int = 0) -> Outcome | None:
        """The stored answer to ``request``, or None (also when there is no cache)."""
        if self.cache is None:
            return None
        hit = self.cache.get(self.key(request, repeat=repeat))
        return None if hit is None else _cached(hit)

    def lookup_many(self, requests: Sequence[Request]) -> list[Outcome | None]:
        """``lookup`` of each request, read from the cache in a few queries."""
        if self.cache is None:
            return [None] * len(requests)
        keys = [self.key(request) for request in requests]
        found = self.cache.get_many(keys)
        return [None if (hit := found.get(key)) is None else _cached(hit) for key in keys]

    async def call(self, request: Request, *, probe: bool = False, repeat: int = 0) -> Outcome:
        """Ask the model (no cache lookup: see ``lookup``) once a slot is free, and store the answer.

        Latency is the call's own: time waiting for a slot or for a model to load is left out. Raises the
        provider's ``CallError`` (this call failed) or ``ServiceError`` (the service cannot be used)."""
        async with self._slots:
            start = time.perf_counter()
            reply = await self.provider.call(request, probe=probe)
            latency = time.perf_counter() - start - reply.load_wait_s
        self.put(self.key(request, repeat=repeat), reply, latency_s=latency)
        return Outcome(
            output=reply.output, usage=reply.usage, latency_s=latency, finish_reason=reply.finish_reason
        )

    def put(self, key: str, reply: Reply, *, latency_s: float, batch: bool = False) -> None:
        """Store an answer under its key: a live call's, or one obtained another way (``batch``: a Batch
        API result line, kept marked so that it is charged at the batch rate whenever it is read)."""
        if self.cache is not None:
            self.cache.put(key, CachedReply(reply.output, reply.usage, reply.finish_reason, latency_s, batch))

    def flush(self) -> None:
        """Commit what was stored."""
        if self.cache is not None:
            self.cache.flush()


def _cached(hit: CachedReply) -> Outcome:
    return Outcome(
        output=hit.output,
        usage=hit.usage,
        latency_s=hit.latency_s,
        cached=True,
        finish_reason=hit.finish_reason,
        batch=hit.batch,
    )
