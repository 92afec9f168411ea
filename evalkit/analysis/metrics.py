"""The figures per target, from a run's scores: what results.json and gate rules name.

    <scorer>              mean of the scorer's per-case scores, over the cases it scored
    <scorer>.<aggregate>  a suite-level figure of that scorer (``classify.macro_f1``, …)
    error_rate            errored outcomes / all cases

Confidence intervals and paired comparisons are not computed here (see ``intervals`` and ``paired``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.records import ERROR_RATE, Case, Metric, Outcome, Score, is_scored
from evalkit.scorers import Scorer
from evalkit.scorers.base import is_error
from evalkit.scorers.run import Scores, check_aligned


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
        check_aligned(cases, outcomes, target)
        metrics[target], details[target] = _target_metrics(cases, outcomes, scores[target], scorers)
    return metrics, details


def _target_metrics(
    cases: Sequence[Case],
    outcomes: Sequence[Outcome],
    scores: Mapping[str, Sequence[Score | None]],
    scorers: Sequence[Scorer],
) -> tuple[dict[str, Metric], dict[str, dict[str, Any]]]:
    metrics: dict[str, Metric] = {}
    details: dict[str, dict[str, Any]] = {}
    for scorer in scorers:
        per_case = [score if is_scored(score) else None for score in scores[scorer.name]]
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
    """The mean of the scores that exist (None: errored; ``FailedScore``: could not be scored), over how
    many there are; None if there are none."""
    values = [score.value for score in scores if score is not None and is_scored(score)]
    return Metric(math.fsum(values) / len(values) if values else None, len(values))


def _plain(value: float | None) -> float | None:
    """A plain Python float (never a numpy scalar), or None for a missing or NaN figure."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number
