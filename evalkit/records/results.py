"""What a run found, as typed records: results.json is their serialisation, and its JSON Schema is
generated from them (``results_json``), each field's docstring its description.

Each stage after the calls returns its part and the pipeline puts them together:

    scoring    RunRecord → cases (CaseRecord, CaseResult), usage             ``RunRecord``, ``case_records``
    metrics    metrics and details per target                               ``evalkit.analysis.metrics``
    analysis   CIs, comparisons, flips, recommendation                      ``evalkit.analysis``
    costs      usage with costs, judge usage with costs                     ``evalkit.analysis.costs``
    gate       the verdict and every rule's reason                          ``evalkit.gate``

Fields a results.json written by an earlier evalkit of the same ``schema_version`` may lack have defaults
(so it still reads); everything is always written.
"""

from __future__ import annotations

import math
import os
import re
import statistics
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import ConfigDict, Field

from evalkit._version import __version__
from evalkit.records.packing import fields_of, pack_outcomes, pack_scores, unpack_outcomes, unpack_scores
from evalkit.records.values import (
    SCHEMA_CONFIG,
    Case,
    CaseSet,
    FailedScore,
    Message,
    Metric,
    NonNegative,
    Outcome,
    Score,
    Target,
    Usage,
)

SCHEMA_VERSION: Literal[1] = 1
"""The version of the results.json format this evalkit writes and reads."""

RuleKind = Literal["bound", "non-inferiority", "superiority", "budget"]
"""What a gate rule checks (``evalkit.suite.rules``)."""

Interval = tuple[float, float]
"""A 95% confidence interval, [low, high]."""

T = TypeVar("T")
WhenSet = Annotated[T | None, Field(exclude_if=lambda value: value is None)]
"""A value written only when there is one."""

_SECRET_ENV = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN")
_SECRET_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{12,}")
_SECRET_KEY = re.compile(r"(?i)(api[_\-]?key|authorization|secret|password|bearer|access[_\-]?token)")


# --- the suite and the cases ------------------------------------------------------------------------


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
    """True when the answer came from the on-disk cache and no call was made."""
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


# --- cost and usage ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceInfo:
    """The price a model was charged at, and where it came from."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    key: str
    """The entry that matched (`gpt-4o-mini`, `ft:gpt-4o-mini`, or a model id)."""
    source: Literal["suite", "evalkit"]
    """The suite's `prices:` block, or evalkit's built-in table."""
    input: Annotated[float, Field(ge=0)]
    """USD per 1M input (prompt) tokens."""
    output: Annotated[float, Field(ge=0)]
    """USD per 1M output (completion) tokens."""


@dataclass(frozen=True, slots=True)
class TargetUsage:
    """What calling one target cost in this run."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    calls: NonNegative
    """Requests made in this run (cache hits excluded, failed calls included)."""
    cached: NonNegative
    """Answers served from the cache."""
    errors: NonNegative
    """Cases whose call failed after all retries."""
    prompt_tokens: NonNegative
    """Prompt tokens spent by this run's requests (cache hits excluded)."""
    completion_tokens: NonNegative
    """Completion tokens spent by this run's requests (cache hits excluded)."""
    latency_p50_s: Annotated[float, Field(ge=0)] | None
    """Median latency of this run's successful calls; null if none."""
    latency_p95_s: Annotated[float, Field(ge=0)] | None
    """95th-percentile latency of this run's successful calls; null if none."""
    cost_usd: Annotated[float, Field(ge=0)] | None = None
    """What the run's cases cost on this target in USD: every answered case's tokens, cached answers
    included (what the cases cost, whether or not this run paid again), at `price`; null when the model's
    price is unknown."""
    cost_per_1000_cases_usd: float | None = None
    """`cost_usd` per 1,000 answered cases; null when the price is unknown."""
    price: PriceInfo | None = None
    """The price applied; null when unknown."""


