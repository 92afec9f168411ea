"""Plain typed values handed from one stage to the next (suite → cases → targets → runner → scorers → …).

Every stage takes these and returns these; none of them holds a client, a file handle or a lock.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Endpoint = Literal["chat", "completions"]
"""The OpenAI endpoint a model is served on: ``/v1/chat/completions`` or the legacy ``/v1/completions``."""

Role = Literal["base", "checkpoint", "final", "model"]
"""What a target is in a comparison: the job's base model, one of its checkpoints, its final model, or a
model named explicitly."""

Message = dict[str, Any]
"""One OpenAI chat message, passed to chat models unchanged (content-part lists, tool calls included)."""

ENDPOINTS: tuple[Endpoint, ...] = ("chat", "completions")

ERROR_RATE = "error_rate"
"""The metric every target reports: the share of cases whose call failed."""


@dataclass(frozen=True, slots=True, eq=False)
class Case:
    """One test case: what is sent to every target, and the answer it should give."""

    id: str
    """Stable id: the data's own ``id`` field, else a hash of the content."""
    reference: str
    """The expected answer (the last weighted assistant message, the completion, the expected column)."""
    messages: tuple[Message, ...] | None = None
    """Chat input: the conversation before the reference (``weight`` keys removed). None for prompt cases."""
    prompt: str | None = None
    """Legacy completions input, sent as it is. None for chat cases."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Request-level fields of a chat row passed through to chat models unchanged (``tools``, …)."""
    source: str | None = None
    """The data file the case came from (None for inline cases or a hub dataset)."""
    line: int | None = None
    """1-based line (JSONL), row line (CSV) or index+1 (other sources) where the case is defined."""


@dataclass(frozen=True, slots=True)
class Target:
    """One model to evaluate, and how to reach it."""

    name: str
    """Short name used in tables and results (``base``, ``step-30``, ``final``, or the user's)."""
    model: str
    """Model id as the service knows it (``gpt-4o-mini``, ``ft:davinci-002:org::abc``, …)."""
    endpoint: Endpoint
    """The endpoint this model is called on."""
    role: Role = "model"
    """What the target is in the comparison."""
    step: int | None = None
    """Training step of a checkpoint; None otherwise."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens a call consumed, as the service reported them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one target did on one case: an output or an error, never neither."""

    output: str | None
    """The model's answer text (tool calls rendered as JSON); None when the call failed."""
    error: str | None = None
    """Why the call failed after all retries; None on success."""
    usage: Usage = Usage()
    """Tokens consumed (zero for a failed call)."""
    latency_s: float | None = None
    """Wall time of the call that produced the output, retries included; from the cache when cached."""
    cached: bool = False
    """True when the output came from the on-disk cache and no call was made."""
    finish_reason: str | None = None
    """The service's finish reason (``stop``, ``length``, ``tool_calls``, …)."""


@dataclass(frozen=True, slots=True)
class Score:
    """One scorer's verdict on one output."""

    value: float
    """The score, in [0, 1] for the built-in scorers (1 = right)."""
    answer: str | None = None
    """What the scorer read from the output (the predicted label, the extracted JSON, …), if anything."""
    explanation: str | None = None
    """Why, in a few words, when the scorer has something to say."""


@dataclass(frozen=True, slots=True)
class FailedScore(Score):
    """No score: the scorer could not score the output. ``value`` is NaN so that it can never pass for a
    score; metrics leave these cases out."""

    error: str = ""
    """Why the output could not be scored."""


def failed(message: str) -> FailedScore:
    """The record of a scorer that could not score an output."""
    return FailedScore(math.nan, error=message)


def is_scored(score: Score | None) -> bool:
    """True for a real score: not None (errored call) and not a ``FailedScore``."""
    return score is not None and not isinstance(score, FailedScore)


@dataclass(frozen=True, slots=True)
class Metric:
    """One figure for one target: a mean score or a suite-level aggregate."""

    value: float | None
    """The figure; None when no case could be scored."""
    n: int
    """How many cases it is computed over (errored cases are not counted)."""
    ci: tuple[float, float] | None = None
    """95% confidence interval, when computed."""


