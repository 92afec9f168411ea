"""Routing: which OpenAI endpoint a model id is served on, from the model's lineage.

Models of the legacy completions family (``babbage-002``, ``davinci-002``, ``gpt-3.5-turbo-instruct`` and
its dated variants, the retired ``ada``/``babbage``/``curie``/``davinci``/``text-*`` models) and every
fine-tune or checkpoint built on them are served on ``/v1/completions``; everything else, unknown names
included, on ``/v1/chat/completions``. Fine-tune ids look like ``ft:{base}:{org}:{suffix}:{id}`` (the
suffix may be empty), checkpoints append ``:ckpt-step-N``; legacy fine-tunes look like
``{base}:ft-{org}-{date}``. A user can override the result with ``@chat`` / ``@completions``
(see ``evalkit.targets.spec``).
"""

from __future__ import annotations

import re

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
    """The endpoint ``model_id`` is served on: ``completions`` for the legacy family, else ``chat``."""
    base = base_model(model_id.strip()).lower()
    if any(pattern.fullmatch(base) for pattern in _COMPLETIONS_BASES):
        return "completions"
    return "chat"
