"""Statistics: confidence intervals, paired tests and multiple-comparison corrections, as pure functions.

Nothing here knows about results.json; ``evalkit.analysis`` feeds these with per-case vectors. Every
random procedure takes a seed (or a generator made by ``seeded``), so the same data and seed give the
same numbers. numpy and scipy are imported inside the functions that need them.

    wilson_ci          CI of a proportion (Wilson score interval)
    mcnemar_exact      p of paired 0/1 outcomes: two-sided binomial test on the discordant pairs
    sign_flip_p        p of paired continuous differences: sign-flip permutation test
    holm               Holm step-down adjustment of a family of p-values
    bootstrap_ci       percentile bootstrap CI of a mean over cases (bootstrap_means: its replicates)
    bootstrap_tallies  bootstrap resamples as counts per kind of case (for vectorised statistics)
    percentile_ci      CI from bootstrap replicates;  bootstrap_p: two-sided p from replicates of a Δ
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "EXACT_SIGN_FLIP_MAX",
    "MULTINOMIAL_MAX_KINDS",
    "bootstrap_ci",
    "bootstrap_means",
    "bootstrap_p",
    "bootstrap_tallies",
    "holm",
    "mcnemar_exact",
    "percentile_ci",
    "seeded",
    "sign_flip_p",
    "wilson_ci",
]

EXACT_SIGN_FLIP_MAX = 16
"""Up to this many non-zero differences the sign-flip test enumerates all 2**n sign patterns."""

MULTINOMIAL_MAX_KINDS = 64
"""Up to this many kinds of case, bootstrap tallies are drawn from the multinomial distribution directly."""

_CHUNK_CELLS = 2_000_000
"""Largest resample matrix (rows × cases) held in memory at once."""


def wilson_ci(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``successes / n`` (as statsmodels' ``method="wilson"``)."""
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    crit = _critical_value(confidence)
    q = successes / n
    crit2 = crit**2
    denom = 1 + crit2 / n
    center = (q + crit2 / (2 * n)) / denom
    dist = crit * math.sqrt(q * (1.0 - q) / n + crit2 / (4.0 * n**2)) / denom
    return max(0.0, center - dist), min(1.0, center + dist)


