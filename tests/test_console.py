"""print_summary: the terminal table of targets × headline metrics, and the verdict."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from evalkit.console import print_summary
from evalkit.gate import apply_gate
from evalkit.records import Case, CaseSet, Metric, Outcome, RunRecord, Score, Target
from evalkit.results import build_results
from evalkit.suite.model import GateRule


def _results(rules: list[GateRule]) -> dict[str, Any]:
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
    record = RunRecord(
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
    plain = build_results(record, {"verdict": "go", "rules": []})
    return build_results(record, apply_gate(rules, plain["metrics"]))


def _printed(results: dict[str, Any]) -> str:
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