@dataclass(frozen=True, slots=True)
class CaseSet:
    """The cases of a suite, and where they came from."""

    cases: list[Case]
    """In file order."""
    sha256: str
    """Hash of the data as read: the file's bytes, or the canonical JSON of inline cases / a hub dataset."""
    source: str
    """Where: the data file's path, ``hf:NAME[/CONFIG]:SPLIT`` or ``inline``."""


@dataclass(frozen=True, slots=True)
class TrainingExample:
    """One line of a fine-tuning file (training or validation), as uploaded to OpenAI."""

    messages: tuple[Message, ...] | None = None
    """Chat format: the whole conversation, assistant answers included (``weight`` keys kept)."""
    prompt: str | None = None
    """Legacy format: the prompt."""
    completion: str | None = None
    """Legacy format: the completion."""


@dataclass(slots=True)
class RunRecord:
    """Everything one ``evalkit run`` produced, before it is written out as results.json."""

    suite_name: str
    suite_description: str
    suite_file: str
    suite_sha256: str
    case_set: CaseSet
    targets: list[Target]
    generation: dict[str, Any]
    """The suite's generation settings as sent (temperature, max_tokens, …)."""
    completions: dict[str, Any]
    """The settings that turned conversations into completions prompts (separator, stop, template)."""
    outcomes: dict[str, list[Outcome]]
    """Per target name, one outcome per case, aligned with ``case_set.cases``."""
    scores: dict[str, dict[str, list[Score | None]]]
    """Per target name, per scorer name, one score per case (None where the call errored)."""
    metrics: dict[str, dict[str, Metric]]
    """Per target name, per metric name (``exact``, ``classify.macro_f1``, ``error_rate``, …)."""
    details: dict[str, dict[str, dict[str, Any]]]
    """Per target name, per scorer name: non-scalar aggregates (``labels``, ``confusion_matrix``, …)."""
    started_at: str
    """UTC ISO-8601 time the run started."""
    finished_at: str
    """UTC ISO-8601 time the run finished."""
    warnings: list[str] = field(default_factory=list)
    """Things the user should know that did not stop the run."""
    jobs: list[dict[str, Any]] = field(default_factory=list)
    """The fine-tuning jobs the targets came from (plain facts: id, status, base model, files, …)."""
    training: list[dict[str, Any]] = field(default_factory=list)
    """Per-step training metrics of those jobs, OpenAI's metric names, each with its ``job`` id."""
    judge_usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per judge scorer: calls, cached, prompt_tokens, completion_tokens — kept apart from the targets'."""
    scorers: list[dict[str, Any]] = field(default_factory=list)
    """The suite's scorers as configured: ``{"kind", "name", "options"}`` each, so a saved run can be
    re-analysed (bootstrapped aggregates, comparisons) without its suite file."""
    checks: dict[str, Any] = field(default_factory=dict)
    """What the jobs' training files said about the suite: ``parity`` warnings, ``contamination``."""


def render_tool_calls(tool_calls: Iterable[Any]) -> str:
    """Tool calls as one JSON text: ``[{"arguments": {...}, "name": "..."}]``, keys sorted.

    Takes OpenAI tool calls as dicts (``{"function": {"name", "arguments"}}``), SDK objects (anything with
    ``model_dump()``) or bare ``{"name", "arguments"}`` function calls. Arguments are parsed from their
    JSON text so that spacing and key order don't matter; arguments that are not JSON are kept as text.
    """
    return json.dumps([_tool_call(call) for call in tool_calls], sort_keys=True)


def _tool_call(call: Any) -> dict[str, Any]:
    data = call.model_dump() if hasattr(call, "model_dump") else call
    if not isinstance(data, Mapping):
        return {"name": None, "arguments": None}
    spec = data.get("function") or data.get("custom") or data
    arguments = spec.get("arguments", spec.get("input"))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            pass
    return {"name": spec.get("name"), "arguments": arguments}
