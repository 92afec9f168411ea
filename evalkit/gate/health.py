"""Whether a run can be judged at all: a verdict needs answers, and a rule needs scored cases.

A run is broken — its verdict is ``error`` (exit 2), never go and never no-go — when:

- a target has no successful answer (every call failed: an outage, a refused request, a wrong model);
- a target's share of failed calls is above the suite's ``max_error_rate``, or a scorer could not score
  more than ``max_scoring_error_rate`` of a target's answers (unreadable judge verdicts);
- a gate rule cannot be evaluated because its figure was computed on no case (``Finding.error``).

An error rate below those bounds is not an error: figures are computed on the cases that were scored and
say so ("n of N"). Each line names the target (and the rule) and the cause, with the first error seen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from evalkit.records.cases import CaseResult
from evalkit.records.results import RunResults
from evalkit.text import one_line

_QUOTED = 160
"""Characters of an error message quoted in a line."""


@dataclass(frozen=True, slots=True)
class ErrorBounds:
    """The suite's bounds on error rates above which a run cannot be judged (None: no bound)."""

    max_error_rate: float | None = None
    """Most share of a target's calls that may fail."""
    max_scoring_error_rate: float | None = None
    """Most share of a target's answers a scorer may fail to score."""


NO_BOUNDS = ErrorBounds()
"""No bound: only a target with no successful answer, or a scorer that scored none, breaks a run."""


def run_errors(results: RunResults, bounds: ErrorBounds = NO_BOUNDS) -> list[str]:
    """One line per reason the run cannot be judged, target by target, in run order."""
    lines = []
    for target in results.target_names:
        answers = [result for _, result in results.answers(target)]
        if not answers:
            continue
        failed = [r.error for r in answers if r.error is not None]
        if len(failed) == len(answers):
            lines.append(f"target {target!r}: no successful answer ({_calls_failed(failed)})")
            continue
        rate = len(failed) / len(answers)
        if bounds.max_error_rate is not None and rate > bounds.max_error_rate:
            lines.append(
                f"target {target!r}: {len(failed)} of {len(answers)} calls failed ({rate:.1%}), more than "
                f"max_error_rate {bounds.max_error_rate:g} allows (first: {_quote(failed[0])})"
            )
        lines += _scoring_errors(target, answers, results, bounds)
    return lines


def _scoring_errors(target: str, answers: list[CaseResult], results: RunResults, bounds: ErrorBounds) -> list[str]:
    scored = [r for r in answers if r.error is None]
    counts = Counter(name for r in scored for name in r.score_errors)
    lines = []
    for info in results.scorers:
        failed = counts.get(info.name, 0)
        if not scored or not failed:
            continue
        first = next(r.score_errors[info.name] for r in scored if info.name in r.score_errors)
        if failed == len(scored):
            lines.append(
                f"target {target!r}: scorer {info.name!r} could not score any of its {len(scored)} answers "
                f"(first: {_quote(first)})"
            )
        elif bounds.max_scoring_error_rate is not None and failed / len(scored) > bounds.max_scoring_error_rate:
            lines.append(
                f"target {target!r}: scorer {info.name!r} could not score {failed} of {len(scored)} answers "
                f"({failed / len(scored):.1%}), more than max_scoring_error_rate "
                f"{bounds.max_scoring_error_rate:g} allows (first: {_quote(first)})"
            )
    return lines


def why_unscored(results: RunResults, target: str, metric: str) -> str:
    """Why ``target``'s ``metric`` was computed on no case: its calls failed, or its scorer failed."""
    answers = [result for _, result in results.answers(target)]
    failed = [r.error for r in answers if r.error is not None]
    if not answers:
        return f"target {target!r} answered no case"
    if len(failed) == len(answers):
        return f"target {target!r}: {_calls_failed(failed)}"
    scorer = metric.split(".", 1)[0]
    errors = [r.score_errors[scorer] for r in answers if r.error is None and scorer in r.score_errors]
    if errors:
        return (
            f"target {target!r}: scorer {scorer!r} could not score {len(errors)} of "
            f"{len(answers) - len(failed)} answers (first: {_quote(errors[0])})"
        )
    return f"target {target!r}: no case was scored for {metric!r}"


def _calls_failed(errors: list[str]) -> str:
    return f"{len(errors)} of {len(errors)} calls failed; first: {_quote(errors[0])}" if errors else "no calls"


def _quote(text: str) -> str:
    line = one_line(text)
    return line if len(line) <= _QUOTED else line[: _QUOTED - 1] + "…"
