"""Scores and metrics for a whole run: every scorer on every target's outcomes, then the figures per target.

``score_run`` scores each outcome (None where the call errored); ``compute_metrics`` turns those scores
into the metrics named in results.json and gate rules:

    <scorer>              mean of the scorer's per-case scores, over the cases that did not error
    <scorer>.<aggregate>  a suite-level figure of that scorer (``classify.macro_f1``, …)
    error_rate            errored outcomes / all cases

Confidence intervals and paired comparisons are not computed here (see the stats stage).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.records import Case, Metric, Outcome, Score
from evalkit.scorers import Scorer

ERROR_RATE = "error_rate"
"""Name of the metric counting errored outcomes."""

Scores = dict[str, dict[str, list[Score | None]]]
"""Per target name, per scorer name, one score per case (None where the outcome errored)."""


async def score_run(
    cases: Sequence[Case],
    outcomes_by_target: Mapping[str, Sequence[Outcome]],
    scorers: Sequence[Scorer],
) -> Scores:
    """Every scorer's verdict on every target's outcome of every case; None where the outcome errored."""
    scores: Scores = {}
    for target, outcomes in outcomes_by_target.items():
        _check_aligned(cases, outcomes, target)
        scores[target] = {scorer.name: await _score_all(scorer, cases, outcomes) for scorer in scorers}
    return scores


def compute_metrics(
    cases: Sequence[Case],
    outcomes_by_target: Mapping[str, Sequence[Outcome]],
    scores: Scores,
    scorers: Sequence[Scorer],
) -> tuple[dict[str, dict[str, Metric]], dict[str, dict[str, dict[str, Any]]]]:
    """Per target: its metrics by name, and per scorer the non-scalar details of its aggregates.

    Details hold only scorers that have any (``classify``: labels, confusion matrix, support).
    """
    metrics: dict[str, dict[str, Metric]] = {}
    details: dict[str, dict[str, dict[str, Any]]] = {}
    for target, outcomes in outcomes_by_target.items():
        _check_aligned(cases, outcomes, target)
        metrics[target], details[target] = _target_metrics(cases, outcomes, scores[target], scorers)
    return metrics, details


def is_error(outcome: Outcome) -> bool:
    """True when the call produced no output to score."""
    return outcome.error is not None or outcome.output is None


async def _score_all(
    scorer: Scorer, cases: Sequence[Case], outcomes: Sequence[Outcome]
) -> list[Score | None]:
    results: list[Score | None] = []
    for case, outcome in zip(cases, outcomes, strict=True):
        output = outcome.output
        if output is None or outcome.error is not None:
            results.append(None)
        else:
            results.append(await scorer.score(output, case))
    return results


def _target_metrics(
    cases: Sequence[Case],
    outcomes: Sequence[Outcome],
    scores: Mapping[str, Sequence[Score | None]],
    scorers: Sequence[Scorer],
) -> tuple[dict[str, Metric], dict[str, dict[str, Any]]]:
    metrics: dict[str, Metric] = {}
    details: dict[str, dict[str, Any]] = {}
    for scorer in scorers:
        per_case = scores[scorer.name]
        metrics[scorer.name] = mean_metric(per_case)
        aggregate = scorer.aggregate(cases, per_case)
        n = aggregate.n if aggregate.n is not None else metrics[scorer.name].n
        for name, value in aggregate.metrics.items():
            metrics[f"{scorer.name}.{name}"] = Metric(_plain(value), n)
        if aggregate.details:
            details[scorer.name] = aggregate.details
    errors = sum(1 for outcome in outcomes if is_error(outcome))
    metrics[ERROR_RATE] = Metric(errors / len(outcomes) if outcomes else None, len(outcomes))
    return metrics, details


def mean_metric(scores: Sequence[Score | None]) -> Metric:
    """The mean of the scores that exist (None: errored), over how many there are; None if there are none."""
    values = [score.value for score in scores if score is not None]
    return Metric(math.fsum(values) / len(values) if values else None, len(values))


def _plain(value: float | None) -> float | None:
    """A plain Python float (never a numpy scalar), or None for a missing or NaN figure."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _check_aligned(cases: Sequence[Case], outcomes: Sequence[Outcome], target: str) -> None:
    if len(outcomes) != len(cases):
        raise ValueError(f"target {target!r} has {len(outcomes)} outcomes for {len(cases)} cases")