@dataclass(slots=True)
class JudgeUsage:
    """What one judge scorer's calls consumed, apart from the targets' usage."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    model: str
    """The judge model's id."""
    calls: NonNegative = 0
    """Judge requests made in this run (cache hits excluded)."""
    cached: NonNegative = 0
    """Verdicts that needed no call: from the response cache, or shared with the same question asked at the
    same time (two targets that gave the same answer)."""
    prompt_tokens: NonNegative = 0
    """Prompt tokens of the judge's requests made in this run."""
    completion_tokens: NonNegative = 0
    """Completion tokens of the judge's requests made in this run."""
    cost_usd: float | None = None
    """What those tokens cost in USD; null when the judge model's price is unknown."""


# --- the analysis -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """A paired comparison of `target` against `versus` on `metric`, over the cases both scored."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    target: str
    """The target compared."""
    versus: str
    """The reference: another target, or a saved run's target."""
    metric: str
    """The metric compared."""
    delta: float | None = None
    """target minus versus; null when no case was scored by both."""
    ci: Interval | None = None
    """95% confidence interval of the delta (paired bootstrap over cases); null when it cannot be computed."""
    p_value: float | None = None
    """Two-sided p-value of the paired test."""
    p_adjusted: float | None = None
    """p_value Holm-corrected over the comparisons that share `versus` and `metric` (several checkpoints
    against one base)."""
    test: Literal["mcnemar-exact", "sign-flip-permutation", "paired-bootstrap"] | None = None
    """The paired test: exact McNemar for 0/1 scores, sign-flip permutation for other per-case scores,
    paired bootstrap for aggregates."""
    n: NonNegative = 0
    """Cases scored by both."""


@dataclass(frozen=True, slots=True)
class Flip:
    """How one 0/1 scorer's verdicts moved from `versus` to `target`, case by case."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    target: str
    """The target."""
    versus: str
    """Its reference."""
    scorer: str
    """The 0/1 scorer."""
    fixed: NonNegative
    """Wrong in `versus`, right in `target`."""
    broken: NonNegative
    """Right in `versus`, wrong in `target`."""
    both_right: NonNegative
    """Right in both."""
    both_wrong: NonNegative
    """Wrong in both."""
    fixed_ids: list[str]
    """Ids of the fixed cases."""
    broken_ids: list[str]
    """Ids of the broken cases."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Recommendation:
    """The checkpoint to ship by the headline metric, and whether the final model looks overfitted."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    metric: str
    """The metric the checkpoints are ranked by."""
    best: str
    """The target with the best value."""
    best_step: int | None = None
    """Its training step; null for the final model."""
    value: float | None
    """Its value."""
    final: str | None
    """The final model's target name."""
    final_value: float | None
    """The final model's value."""
    overfitting: bool
    """True when an earlier checkpoint beats the final model."""
    reason: str
    """One sentence saying why."""


# --- the fine-tuning jobs ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    """Training metrics at one step, with OpenAI's names."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    step: int
    """The training step."""
    job: str | None = None
    """The job the step belongs to."""
    train_loss: float | None = None
    """Loss on the training batch."""
    train_mean_token_accuracy: float | None = None
    """Token accuracy on the training batch."""
    valid_loss: float | None = None
    """Loss on a validation batch."""
    valid_mean_token_accuracy: float | None = None
    """Token accuracy on a validation batch."""
    full_valid_loss: float | None = None
    """Loss on the whole validation set (at the end of an epoch)."""
    full_valid_mean_token_accuracy: float | None = None
    """Token accuracy on the whole validation set."""


@dataclass(frozen=True, slots=True)
class JobCheckpoint:
    """One checkpoint of a job."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    step: int
    """The step it was saved at."""
    model: str
    """Its model id."""


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A fine-tuning job the targets were resolved from."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    id: str
    """The job id (`ftjob-…`, or `local:…` for a local run)."""
    status: str
    """The job's status when the run started."""
    base_model: str
    """The model the job fine-tuned (the `base` target)."""
    fine_tuned_model: str | None = None
    """The final model; null while the job runs."""
    training_file: str | None = None
    """The training file's id."""
    validation_file: str | None = None
    """The validation file's id."""
    hyperparameters: dict[str, Any] | None = None
    """The job's hyperparameters as the service reports them."""
    trained_tokens: int | None = None
    """Billable tokens the job processed."""
    method: dict[str, Any] | None = None
    """The fine-tuning method (`{"type": "supervised", …}`)."""
    checkpoints: list[JobCheckpoint] = field(default_factory=list)
    """Every checkpoint, by step."""


