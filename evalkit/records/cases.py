"""The suite a run read and each case with every target's answer, as results.json holds them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field

from evalkit.records.plain import Scrub, plain_number, scrubber
from evalkit.records.values import (
    SCHEMA_CONFIG,
    Case,
    FailedScore,
    Message,
    NonNegative,
    Outcome,
    Score,
    Target,
    Usage,
)


@dataclass(slots=True)
class DataSource:
    """Where the cases came from."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    source: str
    """The data file's path, `hf:NAME[/CONFIG]:SPLIT`, or `inline`."""
    sha256: str
    """SHA-256 of the data as read."""
    cases: NonNegative
    """Number of cases."""


@dataclass(slots=True)
class SuiteInfo:
    """The suite that was run, and the data it read; the hashes tell whether a later run used the same inputs."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    name: str
    """The suite's name."""
    description: str
    """The suite's one-sentence description."""
    file: str
    """Path of the suite file, as given."""
    sha256: str
    """SHA-256 of the suite file's bytes."""
    data: DataSource
    """The data file (or dataset) and its hash."""


@dataclass(frozen=True, slots=True)
class ScorerInfo:
    """One scorer as the suite configured it, so a saved run can be re-analysed without its suite file."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    kind: str
    """The scorer family (`exact`, `classify`, `judge`, …)."""
    name: str
    """The name its metrics are reported under."""
    options: dict[str, Any]
    """Its options as written (defaults left out)."""


@dataclass(frozen=True, slots=True)
class ChatInput:
    """A chat conversation, sent to chat models as it is."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    messages: tuple[Message, ...]
    """OpenAI chat messages before the reference."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Request-level fields passed through to chat models (`tools`, …)."""


@dataclass(frozen=True, slots=True)
class PromptInput:
    """A legacy completions prompt."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    prompt: str
    """The prompt, sent as it is."""


@dataclass(slots=True, kw_only=True)
class CaseResult:
    """One target's answer to one case."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    output: str | None
    """The answer text; null when the call failed."""
    error: str | None
    """Why the call failed after all retries; null on success."""
    scores: dict[str, float | None]
    """Per scorer name, the score (in [0, 1] for the built-in scorers); absent when the call failed."""
    answers: dict[str, str] = field(default_factory=dict)
    """Per scorer name, what the scorer read from the output (the predicted label, …), where it read something."""
    explanations: dict[str, str] = field(default_factory=dict)
    """Per scorer name, why it scored as it did, where it said."""
    score_errors: dict[str, str] = field(default_factory=dict)
    """Per scorer name, why it could not score this output (e.g. an unparseable judge verdict): an error,
    not a score."""
    usage: Usage
    """The tokens of the call, as reported (from the cache when cached)."""
    latency_s: Annotated[float, Field(ge=0)] | None
    """Wall time of the call, retries included, in seconds."""
    cached: bool
    """True when no call was made in this run: the answer came from the on-disk cache, or from the saved
    run a replayed target stands for (its `replayed_from`)."""
    batch: bool = False
    """True when the answer was obtained through OpenAI's Batch API (`--batch`, in this run or in the run
    that cached it): its tokens are charged at the batch rate, half the standard one."""
    finish_reason: str | None
    """The service's finish reason (`stop`, `length`, `tool_calls`, …)."""

    @property
    def failed(self) -> bool:
        """The call produced no output to score."""
        return self.error is not None or self.output is None


@dataclass(slots=True)
class CaseRecord:
    """One test case and what each target did with it."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    id: str
    """Stable case id."""
    line: Annotated[int, Field(ge=1)] | None
    """Line (or row) of the data file defining the case; null when unknown."""
    input: ChatInput | PromptInput
    """What was sent: a chat conversation (plus request-level extras such as `tools`), or a completions prompt."""
    reference: str
    """The expected answer."""
    results: dict[str, CaseResult]
    """Per target name: its answer, scores and call details."""


def case_records(
    cases: Sequence[Case],
    targets: Sequence[Target],
    outcomes: Mapping[str, Sequence[Outcome]],
    scores: Mapping[str, Mapping[str, Sequence[Score | None]]],
    *,
    scrub: Scrub | None = None,
) -> list[CaseRecord]:
    """Each case with every target's outcome and scores (the messages are shared, not copied)."""
    scrub = scrub or scrubber()
    names = [t.name for t in targets if t.name in outcomes]
    by_target = {name: list(scores.get(name, {}).items()) for name in names}
    return [
        CaseRecord(
            id=case.id,
            line=case.line,
            input=_input(case),
            reference=case.reference,
            results={
                name: _case_result(outcomes[name][index], [(s, v[index]) for s, v in by_target[name]], scrub)
                for name in names
            },
        )
        for index, case in enumerate(cases)
    ]


def _input(case: Case) -> ChatInput | PromptInput:
    if case.messages is not None:
        return ChatInput(messages=case.messages, extras=case.extras)
    return PromptInput(prompt=case.prompt if case.prompt is not None else "")


_NO_TEXT: dict[str, str] = {}


def _case_result(outcome: Outcome, scores: Sequence[tuple[str, Score | None]], scrub: Scrub) -> CaseResult:
    values: dict[str, float | None] = {}
    answers: dict[str, str] = {}
    explanations: dict[str, str] = {}
    score_errors: dict[str, str] = {}
    for name, score in scores:
        if score is None:
            continue
        if isinstance(score, FailedScore):
            score_errors[name] = scrub(score.error)
            continue
        values[name] = plain_number(score.value)
        if score.answer is not None:
            answers[name] = score.answer
        if score.explanation is not None:
            explanations[name] = score.explanation
    return CaseResult(
        output=outcome.output,
        error=scrub(outcome.error) if outcome.error is not None else None,
        scores=values,
        usage=outcome.usage,
        latency_s=plain_number(outcome.latency_s),
        cached=outcome.cached,
        batch=outcome.batch,
        finish_reason=outcome.finish_reason,
        answers=answers or _NO_TEXT,
        explanations=explanations or _NO_TEXT,
        score_errors=score_errors or _NO_TEXT,
    )
