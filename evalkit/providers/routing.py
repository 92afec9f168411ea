"""Routing: which OpenAI endpoint a model id is served on, from the model's lineage.

Models of the legacy completions family (``babbage-002``, ``davinci-002``, ``gpt-3.5-turbo-instruct`` and
its dated variants, the retired ``ada``/``babbage``/``curie``/``davinci``/``text-*`` models) and every
fine-tune or checkpoint built on them are served on ``/v1/completions``; everything else, unknown names
included, on ``/v1/chat/completions``. Fine-tune ids look like ``ft:{base}:{org}:{suffix}:{id}`` (the
suffix may be empty), checkpoints append ``:ckpt-step-N``; legacy fine-tunes look like
``{base}:ft-{org}-{date}``. Responses-only models (the ``-pro`` reasoning variants, codex and deep-research
models, and fine-tunes built on them) are served on ``/v1/responses`` only. A user can override the
result with ``@chat`` / ``@completions`` / ``@responses`` (see ``evalkit.targets.spec``).

Reasoning models (the o-series and the gpt-5 / gpt-6 families, and fine-tunes built on them) take other
request settings than the rest (``is_reasoning``; ``evalkit.providers.shapes`` says which).
"""

from __future__ import annotations

import re
from functools import lru_cache

from evalkit.records import Endpoint

_COMPLETIONS_BASES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        r"babbage-002",
        r"davinci-002",
        r"gpt-3\.5-turbo-instruct(-\d{4})?",
        r"(ada|babbage|curie|davinci)",
        r"text-(ada|babbage|curie|davinci)-\d{3}",
    )
)
"""Base models served on the legacy completions endpoint (full match, lower case)."""

_RESPONSES_ONLY_BASES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        r"o\d+(-mini)?-pro(-.*)?",
        r"gpt-[5-9][\w.]*-pro(-.*)?",
        r".*codex.*",
        r".*deep-research.*",
    )
)
"""Base models served only on the Responses API (full match, lower case)."""

_REASONING_BASES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern) for pattern in (r"o\d+(-.*)?", r"gpt-[5-9]([.\-].*)?", r".*codex.*", r".*deep-research.*")
)
"""Reasoning model families: o1, o3, o4-mini…, gpt-5*, gpt-6*… (full match, lower case; ``gpt-5-chat-latest``
is not one, see ``is_reasoning``)."""

_NOT_REASONING: tuple[re.Pattern[str], ...] = (re.compile(r"gpt-[5-9][\w.]*-chat(-.*)?"),)
"""Non-reasoning members of those families (the ``-chat`` models)."""


def base_model(model_id: str) -> str:
    """The model a fine-tune or checkpoint was built on; the id itself for a base model.

    ``ft:davinci-002:org::abc:ckpt-step-40`` → ``davinci-002``; ``curie:ft-acme-2023-01-01`` → ``curie``.
    """
    if model_id.startswith("ft:"):
        return model_id.split(":")[1]
    head, sep, tail = model_id.partition(":")
    if sep and tail.startswith("ft-"):
        return head
    return model_id


def endpoint_for(model_id: str) -> Endpoint:
    """The endpoint ``model_id`` is served on: ``completions`` for the legacy family, ``responses`` for
    the Responses-only models, else ``chat``."""
    base = base_model(model_id.strip()).lower()
    if any(pattern.fullmatch(base) for pattern in _COMPLETIONS_BASES):
        return "completions"
    if any(pattern.fullmatch(base) for pattern in _RESPONSES_ONLY_BASES):
        return "responses"
    return "chat"


@lru_cache(maxsize=1024)  # asked for every request built; a run has a few model ids
def is_reasoning(model_id: str) -> bool:
    """Whether ``model_id`` (or the base of a fine-tune or checkpoint) is a reasoning model."""
    base = base_model(model_id.strip()).lower()
    if any(pattern.fullmatch(base) for pattern in _NOT_REASONING):
        return False
    return any(pattern.fullmatch(base) for pattern in _REASONING_BASES)
