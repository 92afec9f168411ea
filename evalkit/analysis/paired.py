"""Paired comparisons of two targets on one metric, case by case: Δ, its CI, a p-value, flips.

The two sides may be targets of one run (a checkpoint against its base) or of two runs (a candidate
against a saved baseline); cases are paired by id, over the cases both sides have figures for.

    0/1 per-case scores, error_rate   Δ of means; paired bootstrap CI; exact McNemar p
    other per-case scores             Δ of means; paired bootstrap CI; sign-flip permutation p
    classify figures (macro_f1, …)    Δ of figures; paired bootstrap CI and p (same resamples both sides)
    other aggregates                  Δ of the reported values only (no pairing possible): ci/p/test null

Each tested comparison carries its ``mde`` (``analysis.power``): from the share of cases the two sides
disagree on for McNemar, from the spread of the per-case difference (or of the bootstrap replicates of Δ)
otherwise, at the level the caller gives (``power.ALPHA`` unless a gate rule tests it at another).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from evalkit.analysis import cases as per_case
from evalkit.analysis.cases import MetricSpec, Side
from evalkit.analysis.classification import confusions, figures, kinds_of
from evalkit.analysis.power import ALPHA, Spread, mde
from evalkit.analysis.stats import (
    bootstrap_means,
    bootstrap_p,
    bootstrap_tallies,
    holm,
    mcnemar_exact,
    percentile_ci,
    seeded,
    sign_flip_p,
)
from evalkit.errors import InputError
from evalkit.records import Metric
from evalkit.records.findings import Comparison, Flip

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

Test = Literal["mcnemar-exact", "sign-flip-permutation", "paired-bootstrap"]
MCNEMAR: Test = "mcnemar-exact"
"""``test`` of a comparison of 0/1 per-case figures."""
SIGN_FLIP: Test = "sign-flip-permutation"
"""``test`` of a comparison of other per-case scores."""
BOOTSTRAP: Test = "paired-bootstrap"
"""``test`` of a comparison of suite-level figures."""


Measured = tuple[Comparison, Spread | None]
"""A comparison (its ``mde`` not yet set), and the spread of its difference its power depends on."""


def compare_sides(
    a: Side, b: Side, metric: str, *, seed: int, resamples: int, alpha: float = ALPHA
) -> Comparison:
    """``a`` against ``b`` on ``metric`` (Δ = a − b), paired by case id; its ``mde`` at ``alpha``."""
    return compare_many(a, b, [metric], seed=seed, resamples=resamples, alphas={metric: alpha})[0]


def compare_many(
    a: Side,
    b: Side,
    metrics: Sequence[str],
    *,
    seed: int,
    resamples: int,
    alphas: Mapping[str, float] | None = None,
) -> list[Comparison]:
    """``a`` against ``b`` on each of ``metrics``, in that order, each ``mde`` at its level in ``alphas``
    (default ``power.ALPHA``): the figures of one classify scorer share one set of resamples (the numbers
    are those ``compare_sides`` gives one by one)."""
    levels = alphas or {}
    found = []
    for comparison, spread in measure_many(a, b, metrics, seed=seed, resamples=resamples):
        level = levels.get(comparison.metric, ALPHA)
        found.append(comparison if spread is None else replace(comparison, mde=mde(spread, alpha=level)))
    return found


def measure_many(a: Side, b: Side, metrics: Sequence[str], *, seed: int, resamples: int) -> list[Measured]:
    """Each of ``metrics``' comparison (without ``mde``) and the spread of its difference (None where no
    test was made): what ``compare_many`` computes the ``mde`` from, and ``evalkit plan`` the cases needed."""
    found: dict[str, Measured] = {}
    figures_by_scorer: dict[str, list[str]] = {}
    for name in metrics:
        spec = a.run.spec(name)
        if spec is None or b.run.spec(name) != spec:
            found[name] = _unpaired(a, b, name), None
        elif spec.kind == "classify":
            figures_by_scorer.setdefault(spec.scorer, []).append(spec.figure)
        else:
            found[name] = _compare_values(a, b, spec, seed=seed, resamples=resamples)
    for scorer, names in figures_by_scorer.items():
        for measured in _compare_figures(a, b, scorer, names, seed=seed, resamples=resamples):
            found[measured[0].metric] = measured
    return [found[name] for name in metrics]


def _compare_figures(
    a: Side, b: Side, scorer: str, names: Sequence[str], *, seed: int, resamples: int
) -> list[Measured]:
    """``a`` against ``b`` on several figures of one classify scorer, from one set of resamples; the
    spread of each Δ is its replicates' standard deviation (scaled to one case: × √n)."""
    import numpy as np

    first, second = a.run.labels(a.target, scorer), b.run.labels(b.target, scorer)
    ids = per_case.paired_ids(first, second)
    metrics = [f"{scorer}.{name}" for name in names]
    if not ids:
        return [(_comparison(a, b, metric, None, None, None, None, 0), None) for metric in metrics]
    kinds, counts = kinds_of(*_label_arrays(first, ids), *_label_arrays(second, ids))
    labels = (a.run.classify[scorer].labels, b.run.classify[scorer].labels)
    point = _figure_deltas(counts[None, :].astype(np.float64), kinds, labels, names)
    rng = seeded(seed, "paired", a.target, b.target, scorer)
    chunks = [
        _figure_deltas(tallies, kinds, labels, names)
        for tallies in bootstrap_tallies(counts, resamples=resamples, rng=rng)
    ]
    found = []
    for name, metric in zip(names, metrics, strict=True):
        replicates = np.concatenate([chunk[name] for chunk in chunks])
        delta = _finite(point[name][0])
        ci, p = (percentile_ci(replicates), bootstrap_p(replicates)) if delta is not None else (None, None)
        finite = replicates[np.isfinite(replicates)]
        spread = None
        if delta is not None and finite.size > 1:
            spread = Spread(len(ids), sd=float(finite.std(ddof=1)) * math.sqrt(len(ids)))
        found.append((_comparison(a, b, metric, delta, ci, p, BOOTSTRAP, len(ids)), spread))
    return found


