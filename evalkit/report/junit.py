"""junit.xml: the gate as JUnit test results, so a CI system shows each rule as a passed or failed test.

One ``<testsuite name="evalkit.<suite>">``; one ``<testcase>`` per gate rule, named by the rule
(``final exact vs base non-inferior (margin 0.02)``), with a ``<failure>`` whose message is the rule's
reason — the figure and the bar — when it failed (its ``<system-out>`` when it held), and an ``<error>``
when it could not be evaluated (``cannot be evaluated: …``). A run without rules gets one passing test
case per target that records its error rate, so CI still shows what ran. A run that cannot be judged, or
whose results are partial, gets a first test case, ``evalkit run``, with an ``<error>`` listing why. A run
made without its gate (``--no-gate``) gets a first test case, ``evalkit gate``, ``<skipped>`` with the
message ``NOT GATED: …``.

Every text is made valid XML 1.0 by ``report.escapes``: what XML cannot hold is shown as an escape.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from evalkit.gate import rule_label
from evalkit.records import ERROR_RATE
from evalkit.records.findings import RuleResult
from evalkit.records.results import RunResults
from evalkit.report.escapes import visible
from evalkit.report.summary import headline_value
from evalkit.report.verdict import ERROR_HEADLINE, NOT_GATED, error_lines, partial_note, rule_state, rule_text
from evalkit.text import number

__all__ = ["render_junit"]

RUN_CASE = "evalkit run"
"""The test case that carries why a run cannot be judged (or why its results are partial)."""
GATE_CASE = "evalkit gate"
"""The test case, skipped, of a run made without its gate (``--no-gate``)."""


def render_junit(results: RunResults) -> str:
    """The JUnit XML document of a run's gate."""
    suite_name = f"evalkit.{results.suite.name}"
    rules = results.gate.rules
    cases = [_rule_case(suite_name, rule) for rule in rules] if rules else _target_cases(suite_name, results)
    if results.gate.verdict == "not-gated":
        cases.insert(0, _not_gated_case(suite_name))
    run = _run_case(suite_name, results)
    if run is not None:
        cases.insert(0, run)
    failures = sum(1 for case in cases if case.find("failure") is not None)
    errors = sum(1 for case in cases if case.find("error") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    suite = ET.Element(
        "testsuite",
        _attrs(
            name=suite_name,
            tests=str(len(cases)),
            failures=str(failures),
            errors=str(errors),
            skipped=str(skipped),
            time=_duration(results.started_at, results.finished_at),
            timestamp=results.started_at,
        ),
    )
    suite.extend(cases)
    root = ET.Element(
        "testsuites", _attrs(name="evalkit", tests=str(len(cases)), failures=str(failures), errors=str(errors))
    )
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _rule_case(classname: str, rule: RuleResult) -> ET.Element:
    case = ET.Element("testcase", _attrs(classname=classname, name=rule_label(rule), time="0"))
    state, text = rule_state(rule), rule_text(rule)
    if state == "error":
        ET.SubElement(case, "error", _attrs(message=text, type="gate.not-evaluated")).text = visible(text)
    elif state == "fail":
        failure = ET.SubElement(case, "failure", _attrs(message=text, type=f"gate.{rule.kind or 'bound'}"))
        failure.text = visible(text)
    else:
        ET.SubElement(case, "system-out").text = visible(text)
    return case


def _not_gated_case(classname: str) -> ET.Element:
    case = ET.Element("testcase", _attrs(classname=classname, name=GATE_CASE, time="0"))
    ET.SubElement(case, "skipped", _attrs(message=f"NOT GATED: {NOT_GATED}"))
    return case


def _run_case(classname: str, results: RunResults) -> ET.Element | None:
    """``evalkit run`` with an ``<error>``: why the run cannot be judged, and that its results are partial."""
    lines = error_lines(results)
    partial = partial_note(results)
    if partial is not None and partial not in lines:
        lines.append(partial)
    if not lines:
        return None
    headline = ERROR_HEADLINE if results.gate.verdict == "error" else "the results are partial"
    case = ET.Element("testcase", _attrs(classname=classname, name=RUN_CASE, time="0"))
    error = ET.SubElement(case, "error", _attrs(message=f"{headline}: {lines[0]}", type="evalkit.error"))
    error.text = visible("\n".join(lines))
    return case


def _target_cases(classname: str, results: RunResults) -> list[ET.Element]:
    cases = []
    for target in results.targets:
        rate = number(headline_value(results, target.name, ERROR_RATE))
        case = ET.Element("testcase", _attrs(classname=classname, name=f"{target.name} ran", time="0"))
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", _attrs(name=ERROR_RATE, value=rate))
        ET.SubElement(case, "system-out").text = visible(f"{target.name} {ERROR_RATE} = {rate}")
        cases.append(case)
    return cases


def _attrs(**values: str) -> dict[str, str]:
    return {key: visible(str(value)) for key, value in values.items()}


def _duration(started: str, finished: str) -> str:
    try:
        seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return "0"
    return f"{max(seconds, 0.0):.3f}"
