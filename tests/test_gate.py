"""The gate: rules on a run's metrics → go/no-go, one readable reason per rule, mistakes named."""

from __future__ import annotations

from typing import Any

import pytest

from evalkit.errors import InputError
from evalkit.gate import apply_gate, rule_label, rules_from_results
from evalkit.suite.model import GateRule


def _metric(value: float | None, n: int = 10) -> dict[str, Any]:
    return {"value": value, "ci": None, "n": n}


METRICS: dict[str, dict[str, dict[str, Any]]] = {
    "base": {"exact": _metric(0.2), "classify.macro_f1": _metric(0.4), "error_rate": _metric(0.0)},
    "final": {
        "exact": _metric(0.412),
        "classify.macro_f1": _metric(0.8333),
        "error_rate": _metric(0.1),
        "judge": _metric(None, 0),
    },
}


def test_no_rules_is_go() -> None:
    assert apply_gate([], METRICS) == {"verdict": "go", "rules": []}


def test_a_rule_that_holds() -> None:
    gate = apply_gate([GateRule(target="final", metric="classify.macro_f1", min=0.8)], METRICS)
    assert gate["verdict"] == "go"
    assert gate["rules"] == [
        {
            "target": "final",
            "metric": "classify.macro_f1",
            "min": 0.8,
            "max": None,
            "value": 0.8333,
            "passed": True,
            "reason": "final classify.macro_f1 = 0.833 ≥ 0.800 (min)",
        }
    ]


def test_one_failing_rule_makes_no_go() -> None:
    rules = [
        GateRule(target="final", metric="classify.macro_f1", min=0.8),
        GateRule(target="final", metric="exact", min=0.5),
    ]
    gate = apply_gate(rules, METRICS)
    assert gate["verdict"] == "no-go"
    assert [r["passed"] for r in gate["rules"]] == [True, False]
    assert gate["rules"][1]["reason"] == "final exact = 0.412 < 0.500 (min)"


@pytest.mark.parametrize(
    ("rule", "passed", "reason"),
    [
        (
            GateRule(target="final", metric="error_rate", max=0.05),
            False,
            "final error_rate = 0.100 > 0.050 (max)",
        ),
        (
            GateRule(target="base", metric="error_rate", max=0.05),
            True,
            "base error_rate = 0.000 ≤ 0.050 (max)",
        ),
        (
            GateRule(target="final", metric="exact", min=0.4, max=0.5),
            True,
            "final exact = 0.412 within [0.400, 0.500]",
        ),
        (
            GateRule(target="final", metric="exact", min=0.1, max=0.3),
            False,
            "final exact = 0.412 > 0.300 (max)",
        ),
        (GateRule(target="final", metric="exact", min=0.412), True, "final exact = 0.412 ≥ 0.412 (min)"),
    ],
)
def test_bounds_are_inclusive_and_explained(rule: GateRule, passed: bool, reason: str) -> None:
    checked = apply_gate([rule], METRICS)["rules"][0]
    assert (checked["passed"], checked["reason"]) == (passed, reason)


def test_a_near_miss_shows_enough_digits_to_see_it() -> None:
    metrics = {"final": {"exact": _metric(0.7996)}}
    checked = apply_gate([GateRule(target="final", metric="exact", min=0.8)], metrics)["rules"][0]
    assert checked["passed"] is False
    assert checked["reason"] == "final exact = 0.7996 < 0.8000 (min)"


def test_a_metric_with_no_scored_case_fails_its_rule() -> None:
    gate = apply_gate([GateRule(target="final", metric="judge", min=0.5)], METRICS)
    assert gate["verdict"] == "no-go"
    assert gate["rules"][0]["value"] is None
    assert "no scored cases" in gate["rules"][0]["reason"]


def test_unknown_target_is_an_input_error_listing_the_targets() -> None:
    rules = [
        GateRule(target="final", metric="exact", min=0.1),
        GateRule(target="fnal", metric="exact", min=0.1),
    ]
    with pytest.raises(InputError) as caught:
        apply_gate(rules, METRICS, file="suites/triage.yaml")
    error = caught.value
    assert error.field == "gate[1].target"
    assert str(error).startswith("suites/triage.yaml: gate[1].target: target 'fnal' is not in this run")
    assert "did you mean 'final'?" in str(error)
    assert "(targets: base, final)" in str(error)


def test_unknown_metric_is_an_input_error_listing_the_metrics() -> None:
    with pytest.raises(InputError) as caught:
        apply_gate([GateRule(target="base", metric="classify.f1", min=0.5)], METRICS)
    error = caught.value
    assert error.field == "gate[0].metric"
    assert "metric 'classify.f1' is not reported for target 'base'" in str(error)
    assert "(metrics: classify.macro_f1, error_rate, exact)" in str(error)


def test_a_saved_gate_can_be_reapplied() -> None:
    rules = [
        GateRule(target="final", metric="exact", min=0.5),
        GateRule(target="base", metric="error_rate", max=0.1),
    ]
    saved = {"gate": apply_gate(rules, METRICS)}
    assert rules_from_results(saved) == rules
    assert apply_gate(rules_from_results(saved), METRICS) == saved["gate"]
    assert [rule_label(r) for r in saved["gate"]["rules"]] == ["final exact ≥ 0.5", "base error_rate ≤ 0.1"]