def flips_between(a: Side, b: Side, scorer: str) -> Flip:
    """Cases ``a`` gets right and ``b`` wrong (fixed), the reverse (broken), and the ties, for a scorer
    with 0/1 scores, over the cases both scored. ValueError when a score is neither 0 nor 1."""
    first, second = a.run.scores(a.target, scorer), b.run.scores(b.target, scorer)
    ids = per_case.paired_ids(first, second)
    odd = [
        case_id for case_id in ids if first[case_id] not in (0.0, 1.0) or second[case_id] not in (0.0, 1.0)
    ]
    if odd:
        raise ValueError(
            f"scorer {scorer!r} gives scores other than 0 and 1 (case {odd[0]!r}); flips count "
            "right and wrong answers"
        )
    fixed = [i for i in ids if first[i] > second[i]]
    broken = [i for i in ids if first[i] < second[i]]
    return Flip(
        target=a.target,
        versus=b.target,
        scorer=scorer,
        fixed=len(fixed),
        broken=len(broken),
        both_right=sum(1 for i in ids if first[i] == second[i] == 1.0),
        both_wrong=sum(1 for i in ids if first[i] == second[i] == 0.0),
        fixed_ids=fixed,
        broken_ids=broken,
    )


def adjusted(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons with ``p_adjusted`` set: Holm over each family sharing (versus, metric)."""
    families: dict[tuple[str, str], list[int]] = {}
    for index, comparison in enumerate(comparisons):
        if comparison.p_value is not None:
            families.setdefault((comparison.versus, comparison.metric), []).append(index)
    found = [replace(comparison, p_adjusted=None) for comparison in comparisons]
    for family in families.values():
        p_values = [float(comparisons[i].p_value or 0.0) for i in family]
        for index, p in zip(family, holm(p_values), strict=True):
            found[index] = replace(found[index], p_adjusted=p)
    return found


def _compare_values(a: Side, b: Side, spec: MetricSpec, *, seed: int, resamples: int) -> Measured:
    """A per-case metric: McNemar's spread is the share of cases the sides disagree on, the sign-flip
    test's the standard deviation of the per-case difference."""
    import numpy as np

    first, second = _values(a, spec), _values(b, spec)
    ids = per_case.paired_ids(first, second)
    if not ids:
        return _comparison(a, b, spec.name, None, None, None, None, 0), None
    x = np.array([first[i] for i in ids])
    y = np.array([second[i] for i in ids])
    differences = x - y
    rng = seeded(seed, "paired", a.target, b.target, spec.name)
    ci = percentile_ci(bootstrap_means(differences, resamples=resamples, rng=rng))
    n = len(ids)
    spread: Spread | None
    if np.isin(x, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all():
        p, test = mcnemar_exact(int((x > y).sum()), int((x < y).sum())), MCNEMAR
        spread = Spread(n, discordance=float(np.count_nonzero(x != y)) / n)
    else:
        p, test = sign_flip_p(differences, resamples=resamples, seed=seed), SIGN_FLIP
        spread = Spread(n, sd=float(differences.std(ddof=1))) if n > 1 else None
    return _comparison(a, b, spec.name, float(differences.mean()), ci, p, test, n), spread


def _values(side: Side, spec: MetricSpec) -> dict[str, float]:
    if spec.kind == "error_rate":
        return side.run.errors(side.target)
    return side.run.scores(side.target, spec.scorer)


def _unpaired(a: Side, b: Side, metric: str) -> Comparison:
    """A figure that cannot be resampled: Δ of the reported values, nothing else."""
    first, second = _reported(a, metric), _reported(b, metric)
    value, other = first.value, second.value
    delta = None if value is None or other is None else float(value) - float(other)
    return _comparison(a, b, metric, delta, None, None, None, min(first.n, second.n))


def _reported(side: Side, metric: str) -> Metric:
    known = side.run.results.metrics.get(side.target, {})
    if metric not in known:
        names = ", ".join(sorted(known)) or "none"
        raise InputError(f"metric {metric!r} is not reported for target {side.target!r} (metrics: {names})")
    return known[metric]


def _label_arrays(found: dict[str, tuple[int, int]], ids: list[str]) -> tuple[NDArray[Any], NDArray[Any]]:
    import numpy as np

    pairs = np.array([found[i] for i in ids], dtype=np.intp)
    return pairs[:, 0], pairs[:, 1]


def _figure_deltas(
    tallies: NDArray[np.float64],
    kinds: NDArray[np.int64],
    labels: tuple[tuple[str, ...], tuple[str, ...]],
    names: Sequence[str],
) -> dict[str, NDArray[np.float64]]:
    """Per row of tallies, each figure of side a minus side b (kinds: true a, predicted a, true b,
    predicted b)."""
    first = figures(confusions(tallies, kinds[:, 0], kinds[:, 1], len(labels[0]) + 1), labels[0])
    second = figures(confusions(tallies, kinds[:, 2], kinds[:, 3], len(labels[1]) + 1), labels[1])
    return {name: first[name] - second[name] for name in names}


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _comparison(
    a: Side,
    b: Side,
    metric: str,
    delta: float | None,
    ci: tuple[float, float] | None,
    p_value: float | None,
    test: Test | None,
    n: int,
) -> Comparison:
    return Comparison(
        target=a.target,
        versus=b.target,
        metric=metric,
        delta=None if delta is None else float(delta),
        ci=None if ci is None else (float(ci[0]), float(ci[1])),
        p_value=None if p_value is None else float(p_value),
        p_adjusted=None if p_value is None else float(p_value),
        test=test,
        n=n,
    )
