"""p-values as the reports print them: one at its resampling floor as the bound it is (``< 0.001``, not
``0.0010``), and the number of resamples said once (``analysis.floors`` knows where each test's floor is)."""

from __future__ import annotations

from evalkit.analysis.floors import RESAMPLES, adjusted_at_floor, at_floor
from evalkit.records.findings import Comparison
from evalkit.records.results import RunResults
from evalkit.text import p_figure

__all__ = ["p_text", "resamples_of", "resampling_note"]


def resamples_of(results: RunResults) -> int:
    """How many resamples the run's tests drew (files that do not say drew ``RESAMPLES``)."""
    return results.resamples or RESAMPLES


def p_text(comparison: Comparison, *, resamples: int, adjusted: bool = False, decimals: int = 3) -> str:
    """The comparison's p-value (Holm-adjusted with ``adjusted``): ``0.034``, ``< 0.001`` or ``—``."""
    if adjusted:
        return p_figure(
            comparison.p_adjusted, bound=adjusted_at_floor(comparison, resamples=resamples), decimals=decimals
        )
    bound = at_floor(comparison.p_value, comparison.test, resamples=resamples)
    return p_figure(comparison.p_value, bound=bound, decimals=decimals)


def resampling_note(results: RunResults, comparisons: list[Comparison]) -> str | None:
    """What the resampled p-values among ``comparisons`` rest on, once; None when none is resampled."""
    resampled = {c.test for c in comparisons if c.p_value is not None} & {"paired-bootstrap", "sign-flip-permutation"}
    if not resampled:
        return None
    count = resamples_of(results)
    return (
        f"Bootstrap and permutation p-values are drawn from {count:,} resamples, which puts a floor under them "
        f"(2/{count + 1:,} for the paired bootstrap): a p-value at its floor reads "
        f"“{p_figure(2 / (count + 1), bound=True)}”, the true one being at most that."
    )
