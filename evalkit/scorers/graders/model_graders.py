"""OpenAI's model graders, ``score_model`` and ``label_model``, asked through the judge's machinery.

The grader scorer renders the grader's ``input`` templates and hands the messages over; they are sent as
they are, since on OpenAI the templates decide where the answer and the reference go (the grader's author
writes them: evalkit adds no markers of its own, and obeys nothing in the reply but its ``result``). The
model is asked for OpenAI's reply format as strict structured output (``JudgeBackend.ask_messages``: the
run's cache and ``Caller``, usage counted under the scorer's name, one call for a question asked twice at
once, and the format said in words to a model that refuses ``response_format``)::

    score_model   {"steps": [{"description": str, "conclusion": str}, ...], "result": number}
    label_model   {"steps": [{"description": str, "conclusion": str}, ...], "result": one of the labels}

``score_model``'s is the format OpenAI's graders guide documents ("result" and reasoning "steps" of
description and conclusion); ``steps`` comes first so that the model reasons before it commits to a
result. OpenAI does not document ``label_model``'s format: evalkit asks for the same shape, the labels as
an enum.

    score_model   value = the result as given, in the grader's range — not normalised, since the
                  grader's ``pass_threshold`` is in the same units; answer = the result; explanation = the
                  steps
    label_model   value = 1.0 when the label is one of ``passing_labels``, else 0.0; answer = the label;
                  explanation = the steps

A reply without a readable result, a result outside the range (or not finite) and a label that is not
one of ``labels`` raise ``ScoringError``: the case gets a score error, never a made-up score.

``sampling_params`` (OpenAI's keys, ``SAMPLING_KEYS``) become the request's sampling settings, shaped for
the model like a target's (``evalkit.providers.shapes``): ``max_completions_tokens`` is the whole budget,
reasoning included, as OpenAI means it (sent as ``max_tokens``, ``max_completion_tokens`` or
``max_output_tokens`` by the model); ``reasoning_effort`` reaches reasoning models only; an unset
``temperature`` is 0 — evalkit's judge default, so that verdicts repeat and are worth caching — where OpenAI
sampled at the model's default. A reasoning model takes no temperature but 1: a 0 is left out for it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.providers.base import CallError, Reply
from evalkit.records import Message, Score
from evalkit.scorers.base import ScoringError
from evalkit.scorers.jsonscore import find_json
from evalkit.scorers.judge.backend import JudgeBackend, JudgeModel
from evalkit.suite.model import Generation

__all__ = [
    "DEFAULT_RANGE",
    "SAMPLING_KEYS",
    "label_model_grade",
    "label_schema",
    "score_model_grade",
    "score_schema",
]

DEFAULT_RANGE: tuple[float, float] = (0.0, 1.0)
"""A ``score_model`` grader's ``range`` when it gives none (OpenAI's default)."""

SAMPLING_KEYS = frozenset({"temperature", "top_p", "seed", "max_completions_tokens", "reasoning_effort"})
"""The ``sampling_params`` a ``score_model`` grader may set (OpenAI's ``GraderScoreModel``)."""

_SHOWN = 120
"""Characters of an unreadable reply quoted in its error."""

_STEPS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"description": {"type": "string"}, "conclusion": {"type": "string"}},
        "required": ["description", "conclusion"],
        "additionalProperties": False,
    },
}
_STEPS_WORDS = '"steps": [{"description": "<what you checked>", "conclusion": "<what you found>"}, ...]'


async def score_model_grade(
    backend: JudgeBackend,
    *,
    scorer: str,
    model: str,
    messages: Sequence[Message],
    score_range: tuple[float, float],
    sampling: Mapping[str, Any],
) -> Score:
    """A ``score_model`` grader's score: ``model``'s ``result`` for ``messages``, within ``score_range``.

    ``model`` may pin its endpoint (``gpt-4o@chat``); ``sampling`` holds OpenAI's ``sampling_params``
    (``SAMPLING_KEYS``; None values are unset). Raises ``ScoringError`` when the call fails or the reply has
    no result in the range."""
    low, high = score_range
    if not low < high:
        raise ValueError(f"score_range must be (low, high) with low < high, got {score_range!r}")
    unknown = sorted(set(sampling) - SAMPLING_KEYS)
    if unknown:
        raise ValueError(f"unknown sampling_params {unknown} (allowed: {', '.join(sorted(SAMPLING_KEYS))})")
    generation = _generation(sampling)
    instruction = (
        f'Reply with one JSON object and nothing else: {{{_STEPS_WORDS}, "result": <a number from {low:g} '
        f"to {high:g}>}}"
    )
    reply = await _ask(
        backend, scorer, model, messages, score_schema(score_range), instruction, generation=generation
    )
    found, steps = _read(reply, budget="sampling_params.max_completions_tokens")
    result = _number(found)
    if result is None:
        raise ScoringError(f"the grader model's result {_quote(json.dumps(found))} is not a number")
    if not low <= result <= high:
        raise ScoringError(f"the grader model's result {result:g} is outside the range {low:g} to {high:g}")
    return Score(result, answer=f"{result:.15g}", explanation=steps)


