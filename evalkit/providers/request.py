"""Case + target + suite settings → the request body a model is called with.

A chat target gets ``messages`` (a prompt case becomes one user message) plus the case's request-level
extras (``tools``, …); a completions target gets ``prompt`` (a chat case rendered by
``evalkit.providers.prompts.to_prompt``) and ``completions.stop``, never tools. The completions settings
are the target's own when ``completions_by_target`` has them (a fine-tuning job's training file may imply
its own separator and stop), else the suite's. Generation settings follow; ``None`` values are left out,
``generation.params`` are sent as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evalkit.providers.prompts import to_prompt
from evalkit.records import Case, Endpoint, Message, Target
from evalkit.suite.model import Completions, Generation


@dataclass(frozen=True, slots=True)
class Request:
    """One call to make: where, and the JSON body to send."""

    target: str
    """The target's name, for messages only (not sent, not part of the cache key)."""
    model: str
    """The model id (also in ``payload``)."""
    endpoint: Endpoint
    """``chat`` → ``/v1/chat/completions``, ``completions`` → ``/v1/completions``."""
    payload: dict[str, Any]
    """The JSON body, exactly as sent."""


def build_request(
    case: Case,
    target: Target,
    generation: Generation,
    completions: Completions,
    *,
    completions_by_target: Mapping[str, Completions] | None = None,
) -> Request:
    """The request that asks ``target`` to answer ``case``.

    ``completions_by_target``: per target name, completions settings that replace ``completions``."""
    if target.endpoint == "chat":
        body = _chat_body(case, target, generation)
    else:
        own = (completions_by_target or {}).get(target.name, completions)
        body = _completions_body(case, target, generation, own)
    body.update(generation.params)
    return Request(target=target.name, model=target.model, endpoint=target.endpoint, payload=body)


def _chat_body(case: Case, target: Target, generation: Generation) -> dict[str, Any]:
    body: dict[str, Any] = {"model": target.model, "messages": _messages(case), **case.extras}
    _set_sampling(body, generation)
    if generation.stop is not None:
        body["stop"] = generation.stop
    return body


def _completions_body(
    case: Case, target: Target, generation: Generation, completions: Completions
) -> dict[str, Any]:
    prompt = case.prompt if case.messages is None else to_prompt(case.messages, completions)
    body: dict[str, Any] = {"model": target.model, "prompt": prompt or ""}
    if completions.stop is not None:
        body["stop"] = completions.stop
    _set_sampling(body, generation)
    return body


def _messages(case: Case) -> list[Message]:
    if case.messages is not None:
        return list(case.messages)
    return [{"role": "user", "content": case.prompt or ""}]


def _set_sampling(body: dict[str, Any], generation: Generation) -> None:
    values = {
        "temperature": generation.temperature,
        "max_tokens": generation.max_tokens,
        "top_p": generation.top_p,
        "seed": generation.seed,
    }
    body.update((key, value) for key, value in values.items() if value is not None)
