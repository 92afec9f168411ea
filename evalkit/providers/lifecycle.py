"""When a model shuts down: the ``shutdown_date`` of its record (``GET /v1/models/{id}``, YYYY-MM-DD or
null), read through the SDK's ``client.models.retrieve`` once per run and kept on disk for a day.

A fine-tune or checkpoint (``ft:BASE:…``) dies with its base model, so ``model_shutdowns`` reads the base's
record too, and the earlier date wins (a tie goes to the base: it is the reason). The day's records live
in ``model-lifecycles.json`` in evalkit's cache folder (``evalkit.dirs.cache_dir``), keyed by the service's
identity and the model id::

    {"version": 1, "services": {"https://api.openai.com/v1": {"gpt-4o-mini": {"shutdown_date": "2027-01-14",
                                                                             "read_at": 1796256000.0}}}}

A record that cannot be read — 404 (unknown model, no access), a server without that route, a timeout, an
odd answer — is not an error: its date is unknown, nothing is cached for it, and one debug line on this
module's logger names every such model of the call. A cache file that cannot be read or written is
ignored. Azure OpenAI names deployments, not models, and has no such route: nothing is asked there.

``read_shutdown_date`` is the one place a record is fetched (tests replace it).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.providers.routing import base_model

if TYPE_CHECKING:
    import openai

CACHE_FILE = "model-lifecycles.json"
"""The day's model records, in evalkit's cache folder."""
CACHE_TTL_S = 24 * 3600.0
"""How long a record read is trusted: a day."""
LOOKUP_TIMEOUT_S = 10.0
"""Seconds one record read may take (one retry): a date is worth less than the run's time."""

logger = logging.getLogger(__name__)
"""One DEBUG line per call of ``model_shutdowns`` naming the models whose record could not be read."""

ReadShutdown = Callable[["openai.AsyncOpenAI", str], Awaitable["date | None"]]
"""Reads one model's announced shutdown date (None: none announced); raises when it cannot."""

_VERSION = 1


@dataclass(frozen=True, slots=True)
class Shutdown:
    """When a model shuts down, and whose date it is."""

    day: date
    """The day the model stops being served."""
    base: str | None = None
    """The base model whose shutdown this is (a fine-tune dies with its base); None for the model's own."""

    def describe(self) -> str:
        """``2027-01-14``, or ``2027-01-14 (its base gpt-4o-mini)``."""
        return shutdown_phrase(self.day, self.base)


def shutdown_phrase(day: date, base: str | None) -> str:
    """``2027-01-14``, or ``2027-01-14 (its base gpt-4o-mini)`` when the date is the base model's."""
    return day.isoformat() if base is None else f"{day.isoformat()} (its base {base})"


async def read_shutdown_date(client: openai.AsyncOpenAI, model_id: str) -> date | None:
    """The ``shutdown_date`` of ``model_id``'s record (None when none is announced); raises the SDK's
    errors, or ``ValueError``/``TypeError`` for a date that is not a YYYY-MM-DD text."""
    quick = client.with_options(timeout=LOOKUP_TIMEOUT_S, max_retries=1)
    record = await quick.models.retrieve(model_id)
    announced = getattr(record, "shutdown_date", None)
    if announced is None:
        return None
    if not isinstance(announced, str):
        raise TypeError(f"shutdown_date is {announced!r}, not a YYYY-MM-DD text")
    return date.fromisoformat(announced)


