"""report.html at a glance: the comparisons table opens on the headline metrics with per-class figures
folded, p-values at their resampling floor read as bounds (there and wherever p-values are printed), the
resample count is said once, and each comparison shows its minimum detectable effect."""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape

import pytest
from fixtures.sample import sample_results
from test_report_html_sections import section, text

from evalkit.records.results import RunResults
from evalkit.report import render_html
from evalkit.report.paired_table import headline_comparison_metrics
from evalkit.report.pvalues import p_text
from evalkit.text import p_figure

FLOOR = 2 / 2001
"""The smallest p-value the paired bootstrap gives with 2,000 resamples."""


@pytest.fixture(scope="module")
def sample() -> RunResults:
    return sample_results(cases=40)


@pytest.fixture(scope="module")
def comparisons(sample: RunResults) -> str:
    return section(render_html(sample), "comparisons")


def rows(html: str) -> list[list[str]]:
    """Each table row's cells, as text."""
    found = re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL)
    cells = [[text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)] for row in found]
    return [row for row in cells if row]  # not the header


def test_the_headline_metrics_are_those_of_the_gate_the_ranking_and_the_scorers(sample: RunResults) -> None:
    assert {rule.metric for rule in sample.gate.rules} <= {"classify.macro_f1", "exact", "error_rate"}
    assert headline_comparison_metrics(sample) >= {"exact", "classify.macro_f1", "judge"}
    assert not any(".f1." in metric for metric in headline_comparison_metrics(sample))


def test_per_class_rows_are_folded_under_one_disclosure(sample: RunResults, comparisons: str) -> None:
    shown, folded = comparisons.split('<details class="more" id="comparisons-more">')
    per_class = [c for c in sample.comparisons if ".f1." in c.metric]
    assert len(per_class) == 16  # 4 labels × 4 targets
    assert "classify.f1." not in shown
    assert {row[2] for row in rows(shown)} == {"exact", "classify.macro_f1", "judge"}
    assert [row[2] for row in rows(folded)] == [c.metric for c in per_class]
    assert text(folded).startswith("16 more comparisons: per-class precision, recall and F1")


def test_p_values_at_the_bootstrap_floor_read_as_bounds(sample: RunResults, comparisons: str) -> None:
    floored = [c for c in sample.comparisons if c.p_value == FLOOR]
    assert floored and all(c.test == "paired-bootstrap" for c in floored)
    for row in rows(comparisons):
        entry = next(c for c in sample.comparisons if (c.target, c.metric) == (row[0], row[2]))
        if entry.p_value == FLOOR:
            assert row[5] == "< 0.001"
            assert row[6] in ("< 0.001", "< 0.002", "< 0.003", "< 0.004")  # Holm over 4 targets, all at the floor
    assert "0.0010" not in comparisons
    assert text(comparisons).count("2,000 resamples") == 1


def test_a_holm_adjusted_p_at_the_floor_is_a_bound_too_unless_capped_at_1() -> None:
    floored = {"test": "paired-bootstrap", "p_value": FLOOR}
    run = sample_results(cases=8)
    entry = replace(run.comparisons[0], **floored, p_adjusted=3 * FLOOR)
    assert p_text(entry, resamples=2000) == "< 0.001"
    assert p_text(entry, resamples=2000, adjusted=True) == "< 0.003"
    assert p_text(replace(entry, p_adjusted=1.0), resamples=2000, adjusted=True) == "1.000"
    assert p_text(entry, resamples=10_000, decimals=4) == "0.0010"  # not the floor of 10,000 resamples
    sign_flip = replace(entry, test="sign-flip-permutation", p_value=1 / 2001, p_adjusted=1 / 2001)
    assert p_text(sign_flip, resamples=2000) == "< 0.0005"
    exact = replace(entry, test="mcnemar-exact", p_value=0.00004, p_adjusted=0.00004)
    assert p_text(exact, resamples=2000, decimals=4) == "< 0.0001"  # tiny, but an exact figure
    assert p_figure(0.0004, decimals=4) == "0.0004"


def test_the_metrics_tooltips_give_the_bound_too(sample: RunResults) -> None:
    macro = next(c for c in sample.comparisons if (c.target, c.metric) == ("final", "classify.macro_f1"))
    assert macro.p_value == FLOOR and macro.p_adjusted is not None
    shown = f"p {p_figure(macro.p_adjusted, bound=True)}"
    assert shown.startswith("p < 0.00")
    assert f"; {escape(shown)}\">" in section(render_html(sample), "metrics")  # the Δ's title


def test_each_comparison_shows_its_minimum_detectable_effect(sample: RunResults) -> None:
    first = sample.comparisons[0]
    run = replace(sample, comparisons=[replace(first, mde=0.1234), *sample.comparisons[1:]])
    found = rows(section(render_html(run), "comparisons"))
    assert found[0][:3] == [first.target, first.versus, first.metric] and found[0][7] == "0.123"
    assert {row[7] for row in found[1:]} == {"—"}


def test_a_run_without_per_class_comparisons_has_nothing_to_unfold(sample: RunResults) -> None:
    run = replace(sample, comparisons=[c for c in sample.comparisons if ".f1." not in c.metric])
    html = section(render_html(run), "comparisons")
    assert "<details" not in html and len(rows(html)) == 12