@dataclass(frozen=True, slots=True)
class Overlap:
    """Test cases whose input also appears in a fine-tuning file."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    exact: list[str] = field(default_factory=list)
    """Ids of cases whose input appears verbatim in the file, in case order."""
    near: list[str] = field(default_factory=list)
    """Ids of cases whose input appears after normalisation (case, punctuation, whitespace), in case order."""

    def __len__(self) -> int:
        return len(self.exact) + len(self.near)


@dataclass(frozen=True, slots=True)
class JobChecks:
    """What a job's training files say about the suite."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    parity: list[str] = field(default_factory=list)
    """Warnings: the suite's system prompt / separator / stop differ from the training data's."""
    contamination: dict[str, Overlap] = field(default_factory=dict)
    """Per file (`training`, `validation`), the test cases that also appear in it."""


# --- the gate ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One rule's verdict on one target (the comparison's figures only where the rule compares)."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    target: str
    """The target checked."""
    value: float | None
    """The figure compared with the bar (the metric or a CI end, the low end of Δ's CI, a p-value, a cost,
    …); null when there was none."""
    passed: bool
    """Whether the rule holds for it."""
    versus: WhenSet[str] = None
    """Comparisons: the reference (another target, or a saved run's target)."""
    delta: WhenSet[float] = None
    """Comparisons: target minus reference."""
    ci: WhenSet[Interval] = None
    """Comparisons: 95% confidence interval of the delta."""
    p_value: WhenSet[float] = None
    """Comparisons: the paired test's p-value."""
    p_holm: WhenSet[float] = None
    """Superiority over several targets: the p-value Holm-corrected across them."""
    test: WhenSet[str] = None
    """Comparisons: the paired test."""
    n: WhenSet[int] = None
    """Comparisons: cases scored by both."""
    baseline_changed: WhenSet[list[str]] = None
    """Saved-run comparisons allowed to differ: what differs (`data`, `scorers`, `generation settings`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleResult:
    """One gate rule and its outcome."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    rule: dict[str, Any] | None = None
    """The rule as written in the suite (defaults left out), so `evalkit gate` can re-apply it."""
    kind: RuleKind | None = None
    """What it checks: a bound on a metric, non-inferiority or superiority against a reference (a target or
    a saved run), or a budget."""
    target: str | list[str]
    """The target(s) the rule is about: a name, a glob (`step-*`) or a list of names."""
    metric: str
    """The metric it is about; for a budget, the capped figure (`error_rate`, `cost_usd`, `latency_p95_s`)."""
    value: float | None
    """The figure compared with the bar when the rule covers one target; null when it covers several or
    nothing was scored."""
    passed: bool
    """Whether the rule held for every target it covers."""
    reason: str
    """One line with the figure and the bar."""
    checks: list[Check] = field(default_factory=list)
    """Per target covered: the figure compared, whether it held, and for comparisons delta, ci, p_value
    (p_holm when Holm-corrected across the rule's targets), test and n."""
    min: Annotated[float | None, Field(exclude=True)] = None
    """A bound rule's lower bound, as files of the first evalkit versions held it (read, never written)."""
    max: Annotated[float | None, Field(exclude=True)] = None
    """A bound rule's upper bound, as files of the first evalkit versions held it (read, never written)."""


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """The go/no-go verdict and every rule that decided it."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    verdict: Literal["go", "no-go"]
    """`go` when every rule passed (or there are none), else `no-go`; `evalkit run` exits 0 or 1 accordingly."""
    rules: list[RuleResult] = field(default_factory=list)
    """Each rule, in suite order."""


GO = GateVerdict("go")
"""The verdict of a run with no gate rules (and of a run before its gate is applied)."""


# --- the run ----------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True, repr=False)
class RunResults:
    """Everything one `evalkit run` produced: the suite and data it read, the targets it called, every
    case's input, reference and per-target answers and scores, the metrics with confidence intervals,
    paired comparisons and flips, usage and cost, the gate's verdict. `evalkit gate` and `evalkit report`
    work from this file alone, with no model calls. Fields not listed here may appear (later versions add
    them); the listed ones are always present."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of this file format; bumped only when a field changes meaning or disappears."""
    evalkit_version: str
    """Version of evalkit that wrote the file."""
    suite: SuiteInfo
    """The suite that was run, and the data it read."""
    started_at: str
    """When the run started (UTC, ISO-8601)."""
    finished_at: str
    """When the run finished (UTC, ISO-8601)."""
    generation: dict[str, Any]
    """The generation settings sent with every request (temperature, max_tokens, …)."""
    completions: dict[str, Any]
    """How conversations were turned into prompts for completions-endpoint targets (separator, stop,
    template). `inferred` holds, per job id, what was inferred from the job's training file when the suite
    did not say."""
    scorers: list[ScorerInfo]
    """The suite's scorers as configured, so a saved run can be re-analysed without its suite file."""
    targets: list[Target]
    """The models evaluated, in the order they are compared."""
    cases: list[CaseRecord]
    """Every case, in data order, with each target's answer and scores."""
    metrics: dict[str, dict[str, Metric]]
    """Per target name, per metric name: `<scorer>` is the mean of that scorer's per-case scores,
    `<scorer>.<aggregate>` a suite-level aggregate (`classify.macro_f1`), `error_rate` the share of cases
    whose call failed. Each carries its 95% `ci`: Wilson for means of 0/1 scores, bootstrap over cases for
    other means and for aggregates."""
    details: dict[str, dict[str, dict[str, Any]]]
    """Per target name, per scorer name: non-scalar aggregates (labels, confusion_matrix, per-label support, …)."""
    usage: dict[str, TargetUsage]
    """Per target name: calls made, cache hits, errors, tokens, latency and cost."""
    judge_usage: dict[str, JudgeUsage] = field(default_factory=dict)
    """Per judge scorer name: the judge model's calls and tokens, kept apart from the targets' usage."""
    comparisons: list[Comparison]
    """Paired comparisons, by case id over the cases both scored: every target against its base, and any
    other pair asked for."""
    flips: list[Flip] = field(default_factory=list)
    """Per target and reference, for scorers with 0/1 per-case scores: cases fixed (wrong → right), broken
    (right → wrong), right in both, wrong in both, over the cases both scored."""
    recommendation: Recommendation | None = None
    """The checkpoint to ship by the headline metric, and whether the final model looks overfitted; null
    when the run has no checkpoints."""
    training: list[TrainingRecord]
    """Per-step training metrics of the fine-tuning jobs, with OpenAI's names, when known."""
    jobs: list[JobRecord]
    """The fine-tuning jobs the targets were resolved from (`--job`), in the order given."""
    checks: dict[str, JobChecks]
    """What the jobs' training files say about the suite, per job id: `parity` (warnings when the suite
    prompts differently from the training data) and `contamination` (test cases whose input also appears
    in the training or validation file)."""
    gate: GateVerdict
    """The gate's verdict, and every rule that decided it with its reason."""
    warnings: list[str]
    """Things the user should know that did not stop the run."""

    def __repr__(self) -> str:  # the whole record would be millions of characters
        return f"RunResults(suite={self.suite.name!r}, targets={len(self.targets)}, cases={len(self.cases)})"

    @property
    def target_names(self) -> list[str]:
        """The run's targets, in order."""
        return [target.name for target in self.targets]

    def target(self, name: str) -> Target | None:
        """The target of that name, or None."""
        return next((target for target in self.targets if target.name == name), None)

    def metric(self, target: str, name: str) -> Metric | None:
        """``metrics[target][name]``, or None when the run does not report it."""
        return self.metrics.get(target, {}).get(name)

    def answers(self, target: str) -> Iterator[tuple[str, CaseResult]]:
        """(case id, result) of every case the target answered (or failed), in case order."""
        for case in self.cases:
            result = case.results.get(target)
            if result is not None:
                yield case.id, result

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its cases as rows of plain values (``records.packing``)."""
        return _unpack_results, (fields_of(self, leave_out=("cases",)), [_case_row(case) for case in self.cases])


def _case_row(case: CaseRecord) -> tuple[Any, ...]:
    results = [
        (name, r.output, r.error, r.scores, r.usage.prompt_tokens, r.usage.completion_tokens, r.latency_s,
         r.cached, r.finish_reason, r.answers, r.explanations, r.score_errors)
        for name, r in case.results.items()
    ]  # fmt: skip
    return case.id, case.line, case.input, case.reference, results


def _unpack_results(fields: dict[str, Any], rows: list[tuple[Any, ...]]) -> RunResults:
    cases = [
        CaseRecord(
            id=case_id,
            line=line,
            input=given,
            reference=reference,
            results={
                name: CaseResult(
                    output=output, error=error, scores=scores, usage=Usage(prompt, completion), latency_s=latency,
                    cached=cached, finish_reason=finish, answers=answers, explanations=why, score_errors=failures,
                )
                for name, output, error, scores, prompt, completion, latency, cached, finish, answers, why, failures
                in results
            },
        )
        for case_id, line, given, reference, results in rows
    ]
    return RunResults(**fields, cases=cases)


@dataclass(frozen=True, slots=True)
class RunInputs:
    """What decides a run's answers and their scores — data, generation settings, prompting, scorers — in
    the shapes results.json holds them: enough to tell before any call whether a saved run is comparable."""

    data_sha256: str
    """SHA-256 of the data as read."""
    generation: dict[str, Any]
    """The generation settings (``settings``)."""
    completions: dict[str, Any]
    """The completions prompting (``settings``)."""
    scorers: list[ScorerInfo]
    """The scorers as configured."""

    @classmethod
    def of(cls, results: RunResults) -> RunInputs:
        """The inputs a saved run was made with."""
        return cls(results.suite.data.sha256, results.generation, results.completions, results.scorers)


# --- the record of a run before its analysis --------------------------------------------------------


@dataclass(slots=True, repr=False)
class RunRecord:
    """Everything one ``evalkit run`` produced before the analysis: what was asked, answered and scored."""

    suite: SuiteInfo
    """The suite and its data."""
    case_set: CaseSet
    """The cases."""
    targets: list[Target]
    """The targets, in order."""
    generation: dict[str, Any]
    """The suite's generation settings as sent (temperature, max_tokens, …)."""
    completions: dict[str, Any]
    """The settings that turned conversations into completions prompts (separator, stop, template)."""
    scorers: list[ScorerInfo]
    """The suite's scorers as configured."""
    outcomes: dict[str, list[Outcome]]
    """Per target name, one outcome per case, aligned with ``case_set.cases``."""
    scores: dict[str, dict[str, list[Score | None]]]
    """Per target name, per scorer name, one score per case (None where the call errored)."""
    started_at: str
    """UTC ISO-8601 time the run started."""
    finished_at: str
    """UTC ISO-8601 time the run finished."""
    warnings: list[str] = field(default_factory=list)
    """Things the user should know that did not stop the run."""
    jobs: list[JobRecord] = field(default_factory=list)
    """The fine-tuning jobs the targets came from."""
    training: list[TrainingRecord] = field(default_factory=list)
    """Per-step training metrics of those jobs."""
    judge_usage: dict[str, JudgeUsage] = field(default_factory=dict)
    """Per judge scorer: its calls and tokens."""
    checks: dict[str, JobChecks] = field(default_factory=dict)
    """What the jobs' training files said about the suite."""

    def __repr__(self) -> str:
        return f"RunRecord(suite={self.suite.name!r}, targets={len(self.targets)}, cases={len(self.case_set.cases)})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its outcomes and scores as columns of plain values (``records.packing``)."""
        fields = fields_of(self, leave_out=("outcomes", "scores"))
        return _unpack_record, (fields, pack_outcomes(self.outcomes), pack_scores(self.scores))


