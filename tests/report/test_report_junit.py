"""junit.xml: each gate rule a test case a CI system can show; valid XML whatever the names hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from evalkit.report import render_junit


def _suite(xml: str) -> ET.Element:
    root = ET.fromstring(xml.encode("utf-8"))
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and len(suites) == 1
    return suites[0]


def test_one_case_per_rule_and_a_failure_per_failed_rule(results: dict[str, Any]) -> None:
    suite = _suite(render_junit(results))
    assert suite.get("name") == "evalkit.triage"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "final classify.macro_f1 ≥ 0.8",
        "base exact ≥ 0.5",
        "base classify.macro_f1 ≥ 0.1",
    ]
    failures = [c.find("failure") for c in cases]
    assert failures[0] is None
    assert failures[1] is not None and failures[1].get("message") == "base exact = 0.333 < 0.500 (min)"
    assert failures[2] is not None and "no scored cases" in str(failures[2].get("message"))
    assert suite.get("time") == "90.000"


def test_without_rules_each_target_passes_and_records_its_error_rate(
    results_without_rules: dict[str, Any],
) -> None:
    suite = _suite(render_junit(results_without_rules))
    cases = suite.findall("testcase")
    assert suite.get("failures") == "0" and len(cases) == 3
    assert all(case.find("failure") is None for case in cases)
    rates = {
        str(case.get("name")): case.find("properties/property[@name='error_rate']").get("value")  # type: ignore[union-attr]
        for case in cases
    }
    assert rates == {"base ran": "0.250", "final ran": "0.000", "odd|<i>name</i> ran": "0.000"}


def test_markup_and_control_characters_in_names_stay_valid_xml(results: dict[str, Any]) -> None:
    results["suite"]["name"] = 'tri"age<&>\x00\x1b'
    results["gate"]["rules"][1]["reason"] = "base ]]> <x/> \x07 & done ✗"
    suite = _suite(render_junit(results))
    assert str(suite.get("name")).startswith('evalkit.tri"age<&>')
    failure = suite.findall("testcase")[1].find("failure")
    assert failure is not None and failure.text is not None
    assert failure.text.startswith("base ]]> <x/> ") and failure.text.endswith(" & done ✗")
