"""Responses on disk, keyed by the request that produced them, so an identical re-run makes no calls.

One SQLite file (``responses.sqlite``) in ``$EVALKIT_CACHE_DIR`` or the user cache directory. The key is
the SHA-256 of the canonical JSON of (service identity, endpoint, model, request body); the value is the
reply (output, usage, finish reason, latency) as JSON, with ``"batch": true`` when the answer came from
OpenAI's Batch API, so that a re-run served from the cache still charges it at the batch rate (a value
without it — any value written before the flag existed — is a live answer). Errors are never stored.
An embedding's output is its vector as base64 float32 (``evalkit.providers.embeddings``).
Every put is committed at once (WAL journal, ``synchronous=NORMAL``: an append to the log, no fsync), so
a killed run keeps every answer it received and its re-run repeats only the calls that were in flight.
That costs ≈28 µs a put against ≈8 µs in batches of 200 (measured, 10,000 puts) — nothing beside a model
call. ``batch=N`` (tests, bulk loads) commits every N puts, after 2 s, at ``flush()`` and at ``close()``
instead; a killed process then loses at most its last uncommitted batch, never the file.

Answers are untrusted text: one with a lone surrogate (valid JSON from a server, not encodable as UTF-8)
is stored with JSON ``\\u`` escapes, which read back as the same string. A put that fails all the same
(a full disk, a locked file) is left out and counted (``unstored``, ``problem``): the answer is still
used, the other puts are unaffected, and a re-run asks for it again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from evalkit.dirs import cache_dir
from evalkit.errors import InputError
from evalkit.records import Usage

FILE_NAME = "responses.sqlite"
"""The cache file inside the cache directory."""
_KEY_VERSION = "evalkit-cache-1"
_KEYS_PER_QUERY = 500
"""Keys per ``get_many`` query (SQLite allows 32,766 parameters; a few hundred is where the gain levels off)."""
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
)


@dataclass(frozen=True, slots=True)
class CachedReply:
    """A stored successful reply."""

    output: str
    """The answer text."""
    usage: Usage
    """Tokens the original call consumed."""
    finish_reason: str | None
    """The original finish reason."""
    latency_s: float
    """Wall time of the original call."""
    batch: bool = False
    """True for an answer obtained through OpenAI's Batch API (billed at the batch rate), False for a live
    call."""


def cache_key(identity: str, endpoint: str, model: str, payload: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of what determines an answer."""
    material = json.dumps(
        [_KEY_VERSION, identity, endpoint, model, payload],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


class Cache:
    """The response cache: ``get`` and ``put`` by key; one connection, used from one thread."""

    def __init__(self, connection: sqlite3.Connection, path: Path, *, batch: int = 1) -> None:
        self._db = connection
        self.path = path
        """The SQLite file."""
        self._batch = batch
        self._pending = 0
        self._last_commit = time.monotonic()
        self.unstored = 0
        """Answers that could not be stored."""
        self.problem: str | None = None
        """Why the first of them could not be."""

    @staticmethod
    def default_dir() -> Path:
        """evalkit's cache directory (``evalkit.dirs.cache_dir``): ``$EVALKIT_CACHE_DIR`` or the user's."""
        return cache_dir()

    @classmethod
    def open(cls, directory: str | Path | None = None, *, batch: int = 1) -> Cache:
        """Open (creating if needed) the cache in ``directory`` (default: ``default_dir()``)."""
        path = Path(directory if directory is not None else cls.default_dir()) / FILE_NAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=10000")
            connection.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(
                f"the response cache cannot be used ({exc}): delete the file, set EVALKIT_CACHE_DIR "
                "to another directory, or run with --no-cache",
                file=path,
            ) from None
        return cls(connection, path, batch=batch)

    def get(self, key: str) -> CachedReply | None:
        """The stored reply for ``key``, or None."""
        row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else _reply(row[0])

    def get_many(self, keys: Sequence[str]) -> dict[str, CachedReply]:
        """The stored replies for those of ``keys`` the cache holds, by key (one query per few hundred keys:
        a warm re-run looks up every answer of a run at once)."""
        found: dict[str, CachedReply] = {}
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[start : start + _KEYS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            for key, value in self._db.execute(f"SELECT key, value FROM responses WHERE key IN ({marks})", chunk):
                reply = _reply(value)
                if reply is not None:
                    found[key] = reply
        return found

    def put(self, key: str, reply: CachedReply) -> bool:
        """Store a successful reply; committed at once (or with the current batch when ``batch`` > 1).
        False when it could not be stored (counted in ``unstored``; nothing else is affected)."""
        began = not self._db.in_transaction
        try:
            if began:
                self._db.execute("BEGIN")
            try:
                self._insert(key, _value(reply, ascii_only=False))
            except UnicodeEncodeError:  # a lone surrogate: JSON escapes keep it exactly
                self._insert(key, _value(reply, ascii_only=True))
        except (sqlite3.Error, ValueError) as exc:
            if began and self._pending == 0 and self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self.unstored += 1
            self.problem = self.problem or str(exc)
            return False
        self._pending += 1
        if self._pending >= self._batch or time.monotonic() - self._last_commit > 2.0:
            self.flush()
        return True

    def _insert(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)", (key, value, time.time())
        )

    def flush(self) -> None:
        """Commit the puts made since the last commit."""
        if self._pending:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self.unstored += self._pending
                self.problem = self.problem or str(exc)
            self._pending = 0
        self._last_commit = time.monotonic()

    def close(self) -> None:
        """Commit and close the file."""
        self.flush()
        self._db.close()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _value(reply: CachedReply, *, ascii_only: bool) -> str:
    value: dict[str, Any] = {
        "output": reply.output,
        "usage": [reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.reasoning_tokens],
        "finish_reason": reply.finish_reason,
        "latency_s": reply.latency_s,
    }
    if reply.batch:  # written only when set: a live answer's value is what it always was
        value["batch"] = True
    return json.dumps(value, ensure_ascii=ascii_only)


def _reply(text: str) -> CachedReply | None:
    """A stored value as a reply; None for one that cannot be read (it is asked again)."""
    try:
        value = json.loads(text)
        return CachedReply(
            output=value["output"],
            usage=Usage(*value["usage"]),
            finish_reason=value["finish_reason"],
            latency_s=float(value["latency_s"]),
            batch=value.get("batch") is True,
        )
    except (ValueError, KeyError, TypeError):
        return None
