"""Each side's figure over the cases its paired Δ is computed on, so that A, B and Δ read together.

A paired comparison (``paired.compare_sides``) computes Δ over the cases both sides have figures for; a
run reports each metric over all of its own cases. When two runs cover different cases the two differ,
and a whole-run value beside Δ misleads. These are the figures on the paired cases, computed as Δ is:

    error_rate, <scorer>     the mean of the per-case figures over the paired ids (Δ: the mean difference)
    <classify>.<figure>      the figure of the confusion matrix of the paired ids (Δ: their difference)
    other aggregates         none: they cannot be recomputed from per-case figures, so their Δ is the
                             difference of the reported whole-run values (``covers_same_cases`` tells
                             whether those are over the same cases anyway)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from evalkit.analysis.cases import MetricSpec, Side, paired_ids
from evalkit.analysis.classification import figures

__all__ = ["covers_same_cases", "values_on_pairs"]


def values_on_pairs(first: Side, second: Side, metric: str) -> tuple[float | None, float | None] | None:
    """(``first``'s figure, ``second``'s) over the cases they are paired on for ``metric``; None for a
    metric that cannot be recomputed on them. A figure is None when no case pairs or it is undefined."""
    spec = first.run.spec(metric)
    if spec is None or second.run.spec(metric) != spec:
        return None
    if spec.kind == "classify":
        found = first.run.labels(first.target, spec.scorer), second.run.labels(second.target, spec.scorer)
        ids = paired_ids(*found)
        return _figure(first, spec, found[0], ids), _figure(second, spec, found[1], ids)
    one, other = _per_case(first, spec), _per_case(second, spec)
    ids = paired_ids(one, other)
    return _mean(one, ids), _mean(other, ids)


def covers_same_cases(first: Side, second: Side, metric: str) -> bool:
    """True when both sides' whole-run ``metric`` is over the same cases: those its scorer scored (for a
    metric named after a scorer of both runs), else those each side answered and failed."""
    scorer = metric.partition(".")[0]
    if scorer in first.run.scorer_kinds and scorer in second.run.scorer_kinds:
        scored = first.run.scores(first.target, scorer), second.run.scores(second.target, scorer)
        return scored[0].keys() == scored[1].keys()
    return first.run.errors(first.target) == second.run.errors(second.target)


def _per_case(side: Side, spec: MetricSpec) -> Mapping[str, float]:
    if spec.kind == "error_rate":
        return side.run.errors(side.target)
    return side.run.scores(side.target, spec.scorer)


def _mean(values: Mapping[str, float], ids: Sequence[str]) -> float | None:
    return math.fsum(values[case_id] for case_id in ids) / len(ids) if ids else None


def _figure(
    side: Side, spec: MetricSpec, found: Mapping[str, tuple[int, int]], ids: Sequence[str]
) -> float | None:
    """The classify figure over ``ids`` of their (true, predicted) classes, as ``paired.compare_figures``
    computes it."""
    import numpy as np

    if not ids:
        return None
    labels = side.run.classify[spec.scorer].labels
    classes = len(labels) + 1  # the last one is ``unparsed``
    confusion = np.zeros((1, classes, classes))
    true, predicted = np.array([found[case_id] for case_id in ids], dtype=np.intp).T
    np.add.at(confusion[0], (true, predicted), 1.0)
    value = float(figures(confusion, labels)[spec.figure][0])
    return value if math.isfinite(value) else None
