"""print_summary: the terminal table of targets × headline metrics, comparisons, recommendation, verdict."""

from __future__ import annotations

import io
from dataclasses import replace

from fixtures.runs import build_results, marks, scored_run
from fixtures.runs import exact_run as run
from rich.console import Console

from evalkit.analysis import analyse
from evalkit.gate import apply_gate
from evalkit.records import Case, CaseSet, Metric, Outcome, Score, Target
from evalkit.records.results import RunResults
from evalkit.report.console import print_summary, significance
from evalkit.suite.model import GateRule


def _results(rules: list[GateRule]) -> RunResults:
    targets = [Target("base", "gpt-4o-mini", "chat", "base"), Target("[bold]x[/bold]", "ft:m:o::x", "chat")]
    metrics = {
        "base": {
            "exact": Metric(0.25, 4),
            "classify.macro_f1": Metric(None, 0),
            "error_rate": Metric(0.5, 4),
        },
        "[bold]x[/bold]": {
            "exact": Metric(0.875, 4),
            "classify.macro_f1": Metric(0.9, 4),
            "error_rate": Metric(0, 4),
        },
    }
    scored = scored_run(
        suite_name="triage",
        suite_description="",
        suite_file="s.yaml",
        suite_sha256="",
        case_set=CaseSet([Case(id="c1", reference="a", prompt="q")], "", "inline"),
        targets=targets,
        generation={},
        completions={},
        outcomes={"base": [Outcome("a")], "[bold]x[/bold]": [Outcome("a")]},
        scores={"base": {"exact": [Score(1.0)]}, "[bold]x[/bold]": {"exact": [Score(1.0)]}},
        metrics=metrics,
        details={},
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:01+00:00",
    )
    results = build_results(scored)
    return replace(results, gate=apply_gate(rules, results))


def _analysed(results: RunResults) -> RunResults:
    """The run with its analysis, as the pipeline puts it together."""
    return analyse(results).into(results)


def _printed(results: RunResults) -> str:
    out = io.StringIO()
    print_summary(results, console=Console(file=out, width=160, color_system=None))
    return out.getvalue()


def test_table_has_targets_and_headline_figures() -> None:
    text = _printed(_results([]))
    for heading in ("target", "model", "exact", "classify.macro_f1", "error_rate"):
        assert heading in text
    base = next(line for line in text.splitlines() if "base" in line and "gpt-4o-mini" in line)
    assert "0.250" in base and "—" in base and "0.500" in base
    assert text.splitlines()[0].rstrip() == "triage · 1 case"


def test_names_are_printed_as_written_not_as_markup() -> None:
    text = _printed(_results([]))
    assert "[bold]x[/bold]" in text
    assert "0.875" in text


def test_verdict_and_reasons() -> None:
    rules = [
        GateRule(target="base", metric="exact", min=0.5),
        GateRule(target="base", metric="error_rate", max=0.5),
    ]
    text = _printed(_results(rules))
    assert "✗ base exact = 0.250 < 0.500 (min)" in text
    assert "✓ base error_rate = 0.500 ≤ 0.500 (max)" in text
    assert text.rstrip().endswith("NO-GO (1 of 2 rules passed)")
    assert _printed(_results([])).rstrip().endswith("GO (no gate rules)")


def test_comparisons_against_the_base_show_delta_ci_and_a_significance_marker() -> None:
    results = run({"base": marks(10, 30), "step-10": marks(12, 28), "final": marks(30, 10)})
    results.targets[1] = replace(results.targets[1], step=10)
    results = _analysed(results)
    text = _printed(results)
    assert "Paired Δ against the reference" in text and "p Holm-adjusted" in text
    final = next(line for line in text.splitlines() if line.lstrip().startswith("final") and "base" in line)
    assert "+0.500" in final and final.rstrip().endswith("< 0.001  ***")
    step = next(line for line in text.splitlines() if line.lstrip().startswith("step-10") and "base" in line)
    assert "+0.050" in step and not step.rstrip().endswith("*")
    assert "error_rate" not in text.split("Paired Δ")[1]


def _recommendation_line(right: dict[str, list[bool | None]]) -> str:
    results = run(right)
    for index, step in ((1, 10), (2, 20), (3, 30)):
        results.targets[index] = replace(results.targets[index], step=step)
    out = io.StringIO()
    print_summary(_analysed(results), console=Console(file=out, width=400, color_system=None))
    return next(line for line in out.getvalue().splitlines() if line.startswith("Recommendation:"))


def test_a_checkpoint_a_few_cases_ahead_is_within_noise_and_final_is_recommended() -> None:
    line = _recommendation_line({"base": marks(1, 9), "step-10": marks(5, 5), "step-20": marks(9, 1), "final": marks(6, 4)})
    assert line == (
        "Recommendation: ship final — step-20 and final are indistinguishable on this suite "
        "(exact 0.900 vs 0.600, Δ +0.300, 95% CI [+0.100, +0.600], p = 0.25)"
    )


def test_a_significantly_better_checkpoint_is_printed_with_an_overfitting_warning() -> None:
    line = _recommendation_line(
        {"base": marks(4, 36), "step-10": marks(20, 20), "step-20": marks(38, 2), "final": marks(20, 20)}
    )
    assert line.startswith(
        "Recommendation: ship step-20 ⚠ possible overfitting — step-20 is significantly better than final "
        "(exact 0.950 vs 0.500, Δ +0.450, 95% CI ["
    )
    assert line.endswith("): training past step 20 may have overfitted")


def test_significance_markers() -> None:
    assert [significance(p) for p in (0.0004, 0.004, 0.04, 0.05, None)] == ["***", "**", "*", "", ""]
