"""Which model ids the fake serves, and on which endpoint each one answers.

OpenAI serves every model on exactly one generation endpoint: chat models on ``/v1/chat/completions``,
legacy ones (``babbage-002``, ``davinci-002``, ``gpt-3.5-turbo-instruct``) on ``/v1/completions``. A
fine-tune ``ft:{base}:{org}:{suffix}:{id}`` (and its checkpoints ``...:ckpt-step-N``) is served where its
base is; a dated snapshot (``gpt-4o-mini-2024-07-18``, ``gpt-3.5-turbo-instruct-0914``) where the
undated model is.
"""

from __future__ import annotations

import re
import threading
from typing import Literal

Kind = Literal["chat", "completions"]
"""The endpoint a model answers on."""

DEFAULT_MODELS: dict[str, Kind] = {
    "gpt-4o-mini": "chat",
    "gpt-4o": "chat",
    "gpt-4.1-mini": "chat",
    "gpt-3.5-turbo": "chat",
    "babbage-002": "completions",
    "davinci-002": "completions",
    "gpt-3.5-turbo-instruct": "completions",
}
"""Models every fresh (or reset) fake serves."""

_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")


def base_of(model_id: str) -> str:
    """The base model of a fine-tune or checkpoint id (``ft:gpt-4o-mini:org::x`` → ``gpt-4o-mini``)."""
    if model_id.startswith("ft:"):
        return model_id.split(":")[1]
    return model_id


class ModelRegistry:
    """Thread-safe map of served model id → kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, Kind] = dict(DEFAULT_MODELS)

    def add(self, model_id: str, kind: Kind | None = None) -> Kind:
        """Serve ``model_id``; without ``kind`` it is inferred from the base model of a fine-tune id."""
        if kind is None:
            kind = self.kind_of_base(model_id)
        if kind not in ("chat", "completions"):
            raise ValueError(f"kind must be 'chat' or 'completions', not {kind!r}")
        with self._lock:
            self._models[model_id] = kind
        return kind

    def remove(self, model_id: str) -> None:
        """Stop serving ``model_id`` (requests for it then get 404 model_not_found)."""
        with self._lock:
            self._models.pop(model_id, None)

    def kind(self, model_id: str) -> Kind | None:
        """The endpoint kind of a served model, or None if the fake does not serve it.

        A dated snapshot of a served base (``gpt-4o-mini-2024-07-18``) is served too, as OpenAI does;
        fine-tunes are served only once added.
        """
        with self._lock:
            kind = self._models.get(model_id)
            if kind is None and not model_id.startswith("ft:"):
                kind = self._models.get(_DATE_SUFFIX.sub("", model_id))
            return kind

    def ids(self) -> list[str]:
        """Every served model id, sorted."""
        with self._lock:
            return sorted(self._models)

    def reset(self) -> None:
        """Back to the default models only."""
        with self._lock:
            self._models = dict(DEFAULT_MODELS)

    def kind_of_base(self, model_id: str) -> Kind:
        """The kind a new model inherits from its (possibly dated) base; ValueError if unknown."""
        base = base_of(model_id)
        with self._lock:
            kind = self._models.get(base) or self._models.get(_DATE_SUFFIX.sub("", base))
        if kind is None:
            raise ValueError(
                f"cannot infer the kind of {model_id!r}: its base {base!r} is not served; "
                "pass kind='chat' or kind='completions'"
            )
        return kind
