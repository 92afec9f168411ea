"""Values as results.json may hold them: plain JSON, no NaN, and no secret (API keys hidden wherever they show)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

_SECRET_ENV = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN")
_SECRET_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{12,}")
_SECRET_KEY = re.compile(r"(?i)(api[_\-]?key|authorization|secret|password|bearer|access[_\-]?token)")


def settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Run settings as results.json holds them: plain JSON values, any secret-looking key's value hidden."""
    redacted: dict[str, Any] = jsonable(_redact(values))
    return redacted


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON values: tuples and sets as lists, numpy scalars/arrays unwrapped, NaN as null."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return plain_number(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "tolist"):  # numpy scalars and arrays, without importing numpy
        return jsonable(value.tolist())
    return str(value)


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: "***" if _SECRET_KEY.search(str(key)) and item else _redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(item) for item in value]
    return value


class Scrub:
    """Hides API keys (the ones in the environment, and anything shaped like ``sk-…``) in service text."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _SECRET_PATTERN.sub(r"\1***", text)


def scrubber() -> Scrub:
    """A ``Scrub`` for the keys in this process's environment."""
    values = (os.environ.get(name, "") for name in _SECRET_ENV)
    return Scrub([v for v in values if len(v) >= 8])


def plain_number(value: float | None) -> float | None:
    """A plain float, or None for a missing, NaN or infinite one."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