async def model_shutdowns(
    client: openai.AsyncOpenAI,
    models: Iterable[str],
    *,
    identity: str,
    cache_path: Path | None = None,
    now: float | None = None,
) -> dict[str, Shutdown]:
    """The announced shutdown of each of ``models`` that has one: its own date or its base model's,
    whichever comes first. Each record is read once (a day's cache in ``cache_path``, by default
    ``model-lifecycles.json`` in evalkit's cache folder); records that cannot be read count as no date."""
    import asyncio

    import openai

    if isinstance(client, openai.AsyncAzureOpenAI):
        return {}
    models = list(dict.fromkeys(models))
    wanted = list(dict.fromkeys([*models, *(base_model(m) for m in models)]))
    path = cache_path if cache_path is not None else _default_path()
    now = time.time() if now is None else now
    cache = _LifecycleCache.read(path, identity=identity, now=now)
    missing = [model for model in wanted if model not in cache.dates]
    read = read_shutdown_date  # looked up now, so a test's replacement is the one used
    outcomes = dict(zip(missing, await asyncio.gather(*(_read(read, client, m) for m in missing)), strict=True))
    fresh = {model: day for model, day in outcomes.items() if not isinstance(day, str)}
    failed = [why for why in outcomes.values() if isinstance(why, str)]
    if failed:
        logger.debug("no shutdown date known for %d model(s): %s", len(failed), "; ".join(failed))
    if fresh:
        cache.store(fresh, now=now)
    dates = {**cache.dates, **fresh}
    return {model: found for model in models if (found := _earliest(model, dates)) is not None}


def _earliest(model: str, dates: Mapping[str, date | None]) -> Shutdown | None:
    """``model``'s own date or its base's, whichever is earlier (the base's on a tie)."""
    own = dates.get(model)
    base = base_model(model)
    inherited = dates.get(base) if base != model else None
    if inherited is not None and (own is None or inherited <= own):
        return Shutdown(inherited, base)
    return Shutdown(own) if own is not None else None


async def _read(read: ReadShutdown, client: openai.AsyncOpenAI, model: str) -> date | None | str:
    """The model's date (None: none announced), or a text saying why its record could not be read
    (``gpt-4o-mini: HTTP 404``)."""
    import openai

    try:
        return await read(client, model)
    except openai.APIStatusError as exc:
        return f"{model}: HTTP {exc.status_code}"
    except (openai.OpenAIError, ValueError, TypeError) as exc:
        return f"{model}: {type(exc).__name__}: {' '.join(str(exc).split())[:120]}"


def _default_path() -> Path:
    from evalkit.dirs import cache_dir

    return cache_dir() / CACHE_FILE


@dataclass(slots=True)
class _LifecycleCache:
    """The day's records of one service, read from (and merged into) the cache file."""

    path: Path
    identity: str
    dates: dict[str, date | None]
    """Model id → its announced date (None: none announced), read less than a day ago."""

    @classmethod
    def read(cls, path: Path, *, identity: str, now: float) -> _LifecycleCache:
        service = _load(path).get(identity, {})
        dates: dict[str, date | None] = {}
        for model, entry in service.items():
            try:
                if now - float(entry["read_at"]) < CACHE_TTL_S:
                    announced = entry["shutdown_date"]
                    dates[model] = None if announced is None else date.fromisoformat(announced)
            except (KeyError, TypeError, ValueError):
                continue  # an entry of another shape: read again
        return cls(path, identity, dates)

    def store(self, fresh: Mapping[str, date | None], *, now: float) -> None:
        """Merge ``fresh`` into the file (what other runs wrote since stays; day-old entries go)."""
        from evalkit.records.results_json import write_text_atomic

        services = _load(self.path)
        entries = {
            model: entry
            for model, entry in services.get(self.identity, {}).items()
            if isinstance(entry, dict) and now - _number(entry.get("read_at")) < CACHE_TTL_S
        }
        for model, day in fresh.items():
            entries[model] = {"shutdown_date": None if day is None else day.isoformat(), "read_at": now}
        services[self.identity] = entries
        text = json.dumps({"version": _VERSION, "services": services}, indent=1, sort_keys=True)
        try:
            write_text_atomic(self.path, text + "\n")
        except OSError as exc:
            logger.debug("model records not cached in %s: %s", self.path, exc)


def _load(path: Path) -> dict[str, dict[str, Any]]:
    """The file's services (empty when it is missing, unreadable or of another version)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _VERSION or not isinstance(data.get("services"), dict):
        return {}
    return {k: v for k, v in data["services"].items() if isinstance(v, dict)}


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) else float("-inf")
