"""How many cases a figure stands on, said beside it wherever it is shown.

    n of N   a figure computed on fewer cases than the run has (failed calls and unscorable answers left
             out, a comparison over the cases both targets scored): ``19 of 48``. Nothing when n is N.
    ties     a pairwise judge's mean counts a tie as 0.5, so a mean of 0.500 may be ties alone: its note
             says how many scored cases were ties, ``19 of 19 tied``.

Both together read ``19 of 48; 19 of 19 tied``.
"""

from __future__ import annotations

import math

from evalkit.records.findings import Comparison
from evalkit.records.results import RunResults

__all__ = ["comparison_note", "figure_note", "pairwise_judges", "ties"]

_TIE_VALUE = 0.5
"""A pairwise judge's score for a case whose two orders did not agree on a winner."""


def figure_note(results: RunResults, target: str, metric: str) -> str | None:
    """What to say beside ``target``'s ``metric``: ``n of N``, ties of a pairwise judge, or None."""
    found = results.metric(target, metric)
    if found is None or found.value is None:
        return None
    parts = [_of(found.n, len(results.cases))]
    if metric in pairwise_judges(results):
        counted = ties(results, target, metric)
        if counted is not None:
            parts.append(f"{counted[0]} of {counted[1]} tied")
    return "; ".join(part for part in parts if part) or None


def comparison_note(results: RunResults, comparison: Comparison) -> str | None:
    """``n of N`` for a comparison made on fewer cases than the run has, else None."""
    if comparison.delta is None:
        return None
    return _of(comparison.n, len(results.cases))


def pairwise_judges(results: RunResults) -> set[str]:
    """The names of the run's pairwise judge scorers."""
    return {s.name for s in results.scorers if s.kind == "judge" and s.options.get("mode") == "pairwise"}


def ties(results: RunResults, target: str, scorer: str) -> tuple[int, int] | None:
    """(tied, scored) of a pairwise judge on ``target``: counted from the cases' verdicts (``target, tie``),
    else from its ``tie_rate``; None when it scored nothing."""
    tied = scored = 0
    for _, result in results.answers(target):
        value = result.scores.get(scorer)
        if value is None or not math.isfinite(value):
            continue
        scored += 1
        tied += _is_tie(result.answers.get(scorer), value)
    if scored:
        return tied, scored
    rate = results.metric(target, f"{scorer}.tie_rate")
    if rate is None or rate.value is None or not rate.n:
        return None
    return round(rate.value * rate.n), rate.n


def _is_tie(answer: str | None, value: float) -> bool:
    """Neither both orders for the target nor both for the base (the judge's own ``tie_rate``)."""
    if answer is None:
        return value == _TIE_VALUE
    first, _, second = answer.partition(", ")
    return (first, second) not in (("target", "target"), ("base", "base"))


def _of(n: int, total: int) -> str | None:
    return f"{n} of {total}" if n < total else None
