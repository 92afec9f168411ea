"""The stats stage over a run's results: CIs, paired comparisons, flips and a checkpoint recommendation.

``analyse`` returns what the gate and the reports read, as an ``Analysis``:

    metrics          the run's metrics with their 95% CI (Wilson for 0/1 means, bootstrap for other
                     means and figures)
    comparisons      every target against its base (and the extra ``pairs``), per metric: Δ, CI of Δ, p,
                     Holm-adjusted p within each (versus, metric) family, and the mde: the smallest true
                     Δ its test detects with 80% power (``analysis.power``) at the level a gate rule
                     tests it at (``alphas``), else 0.05
    flips            per pair and 0/1 scorer: fixed, broken, both right, both wrong
    recommendation   the model to ship: the final one unless an earlier checkpoint is significantly
                     better on the primary metric (then that checkpoint, overfitting flagged)

``compare``, ``compare_runs`` (``compare_run_metrics`` for several metrics) and ``flip_counts`` compute
a comparison (or flip count) on demand, with the same numbers ``analyse`` gives for it; ``spread_of``
the spread of a comparison's difference its power depends on (``evalkit plan``). Everything is seeded:
same results and seed, same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from evalkit.analysis.cases import Run, Side
from evalkit.analysis.floors import RESAMPLES
from evalkit.analysis.intervals import with_intervals
from evalkit.analysis.paired import adjusted, compare_many, compare_sides, flips_between, measure_many
from evalkit.analysis.power import ALPHA, Spread
from evalkit.analysis.recommend import base_of, primary_metric, recommend
from evalkit.records import Metric
from evalkit.records.findings import Comparison, Flip, Recommendation
from evalkit.records.results import RunResults

__all__ = [
    "Analysis",
    "analyse",
    "base_of",
    "compare",
    "compare_run_metrics",
    "compare_runs",
    "flip_counts",
    "flip_scorers",
    "primary_metric_of",
    "spread_of",
]


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the stats stage found about a run."""

    metrics: dict[str, dict[str, Metric]]
    """The run's metrics, each with its 95% CI where its per-case figures can be resampled."""
    comparisons: list[Comparison]
    """Every target against its base and the pairs asked for, per metric, Holm-adjusted per family."""
    flips: list[Flip]
    """Per compared pair and 0/1 scorer: the cases fixed, broken, right or wrong in both."""
    recommendation: Recommendation | None
    """The model to ship, or None when the run has no checkpoints."""
    resamples: int = RESAMPLES
    """How many resamples each bootstrap and random permutation test drew."""

    def into(self, results: RunResults) -> RunResults:
        """``results`` with this analysis in place of its metrics, comparisons, flips, recommendation and
        resample count."""
        return replace(
            results,
            metrics=self.metrics,
            comparisons=self.comparisons,
            flips=self.flips,
            recommendation=self.recommendation,
            resamples=self.resamples,
        )


def analyse(
    results: RunResults,
    *,
    pairs: Sequence[tuple[str, str]] = (),
    seed: int = 0,
    resamples: int = RESAMPLES,
    alphas: Mapping[tuple[str, str, str], float] | None = None,
) -> Analysis:
    """CIs, comparisons, flips and the recommendation of a run.

    Compared: every target against its base (see ``base_of``), then each (target, versus) of ``pairs``
    not already compared; ``InputError`` when a pair names a target the run does not have. Each
    comparison's ``mde`` is at its level in ``alphas`` (by (target, versus, metric): the gate's, from
    ``gate.rule_levels``), else ``power.ALPHA``.
    """
    run = Run(results)
    for target, versus in pairs:
        run.check_target(target)
        run.check_target(versus, what="versus target")
    compared = _pairs(run, pairs)
    levels = alphas or {}
    comparisons = [
        c for t, v in compared for c in _compare_pair(run, t, v, levels, seed=seed, resamples=resamples)
    ]
    binary = flip_scorers(results)
    return Analysis(
        metrics=with_intervals(run, seed=seed, resamples=resamples),
        comparisons=adjusted(comparisons),
        flips=[flips_between(Side(run, t), Side(run, v), s) for t, v in compared for s in binary],
        recommendation=recommend(run, known=comparisons, seed=seed, resamples=resamples),
        resamples=resamples,
    )


def compare(
    results: RunResults,
    target: str,
    versus: str,
    metric: str,
    *,
    seed: int = 0,
    resamples: int = 2000,
    alpha: float = ALPHA,
) -> Comparison:
    """One paired comparison of two targets of a run (a ``comparisons`` entry; ``p_adjusted`` = ``p_value``;
    ``mde`` at ``alpha``).

    ``InputError`` for a target or metric the run does not have.
    """
    run = Run(results)
    run.check_target(target)
    run.check_target(versus, what="versus target")
    return compare_sides(
        Side(run, target), Side(run, versus), metric, seed=seed, resamples=resamples, alpha=alpha
    )