def _unpack_record(fields: dict[str, Any], outcomes: Any, scores: Any) -> RunRecord:
    return RunRecord(**fields, outcomes=unpack_outcomes(outcomes), scores=unpack_scores(scores))


def run_results(
    record: RunRecord,
    *,
    metrics: dict[str, dict[str, Metric]],
    details: dict[str, dict[str, dict[str, Any]]],
) -> RunResults:
    """The results of a scored run, before its analysis and gate: plain JSON values throughout (NaN as
    None, numpy unwrapped), secrets scrubbed from every service text and secret-looking setting."""
    scrub = scrubber()
    return RunResults(
        evalkit_version=__version__,
        suite=record.suite,
        started_at=record.started_at,
        finished_at=record.finished_at,
        generation=settings(record.generation),
        completions=settings(record.completions),
        scorers=record.scorers,
        targets=list(record.targets),
        cases=case_records(record.case_set.cases, record.targets, record.outcomes, record.scores, scrub=scrub),
        metrics={target: {name: _metric(m) for name, m in found.items()} for target, found in metrics.items()},
        details=jsonable(details),
        usage={t.name: usage_summary(record.outcomes.get(t.name, [])) for t in record.targets},
        judge_usage=record.judge_usage,
        comparisons=[],
        training=record.training,
        jobs=record.jobs,
        checks=record.checks,
        gate=GO,
        warnings=[scrub(w) for w in record.warnings],
    )


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


