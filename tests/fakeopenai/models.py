"""Which model ids the fake serves, on which endpoints each one answers, and what it knows about each.

OpenAI serves every model on one family of endpoints: chat models on ``/v1/chat/completions`` (and on
``/v1/responses``), legacy ones (``babbage-002``, ``davinci-002``, ``gpt-3.5-turbo-instruct``) on
``/v1/completions``, and Responses-only models (the ``-pro`` reasoning variants, codex, deep research)
on ``/v1/responses`` alone. A fine-tune ``ft:{base}:{org}:{suffix}:{id}`` (and its checkpoints
``...:ckpt-step-N``) is served where its base is; a dated snapshot (``gpt-4o-mini-2024-07-18``,
``gpt-3.5-turbo-instruct-0914``) where the undated model is.

Reasoning models — the families o1, o3, o4-mini, gpt-5*, gpt-6* and codex, and fine-tunes of them —
refuse the sampling parameters older models take and spend reasoning tokens (``reasoning.py``).

Each served model also has a ``shutdown_date`` (``GET /v1/models/{id}``; None until a test sets one) and
a number of reasoning tokens it spends at the default effort (``DEFAULT_REASONING_TOKENS`` until set).
"""

from __future__ import annotations

import datetime
import re
import threading
from dataclasses import dataclass
from typing import Literal

Kind = Literal["chat", "completions", "responses"]
"""An endpoint: ``chat`` (``/v1/chat/completions``), ``completions`` (legacy) or ``responses``.

As a model's kind: where it answers. A ``chat`` model also answers on ``responses``; a ``responses``
model answers there only; a ``completions`` model on the legacy endpoint only."""

KINDS: tuple[Kind, ...] = ("chat", "completions", "responses")
"""Every kind, in the order error messages list them."""

DEFAULT_MODELS: dict[str, Kind] = {
    "gpt-4o-mini": "chat",
    "gpt-4o": "chat",
    "gpt-4.1-mini": "chat",
    "gpt-3.5-turbo": "chat",
    "babbage-002": "completions",
    "davinci-002": "completions",
    "gpt-3.5-turbo-instruct": "completions",
    # Reasoning models (refuse max_tokens/temperature/top_p; spend reasoning tokens).
    "o1": "chat",
    "o3": "chat",
    "o3-mini": "chat",
    "o4-mini": "chat",
    "gpt-5": "chat",
    "gpt-5-mini": "chat",
    "gpt-5.2": "chat",
    "gpt-6": "chat",
    # Reasoning models served on /v1/responses only.
    "o1-pro": "responses",
    "o3-pro": "responses",
    "gpt-5-pro": "responses",
    "gpt-5.2-pro": "responses",
    "codex-mini-latest": "responses",
    "gpt-5-codex": "responses",
    "o3-deep-research": "responses",
    "o4-mini-deep-research": "responses",
}
"""Models every fresh (or reset) fake serves (``gpt-5-nano`` is left out: tests use it as an unknown model)."""

DEFAULT_REASONING_TOKENS = 40
"""Reasoning tokens a reasoning model spends per answer at the default effort, until a test sets another."""

_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")
_REASONING_FAMILY = re.compile(r"^(?:(?:o1|o3|o4-mini|gpt-5|gpt-6)(?:[-.]|$)|codex-)")
_RESPONSES_ONLY = re.compile(r"(?:^|-)(?:pro|codex|deep-research)(?:-|$)")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ServedModel:
    """What the fake knows about one served model."""

    kind: Kind
    """Where it answers (see ``Kind``)."""
    reasoning: bool
    """Whether it is a reasoning model (refuses ``max_tokens``/``temperature``/``top_p``, spends reasoning)."""


def base_of(model_id: str) -> str:
    """The base model of a fine-tune or checkpoint id (``ft:gpt-4o-mini:org::x`` → ``gpt-4o-mini``)."""
    if model_id.startswith("ft:"):
        return model_id.split(":")[1]
    return model_id


def undated(model_id: str) -> str:
    """The id without a snapshot date (``gpt-4o-mini-2024-07-18`` → ``gpt-4o-mini``)."""
    return _DATE_SUFFIX.sub("", model_id)


def family_of(model_id: str) -> ServedModel | None:
    """What OpenAI's naming says of a (base) model id: a reasoning family, Responses-only or not; else None.

    ``o1``, ``o3``, ``o4-mini``, ``gpt-5*``, ``gpt-6*`` and ``codex-*`` ids are reasoning models; those of
    them with a ``pro``, ``codex`` or ``deep-research`` part (``o3-pro``, ``gpt-5.2-pro``,
    ``gpt-5.1-codex-max``, ``o4-mini-deep-research``) are served on ``/v1/responses`` only.
    """
    name = undated(base_of(model_id))
    if not _REASONING_FAMILY.match(name):
        return None
    return ServedModel("responses" if _RESPONSES_ONLY.search(name) else "chat", reasoning=True)


