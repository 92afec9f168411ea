"""95% confidence intervals of every target's metrics: the run's metrics, returned with their ``ci`` set.

error_rate, means of 0/1 scores   Wilson score interval
means of other scores             percentile bootstrap over cases
classify figures                  percentile bootstrap over cases, all figures from one set of resamples
other aggregates                  left as they are (null unless their scorer set one)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from evalkit.analysis import cases as per_case
from evalkit.analysis.cases import MetricSpec, Run, Side
from evalkit.analysis.classification import confusions, figures, kinds_of
from evalkit.analysis.stats import bootstrap_means, bootstrap_tallies, percentile_ci, seeded, wilson_ci
from evalkit.records import Metric

Interval = tuple[float, float] | None


def with_intervals(run: Run, *, seed: int, resamples: int) -> dict[str, dict[str, Metric]]:
    """The run's metrics, each whose per-case figures can be read back from the run with its ``ci`` set
    (None where the figure is undefined); the others as they were."""
    found_all: dict[str, dict[str, Metric]] = {}
    for target, metrics in run.results.metrics.items():
        side = Side(run, target)
        specs = {name: spec for name in metrics if (spec := run.spec(name)) is not None}
        found = _figure_intervals(side, specs, seed=seed, resamples=resamples)
        for name, spec in specs.items():
            if spec.kind != "classify":
                found[name] = _mean_interval(side, spec, seed=seed, resamples=resamples)
        updated = dict(metrics)
        for name, interval in found.items():
            undefined = interval is None or metrics[name].value is None
            updated[name] = replace(metrics[name], ci=None if undefined or interval is None else _plain(interval))
        found_all[target] = updated
    return found_all


def _plain(interval: tuple[float, float]) -> tuple[float, float]:
    return float(interval[0]), float(interval[1])


def _mean_interval(side: Side, spec: MetricSpec, *, seed: int, resamples: int) -> Interval:
    run, target = side.run, side.target
    values = run.errors(target) if spec.kind == "error_rate" else run.scores(target, spec.scorer)
    if not values:
        return None
    if per_case.is_binary(values):
        return wilson_ci(int(sum(values.values())), len(values))
    rng = seeded(seed, "ci", side.target, spec.name)
    return percentile_ci(bootstrap_means(list(values.values()), resamples=resamples, rng=rng))


def _figure_intervals(
    side: Side, specs: Mapping[str, MetricSpec], *, seed: int, resamples: int
) -> dict[str, Interval]:
    """Intervals of the classify figures among ``specs``, one bootstrap per scorer."""
    by_scorer: dict[str, list[MetricSpec]] = {}
    for spec in specs.values():
        if spec.kind == "classify":
            by_scorer.setdefault(spec.scorer, []).append(spec)
    found: dict[str, Interval] = {}
    for scorer, wanted in by_scorer.items():
        found.update(_scorer_intervals(side, scorer, wanted, seed=seed, resamples=resamples))
    return found


def _scorer_intervals(
    side: Side, scorer: str, wanted: list[MetricSpec], *, seed: int, resamples: int
) -> dict[str, Interval]:
    import numpy as np

    classify = side.run.classify[scorer]
    pairs = list(side.run.labels(side.target, scorer).values())
    if not pairs:
        return dict.fromkeys((spec.name for spec in wanted), None)
    kinds, counts = kinds_of(*np.array(pairs, dtype=np.int64).T)
    classes = len(classify.labels) + 1
    rng = seeded(seed, "ci", side.target, scorer)
    chunks: list[dict[str, Any]] = [
        figures(confusions(tallies, kinds[:, 0], kinds[:, 1], classes), classify.labels)
        for tallies in bootstrap_tallies(counts, resamples=resamples, rng=rng)
    ]
    return {
        spec.name: percentile_ci(np.concatenate([chunk[spec.figure] for chunk in chunks])) for spec in wanted
    }
