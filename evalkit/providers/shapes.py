"""Request shapes by lineage: which sampling settings a model takes, and under which names.

The suite's ``generation`` is written once for every target; models differ in what they accept:

    model                      endpoint     answer budget                      temperature / top_p  stop  effort
    other (gpt-4o, ft:…)       chat         max_tokens                         sent                 sent  —
    other                      completions  max_tokens                         sent                 —     —
    other                      responses    max_output_tokens                  sent                 —     —
    reasoning (o*, gpt-5*, …)  chat         max_completion_tokens = max_tokens  only when 1          —     reasoning_effort
                                                + reasoning_allowance
    reasoning                  responses    max_output_tokens = the same sum   only when 1          —     reasoning: {effort}

Reasoning models refuse ``max_tokens``, any temperature or top_p but 1, and ``stop``, with HTTP 400; their
thinking counts against their token cap, so the suite's ``max_tokens`` — the visible answer's budget —
gets ``reasoning_allowance`` added. The Responses API has no ``stop`` and no ``seed``, and takes no
``max_output_tokens`` below 16. Whatever differs
from the suite's settings is said in ``Shape.adjusted``, one line each, to be shown once per target and
recorded on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evalkit.providers.routing import is_reasoning
from evalkit.records import Endpoint
from evalkit.suite.model import Generation

__all__ = ["RESPONSES_MIN_OUTPUT_TOKENS", "Shape", "shape"]

RESPONSES_MIN_OUTPUT_TOKENS = 16
"""The smallest ``max_output_tokens`` the Responses API takes (``CreateResponse`` in OpenAI's spec)."""


@dataclass(frozen=True, slots=True)
class Shape:
    """The sampling fields of a model's requests, and what was changed to get them."""

    fields: dict[str, Any]
    """Body fields to send (``temperature``, ``max_completion_tokens``, ``reasoning``, …)."""
    stop: bool
    """Whether the request may carry stop sequences."""
    adjusted: tuple[str, ...]
    """What differs from the generation settings, one line each."""


def shape(model: str, endpoint: Endpoint, generation: Generation) -> Shape:
    """The sampling fields ``model`` takes on ``endpoint`` for ``generation``."""
    reasoning = is_reasoning(model)
    fields: dict[str, Any] = {}
    adjusted: list[str] = []
    _budget(fields, adjusted, endpoint, generation, reasoning=reasoning)
    for name in ("temperature", "top_p"):
        value = getattr(generation, name)
        if value is None:
            continue
        if reasoning and value != 1:
            adjusted.append(f"{name} {value:g} not sent: reasoning models take only the default (1)")
        else:
            fields[name] = value
    if generation.seed is not None:
        if endpoint == "responses":
            adjusted.append("seed not sent: the Responses API takes none")
        else:
            fields["seed"] = generation.seed
    effort = generation.reasoning_effort
    if effort is not None:
        if not reasoning:
            adjusted.append(f"reasoning_effort {effort} not sent: not a reasoning model")
        elif endpoint == "responses":
            fields["reasoning"] = {"effort": effort}
        else:
            fields["reasoning_effort"] = effort
    stop = endpoint == "chat" and not reasoning
    if generation.stop is not None and endpoint != "completions" and not stop:
        why = "reasoning models take none" if reasoning else "the Responses API takes none"
        adjusted.append(f"stop not sent: {why}")
    return Shape(fields, stop, tuple(adjusted))


def _budget(
    fields: dict[str, Any], adjusted: list[str], endpoint: Endpoint, generation: Generation, *, reasoning: bool
) -> None:
    """The answer's token budget, under the name ``endpoint`` takes (plus the allowance for thinking)."""
    visible = generation.max_tokens
    if visible is None:
        return
    name = "max_output_tokens" if endpoint == "responses" else "max_completion_tokens" if reasoning else "max_tokens"
    total = visible + generation.reasoning_allowance if reasoning else visible
    if endpoint == "responses" and total < RESPONSES_MIN_OUTPUT_TOKENS:
        fields[name] = RESPONSES_MIN_OUTPUT_TOKENS
        adjusted.append(f"max_tokens {visible} sent as {name} {RESPONSES_MIN_OUTPUT_TOKENS}: the Responses API takes no fewer")
        return
    fields[name] = total  # for other models the same budget, under the endpoint's name for it
    if not reasoning:
        return
    adjusted.append(
        f"max_tokens {visible} sent as {name} {total} ({visible} for the answer + reasoning_allowance "
        f"{generation.reasoning_allowance}: a reasoning model's thinking counts against it)"
    )