def mcnemar_exact(fixed: int, broken: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of ``min(fixed, broken)`` of the discordant pairs
    at 0.5 (statsmodels ``mcnemar(table, exact=True)``); 1.0 when no pair is discordant."""
    if fixed < 0 or broken < 0:
        raise ValueError(f"counts must not be negative, got fixed={fixed}, broken={broken}")
    total = fixed + broken
    if total == 0:
        return 1.0
    from scipy.stats import binom

    return min(1.0, 2.0 * float(binom.cdf(min(fixed, broken), total, 0.5)))


def sign_flip_p(differences: Sequence[float], *, resamples: int = 10000, seed: int = 0) -> float:
    """Two-sided paired permutation p-value of the mean difference being 0: how often flipping the signs
    of the differences at random gives a sum at least as far from 0 as the observed one.

    Zero differences carry no sign and are left out. With at most ``EXACT_SIGN_FLIP_MAX`` non-zero
    differences every sign pattern is enumerated (an exact p); otherwise ``resamples`` random patterns are
    drawn from ``seed`` and p = (hits + 1) / (resamples + 1). 1.0 when every difference is 0.
    """
    import numpy as np

    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    values = np.asarray(differences, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("differences must be finite numbers")
    values = values[values != 0]
    if values.size == 0:
        return 1.0
    observed = abs(float(values.sum()))
    threshold = observed - 1e-9 * float(np.abs(values).sum())  # sums equal up to rounding count as hits
    if values.size <= EXACT_SIGN_FLIP_MAX:
        patterns = (np.arange(2**values.size)[:, None] >> np.arange(values.size)) & 1
        sums = (1 - 2 * patterns) @ values
        return float(np.mean(np.abs(sums) >= threshold))
    # Cases with equal differences are interchangeable: flipping c of them at random changes the sum by
    # the value times (2 * Binomial(c, 1/2) - c), so one binomial draw per distinct value suffices.
    distinct, counts = np.unique(values, return_counts=True)
    rng = np.random.default_rng(seed)
    hits = 0
    for rows in _chunk_rows(resamples, distinct.size):
        kept = rng.binomial(counts, 0.5, size=(rows, distinct.size))
        sums = (2 * kept - counts) @ distinct
        hits += int(np.count_nonzero(np.abs(sums) >= threshold))
    return (hits + 1) / (resamples + 1)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the order given (statsmodels ``multipletests(method="holm")``)."""
    for p in p_values:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values must be between 0 and 1, got {p}")
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def seeded(seed: int, *key: str) -> np.random.Generator:
    """A generator determined by ``seed`` and a key (e.g. target and metric names), so that each figure
    gets its own stream whatever order figures are computed in."""
    import numpy as np

    if seed < 0:
        raise ValueError(f"seed must not be negative, got {seed}")
    salt = zlib.crc32("\x1f".join(key).encode("utf-8"))
    return np.random.default_rng([seed, salt])


def bootstrap_tallies(
    counts: Sequence[int] | NDArray[np.integer[Any]], *, resamples: int, rng: np.random.Generator
) -> Iterator[NDArray[np.float64]]:
    """Bootstrap resamples of a sample holding ``counts[k]`` cases of kind k, as tallies: for each
    resample (a row), how many cases of each kind it drew (rows sum to the sample size).

    Tallies are all any statistic of the resampled cases needs, so a statistic is computed for every
    resample at once (``tallies @ values / n`` is the mean). With few kinds they are drawn directly from
    the multinomial distribution they follow; otherwise case indices are drawn and counted. Rows come in
    chunks of at most a few million cells.
    """
    import numpy as np

    weights = np.asarray(counts, dtype=np.int64)
    n = int(weights.sum())
    if n < 1 or np.any(weights < 0):
        raise ValueError("counts must not be negative, and not all zero")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    kinds = weights.size
    if kinds <= MULTINOMIAL_MAX_KINDS:
        for rows in _chunk_rows(resamples, kinds):
            yield rng.multinomial(n, weights / n, size=rows).astype(np.float64)
        return
    case_kinds = np.repeat(np.arange(kinds), weights)
    for rows in _chunk_rows(resamples, max(n, kinds)):
        drawn = case_kinds[rng.integers(0, n, size=(rows, n))] + (np.arange(rows) * kinds)[:, None]
        yield np.bincount(drawn.ravel(), minlength=rows * kinds).reshape(rows, kinds).astype(np.float64)


def percentile_ci(replicates: NDArray[np.float64], *, confidence: float = 0.95) -> tuple[float, float] | None:
    """Percentile interval of bootstrap replicates; replicates that are NaN (an undefined figure in that
    resample) are left out. None when none is defined."""
    import numpy as np

    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return None
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_p(deltas: NDArray[np.float64]) -> float | None:
    """Two-sided p-value that a difference is 0, from bootstrap replicates of it: twice the smaller share
    of replicates on either side of 0 (each share counted as (hits + 1) / (replicates + 1)), at most 1.
    It is below 1 − confidence exactly when 0 falls outside the percentile interval. None without
    defined replicates."""
    import numpy as np

    finite = deltas[np.isfinite(deltas)]
    if finite.size == 0:
        return None
    count = finite.size + 1
    at_or_below = (int(np.count_nonzero(finite <= 0)) + 1) / count
    at_or_above = (int(np.count_nonzero(finite >= 0)) + 1) / count
    return min(1.0, 2.0 * min(at_or_below, at_or_above))


def bootstrap_ci(
    values: Sequence[float], *, resamples: int = 2000, seed: int = 0, confidence: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampling the values with replacement)."""
    interval = percentile_ci(
        bootstrap_means(values, resamples=resamples, rng=seeded(seed)), confidence=confidence
    )
    if interval is None:
        raise ValueError("values must be finite numbers")
    return interval


def bootstrap_means(
    values: Sequence[float] | NDArray[np.float64], *, resamples: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """The mean of each of ``resamples`` bootstrap samples of ``values``."""
    import numpy as np

    distinct, counts = np.unique(np.asarray(values, dtype=np.float64), return_counts=True)
    n = int(counts.sum())
    chunks = [tallies @ distinct / n for tallies in bootstrap_tallies(counts, resamples=resamples, rng=rng)]
    return np.concatenate(chunks)


def _chunk_rows(resamples: int, n: int) -> Iterator[int]:
    rows = max(1, _CHUNK_CELLS // n)
    done = 0
    while done < resamples:
        step = min(rows, resamples - done)
        yield step
        done += step


def _critical_value(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
