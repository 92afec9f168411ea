"""What a run found, as typed records: results.json is their serialisation, and its JSON Schema is
generated from them (``results_json``), each field's docstring its description. ``RunResults`` is
assembled here from parts kept beside it: ``cases``, ``usage``, ``jobs`` and ``findings``.

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

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict

from evalkit._version import __version__
from evalkit.records.cases import CaseRecord, CaseResult, ScorerInfo, SuiteInfo, case_records
from evalkit.records.findings import GO, Comparison, Flip, GateVerdict, Recommendation
from evalkit.records.jobs import JobChecks, JobRecord, TrainingRecord
from evalkit.records.packing import fields_of, pack_outcomes, pack_scores, unpack_outcomes, unpack_scores
from evalkit.records.plain import jsonable, plain_number, scrubber, settings
from evalkit.records.usage import JudgeUsage, TargetUsage, usage_summary
from evalkit.records.values import SCHEMA_CONFIG, CaseSet, Metric, Outcome, Score, Target, Usage

SCHEMA_VERSION: Literal[1] = 1
"""The version of the results.json format this evalkit writes and reads."""


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
    """The model to ship by the headline metric, and whether the final model looks overfitted; null
    when the run has no checkpoints."""
    resamples: int | None = None
    """How many resamples each bootstrap CI, bootstrap p-value and random sign-flip test drew: a p-value
    at the smallest such a test can give (2/(resamples+1) for the bootstrap) is shown as a bound
    (`< 0.001`). Null in a file written before evalkit recorded it (those drew 2000) and before the
    analysis."""
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
    incomplete: str | None = None
    """Null for a finished run. Otherwise the run stopped on an internal error before its end and this is
    a partial file: why (see `crash.txt` beside it); it holds the answers received and may lack scores,
    metrics and the verdict (which is then `error`)."""

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
        (name, r.output, r.error, r.scores, r.usage.prompt_tokens, r.usage.completion_tokens,
         r.usage.reasoning_tokens, r.latency_s, r.cached, r.batch, r.finish_reason, r.answers, r.explanations,
         r.score_errors)
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
                    output=output, error=error, scores=scores, usage=Usage(prompt, completion, reasoning),
                    latency_s=latency, cached=cached, batch=batch, finish_reason=finish, answers=answers, explanations=why,
                    score_errors=failures,
                )
                for name, output, error, scores, prompt, completion, reasoning, latency, cached, batch, finish,
                answers, why, failures in results
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


def _metric(metric: Metric) -> Metric:
    """``metric`` with plain floats: NaN (a figure sklearn finds undefined) as None, numpy unwrapped."""
    ci = metric.ci
    low, high = (None, None) if ci is None else (plain_number(ci[0]), plain_number(ci[1]))
    interval = None if low is None or high is None else (low, high)
    return Metric(plain_number(metric.value), int(metric.n), interval)


