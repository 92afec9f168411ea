"""compare: two saved runs paired by case id — Δ with CI and p, flips, and the ids of regressed cases."""

from __future__ import annotations

import pytest
from fixtures.runs import exact_run as run
from fixtures.runs import marks

from evalkit.analysis.runs import compare_results, regressions, render_comparison
from evalkit.errors import InputError
from evalkit.records.results import RunResults


def baseline_and_new() -> tuple[RunResults, RunResults]:
    """A: final right on c0–c29 of 40. B: right on c0–c15 and c30–c31; c16–c29 broke, c30/c31 fixed."""
    a = run({"base": marks(10, 30), "final": marks(30, 10)})
    b_final: list[bool | None] = [True] * 16 + [False] * 14 + [True, True] + [False] * 7 + [None]
    b = run({"base": marks(10, 30), "final": b_final})
    return a, b


def test_every_shared_target_is_compared_on_every_shared_metric() -> None:
    a, b = baseline_and_new()
    comparison = compare_results(a, b)
    assert [(p.a_target, p.b_target, p.cases) for p in comparison.pairs] == [
        ("base", "base", 40),
        ("final", "final", 40),
    ]
    final = comparison.pairs[1]
    exact = next(c for c in final.comparisons if c.metric == "exact")
    assert exact.target == "final" and exact.versus == "final"
    assert final.values["exact"] == (0.75, pytest.approx(18 / 39))
    assert exact.delta == pytest.approx((18 - 30) / 39)  # over the 39 cases both scored
    assert exact.test == "mcnemar-exact" and exact.n == 39
    assert exact.ci is not None and exact.p_value is not None
    assert exact.ci[1] < 0 and exact.p_value < 0.01
    assert comparison.warnings == []


def test_regressed_cases_are_those_right_in_a_and_wrong_in_b() -> None:
    a, b = baseline_and_new()
    final = compare_results(a, b).pairs[1]
    (flip,) = final.flips
    assert (flip.fixed, flip.broken, flip.both_right, flip.both_wrong) == (2, 14, 16, 7)
    assert final.regressed_ids == {"exact": [f"c{i}" for i in range(16, 30)]}
    assert final.failed_ids == ["c39"]  # answered (wrongly) in A, the call failed in B


def test_the_rendered_comparison_lists_the_regressed_ids_and_flags_the_regression() -> None:
    a, b = baseline_and_new()
    comparison = compare_results(a, b)
    text = render_comparison(comparison)
    assert "regressed on exact (right in A, wrong in B): c16, c17, c18" in text
    assert "exact: 2 fixed, 14 broken, 16 right in both, 7 wrong in both" in text
    final_section = text[text.index("final · 40 cases in both runs") :]
    exact_row = next(line for line in final_section.splitlines() if line.strip().startswith("exact "))
    assert "0.750" in exact_row and "0.462" in exact_row and "−0.308 ▼" in exact_row
    assert "mcnemar-exact" in exact_row
    assert text.rstrip().endswith("REGRESSED: B is significantly worse on final exact")
    assert [(e.target, e.metric) for e in regressions(comparison)] == [("final", "exact")]


def test_no_regression_is_said_plainly() -> None:
    a, _ = baseline_and_new()
    text = render_comparison(compare_results(a, a))
    assert "No significant regression" in text and "regressed on" not in text


def test_runs_of_one_target_each_are_paired_whatever_their_names() -> None:
    a = run({"prod": marks(8, 2)})
    b = run({"candidate": marks(10, 0)})
    (pair,) = compare_results(a, b).pairs
    assert (pair.a_target, pair.b_target) == ("prod", "candidate")
    assert "prod (A) → candidate (B) · 10 cases in both runs" in render_comparison(compare_results(a, b))


def test_different_suite_or_data_is_warned_about() -> None:
    a = run({"final": marks(5, 5)})
    b = run({"final": marks(5, 5)}, suite_sha256="f" * 64, data_sha256="e" * 64)
    warnings = compare_results(a, b).warnings
    assert len(warnings) == 2
    assert warnings[0].startswith(
        "the runs used different suite files (sha256 aaaaaaaaaaaa… in A, ffffffffffff… in B)"
    )
    assert warnings[1].startswith("the runs used different data")
    assert "warning: the runs used different data" in render_comparison(compare_results(a, b))


def test_runs_sharing_no_target_or_no_case_are_refused() -> None:
    with pytest.raises(InputError, match="the runs share no target name"):
        compare_results(run({"x": marks(1, 1), "y": marks(1, 1)}), run({"z": marks(1, 1), "w": marks(1, 1)}))
    with pytest.raises(InputError, match="answered no case with the same id"):
        compare_results(run({"x": marks(2, 0)}), run({"x": marks(2, 0)}, ids=["other1", "other2"]))


def test_case_ids_from_the_data_cannot_drive_the_terminal() -> None:
    a = run({"final": marks(2, 0)}, ids=["ok", "bad\x1b[31mred"])
    b = run({"final": [True, False]}, ids=["ok", "bad\x1b[31mred"])
    text = render_comparison(compare_results(a, b))
    assert "\x1b" not in text and "bad [31mred" in text