def spread_of(
    results: RunResults, target: str, versus: str, metric: str, *, seed: int = 0, resamples: int = 2000
) -> Spread | None:
    """The spread of ``target`` − ``versus`` on ``metric`` that the power of their paired test depends on
    (its n, and the share of cases they disagree on or the standard deviation of the difference), as
    ``compare`` measures it; None where no test can be made. ``InputError`` as for ``compare``."""
    run = Run(results)
    run.check_target(target)
    run.check_target(versus, what="versus target")
    return measure_many(Side(run, target), Side(run, versus), [metric], seed=seed, resamples=resamples)[0][1]


def compare_runs(
    current: RunResults,
    baseline: RunResults,
    *,
    target: str,
    metric: str,
    baseline_target: str | None = None,
    seed: int = 0,
    resamples: int = 2000,
    alpha: float = ALPHA,
) -> Comparison:
    """``target`` of ``current`` against ``baseline_target`` (default: the same name) of a saved
    ``baseline`` run, paired by case id; the keys of a ``comparisons`` entry, ``versus`` naming the
    baseline's target, ``mde`` at ``alpha``. ``InputError`` for a target or metric either run does not
    have."""
    now, then = Run(current), Run(baseline)
    versus = baseline_target or target
    now.check_target(target)
    then.check_target(versus, what="baseline target")
    return compare_sides(
        Side(now, target), Side(then, versus), metric, seed=seed, resamples=resamples, alpha=alpha
    )


def compare_run_metrics(
    current: RunResults,
    baseline: RunResults,
    *,
    target: str,
    metrics: Sequence[str],
    baseline_target: str | None = None,
    seed: int = 0,
    resamples: int = 2000,
) -> list[Comparison]:
    """``compare_runs`` for several metrics at once, in the order given, with the same numbers; faster,
    as the runs are read once and a classify scorer's figures share one set of resamples."""
    now, then = Run(current), Run(baseline)
    versus = baseline_target or target
    now.check_target(target)
    then.check_target(versus, what="baseline target")
    return compare_many(Side(now, target), Side(then, versus), metrics, seed=seed, resamples=resamples)


def flip_counts(current: RunResults, target: str, baseline: RunResults, baseline_target: str, scorer: str) -> Flip:
    """Fixed/broken/both-right/both-wrong cases of ``target`` (in ``current``) against ``baseline_target``
    (in ``baseline``, which may be the same run) for a 0/1 scorer (a ``flips`` entry).

    ``InputError`` for an unknown target or scorer; ``ValueError`` when the scorer's scores are not all
    0 or 1 (``flip_scorers`` lists the scorers that qualify).
    """
    now, then = Run(current), Run(baseline)
    now.check_target(target)
    then.check_target(baseline_target, what="baseline target")
    for run in (now, then):
        if scorer not in run.scorer_kinds:
            from evalkit.errors import InputError

            known = ", ".join(run.scorer_kinds) or "none"
            raise InputError(f"scorer {scorer!r} is not in this run (scorers: {known})")
    return flips_between(Side(now, target), Side(then, baseline_target), scorer)


def flip_scorers(results: RunResults) -> list[str]:
    """The scorers whose per-case scores are all 0 or 1, for every target (those flips are counted for)."""
    from evalkit.analysis.cases import scorer_kinds

    names = list(scorer_kinds(results))
    scored: set[str] = set()
    for case in results.cases:
        for result in case.results.values():
            scores = result.scores
            names = [name for name in names if scores.get(name) in (None, 0, 1)]
            scored.update(scores)
    return [name for name in names if name in scored]


def primary_metric_of(results: RunResults) -> str | None:
    """The metric checkpoints are ranked by: the first classify scorer's ``macro_f1``, else the first
    scorer's mean; None without scorers."""
    return primary_metric(Run(results))


def _pairs(run: Run, extra: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every target against its base, then the extra pairs; each pair once."""
    targets = run.results.targets
    found: list[tuple[str, str]] = []
    for name in run.target_names():
        base = base_of(targets, name)
        if base is not None:
            found.append((name, base))
    for pair in extra:
        if pair not in found and pair[0] != pair[1]:
            found.append(pair)
    return found


def _compare_pair(
    run: Run,
    target: str,
    versus: str,
    alphas: Mapping[tuple[str, str, str], float],
    *,
    seed: int,
    resamples: int,
) -> list[Comparison]:
    """``target`` against ``versus`` on every metric both report that can be paired, in report order,
    each ``mde`` at its level in ``alphas``."""
    metrics = run.results.metrics
    shared = [
        name
        for name in metrics.get(target, {})
        if name in metrics.get(versus, {}) and run.spec(name) is not None
    ]
    levels = {name: alphas.get((target, versus, name), ALPHA) for name in shared}
    return compare_many(
        Side(run, target), Side(run, versus), shared, seed=seed, resamples=resamples, alphas=levels
    )