def _is_iso_date(text: object) -> bool:
    if not isinstance(text, str) or not _ISO_DATE.match(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:  # 2027-02-30
        return False
    return True


def _default_registry() -> dict[str, ServedModel]:
    return {
        model_id: ServedModel(kind, reasoning=family_of(model_id) is not None)
        for model_id, kind in DEFAULT_MODELS.items()
    }


class ModelRegistry:
    """Thread-safe map of served model id → ``ServedModel``, with per-model settings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models = _default_registry()
        self._shutdown: dict[str, str | None] = {}
        self._reasoning_tokens: dict[str, int] = {}

    def add(self, model_id: str, kind: Kind | None = None, *, reasoning: bool | None = None) -> Kind:
        """Serve ``model_id``; what is not given is inferred from its base model, else from its name.

        A fine-tune/checkpoint/dated id takes the kind and reasoning of its served base; an id of a
        reasoning family (``family_of``) is a reasoning model answering where its family does.
        """
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, not {kind!r}")
        if kind is None:
            kind = self.kind_of_base(model_id)
        if reasoning is None:
            inferred = self._inferred(model_id)
            reasoning = inferred is not None and inferred.reasoning
        with self._lock:
            self._models[model_id] = ServedModel(kind, reasoning)
        return kind

    def remove(self, model_id: str) -> None:
        """Stop serving ``model_id`` (requests for it then get 404 model_not_found)."""
        with self._lock:
            self._models.pop(model_id, None)

    def get(self, model_id: str) -> ServedModel | None:
        """The served model, or None if the fake does not serve it.

        A dated snapshot of a served base (``gpt-4o-mini-2024-07-18``) is served too, as OpenAI does;
        fine-tunes are served only once added.
        """
        with self._lock:
            served = self._models.get(model_id)
            if served is None and not model_id.startswith("ft:"):
                served = self._models.get(undated(model_id))
            return served

    def kind(self, model_id: str) -> Kind | None:
        """The kind of a served model, or None if the fake does not serve it (see ``get``)."""
        served = self.get(model_id)
        return None if served is None else served.kind

    def ids(self) -> list[str]:
        """Every served model id, sorted."""
        with self._lock:
            return sorted(self._models)

    def reset(self) -> None:
        """Back to the default models only, no shutdown dates, default reasoning tokens."""
        with self._lock:
            self._models = _default_registry()
            self._shutdown.clear()
            self._reasoning_tokens.clear()

    def kind_of_base(self, model_id: str) -> Kind:
        """The kind a new model inherits from its (possibly dated) base, or its family's; ValueError if unknown."""
        inferred = self._inferred(model_id)
        if inferred is None:
            raise ValueError(
                f"cannot infer the kind of {model_id!r}: its base {base_of(model_id)!r} is not served; "
                "pass kind='chat', kind='completions' or kind='responses'"
            )
        return inferred.kind

    def _inferred(self, model_id: str) -> ServedModel | None:
        base = base_of(model_id)
        with self._lock:
            served = self._models.get(base) or self._models.get(undated(base))
        return served or family_of(model_id)

    # ── per-model settings ───────────────────────────────────────────────────────────────────────

    def set_shutdown(self, model_id: str, date: str | datetime.date | None) -> None:
        """Set (or, with None, clear) the ``shutdown_date`` of ``model_id``: ``YYYY-MM-DD``."""
        text = date.isoformat() if isinstance(date, datetime.date) else date
        if text is not None and not _is_iso_date(text):
            raise ValueError(f"a shutdown date must be a real date as YYYY-MM-DD (or None), not {date!r}")
        with self._lock:
            self._shutdown[model_id] = text

    def shutdown(self, model_id: str) -> str | None:
        """The ``shutdown_date`` set for exactly this id, or None."""
        with self._lock:
            return self._shutdown.get(model_id)

    def set_reasoning_tokens(self, model_id: str, tokens: int) -> None:
        """Reasoning tokens ``model_id`` (``"*"``: every model without its own) spends at default effort."""
        if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 0:
            raise ValueError(f"reasoning tokens must be an integer >= 0, not {tokens!r}")
        with self._lock:
            self._reasoning_tokens[model_id] = tokens

    def reasoning_tokens(self, model_id: str) -> int:
        """Reasoning tokens ``model_id`` spends at default effort (its own, else ``"*"``'s, else the default)."""
        with self._lock:
            own = self._reasoning_tokens.get(model_id)
            return own if own is not None else self._reasoning_tokens.get("*", DEFAULT_REASONING_TOKENS)
