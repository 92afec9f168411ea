"""A run that cannot be judged (verdict ``error``), a rule that could not be evaluated, and a partial
results file, as every output shows them: the terminal, summary.md, report.html and junit.xml."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from rich.console import Console
from test_report_html import Page
from test_report_html_sections import section, text

from evalkit.records.findings import GateVerdict
from evalkit.records.results import RunResults
from evalkit.report import render_html, render_junit, render_summary
from evalkit.report.console import print_summary

WHY = "final: no successful answer (4 of 4 calls failed: timeout)"
RULE_WHY = "no successful answer (4 of 4 calls failed: timeout)"
CRASH = "internal error after the calls: KeyError 'exact' (see crash.txt)"


@pytest.fixture
def broken(results: RunResults) -> RunResults:
    """The conftest run, whose first rule (final classify.macro_f1 ≥ 0.8) could not be evaluated."""
    rules = list(results.gate.rules)
    rules[0] = replace(rules[0], passed=False, value=None, reason="final classify.macro_f1: no scored cases",
                       error=RULE_WHY)  # fmt: skip
    results.gate = GateVerdict("error", rules=rules, errors=[WHY])
    return results


def _printed(results: RunResults) -> list[str]:
    out = io.StringIO()
    print_summary(results, console=Console(file=out, width=200, color_system=None))
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_the_terminal_says_error_and_why(broken: RunResults) -> None:
    lines = _printed(broken)
    assert lines[-2:] == ["ERROR — the run cannot be judged:", f"  - {WHY}"]
    assert f"  ! final classify.macro_f1 ≥ 0.8: cannot be evaluated: {RULE_WHY}" in lines
    assert "  ✗ base exact = 0.333 < 0.500 (min)" in lines
    assert not [line for line in lines if line.startswith(("  ✓ final", "  ✗ final"))]


def test_the_summary_says_error_and_why(broken: RunResults) -> None:
    lines = render_summary(broken).splitlines()
    assert lines[0] == "## ⛔ ERROR — triage"
    assert lines[2].startswith("0 of 3 gate rules passed, 1 could not be evaluated · 4 cases")
    assert lines[4:6] == ["> **The run cannot be judged:**", f"> - {WHY}"]
    assert f"- ⚠️ final classify.macro\\_f1 ≥ 0.8: cannot be evaluated: {RULE_WHY}" in lines
    assert "- ❌ base exact = 0.333 \\< 0.500 (min)" in lines


def test_the_report_says_error_in_its_title_and_banner(broken: RunResults) -> None:
    html = render_html(broken)
    assert "<title>ERROR · triage · evalkit</title>" in html
    assert '<section class="verdict error" id="verdict">' in html
    banner = text(section(html, "verdict"))
    assert banner.startswith("ERROR triage 0 of 3 gate rules passed, 1 could not be evaluated · 4 cases")
    assert f"The run cannot be judged: {WHY}" in banner
    assert f"! final classify.macro_f1 ≥ 0.8: cannot be evaluated: {RULE_WHY}" in banner
    marks = [a.get("aria-label") for a in Page(section(html, "verdict")).named("span") if a.get("class") == "mark"]
    assert marks == ["could not be evaluated", "failed", "failed"]


def test_the_error_banner_has_a_style_of_its_own(broken: RunResults) -> None:
    style = "".join(Page(render_html(broken)).styles)
    rules = {kind: _declarations(style, f".verdict.{kind} {{") for kind in ("go", "no-go", "error")}
    assert rules["error"] and rules["error"] != rules["go"] and rules["error"] != rules["no-go"]
    words = {kind: _declarations(style, f".verdict.{kind} .word {{") for kind in ("go", "no-go", "error")}
    assert len(set(words.values())) == 3


def _declarations(style: str, selector: str) -> str:
    start = style.index(selector) + len(selector)
    return style[start : style.index("}", start)].strip()


def test_junit_has_an_error_for_the_run_and_for_the_rule_that_could_not_be_evaluated(broken: RunResults) -> None:
    root = ET.fromstring(render_junit(broken).encode("utf-8"))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "2")
    assert root.get("errors") == "2"
    run, rule, *others = suite.findall("testcase")
    assert run.get("name") == "evalkit run"
    error = run.find("error")
    assert error is not None and error.get("message") == f"the run cannot be judged: {WHY}"
    assert error.text == WHY
    assert rule.get("name") == "final classify.macro_f1 ≥ 0.8" and rule.find("failure") is None
    rule_error = rule.find("error")
    assert rule_error is not None and rule_error.get("type") == "gate.not-evaluated"
    assert rule_error.get("message") == f"final classify.macro_f1 ≥ 0.8: cannot be evaluated: {RULE_WHY}"
    assert [case.find("failure") is not None for case in others] == [True, True]


def test_an_error_verdict_without_recorded_lines_falls_back_on_the_rules(broken: RunResults) -> None:
    broken.gate = replace(broken.gate, errors=[])
    assert _printed(broken)[-1] == f"  - final classify.macro_f1 ≥ 0.8: cannot be evaluated: {RULE_WHY}"


def test_partial_results_are_said_in_every_output(broken: RunResults) -> None:
    broken.incomplete = CRASH
    note = f"partial results: {CRASH}"
    assert note in _printed(broken)
    assert f"> ⚠️ {note}" in render_summary(broken).splitlines()
    html = render_html(broken)
    assert note in text(section(html, "verdict")) and note in text(section(html, "manifest"))
    run = ET.fromstring(render_junit(broken)).find("testsuite/testcase[@name='evalkit run']/error")
    assert run is not None and run.text == f"{WHY}\n{note}"


def test_partial_results_without_an_error_verdict_still_say_so(results: RunResults) -> None:
    results.incomplete = CRASH
    note = f"partial results: {CRASH}"
    assert note in _printed(results)
    assert render_summary(results).startswith("## ❌ NO-GO — triage")
    assert note in text(section(render_html(results), "verdict"))
    run = ET.fromstring(render_junit(results)).find("testsuite/testcase[@name='evalkit run']/error")
    assert run is not None and run.get("message") == f"the results are partial: {note}"


def test_a_judged_run_has_no_run_case(results: RunResults) -> None:
    suite = ET.fromstring(render_junit(results)).find("testsuite")
    assert suite is not None and suite.get("errors") == "0"
    assert "evalkit run" not in [case.get("name") for case in suite.findall("testcase")]
