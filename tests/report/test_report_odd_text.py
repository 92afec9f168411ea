"""Outputs never fail on odd characters: a lone surrogate (valid JSON from a server, not UTF-8), NUL, other
C0 and C1 control characters and megabyte answers are written — report.html, summary.md and junit.xml
parse, and show what could not be written as a visible escape."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures.runs import build_results, scored_run
from rich.console import Console
from test_report_html import Page

from evalkit.records import Case, CaseSet, Metric, Outcome, Score, Target
from evalkit.records.findings import GateVerdict, RuleResult
from evalkit.records.results import RunResults
from evalkit.report.cases import MAX_TEXT
from evalkit.report.console import print_summary
from evalkit.report.escapes import visible
from evalkit.report.outputs import write_reports

ODD = "a\ud800b\x00c\x07d\x1b[31me\x85f\x9bg\ufffeh\udfffi"
"""Every kind of character that cannot be written or would not be seen."""
SHOWN = "a\\ud800b\\x00c\\x07d\\x1b[31me\\x85f\\x9bg\\ufffeh\\udfffi"
"""How the outputs show it."""
MEGABYTE = "x" * (1 << 20)
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@pytest.fixture
def odd() -> RunResults:
    """A run whose answers, errors, ids, target names and verdict carry ``ODD``, one answer a megabyte long."""
    cases = [
        Case(id=f"c1{ODD}", reference=f"ref {ODD}", messages=({"role": "user", "content": f"hi {ODD}"},)),
        Case(id="c2", reference="billing", prompt="tell me"),
    ]
    odd_target = f"final{ODD}"
    targets = [Target("base", "gpt-4o-mini", "chat", "base"), Target(odd_target, "ft:x", "chat", "final")]
    scored = scored_run(
        suite_name=f"triage {ODD}",
        case_set=CaseSet(cases, "b" * 64, "inline"),
        targets=targets,
        outcomes={
            "base": [Outcome(f"answer {ODD}"), Outcome(None, error=f"500 server said {ODD}")],
            odd_target: [Outcome(MEGABYTE), Outcome("billing")],
        },
        scores={
            "base": {"exact": [Score(0.0, answer=ODD, explanation=ODD), None]},
            odd_target: {"exact": [Score(0.0), Score(1.0)]},
        },
        metrics={"base": {"exact": Metric(0.0, 1)}, odd_target: {"exact": Metric(0.5, 2)}},
        warnings=[f"warning {ODD}"],
    )
    results = build_results(scored)
    rule = RuleResult(target=odd_target, metric="exact", value=None, passed=False, reason=f"reason {ODD}",
                      error=f"no successful answer: {ODD}")  # fmt: skip
    results.gate = GateVerdict("error", rules=[rule], errors=[f"{odd_target}: {ODD}"])
    results.incomplete = f"crashed on {ODD}"
    return results


def test_the_escapes() -> None:
    assert visible(ODD) == SHOWN
    assert visible("tab\tline\nreturn\r") == "tab\tline\nreturn\r"
    assert visible("\ud83d\ude00 pair") == "\U0001f600 pair"  # a pair held as two code points is joined
    assert visible("déjà vu → ✓ \U0001f600") == "déjà vu → ✓ \U0001f600"


def test_all_three_outputs_are_written_and_parse(odd: RunResults, tmp_path: Path) -> None:
    paths = write_reports(odd, tmp_path)
    texts = {path.name: path.read_bytes().decode("utf-8") for path in paths}  # strict: valid UTF-8
    for name, text in texts.items():
        assert not INVISIBLE.search(text), name

    html = texts["report.html"]
    page = Page(html)
    assert SHOWN in page.all_text
    data = page.cases()
    case = data["cases"][0]
    assert case["id"] == f"c1{SHOWN}" and case["ref"] == f"ref {SHOWN}" and SHOWN in case["input"]
    base, final = case["res"]
    assert base["out"] == f"answer {SHOWN}" and base["s"][0][2:] == [SHOWN, SHOWN]
    assert data["cases"][1]["res"][0]["err"] == f"500 server said {SHOWN}"
    assert data["targets"] == ["base", f"final{SHOWN}"]
    assert final["out"].startswith("x" * MAX_TEXT) and final["out"].endswith(
        "… [cut: 1,048,576 characters in all; the whole text is in results.json]"
    )
    assert len(html) < 2 * MAX_TEXT

    root = ET.fromstring(paths.junit.read_bytes())
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == f"evalkit.triage {SHOWN}"
    run, rule = suite.findall("testcase")
    assert run.findtext("error") == f"final{SHOWN}: {SHOWN}\npartial results: crashed on {SHOWN}"
    error = rule.find("error")
    assert error is not None
    assert error.get("message") == f"final{SHOWN} exact: cannot be evaluated: no successful answer: {SHOWN}"

    summary = texts["summary.md"]
    assert "partial results: crashed on a\\\\ud800b\\\\x00c" in summary  # the escape, its backslash escaped
    assert "## ⛔ ERROR — triage a\\\\ud800b" in summary


def test_the_terminal_prints_them_escaped(odd: RunResults) -> None:
    out = io.BytesIO()
    stream = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
    print_summary(odd, console=Console(file=stream, width=400, color_system=None))
    printed = out.getvalue().decode("utf-8")
    assert "a\\ud800b\\x00c\\x07d\\x1b[31me\\x85f" in printed and "\x1b" not in printed


def test_an_answer_under_the_limit_is_embedded_whole(odd: RunResults, tmp_path: Path) -> None:
    odd.cases[0].results[odd.target_names[1]] = replace(
        odd.cases[0].results[odd.target_names[1]], output="y" * (MAX_TEXT - 1)
    )
    html = write_reports(odd, tmp_path).report.read_text(encoding="utf-8")
    assert json.dumps("y" * (MAX_TEXT - 1)) in html  # under the limit: whole
