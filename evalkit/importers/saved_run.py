"""A run made on OpenAI's platform as an evalkit saved run: a results.json that ``run:PATH#TARGET``
replays, so the model that answered then (maybe since shut down) is compared with the next one on the
same cases.

Its scorers are named as a run of the suite names them (``metric_name``: ``Right queue`` →
``right_queue``), so OpenAI's numbers and evalkit's sit under the same metric names.

It holds one target, named after the model, with each case's answer (or error), usage and finish reason,
made with the suite's generation settings and asked exactly the suite's conversations — which is what a
replay checks. Its scores are OpenAI's own grader results (``results[].score``, one scorer per criterion,
``passed`` as the explanation), its metrics their means with confidence intervals and, per criterion,
``<criterion>.pass_rate``: OpenAI's numbers, kept to compare with evalkit's after the move. Its gate is
``not-gated``: nothing was decided then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from evalkit.importers.criteria import Criterion
from evalkit.importers.output_items import GraderResult, OutputItem
from evalkit.importers.rows import Row
from evalkit.records import ERROR_RATE, CaseSet, Metric, Outcome, Score, Target
from evalkit.records.cases import ScorerInfo, SuiteInfo
from evalkit.records.findings import GateVerdict
from evalkit.records.results import RunRecord, RunResults, run_results
from evalkit.suite.grader_base import metric_name
from evalkit.suite.scorer_base import RESERVED_NAMES

__all__ = ["PASS_RATE", "saved_run", "scorer_names"]

PASS_RATE = "pass_rate"
"""The aggregate naming the share of cases a criterion passed (``<criterion>.pass_rate``)."""


_NO_OUTPUT = "OpenAI's run has no output item for this item"


def saved_run(
    rows: Sequence[Row],
    outputs: Mapping[int, OutputItem],
    *,
    suite: SuiteInfo,
    target: Target,
    criteria: Sequence[Criterion],
    generation: dict[str, Any],
    started_at: str,
    finished_at: str,
    warnings: Sequence[str],
) -> RunResults:
    """The saved run of ``target``: each row's case answered as its output item (by item id) says, scored
    by OpenAI's results; a row with no output item is a failed call saying so (a replay then counts it as
    failed, rather than refusing a case the run lacks)."""
    from evalkit.analysis import analyse
    from evalkit.analysis.costs import with_costs

    found = [outputs.get(row.item_id) for row in rows]
    outcomes = [o.outcome if o is not None else Outcome(output=None, error=_NO_OUTPUT) for o in found]
    results = [o.results if o is not None else [] for o in found]
    names = scorer_names(criteria, results)
    scores = _scores(names, outcomes, results)
    record = RunRecord(
        suite=suite,
        case_set=CaseSet(
            cases=[row.case for row in rows], sha256=suite.data.sha256, source=suite.data.source
        ),
        targets=[target],
        generation=generation,
        completions={},
        scorers=_scorer_infos(names, criteria),
        outcomes={target.name: outcomes},
        scores={target.name: scores},
        started_at=started_at,
        finished_at=finished_at,
        warnings=list(warnings),
    )
    run = run_results(record, metrics={target.name: _metrics(scores, outcomes, results, names)}, details={})
    run = analyse(run).into(run)
    usage, judge_usage = with_costs(run)
    return replace(run, usage=usage, judge_usage=judge_usage, gate=GateVerdict("not-gated"))


def scorer_names(
    criteria: Sequence[Criterion], results: Sequence[Sequence[GraderResult]]
) -> dict[str, list[int | None]]:
    """Per scorer (the criteria's metric names, then that of any result name no criterion has), which
    result of each case is its: its index in that case's results, or None."""
    names: dict[str, list[int | None]] = {c.metric: [] for c in criteria}
    per_case = [_matched(criteria, case_results) for case_results in results]
    for matched in per_case:
        for name in matched:
            names.setdefault(name, [])
    return {name: [matched.get(name) for matched in per_case] for name in names}


def _matched(criteria: Sequence[Criterion], results: Sequence[GraderResult]) -> dict[str, int]:
    """Scorer name → the index of the one of ``results`` that is its: a criterion's own, by the name OpenAI
    reported (exactly, else with the ``-<id>`` suffix it may add), else a scorer of the result's name."""
    found: dict[str, int] = {}
    for index, result in enumerate(results):
        free = [c for c in criteria if c.metric not in found]
        owner = next((c.metric for c in free if result.name == c.given_name), None) or next(
            (c.metric for c in free if result.name.startswith(f"{c.given_name}-")), None
        )
        if owner is None:
            taken = found.keys() | {c.metric for c in criteria} | RESERVED_NAMES
            base = metric_name(result.name) or "result"
            owner, n = base, 1
            while owner in taken:
                n += 1
                owner = f"{base}_{n}"
        found[owner] = index
    return found


def _scores(
    names: dict[str, list[int | None]], outcomes: Sequence[Outcome], results: Sequence[Sequence[GraderResult]]
) -> dict[str, list[Score | None]]:
    scores: dict[str, list[Score | None]] = {}
    for name, keys in names.items():
        column: list[Score | None] = []
        for outcome, case_results, key in zip(outcomes, results, keys, strict=True):
            result = case_results[key] if key is not None and outcome.error is None else None
            column.append(_score(result) if result is not None else None)
        scores[name] = column
    return scores


def _score(result: GraderResult) -> Score | None:
    value = (
        result.score
        if result.score is not None
        else (None if result.passed is None else float(result.passed))
    )
    if value is None:
        return None
    said = None if result.passed is None else f"OpenAI: {'passed' if result.passed else 'did not pass'}"
    return Score(value, explanation=said)


def _metrics(
    scores: dict[str, list[Score | None]],
    outcomes: Sequence[Outcome],
    results: Sequence[Sequence[GraderResult]],
    names: dict[str, list[int | None]],
) -> dict[str, Metric]:
    from evalkit.analysis.metrics import mean_metric

    metrics: dict[str, Metric] = {}
    for name, column in scores.items():
        metrics[name] = mean_metric(column)
        verdicts = [
            bool(case_results[key].passed)
            for outcome, case_results, key in zip(outcomes, results, names[name], strict=True)
            if key is not None and outcome.error is None and case_results[key].passed is not None
        ]
        if verdicts:
            metrics[f"{name}.{PASS_RATE}"] = Metric(sum(verdicts) / len(verdicts), len(verdicts))
    errors = sum(1 for outcome in outcomes if outcome.error is not None)
    metrics[ERROR_RATE] = Metric(errors / len(outcomes) if outcomes else None, len(outcomes))
    return metrics


def _scorer_infos(names: dict[str, list[int | None]], criteria: Sequence[Criterion]) -> list[ScorerInfo]:
    """As a run records its grader scorers: the metric name, the grader object as its options."""
    graders = {c.metric: c.grader for c in criteria}
    return [ScorerInfo("grader", name, dict(graders.get(name, {}))) for name in names]
