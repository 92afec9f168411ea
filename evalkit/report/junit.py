"""junit.xml: the gate as JUnit test results, so a CI system shows each rule as a passed or failed test.

One ``<testsuite name="evalkit.<suite>">``; one ``<testcase>`` per gate rule, named by the rule
(``final exact vs base non-inferior (margin 0.02)``), with a ``<failure>`` whose message is the rule's
reason — the figure and the bar — when it failed (its ``<system-out>`` when it held). A run without rules gets one passing test case per target that records
its error rate, so CI still shows what ran.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from evalkit.gate import rule_label
from evalkit.records import ERROR_RATE
from evalkit.records.findings import RuleResult
from evalkit.records.results import RunResults
from evalkit.report.summary import headline_value
from evalkit.text import number

__all__ = ["render_junit"]

# Characters XML 1.0 cannot hold at all, even escaped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(results: RunResults) -> str:
    """The JUnit XML document of a run's gate."""
    suite_name = f"evalkit.{results.suite.name}"
    rules = results.gate.rules
    cases = [_rule_case(suite_name, rule) for rule in rules] if rules else _target_cases(suite_name, results)
    failures = sum(1 for case in cases if case.find("failure") is not None)
    suite = ET.Element(
        "testsuite",
        _attrs(
            name=suite_name,
            tests=str(len(cases)),
            failures=str(failures),
            errors="0",
            skipped="0",
            time=_duration(results.started_at, results.finished_at),
            timestamp=results.started_at,
        ),
    )
    suite.extend(cases)
    root = ET.Element("testsuites", _attrs(name="evalkit", tests=str(len(cases)), failures=str(failures)))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _rule_case(classname: str, rule: RuleResult) -> ET.Element:
    case = ET.Element("testcase", _attrs(classname=classname, name=rule_label(rule), time="0"))
    if not rule.passed:
        failure = ET.SubElement(case, "failure", _attrs(message=rule.reason, type=f"gate.{rule.kind or 'bound'}"))
        failure.text = _clean(rule.reason)
    else:
        ET.SubElement(case, "system-out").text = _clean(rule.reason)
    return case


def _target_cases(classname: str, results: RunResults) -> list[ET.Element]:
    cases = []
    for target in results.targets:
        rate = number(headline_value(results, target.name, ERROR_RATE))
        case = ET.Element("testcase", _attrs(classname=classname, name=f"{target.name} ran", time="0"))
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", _attrs(name=ERROR_RATE, value=rate))
        ET.SubElement(case, "system-out").text = _clean(f"{target.name} {ERROR_RATE} = {rate}")
        cases.append(case)
    return cases


def _attrs(**values: str) -> dict[str, str]:
    return {key: _clean(value) for key, value in values.items()}


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def _duration(started: str, finished: str) -> str:
    try:
        seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return "0"
    return f"{max(seconds, 0.0):.3f}"
