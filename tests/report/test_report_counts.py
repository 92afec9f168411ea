"""How many cases a figure stands on: ``n of N`` beside a figure computed on fewer cases than the run has,
and a pairwise judge's ties beside its mean — in the terminal, summary.md and report.html alike."""

from __future__ import annotations

import io
import re

import pytest
from fixtures.runs import build_results, exact_run, marks, scored_run
from rich.console import Console
from test_report_html_sections import section, text

from evalkit.records import Case, CaseSet, Metric, Outcome, Score, Target
from evalkit.records.findings import Comparison
from evalkit.records.results import RunResults
from evalkit.report import render_html, render_summary
from evalkit.report.console import print_summary
from evalkit.report.counts import figure_note, ties

PAIRWISE = {"kind": "judge", "name": "judge", "options": {"model": "gpt-4o", "rubric": "r", "mode": "pairwise"}}


def _printed(results: RunResults) -> str:
    out = io.StringIO()
    print_summary(results, console=Console(file=out, width=200, color_system=None))
    return out.getvalue()


def _row(lines: list[str], target: str) -> str:
    return next(line for line in lines if re.match(rf"^[│|]\s*{re.escape(target)}\s*[│|]", line))


@pytest.fixture
def partial() -> RunResults:
    """``final`` answered 19 of 48 cases (29 failed calls); ``base`` all 48."""
    return exact_run({"base": marks(24, 24), "final": marks(15, 4, errors=29)})


def test_a_figure_on_fewer_cases_says_n_of_n_in_every_output(partial: RunResults) -> None:
    assert figure_note(partial, "final", "exact") == "19 of 48"
    assert figure_note(partial, "base", "exact") is None

    terminal = _printed(partial).splitlines()
    assert "0.789 (19 of 48)" in _row(terminal, "final")
    assert "of 48" not in _row(terminal, "base")

    summary = render_summary(partial).splitlines()
    assert "| 0.789 (19 of 48) |" in _row(summary, "final")
    assert "of 48" not in _row(summary, "base")

    metrics = section(render_html(partial), "metrics")
    assert '<span class="value">0.789</span><span class="of">19 of 48</span>' in metrics
    assert metrics.count('class="of"') == 1  # error_rate is over every case: nothing beside it


def test_a_comparison_on_fewer_cases_says_n_of_n(partial: RunResults) -> None:
    partial.comparisons = [
        Comparison("final", "base", "exact", delta=0.29, ci=(0.1, 0.4), p_value=0.01, p_adjusted=0.01,
                   test="mcnemar-exact", n=19),
    ]  # fmt: skip
    terminal = _printed(partial)
    line = next(line for line in terminal.splitlines() if line.lstrip().startswith("final") and "+0.290" in line)
    assert line.rstrip().endswith("19 of 48")
    comparisons = text(section(render_html(partial), "comparisons"))
    assert "mcnemar-exact 19 of 48" in comparisons

    partial.comparisons = [Comparison("final", "base", "exact", delta=0.1, n=48)]
    assert "of 48" not in _printed(partial).split("Paired Δ")[1]
    assert "48" in text(section(render_html(partial), "comparisons"))


def _pairwise(verdicts: list[tuple[float, str] | None]) -> RunResults:
    """``final`` judged pairwise against ``base``: (score, answer) per case, None for a failed call."""
    cases = [Case(id=f"c{i}", reference="r", prompt=f"q{i}") for i in range(len(verdicts))]
    judged = [v for v in verdicts if v is not None]
    n, tied = len(judged), sum(1 for value, _ in judged if value == 0.5)
    run = scored_run(
        case_set=CaseSet(cases, "b" * 64, "inline"),
        targets=[Target("base", "gpt-4o-mini", "chat", "base"), Target("final", "ft:x", "chat", "final")],
        outcomes={
            "base": [Outcome("a") for _ in cases],
            "final": [Outcome(None, error="timeout") if v is None else Outcome("b") for v in verdicts],
        },
        scores={
            "base": {"judge": [None] * len(cases)},
            "final": {"judge": [None if v is None else Score(v[0], answer=v[1]) for v in verdicts]},
        },
        metrics={
            "final": {
                "judge": Metric(sum(value for value, _ in judged) / n, n),
                "judge.tie_rate": Metric(tied / n, n),
                "judge.win_rate": Metric(sum(1 for value, _ in judged if value == 1.0) / n, n),
            }
        },
        scorers=[PAIRWISE],
    )
    return build_results(run)


def test_a_pairwise_judge_says_how_many_scored_cases_were_ties() -> None:
    """The case that motivated it: every non-tied verdict unreadable, so 0.500 came from ties alone."""
    run = _pairwise([(0.5, "tie, tie"), (0.5, "target, tie"), (0.5, "tie, base"), (0.5, "target, base")])
    assert ties(run, "final", "judge") == (4, 4)
    assert figure_note(run, "final", "judge") == "4 of 4 tied"
    assert figure_note(run, "final", "judge.win_rate") is None  # only its mean counts ties as 0.5

    assert "0.500 (4 of 4 tied)" in _row(_printed(run).splitlines(), "final")
    assert "0.500 (4 of 4 tied)" in _row(render_summary(run).splitlines(), "final")
    assert '<span class="value">0.500</span><span class="of">4 of 4 tied</span>' in render_html(run)


def test_ties_and_missing_cases_together() -> None:
    run = _pairwise([(1.0, "target, target"), (0.5, "tie, tie"), None, (0.0, "base, base"), (0.5, "target, tie")])
    assert figure_note(run, "final", "judge") == "4 of 5; 2 of 4 tied"
    assert "0.500 (4 of 5; 2 of 4 tied)" in _row(_printed(run).splitlines(), "final")


def test_ties_without_case_verdicts_come_from_the_tie_rate() -> None:
    run = _pairwise([(0.5, "tie, tie"), (1.0, "target, target")])
    for case in run.cases:
        case.results["final"].scores.clear()
    assert ties(run, "final", "judge") == (1, 2)
