"""junit.xml: each gate rule a test case a CI system can show; valid XML whatever the names hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from evalkit.records.findings import Comparison
from evalkit.records.results import RunResults
from evalkit.report import render_junit


def _suite(xml: str) -> ET.Element:
    root = ET.fromstring(xml.encode("utf-8"))
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and len(suites) == 1
    return suites[0]


def test_one_case_per_rule_and_a_failure_per_failed_rule(results: RunResults) -> None:
    suite = _suite(render_junit(results))
    assert suite.get("name") == "evalkit.triage"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "final classify.macro_f1 ≥ 0.8",
        "base exact ≥ 0.5",
        "base classify ≥ 0.5",
    ]
    failures = [c.find("failure") for c in cases]
    assert failures[0] is None
    assert failures[1] is not None and failures[1].get("message") == "base exact = 0.333 < 0.500 (min)"
    assert failures[2] is not None and "0.333 < 0.500" in str(failures[2].get("message"))
    assert suite.get("time") == "90.000"


def test_without_rules_each_target_passes_and_records_its_error_rate(
    results_without_rules: RunResults,
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


def test_markup_and_control_characters_in_names_stay_valid_xml(results: RunResults) -> None:
    results.suite = replace(results.suite, name='tri"age<&>\x00\x1b')
    rules = list(results.gate.rules)
    rules[1] = replace(rules[1], reason="base ]]> <x/> \x07 & done ✗")
    results.gate = replace(results.gate, rules=rules)
    suite = _suite(render_junit(results))
    assert str(suite.get("name")).startswith('evalkit.tri"age<&>')
    failure = suite.findall("testcase")[1].find("failure")
    assert failure is not None and failure.text is not None
    assert failure.text.startswith("base ]]> <x/> ") and failure.text.endswith(" & done ✗")


def test_a_paired_rule_is_a_test_case_whose_failure_gives_the_figure_and_the_bar(
    results: RunResults,
) -> None:
    from evalkit.gate import apply_gate
    from evalkit.suite.model import GateRule

    results.comparisons = [
        Comparison(
            target="final",
            versus="base",
            metric="exact",
            delta=-0.03,
            ci=(-0.08, 0.02),
            p_value=0.4,
            p_adjusted=0.4,
            test="mcnemar-exact",
            n=3,
        )
    ]
    results.gate = apply_gate(
        [
            GateRule(target="final", metric="exact", versus="base", margin=0.02),
            GateRule(target="final", max_error_rate=0.1),
        ],
        results,
    )
    cases = _suite(render_junit(results)).findall("testcase")
    assert [c.get("name") for c in cases] == [
        "final exact vs base non-inferior (margin 0.02)",
        "final error_rate ≤ 0.1",
    ]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("type") == "gate.non-inferiority"
    assert failure.get("message") == (
        "final exact vs base: Δ = −0.030, 95% CI [−0.080, +0.020] < −0.020 (inferiority not ruled out)"
    )
    assert cases[1].find("failure") is None
    assert cases[1].findtext("system-out") == "final error_rate = 0.000 ≤ 0.100 (max)"
