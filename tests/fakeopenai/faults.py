"""Deterministic fault injection: queued failures and hangs, per-model failures, a seeded fault rate.

Queued faults are consumed first-in first-out by the requests they match (a model filter, or any
model). The fault rate does not depend on arrival order, so it stays reproducible under concurrency:
whether the k-th attempt of a given request body fails is a hash of (seed, body, k).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from .bodies import ApiError, fault

Action = Literal["fail", "hang"]
"""What a fault does: answer with an error, or never answer."""


@dataclass
class _Queued:
    action: Action
    remaining: int | None  # None: every matching request until reset
    model: str | None
    status: int
    retry_after: float | None
    error: ApiError | None


@dataclass(frozen=True)
class _Rate:
    rate: float
    statuses: tuple[int, ...]
    seed: int
    model: str | None
    retry_after: float | None


@dataclass(frozen=True)
class Decision:
    """What the server must do instead of answering normally."""

    action: Action
    """``fail`` → send ``error``; ``hang`` → hold the request, then drop the connection."""
    error: ApiError | None = None
    """The error to send for ``fail``."""


class Faults:
    """The fault plan of one fake server; every method is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []
        self._rate: _Rate | None = None
        self._attempts: Counter[str] = Counter()

    def queue(
        self,
        action: Action,
        times: int | None,
        *,
        model: str | None = None,
        status: int = 500,
        retry_after: float | None = None,
        error: ApiError | None = None,
    ) -> None:
        """Make the next ``times`` matching requests (None: all of them) fail or hang."""
        if times is not None and times < 0:
            raise ValueError(f"times must be >= 0, not {times}")
        with self._lock:
            self._queue.append(_Queued(action, times, model, status, retry_after, error))

    def set_rate(
        self,
        rate: float,
        *,
        statuses: tuple[int, ...],
        seed: int,
        model: str | None,
        retry_after: float | None,
    ) -> None:
        """Fail a reproducible fraction ``rate`` of matching requests with one of ``statuses``."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {rate}")
        if not statuses:
            raise ValueError("statuses must name at least one HTTP status")
        with self._lock:
            self._rate = _Rate(rate, tuple(statuses), seed, model, retry_after)

    def reset(self) -> None:
        """No faults any more; attempt counters start again."""
        with self._lock:
            self._queue.clear()
            self._rate = None
            self._attempts.clear()

    def decide(self, model: str | None, body_key: str) -> Decision | None:
        """The fault for this request, if any (consumes one use of a queued fault)."""
        with self._lock:
            attempt = self._attempts[body_key]
            self._attempts[body_key] += 1
            queued = self._take(model)
            if queued is not None:
                error = queued.error or fault(queued.status, model=model, retry_after=queued.retry_after)
                return Decision(queued.action, error if queued.action == "fail" else None)
            return self._roll(model, body_key, attempt)

    def _take(self, model: str | None) -> _Queued | None:
        for item in self._queue:
            if item.model is not None and item.model != model:
                continue
            if item.remaining is None:
                return item
            if item.remaining > 0:
                item.remaining -= 1
                return item
        return None

    def _roll(self, model: str | None, body_key: str, attempt: int) -> Decision | None:
        rate = self._rate
        if rate is None or (rate.model is not None and rate.model != model):
            return None
        digest = hashlib.sha256(f"{rate.seed}\x00{attempt}\x00{body_key}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= rate.rate:
            return None
        status = rate.statuses[digest[8] % len(rate.statuses)]
        return Decision("fail", fault(status, model=model, retry_after=rate.retry_after))