def usage_summary(outcomes: Sequence[Outcome]) -> TargetUsage:
    """Calls, cache hits, errors, tokens spent and latency percentiles of one target's outcomes.

    Calls and tokens count only requests made in this run (cache hits cost nothing); latency percentiles
    are over the calls that succeeded, null when there were none.
    """
    made = [o for o in outcomes if not o.cached]
    latencies = [o.latency_s for o in made if o.error is None and o.latency_s is not None]
    p50, p95 = _percentiles(latencies)
    return TargetUsage(
        calls=len(made),
        cached=len(outcomes) - len(made),
        errors=sum(1 for o in outcomes if o.error is not None),
        prompt_tokens=sum(o.usage.prompt_tokens for o in made),
        completion_tokens=sum(o.usage.completion_tokens for o in made),
        latency_p50_s=p50,
        latency_p95_s=p95,
    )


def settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Run settings as results.json holds them: plain JSON values, any secret-looking key's value hidden."""
    redacted: dict[str, Any] = jsonable(_redact(values))
    return redacted


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON values: tuples and sets as lists, numpy scalars/arrays unwrapped, NaN as null."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return _number(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "tolist"):  # numpy scalars and arrays, without importing numpy
        return jsonable(value.tolist())
    return str(value)


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: "***" if _SECRET_KEY.search(str(key)) and item else _redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(item) for item in value]
    return value


