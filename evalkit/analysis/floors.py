"""The floor resampling puts under a p-value, so that a p-value at it reads "< 0.001", not "0.0010".

A resampling test cannot give a p-value below a floor set by how many resamples it drew (B):

    paired-bootstrap         2 / (B + 1): no replicate of Δ on the far side of 0 (``stats.bootstrap_p``);
                             a replicate that is undefined (NaN) is left out, which raises the floor a
                             little, so any p under 4 / (B + 1), the next value it can take, is at it
    sign-flip-permutation    1 / (B + 1) when drawn at random (``stats.sign_flip_p``); with few non-zero
                             differences every sign pattern is enumerated and the p-value is exact
    mcnemar-exact            none: an exact binomial test

A p-value at the floor says only that the true one is at most that: it is shown as a bound. A
Holm-adjusted p-value grows with each p-value of its family, so it is a bound too when its own p-value is
at the floor (unless Holm capped it at 1).
"""

from __future__ import annotations

from evalkit.records.findings import Comparison

__all__ = ["RESAMPLES", "adjusted_at_floor", "at_floor"]

RESAMPLES = 2000
"""How many resamples the analysis draws for each bootstrap CI, bootstrap p-value and random sign-flip
test, unless told otherwise; files written before evalkit recorded the number drew this many."""


def at_floor(p: float | None, test: str | None, *, resamples: int) -> bool:
    """True when ``p`` is the smallest p-value ``test`` could give with ``resamples`` resamples."""
    if p is None or resamples < 1:
        return False
    if test == "paired-bootstrap":
        return p < 4.0 / (resamples + 1)
    if test == "sign-flip-permutation":
        return abs(p * (resamples + 1) - 1.0) < 1e-9
    return False


def adjusted_at_floor(comparison: Comparison, *, resamples: int) -> bool:
    """True when the comparison's Holm-adjusted p-value is only an upper bound: its own p-value is at the
    floor, and Holm did not cap the adjusted one at 1."""
    adjusted = comparison.p_adjusted
    return (
        adjusted is not None
        and adjusted < 1.0
        and at_floor(comparison.p_value, comparison.test, resamples=resamples)
    )
