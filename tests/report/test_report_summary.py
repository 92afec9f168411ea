"""summary.md: verdict, rule reasons and a headline table — names and figures only, safely escaped."""

from __future__ import annotations

import re
from dataclasses import replace

from evalkit.records.findings import Flip, Recommendation
from evalkit.records.results import RunResults
from evalkit.report import headline_metrics, render_summary


def _cells(row: str) -> list[str]:
    """A Markdown table row split on its unescaped pipes, as a Markdown renderer would."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_verdict_line_and_one_line_per_rule(results: RunResults) -> None:
    lines = render_summary(results).splitlines()
    assert lines[0] == "## ❌ NO-GO — triage"
    assert "1 of 3 gate rules passed · 4 cases · 3 targets" in lines[2]
    rule_lines = [line for line in lines if line.startswith("- ")]
    assert rule_lines == [
        "- ✅ final classify.macro\\_f1 = 1.000 ≥ 0.800 (min)",
        "- ❌ base exact = 0.333 \\< 0.500 (min)",
        "- ❌ base classify = 0.333 \\< 0.500 (min)",
    ]


def test_table_of_targets_by_headline_metrics(results: RunResults) -> None:
    assert headline_metrics(results) == [
        "exact",
        "classify",
        "classify.macro_f1",
        "error_rate",
    ]
    rows = [line for line in render_summary(results).splitlines() if line.startswith("|")]
    header, rule, *body = rows
    assert _cells(header) == [
        "target",
        "model",
        "exact",
        "classify",
        "classify.macro\\_f1",
        "error\\_rate",
    ]
    assert len(_cells(rule)) == 6
    assert _cells(body[0]) == ["base", "gpt-4o-mini", "0.333 (3 of 4)", "0.333 (3 of 4)", "—", "0.250"]
    assert _cells(body[1])[2:] == ["1.000"] * 3 + ["0.000"]


def test_names_are_escaped_so_they_cannot_break_the_table(results: RunResults) -> None:
    rows = [line for line in render_summary(results).splitlines() if line.startswith("| odd")]
    assert len(rows) == 1
    cells = _cells(rows[0])
    assert len(cells) == 6
    assert cells[0] == "odd\\|\\<i\\>name\\</i\\>"


def test_untrusted_text_never_reaches_it(results: RunResults, payloads: tuple[str, ...]) -> None:
    summary = render_summary(results)
    assert not [payload for payload in payloads if payload in summary]
    assert "alert" not in summary and "<" not in summary.replace("\\<", "")
    assert "1 warning: see report.html." in summary  # the warning's own text stays out


def test_without_rules_the_verdict_is_go(results_without_rules: RunResults) -> None:
    summary = render_summary(results_without_rules)
    assert summary.startswith("## ✅ GO — triage")
    assert "- No gate rules: the verdict is go." in summary


def test_the_recommendation_and_the_flips_table(results: RunResults) -> None:
    results.recommendation = Recommendation(
        metric="exact",
        best="step-20",
        best_step=20,
        value=0.9,
        final="final",
        final_value=0.8,
        overfitting=True,
        reason="step-20 is significantly better than final (…): training past step 20 may have overfitted",
        recommended="step-20",
    )
    results.flips = [
        Flip(
            target="final",
            versus="base",
            scorer="exact",
            fixed=2,
            broken=0,
            both_right=1,
            both_wrong=0,
            fixed_ids=["c1", "c3"],
            broken_ids=[],
        ),
        Flip(
            target="odd|<i>name</i>",
            versus="base",
            scorer="exact",
            fixed=1,
            broken=1,
            both_right=1,
            both_wrong=0,
            fixed_ids=["c1"],
            broken_ids=["c4"],
        ),
    ]
    lines = render_summary(results).splitlines()
    assert (
        "**Recommendation:** ship step-20 — ⚠️ possible overfitting: step-20 is significantly better than final "
        "(…): training past step 20 may have overfitted"
    ) in lines
    start = lines.index("| target | versus | scorer | fixed | broken | both right | both wrong |")
    assert _cells(lines[start + 2]) == ["final", "base", "exact", "2", "0", "1", "0"]
    assert _cells(lines[start + 3])[0] == "odd\\|\\<i\\>name\\</i\\>" and len(_cells(lines[start + 3])) == 7
    assert "c3" not in "\n".join(lines)  # counts only: case ids are data


def test_cost_column_when_a_price_is_known(results: RunResults) -> None:
    results.usage["final"] = replace(results.usage["final"], cost_usd=0.01234)
    results.usage["base"] = replace(results.usage["base"], cost_usd=12.5)
    rows = [line for line in render_summary(results).splitlines() if line.startswith("|")]
    assert _cells(rows[0])[-1] == "cost (USD)"
    assert [_cells(row)[-1] for row in rows[2:]] == ["12.50", "0.0123", "—"]
