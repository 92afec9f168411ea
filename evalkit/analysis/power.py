"""Power of the paired tests, the minimum detectable effect (mde) and the cases a suite needs.

A go/no-go on a few dozen cases is only as good as the difference it could have seen. For a paired
comparison of n cases these say how large a true Δ its test detects with 80% power (``mde``), the chance
it detects a given Δ (``power_at``), and how many cases it needs for a given Δ (``cases_needed``).

    exact McNemar (0/1 scores)    exact: the discordant pairs k ~ Binomial(n, d), d the share of cases the
                                  two sides disagree on; given k, the cases fixed ~ Binomial(k, q) with
                                  q = (d + Δ) / 2d; the test rejects as ``stats.mcnemar_exact`` < α does.
                                  A Δ above d needs at least |Δ| disagreement: d is taken as max(d, |Δ|).
    sign-flip permutation,        normal approximation from the per-case spread of the difference:
    paired bootstrap              mde = (z[1 − α/2] + z[power]) · sd / √n (for a bootstrap of an
                                  aggregate, sd / √n is the standard deviation of its replicates of Δ)

Power counts detections in the direction of Δ only: the gate's tests are two-sided at α, and a rule acts
on one side of them (superiority: Δ > 0 and p < α; non-inferiority: the low end of Δ's 95% CI, a
one-sided test at 0.025), so the level in every formula is two-sided α. numpy and scipy are imported
inside the functions that need them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "ALPHA",
    "MAX_CASES",
    "POWER",
    "Spread",
    "cases_needed",
    "independent_discordance",
    "mcnemar_power",
    "mde",
    "normal_power",
    "power_at",
]

ALPHA = 0.05
"""The level of a comparison no gate rule tests (and of a non-inferiority rule's 95% CI)."""

POWER = 0.80
"""The power the mde is reported at."""

MAX_CASES = 100_000_000
"""``cases_needed`` gives up above this many cases (a Δ too small to plan a suite for)."""

_SPAN_SDS = 9.0
"""The discordant-pair counts summed over: this many standard deviations either side of their mean (the
probability left out is below 1e-18)."""


@dataclass(frozen=True, slots=True)
class Spread:
    """What a paired test's power depends on besides Δ and α: its n, and how much the two sides differ."""

    n: int
    """Cases paired."""
    discordance: float | None = None
    """Exact McNemar: the share of cases on which the two sides disagree (one right, one wrong)."""
    sd: float | None = None
    """Other tests: the standard deviation of the per-case difference (for a bootstrap of an aggregate,
    the standard deviation of its replicates of Δ times √n)."""

    def __post_init__(self) -> None:
        if (self.discordance is None) == (self.sd is None):
            raise ValueError("give a discordance (exact McNemar) or an sd (normal approximation), not both")
        if self.n < 0:
            raise ValueError(f"n must not be negative, got {self.n}")
        if self.discordance is not None and not 0.0 <= self.discordance <= 1.0:
            raise ValueError(f"discordance must be between 0 and 1, got {self.discordance}")
        if self.sd is not None and not (math.isfinite(self.sd) and self.sd >= 0.0):
            raise ValueError(f"sd must be a finite number, 0 or more, got {self.sd}")


def mcnemar_power(n: int, delta: float, *, discordance: float, alpha: float = ALPHA) -> float:
    """The chance that the exact McNemar test on ``n`` paired 0/1 cases finds p < ``alpha`` with the
    difference's sign when the true difference of accuracies is ``delta`` and the two sides disagree on a
    share ``discordance`` of cases (raised to ``|delta|`` when below it)."""
    _check_level(alpha, "alpha")
    if n < 1:
        return 0.0
    return float(_mcnemar_power(n, abs(delta), discordance, alpha))


def normal_power(n: int, delta: float, *, sd: float, alpha: float = ALPHA) -> float:
    """The chance that a two-sided test at ``alpha`` of a mean difference over ``n`` paired cases, with
    per-case standard deviation ``sd``, finds it in the direction of a true ``delta`` (normal
    approximation)."""
    from scipy.stats import norm

    _check_level(alpha, "alpha")
    if n < 1:
        return 0.0
    if sd == 0.0:
        return 1.0 if delta != 0.0 else float(alpha / 2)
    return float(norm.cdf(abs(delta) * math.sqrt(n) / sd - norm.ppf(1.0 - alpha / 2)))


def power_at(spread: Spread, delta: float, *, alpha: float = ALPHA, n: int | None = None) -> float:
    """The power of ``spread``'s test for a true ``delta`` at ``alpha``, on its own n or on ``n`` cases."""
    cases = spread.n if n is None else n
    if spread.discordance is not None:
        return mcnemar_power(cases, delta, discordance=spread.discordance, alpha=alpha)
    assert spread.sd is not None  # a Spread has one or the other
    return normal_power(cases, delta, sd=spread.sd, alpha=alpha)


def mde(spread: Spread, *, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """The smallest true |Δ| the test detects with ``power`` at ``alpha`` on ``spread.n`` cases.

    None when it cannot be said: no case; no spread of the difference to judge from (the two sides never
    disagree, or every per-case difference is the same); or, for exact McNemar, too few cases for any Δ
    (at α = 0.05, fewer than 6 disagreeing cases can never give p < α).
    """
    _check_level(alpha, "alpha")
    _check_level(power, "power")
    if spread.n < 1:
        return None
    if spread.sd is not None:
        if spread.sd == 0.0:
            return None
        from scipy.stats import norm

        return float((norm.ppf(1.0 - alpha / 2) + norm.ppf(power)) * spread.sd / math.sqrt(spread.n))
    assert spread.discordance is not None  # a Spread has one or the other
    d = spread.discordance
    if d == 0.0 or _mcnemar_power(spread.n, 1.0, d, alpha) < power:
        return None
    from scipy.optimize import brentq

    # Solved on one side of Δ = d at a time: below it the disagreement stays d, above it it is Δ.
    low, high = (0.0, d) if _mcnemar_power(spread.n, d, d, alpha) >= power else (d, 1.0)
    found: Any = brentq(lambda x: _mcnemar_power(spread.n, x, d, alpha) - power, low, high, xtol=1e-7)
    return float(found)


def cases_needed(
    delta: float,
    *,
    discordance: float | None = None,
    sd: float | None = None,
    alpha: float = ALPHA,
    power: float = POWER,
) -> int:
    """How many paired cases detect a true ``delta`` with ``power`` at ``alpha``: exact McNemar given the
    share of cases the two sides disagree on (``discordance``), else the normal approximation given the
    per-case standard deviation of the difference (``sd``).

    The exact test's power zigzags by a point or two as n grows; the answer is where it crosses ``power``
    (a case or two fewer may happen to reach it too), found to the case up to 2,000 cases and to 0.1%
    (rounded up) beyond. A ``discordance`` below |``delta``| is raised to it, as in ``mcnemar_power``.
    ValueError for a ``delta`` of 0 (or, with a discordance, above 1), or a need above ``MAX_CASES``.
    """
    Spread(0, discordance, sd)  # exactly one of the two, each in range
    _check_level(alpha, "alpha")
    _check_level(power, "power")
    size = abs(delta)
    if size == 0.0 or not math.isfinite(size):
        raise ValueError(f"the difference to detect must be a number other than 0, got {delta}")
    if sd is not None:
        from scipy.stats import norm

        z = float(norm.ppf(1.0 - alpha / 2) + norm.ppf(power))
        found = max(1, math.ceil((z * sd / size) ** 2 - 1e-9))
    else:
        assert discordance is not None
        if size > 1.0:
            raise ValueError(f"a difference of 0/1 scores is at most 1, got {delta}")
        found = _mcnemar_cases(size, discordance, alpha, power)
    if found > MAX_CASES:
        raise ValueError(f"detecting a difference of {size:g} needs more than {MAX_CASES:,} cases")
    return found


def independent_discordance(first: float, second: float) -> float:
    """The share of cases two models with accuracies ``first`` and ``second`` disagree on when their errors
    are independent: first·(1 − second) + second·(1 − first). Models fine-tuned from one base usually
    agree more than that, so it errs on the side of more cases."""
    for rate in (first, second):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"an accuracy must be between 0 and 1, got {rate}")
    return first * (1.0 - second) + second * (1.0 - first)


def _mcnemar_power(n: int, delta: float, discordance: float, alpha: float) -> float:
    """Σ over k discordant pairs of P(k) · P(the test rejects, toward Δ | k), exactly (Δ ≥ 0)."""
    import numpy as np
    from scipy.stats import binom

    if delta >= discordance:  # every disagreement is a fix, and there are at least Δ·n of them
        return float(binom.sf(_fewest_discordant(alpha) - 1, n, delta)) if delta > 0.0 else 0.0
    k, weights, critical = _discordant(n, discordance, alpha)
    q = (discordance + delta) / (2.0 * discordance)  # the share of the discordant cases that are fixed
    # The test rejects toward Δ when the broken cases c = k − fixed have 2·P(Binomial(k, ½) ≤ c) < α.
    return float(np.clip(np.sum(weights * binom.cdf(critical, k, 1.0 - q)), 0.0, 1.0))


@functools.lru_cache(maxsize=64)
def _discordant(
    n: int, discordance: float, alpha: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """The counts k of discordant pairs worth summing over (within ``_SPAN_SDS`` standard deviations of
    their mean), P(k), and the test's bar for each (``_critical``). Cached: solving for the mde asks for
    the same n many times."""
    from scipy.stats import binom

    spread = _SPAN_SDS * math.sqrt(n * discordance * (1.0 - discordance)) + 1.0
    low, high = max(0, math.floor(n * discordance - spread)), min(n, math.ceil(n * discordance + spread))
    k, critical = _critical(low, high, alpha)
    return k, binom.pmf(k, n, discordance), critical


def _fewest_discordant(alpha: float) -> int:
    """The fewest discordant pairs, all one way, for which the exact test gives p < ``alpha``."""
    from scipy.stats import binom

    k = 1
    while 2.0 * float(binom.cdf(0, k, 0.5)) >= alpha:
        k += 1
    return k


def _critical(low: int, high: int, alpha: float) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """k = low … high discordant pairs, and per k the largest count c with 2·P(Binomial(k, ½) ≤ c) < α
    (−1 when there is none): the bar ``stats.mcnemar_exact`` sets on the smaller of the two discordant
    counts, decided by the test's own arithmetic."""
    import numpy as np
    from scipy.stats import binom, norm

    k = np.arange(low, high + 1)
    # Start from the normal approximation, then step to the exact bar (a few steps at most).
    c = np.floor(k / 2 - norm.ppf(1 - alpha / 2) * np.sqrt(k) / 2).clip(-1, None)
    for _ in range(64):
        up = 2.0 * binom.cdf(c + 1, k, 0.5) < alpha  # the next count still rejects
        down = (c >= 0) & (2.0 * binom.cdf(c, k, 0.5) >= alpha)  # this one does not
        if not (up.any() or down.any()):
            return k, c
        c = c + up - down
    raise RuntimeError("power bug: the exact McNemar bar did not settle")


def _mcnemar_cases(delta: float, discordance: float, alpha: float, power: float) -> int:
    """The n at which the exact test's power for ``delta`` crosses ``power``: bisection, from a bracket
    around the normal approximation's answer."""
    from scipy.stats import norm

    z_alpha, z_power = norm.ppf(1.0 - alpha / 2), norm.ppf(power)
    d = max(discordance, delta)
    guess = ((z_alpha * math.sqrt(d) + z_power * math.sqrt(max(0.0, d - delta**2))) / delta) ** 2
    low, high = int(guess * 0.8), max(1, int(guess * 1.25) + 8)
    while low > 0 and _mcnemar_power(low, delta, discordance, alpha) >= power:
        low //= 2
    while _mcnemar_power(high, delta, discordance, alpha) < power:
        if high > MAX_CASES:
            return MAX_CASES + 1
        low, high = high, high * 2
    while high - low > max(1, high // 1000):  # to the case; to 0.1% (rounded up) for large suites
        middle = (low + high) // 2
        if _mcnemar_power(middle, delta, discordance, alpha) >= power:
            high = middle
        else:
            low = middle
    return high


def _check_level(value: float, name: str) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")