async def label_model_grade(
    backend: JudgeBackend,
    *,
    scorer: str,
    model: str,
    messages: Sequence[Message],
    labels: Sequence[str],
    passing_labels: Sequence[str],
) -> Score:
    """A ``label_model`` grader's score: 1.0 when the label ``model`` picks for ``messages`` is one of
    ``passing_labels``, else 0.0. Raises ``ScoringError`` when the call fails or the reply picks no label
    of ``labels``."""
    if not labels or len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct and at least one, got {list(labels)!r}")
    if not set(passing_labels) <= set(labels):
        raise ValueError(f"passing_labels {list(passing_labels)!r} must be among labels {list(labels)!r}")
    instruction = (
        f'Reply with one JSON object and nothing else: {{{_STEPS_WORDS}, "result": <one of '
        f"{', '.join(json.dumps(label) for label in labels)}>}}"
    )
    reply = await _ask(backend, scorer, model, messages, label_schema(labels), instruction)
    found, steps = _read(reply, budget=None)
    label = found.strip() if isinstance(found, str) else None
    if label not in labels:
        shown = ", ".join(json.dumps(label) for label in labels)
        raise ScoringError(f"the grader model's label {_quote(json.dumps(found))} is not one of {shown}")
    return Score(1.0 if label in passing_labels else 0.0, answer=label, explanation=steps)


def score_schema(score_range: tuple[float, float]) -> dict[str, Any]:
    """The strict ``json_schema`` of a ``score_model`` reply: reasoning steps, then a number in the range."""
    low, high = score_range
    result = {"type": "number", "description": f"the score, from {low:g} to {high:g}"}
    return _schema("score_model_grader", result)


def label_schema(labels: Sequence[str]) -> dict[str, Any]:
    """The strict ``json_schema`` of a ``label_model`` reply: reasoning steps, then one of ``labels``."""
    return _schema("label_model_grader", {"type": "string", "enum": list(labels)})


# --- helpers --------------------------------------------------------------------------------------


async def _ask(
    backend: JudgeBackend,
    scorer: str,
    model: str,
    messages: Sequence[Message],
    schema: dict[str, Any],
    instruction: str,
    *,
    generation: Generation | None = None,
) -> Reply:
    if not messages:
        raise ValueError("a model grader needs at least one input message")
    try:
        return await backend.ask_messages(
            messages,
            schema=schema,
            instruction=instruction,
            judge=JudgeModel.parse(model),
            generation=generation or _generation({}),
            scorer=scorer,
        )
    except CallError as exc:  # a ServiceError (the service cannot be used at all) stops the run
        raise ScoringError(f"the grader model call failed: {exc.message}") from None


def _generation(sampling: Mapping[str, Any]) -> Generation:
    """OpenAI's ``sampling_params`` as generation settings. Built unvalidated: the grader's options were
    checked against OpenAI's schema when the suite was read, and OpenAI takes efforts (``none``,
    ``xhigh``) that a target's ``generation`` does not name."""
    given = {key: value for key, value in sampling.items() if value is not None}
    temperature = given.get("temperature", 0.0)
    return Generation.model_construct(
        temperature=float(temperature),
        max_tokens=given.get("max_completions_tokens"),
        top_p=given.get("top_p"),
        seed=given.get("seed"),
        reasoning_effort=given.get("reasoning_effort"),
        reasoning_allowance=0,  # max_completions_tokens already counts the reasoning
    )


def _read(reply: Reply, *, budget: str | None) -> tuple[Any, str | None]:
    """(the reply's ``result``, its steps as text); ``ScoringError`` when the reply has no result."""
    value = find_json(reply.output)
    if not isinstance(value, dict) or "result" not in value:
        cut = ""
        if reply.finish_reason == "length":
            cut = f" (the reply was cut at its token budget; raise {budget})" if budget else " (the reply was cut)"
        raise ScoringError(f"the grader model's reply has no result: {_quote(reply.output)}{cut}")
    return value["result"], _steps(value.get("steps"))


def _steps(steps: Any) -> str | None:
    """The reasoning steps, one numbered line each (``description: conclusion``); None when there are none."""
    if not isinstance(steps, list):
        return None
    lines: list[str] = []
    for step in steps:
        if isinstance(step, dict):
            parts = [str(step[key]).strip() for key in ("description", "conclusion") if step.get(key) is not None]
            text = ": ".join(part for part in parts if part)
        else:
            text = str(step).strip()
        if text:
            lines.append(f"{len(lines) + 1}. {text}")
    return "\n".join(lines) or None


def _number(value: Any) -> float | None:
    """A finite number from a JSON number, or from a string holding one (a reply in words); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _schema(name: str, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"steps": _STEPS_SCHEMA, "result": result},
            "required": ["steps", "result"],
            "additionalProperties": False,
        },
    }


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= _SHOWN else flat[: _SHOWN - 1] + "…") if flat else "(empty reply)"
