"""The fake's request log: what arrived, what it was answered — never a credential.

Headers that carry secrets (``Authorization``, Azure's ``api-key``, cookies, anything named like a key
or token) are dropped before a request is recorded, so a test can dump the log without leaking.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from .models import Kind

AuthScheme = Literal["bearer", "api-key"]
"""How a request authenticated: ``Authorization: Bearer`` or Azure's ``api-key`` header."""

_SECRET_WORDS = ("auth", "key", "token", "cookie", "secret", "password")


def scrub_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers with lower-cased names, minus every header that may carry a secret."""
    return {
        name.lower(): value
        for name, value in headers
        if not any(word in name.lower() for word in _SECRET_WORDS)
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it, credentials removed."""

    method: str
    """``POST``, ``GET``, ..."""
    path: str
    """The URL path without the query string (``/v1/chat/completions``, ``/v1/responses``)."""
    query: str
    """The raw query string (Azure's ``api-version=...``), empty if none."""
    endpoint: Kind | None
    """``chat``/``completions``/``responses`` for generation requests (Azure's too), else None."""
    model: str | None
    """The requested model (or Azure deployment), if the request named one."""
    body: dict[str, Any] | None = field(repr=False)
    """The parsed JSON body, or None if there was none or it was not JSON."""
    status: int | None
    """The HTTP status answered; None for a request that was made to hang."""
    headers: dict[str, str] = field(repr=False)
    """Request headers, lower-cased, without Authorization/api-key or any other secret."""
    auth: AuthScheme | None
    """How the request authenticated (the key itself is never kept)."""


class RequestLog:
    """Thread-safe, append-only list of ``RecordedRequest`` (until cleared)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def add(self, record: RecordedRequest) -> None:
        """Append one record."""
        with self._lock:
            self._items.append(record)

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of every record so far, oldest first."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._items.clear()
