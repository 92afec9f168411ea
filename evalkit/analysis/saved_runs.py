"""What a saved run must hold before ``evalkit compare`` pairs it with another; ``InputError`` at the field.

    case ids    unique: a repeated id would pair one of its cases and drop the other without a word
    scores      within their scorer's range: an impossible score would move every mean and Δ it enters

The range of each scorer kind, as the scorers compute their scores (``evalkit.scorers``):

    exact, includes, regex, json, classify,  0 or 1        ``scorers.base.binary``
    tool_calls
    judge                                    0 to 1        pointwise: (mean verdict − low) / (high − low);
                                                           pairwise: 0, 0.5 or 1
    any other kind, or a name no scorer has  a finite number

No score is not a score: where the call failed the scorer's name is absent from ``scores``, and where
the scorer could not score the output (a ``FailedScore``, NaN in memory) it is absent too, its reason
under ``score_errors``; any other NaN or infinite score is written as null. So null is accepted
everywhere, and NaN or an infinity never: evalkit does not write them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from evalkit.errors import InputError
from evalkit.records.results import RunResults
from evalkit.scorers import (
    ClassifyScorer,
    ExactScorer,
    IncludesScorer,
    JsonScorer,
    RegexScorer,
    ToolCallsScorer,
)
from evalkit.text import one_line

__all__ = ["check_saved_run"]

ScoreRange = tuple[str, Callable[[float], bool]]
"""What a scorer kind's scores may be: (in words, the test)."""

_BINARY: ScoreRange = ("0 or 1", lambda value: value in (0.0, 1.0))
_UNIT: ScoreRange = ("from 0 to 1", lambda value: 0.0 <= value <= 1.0)
_FINITE: ScoreRange = ("a finite number", math.isfinite)
_BINARY_SCORERS = (ExactScorer, IncludesScorer, RegexScorer, JsonScorer, ClassifyScorer, ToolCallsScorer)
_RANGES: dict[str, ScoreRange] = {
    **{scorer.kind: _BINARY for scorer in _BINARY_SCORERS},
    "judge": _UNIT,  # scorers.judge.scorer, not imported: it brings the providers with it
}


def check_saved_run(results: RunResults, *, file: str | Path) -> None:
    """``InputError`` naming ``file`` and the field when a case id repeats or a score is impossible."""
    _check_ids(results, file)
    _check_scores(results, file)


def _check_ids(results: RunResults, file: str | Path) -> None:
    first: dict[str, int] = {}
    for index, case in enumerate(results.cases):
        seen = first.setdefault(case.id, index)
        if seen != index:
            raise InputError(
                f"case id {one_line(case.id)!r} appears twice: cases[{seen}] and cases[{index}]; "
                "ids must be unique to pair runs",
                file=file,
                field=f"cases[{index}].id",
            )


def _check_scores(results: RunResults, file: str | Path) -> None:
    kinds = {scorer.name: scorer.kind for scorer in results.scorers}
    for index, case in enumerate(results.cases):
        for target, result in case.results.items():
            for name, value in result.scores.items():
                if value is None:
                    continue
                kind = kinds.get(name)
                allowed, fits = _RANGES.get(kind or "", _FINITE)
                if not fits(value):
                    what = f"a scorer of kind {one_line(kind)!r}" if kind else "a scorer the run lacks"
                    raise InputError(
                        f"score {value:g} is impossible for {what} (allowed: {allowed}; null where there is "
                        "no score)",
                        file=file,
                        field=f"cases[{index}].results.{one_line(target)}.scores.{one_line(name)}",
                    )
