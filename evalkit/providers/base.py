"""What the runner needs from a model service: a ``Provider`` turns one ``Request`` into one ``Reply``.

A provider retries what is worth retrying itself, then either returns a ``Reply`` or raises:

- ``CallError`` — this call failed; the runner records the message as the case's error. With
  ``whole_target=True`` every call to the same target would fail the same way (wrong endpoint, unknown
  model), so the runner records the message for the target's remaining cases without calling again.
- ``evalkit.errors.ServiceError`` — the service cannot be used at all (key rejected, unreachable); the
  run stops.

The runner marks each target's first call, made alone, as its ``probe``: only a probe may wait for a
model that is not available yet (a fine-tune that just finished loads for a few minutes); the time spent
waiting is reported in ``Reply.load_wait_s`` and is not part of the call's latency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from evalkit.providers.request import Request
from evalkit.records import Endpoint, Usage


@dataclass(frozen=True, slots=True)
class Reply:
    """A model's answer to one request."""

    output: str
    """The answer text (tool calls rendered as JSON)."""
    usage: Usage = field(default_factory=Usage)
    """Tokens the call consumed, as reported."""
    finish_reason: str | None = None
    """Why generation stopped (``stop``, ``length``, ``tool_calls``, …)."""
    load_wait_s: float = 0.0
    """Seconds spent waiting for the model to become available before the attempt that answered."""
    escaped: bool = False
    """The answer held lone surrogates (``"\\ud800"`` in the JSON, not encodable as UTF-8): ``output``
    has them as that escape (``evalkit.text.encodable``)."""


class CallError(Exception):
    """A call failed after its retries; its text becomes the case's recorded error."""

    def __init__(self, message: str, *, whole_target: bool = False, move_to: Endpoint | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.whole_target = whole_target or move_to is not None
        """Every call to this target would fail the same way: stop calling it."""
        self.move_to = move_to
        """The endpoint the model is served on instead, when the service said so (a Responses-only model
        called on Chat): the runner calls the target there for the rest of the run."""


class Provider(Protocol):
    """A model service the runner can call."""

    @property
    def identity(self) -> str:
        """Which service answers (its base URL without credentials), as messages name it."""
        ...

    def cache_identity(self, model: str) -> str:
        """Who answers for ``model``, as part of every cache key of its answers: the service, and for
        weights on this machine what they are, so that answers never mix across services or weights."""
        ...

    async def call(self, request: Request, *, probe: bool = False) -> Reply:
        """Make one call, retries included; raise ``CallError`` or ``ServiceError`` on failure.

        ``probe``: this is the target's first call, made alone; it may wait for the model to load."""
        ...
