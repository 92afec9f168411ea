"""summary.md and the terminal show each comparison's mde beside its Δ, CI and p, and the gate's warnings."""

from __future__ import annotations

import io
import re
from dataclasses import replace

from fixtures.runs import exact_run, marks
from rich.console import Console

from evalkit.analysis import analyse
from evalkit.gate import apply_gate, rule_levels
from evalkit.records.results import RunResults
from evalkit.report import render_summary
from evalkit.report.console import print_summary
from evalkit.suite.model import GateRule

RULES = [GateRule(target="final", metric="exact", versus="base", margin=0.02)]


def run() -> RunResults:
    """24 cases, base and final (3 fixed, 1 broken), analysed and gated as ``evalkit run`` does it."""
    results = exact_run(
        {"base": marks(14, 10), "final": [False] + [True] * 13 + [True] * 3 + [False] * 7}
    )
    results = analyse(results, alphas=rule_levels(RULES, results.target_names)).into(results)
    return replace(results, gate=apply_gate(RULES, results))


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_summary_md_shows_each_comparison_with_its_mde() -> None:
    results = run()
    comparison = next(c for c in results.comparisons if c.metric == "exact")
    assert comparison.mde is not None
    lines = render_summary(results).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Paired Δ against the reference"))
    assert "mde: the smallest true Δ the test detects with 80% power" in lines[start]
    header, _, *rows = [line for line in lines[start + 1 :] if line.startswith("|")][:3]
    assert _cells(header) == ["target", "versus", "metric", "Δ", "95% CI", "mde", "p", "n"]
    cells = _cells(rows[0])
    assert cells[:4] == ["final", "base", "exact", "+0.083"]
    assert cells[5] == f"{comparison.mde:.3f}" and cells[7] == "24"
    assert cells[6] == f"{comparison.p_adjusted:.3f}"


def test_summary_md_and_the_terminal_carry_the_gate_warning() -> None:
    results = run()
    (warning,) = results.gate.warnings
    assert "margin 0.02 is below what 24 cases can resolve" in warning
    summary = render_summary(results)
    rule = "final exact vs base non-inferior (margin 0.02)"
    assert f"- ⚠️ gate\\[0\\] ({rule}): final: margin 0.02" in summary
    out = io.StringIO()
    print_summary(results, console=Console(file=out, width=400, color_system=None))
    text = out.getvalue()
    assert f"  warning: {warning}" in text
    assert text.index("warning:") < text.index("NO-GO (0 of 1 rules passed)")


def test_the_terminal_shows_the_mde_column() -> None:
    results = run()
    comparison = next(c for c in results.comparisons if c.metric == "exact")
    out = io.StringIO()
    print_summary(results, console=Console(file=out, width=200, color_system=None))
    lines = out.getvalue().splitlines()
    header = next(line for line in lines if "95% CI" in line and "mde" in line)
    assert header.split() == ["target", "versus", "metric", "Δ", "95%", "CI", "mde", "p"]
    row = next(line for line in lines if line.split()[:3] == ["final", "base", "exact"])
    assert row.split()[6] == f"{comparison.mde:.3f}"  # after Δ and the two ends of its CI
    assert "mde: the smallest true Δ the test detects with 80% power" in out.getvalue()


def test_report_html_lists_the_gates_margin_warning() -> None:
    from evalkit.report import render_html

    results = run()
    (warning,) = results.gate.warnings
    assert "below what 24 cases can resolve" in warning
    page = render_html(results)
    warnings = page.split('id="warnings"', 1)[1].split("</section>", 1)[0]
    assert "below what 24 cases can resolve" in warnings
