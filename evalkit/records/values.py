"""The values the stages before the analysis hand on: cases, targets, outcomes, scores, the run's record.

Every stage takes these and returns these; none of them holds a client, a file handle or a lock. Those
that results.json also holds (``Target``, ``Usage``, ``Metric``) carry the schema settings of
``evalkit.records.results``: their docstrings are the file's documentation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import ConfigDict, Field

Endpoint = Literal["chat", "completions", "responses"]
"""The OpenAI endpoint a model is served on: ``/v1/chat/completions``, the legacy ``/v1/completions``, or the
Responses API ``/v1/responses``."""

Role = Literal["base", "checkpoint", "final", "model"]
"""What a target is in a comparison: the job's base model, one of its checkpoints, its final model, or a
model named explicitly."""

Message = dict[str, Any]
"""One OpenAI chat message, passed to chat models unchanged (content-part lists, tool calls included)."""

ENDPOINTS: tuple[Endpoint, ...] = ("chat", "completions", "responses")

ERROR_RATE = "error_rate"
"""The metric every target reports: the share of cases whose call failed."""

SCHEMA_CONFIG = ConfigDict(use_attribute_docstrings=True, json_schema_serialization_defaults_required=True)
"""How a record in results.json becomes its JSON Schema: each field's docstring is its description, and
every field is written (so the schema of what evalkit writes requires them all)."""

NonNegative = Annotated[int, Field(ge=0)]
"""A count."""

Interval = tuple[float, float]
"""A 95% confidence interval, [low, high]."""

T = TypeVar("T")
WhenSet = Annotated[T | None, Field(exclude_if=lambda value: value is None)]
"""A value written only when there is one."""


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
    item: dict[str, Any] = field(default_factory=dict)
    """Fields of the case's data row that graders read (``{{item.X}}``) and that no model is sent: a chat or
    prompt row's ``item`` object, a table row's columns other than the mapped ones."""
    source: str | None = None
    """The data file the case came from (None for inline cases or a hub dataset)."""
    line: int | None = None
    """1-based line (JSONL), row line (CSV) or index+1 (other sources) where the case is defined."""


@dataclass(frozen=True, slots=True)
class ReplaySource:
    """Where a replayed target's answers come from: a target of a saved evalkit run (`run:PATH#TARGET`)."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    file: str
    """The saved run's results.json, as this run found it (relative to the working directory when inside
    it)."""
    target: str
    """The saved run's target whose answers are replayed."""
    model: str
    """The model id that target called (the fine-tune that may since have been retired); when that target
    was itself replayed, the model it stood for."""


@dataclass(frozen=True, slots=True)
class Target:
    """One model evaluated, and how it was reached."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    name: str
    """Short name used in tables (`base`, `step-30`, `final`, or a `--model` name)."""
    model: str
    """Model id as the service knows it (`gpt-4o-mini`, `ft:davinci-002:org::abc`, …)."""
    endpoint: Endpoint
    """The endpoint it is called on."""
    role: Role = "model"
    """What it is in the comparison."""
    step: int | None = None
    """Training step of a checkpoint; null otherwise."""
    replayed_from: WhenSet[ReplaySource] = None
    """Set when the target is a saved run's target standing in for a model (`--model NAME=run:PATH#TARGET`,
    or `run:` in the suite's `targets:`): its answers were read back from that run with no model call and
    scored afresh by this run's scorers; `model` is then `run:PATH#TARGET` and `endpoint` the saved one.
    Its answers are marked `cached` (no call in this run) and keep the saved usage and latency; it has no
    cost in this run (the saved run holds what its answers cost). Absent for a model called in this run."""
    generation: WhenSet[dict[str, Any]] = None
    """This target's own generation settings over the suite's (its `generation:` in the suite's
    `targets:`), as written; absent when it has none."""
    adjusted: WhenSet[list[str]] = None
    """What evalkit sent differently from the generation settings because of the model's request shape
    (a reasoning model takes `max_completion_tokens`, no `temperature` but 1, …), one line each; absent
    when nothing was."""
    served_from: WhenSet[str] = None
    """Set when a local run's model was evaluated on an OpenAI-compatible server (`--job local:DIR --server
    URL`): the local model id it stands for (`local:/abs/path/checkpoint-N`); `model` is then the id the
    server answered as (a vLLM LoRA module name such as `step-N`, the base as the server lists it, or the
    absolute path for an engine that loads models by path). Absent otherwise."""
    shutdown_date: WhenSet[date] = None
    """The day the service stops serving the model (YYYY-MM-DD), as announced by `GET /v1/models/{id}`
    when the run started: its own date or its base model's, whichever comes first (a fine-tune is shut
    down with its base); absent when none is announced, it could not be read, or the model is `local:`."""
    shutdown_from: WhenSet[str] = None
    """The base model whose shutdown date `shutdown_date` is, when it is not the model's own; absent
    otherwise."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens the call consumed as the service reported them (from the cache when cached)."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    prompt_tokens: NonNegative = 0
    """Tokens of the request."""
    completion_tokens: NonNegative = 0
    """Tokens of the answer, reasoning tokens included (as OpenAI counts and bills them)."""
    reasoning_tokens: Annotated[int, Field(ge=0, exclude_if=lambda value: value == 0)] = 0
    """Of `completion_tokens`, those a reasoning model spent thinking (not part of the visible answer);
    written only when there were some."""


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
    batch: bool = False
    """True when the output was obtained through OpenAI's Batch API (``--batch``, in this run or in the run
    that cached it), which bills its tokens at the batch rate."""


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

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    value: float | None
    """The figure; null when no case could be scored."""
    n: NonNegative
    """Number of cases the figure is computed over (errored cases excluded)."""
    ci: tuple[float, float] | None = None
    """95% confidence interval [low, high]: Wilson for means of 0/1 scores, bootstrap over cases otherwise;
    null when not computed."""


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