class Scrub:
    """Hides API keys (the ones in the environment, and anything shaped like ``sk-…``) in service text."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _SECRET_PATTERN.sub(r"\1***", text)


def scrubber() -> Scrub:
    """A ``Scrub`` for the keys in this process's environment."""
    values = (os.environ.get(name, "") for name in _SECRET_ENV)
    return Scrub([v for v in values if len(v) >= 8])


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
        values[name] = _number(score.value)
        if score.answer is not None:
            answers[name] = score.answer
        if score.explanation is not None:
            explanations[name] = score.explanation
    return CaseResult(
        output=outcome.output,
        error=scrub(outcome.error) if outcome.error is not None else None,
        scores=values,
        usage=outcome.usage,
        latency_s=_number(outcome.latency_s),
        cached=outcome.cached,
        finish_reason=outcome.finish_reason,
        answers=answers or _NO_TEXT,
        explanations=explanations or _NO_TEXT,
        score_errors=score_errors or _NO_TEXT,
    )


def _metric(metric: Metric) -> Metric:
    """``metric`` with plain floats: NaN (a figure sklearn finds undefined) as None, numpy unwrapped."""
    ci = metric.ci
    low, high = (None, None) if ci is None else (_number(ci[0]), _number(ci[1]))
    interval = None if low is None or high is None else (low, high)
    return Metric(_number(metric.value), int(metric.n), interval)


def _number(value: float | None) -> float | None:
    """A plain float, or None for a missing, NaN or infinite one."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]
