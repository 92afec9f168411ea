"""Case + target + suite settings → the request body a model is called with.

A chat target gets ``messages`` (a prompt case becomes one user message) plus the case's request-level
extras (``tools``, …); a completions target gets ``prompt`` (a chat case rendered by
``evalkit.providers.prompts.to_prompt``) and ``completions.stop``, never tools; a Responses target gets the
conversation as ``input`` items (``evalkit.providers.responses``) and ``store: false``. The completions
settings are the target's own when ``completions_by_target`` has them (a fine-tuning job's training file
may imply its own separator and stop), else the suite's. Sampling settings follow the model's request
shape (``evalkit.providers.shapes``: a reasoning model takes ``max_completion_tokens``, no temperature but
1, …); ``None`` values are left out, ``generation.params`` are sent as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from evalkit.providers.prompts import to_prompt
from evalkit.providers.responses import input_items, responses_extras
from evalkit.providers.shapes import Shape, shape
from evalkit.records import Case, Endpoint, Message, Target
from evalkit.suite.model import Completions, Generation

CallEndpoint = Endpoint | Literal["embeddings"]
"""Where a request goes: a target's endpoint, or ``embeddings`` (``/v1/embeddings``, built by
``evalkit.providers.embeddings``), which only scorers call — targets never do, so ``Endpoint`` (what
results.json records of a target) does not name it."""


@dataclass(frozen=True, slots=True)
class Request:
    """One call to make: where, and the JSON body to send."""

    target: str
    """The target's name, for messages only (not sent, not part of the cache key)."""
    model: str
    """The model id (also in ``payload``)."""
    endpoint: CallEndpoint
    """``chat`` → ``/v1/chat/completions``, ``completions`` → ``/v1/completions``, ``responses`` →
    ``/v1/responses``, ``embeddings`` → ``/v1/embeddings``."""
    payload: dict[str, Any]
    """The JSON body, exactly as sent."""


def build_request(
    case: Case,
    target: Target,
    generation: Generation,
    completions: Completions,
    *,
    completions_by_target: Mapping[str, Completions] | None = None,
    sampling: Shape | None = None,
) -> Request:
    """The request that asks ``target`` to answer ``case``.

    ``completions_by_target``: per target name, completions settings that replace ``completions``;
    ``sampling``: the target's request shape for ``generation``, when the caller has it already (it is the
    same for every case of a target)."""
    sampling = sampling or shape(target.model, target.endpoint, generation)
    if target.endpoint == "chat":
        body: dict[str, Any] = {"model": target.model, "messages": _messages(case), **case.extras}
        if generation.stop is not None and sampling.stop:
            body["stop"] = generation.stop
    elif target.endpoint == "responses":
        body = {"model": target.model, "input": input_items(_messages(case)), **responses_extras(case.extras)}
        body["store"] = False
    else:
        own = (completions_by_target or {}).get(target.name, completions)
        body = _completions_body(case, target, own)
    body.update(sampling.fields)
    body.update(generation.params)
    return Request(target=target.name, model=target.model, endpoint=target.endpoint, payload=body)


def _completions_body(case: Case, target: Target, completions: Completions) -> dict[str, Any]:
    prompt = case.prompt if case.messages is None else to_prompt(case.messages, completions)
    body: dict[str, Any] = {"model": target.model, "prompt": prompt or ""}
    if completions.stop is not None:
        body["stop"] = completions.stop
    return body


def _messages(case: Case) -> list[Message]:
    if case.messages is not None:
        return list(case.messages)
    return [{"role": "user", "content": case.prompt or ""}]

