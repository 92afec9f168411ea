"""The gate: rules on a run's results → go/no-go, one readable reason per rule, mistakes named.

``run(...)`` (``fixtures.runs.exact_run``) builds a run's ``RunResults`` the way ``evalkit run`` does
before its analysis.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fixtures.runs import exact_run as run
from fixtures.runs import marks, plain, verdict_of

from evalkit.errors import InputError
from evalkit.gate import apply_gate, rule_label, rules_from_results
from evalkit.records import Metric
from evalkit.records.findings import Check, GateVerdict, RuleResult
from evalkit.records.results import RunResults
from evalkit.suite.model import GateRule


@pytest.fixture
def results() -> RunResults:
    """base 2/10 right; final 4/10 right with one failed call (so 4/9 scored, error rate 0.1)."""
    found = run({"base": marks(2, 8), "final": marks(4, 5, 1)})
    found.metrics["final"]["classify.macro_f1"] = Metric(0.8333, 9, (0.61, 0.95))
    found.metrics["final"]["judge"] = Metric(None, 0)
    return found


def gate(rules: list[GateRule], results: RunResults, **options: Any) -> GateVerdict:
    return apply_gate(rules, results, **options)


def test_no_rules_is_go(results: RunResults) -> None:
    assert plain(gate([], results)) == {"verdict": "go", "rules": [], "errors": []}


def test_a_rule_that_holds_is_recorded_with_its_figure_and_the_rule_as_written(
    results: RunResults,
) -> None:
    checked = gate([GateRule(target="final", metric="classify.macro_f1", min=0.8)], results)
    assert checked.verdict == "go"
    assert plain(checked)["rules"] == [
        {
            "rule": {"target": "final", "metric": "classify.macro_f1", "min": 0.8},
            "kind": "bound",
            "target": "final",
            "metric": "classify.macro_f1",
            "value": 0.8333,
            "passed": True,
            "reason": "final classify.macro_f1 = 0.833 ≥ 0.800 (min)",
            "checks": [{"target": "final", "value": 0.8333, "passed": True}],
        }
    ]
    assert checked.rules == [
        RuleResult(
            rule={"target": "final", "metric": "classify.macro_f1", "min": 0.8},
            kind="bound",
            target="final",
            metric="classify.macro_f1",
            value=0.8333,
            passed=True,
            reason="final classify.macro_f1 = 0.833 ≥ 0.800 (min)",
            checks=[Check(target="final", value=0.8333, passed=True)],
        )
    ]


def test_one_failing_rule_makes_no_go(results: RunResults) -> None:
    rules = [
        GateRule(target="final", metric="classify.macro_f1", min=0.8),
        GateRule(target="final", metric="exact", min=0.5),
    ]
    checked = gate(rules, results)
    assert checked.verdict == "no-go"
    assert [r.passed for r in checked.rules] == [True, False]
    assert checked.rules[1].reason == "final exact = 0.444 < 0.500 (min)"


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
            "final exact = 0.444 within [0.400, 0.500]",
        ),
        (
            GateRule(target="final", metric="exact", min=0.1, max=0.3),
            False,
            "final exact = 0.444 > 0.300 (max)",
        ),
        (GateRule(target="base", metric="exact", min=0.2), True, "base exact = 0.200 ≥ 0.200 (min)"),
    ],
)
def test_bounds_are_inclusive_and_explained(
    results: RunResults, rule: GateRule, passed: bool, reason: str
) -> None:
    checked = gate([rule], results).rules[0]
    assert (checked.passed, checked.reason) == (passed, reason)


def test_a_near_miss_shows_enough_digits_to_see_it(results: RunResults) -> None:
    results.metrics["final"]["exact"] = replace(results.metrics["final"]["exact"], value=0.7996)
    checked = gate([GateRule(target="final", metric="exact", min=0.8)], results).rules[0]
    assert checked.passed is False
    assert checked.reason == "final exact = 0.7996 < 0.8000 (min)"


@pytest.mark.parametrize(
    ("on", "bound", "passed", "reason"),
    [
        (
            "ci_low",
            {"min": 0.6},
            True,
            "final classify.macro_f1 = 0.833, 95% CI [0.610, 0.950]: low 0.610 ≥ 0.600 (min)",
        ),
        (
            "ci_low",
            {"min": 0.7},
            False,
            "final classify.macro_f1 = 0.833, 95% CI [0.610, 0.950]: low 0.610 < 0.700 (min)",
        ),
        (
            "ci_high",
            {"max": 0.9},
            False,
            "final classify.macro_f1 = 0.833, 95% CI [0.610, 0.950]: high 0.950 > 0.900 (max)",
        ),
    ],
)
def test_a_bound_on_the_confidence_interval_uses_its_end(
    results: RunResults, on: str, bound: dict[str, float], passed: bool, reason: str
) -> None:
    rule = GateRule.model_validate({"target": "final", "metric": "classify.macro_f1", "on": on, **bound})
    checked = gate([rule], results).rules[0]
    assert (checked.passed, checked.reason) == (passed, reason)
    assert checked.value == (0.61 if on == "ci_low" else 0.95)


def test_a_ci_bound_without_an_interval_fails_saying_so(results: RunResults) -> None:
    results.metrics["final"]["exact"] = replace(results.metrics["final"]["exact"], ci=None)
    checked = gate([GateRule(target="final", metric="exact", min=0.1, on="ci_low")], results).rules[0]
    assert checked.passed is False
    assert checked.reason == "final exact = 0.444: no confidence interval to bound"


def test_a_rule_on_a_metric_with_no_scored_case_cannot_be_evaluated_and_the_verdict_is_error(
    results: RunResults,
) -> None:
    checked = gate([GateRule(target="final", metric="judge", min=0.5)], results)
    assert checked.verdict == "error"
    assert checked.rules[0].value is None and checked.rules[0].passed is False
    why = "target 'final': no case was scored for 'judge'"
    assert checked.rules[0].reason == f"final judge: no scored cases ({why})"
    assert checked.rules[0].error == why
    assert checked.errors == [f"gate[0] (final judge ≥ 0.5): cannot be evaluated: {why}"]


def test_a_rule_over_several_targets_holds_only_if_it_holds_for_each() -> None:
    results = run({"base": marks(2, 8), "step-10": marks(6, 4), "step-20": marks(9, 1), "final": marks(8, 2)})
    checked = gate([GateRule(target="step-*", metric="exact", min=0.7)], results).rules[0]
    assert checked.passed is False
    assert checked.value is None
    assert checked.reason == ("step-* exact: step-10 = 0.600 < 0.700 (min); step-20 = 0.900 ≥ 0.700 (min)")
    assert [(c.target, c.passed) for c in checked.checks] == [("step-10", False), ("step-20", True)]
    listed = gate([GateRule(target=["final", "step-20"], metric="exact", min=0.7)], results).rules[0]
    assert listed.passed is True
    assert [c.target for c in listed.checks] == ["step-20", "final"]  # in run order


def test_unknown_target_is_an_input_error_listing_the_targets(results: RunResults) -> None:
    rules = [
        GateRule(target="final", metric="exact", min=0.1),
        GateRule(target="fnal", metric="exact", min=0.1),
    ]
    with pytest.raises(InputError) as caught:
        gate(rules, results, file="suites/triage.yaml")
    assert str(caught.value) == (
        "suites/triage.yaml: gate[1].target: target 'fnal' is not in this run; did you mean 'final'? "
        "(targets: base, final)"
    )


def test_a_glob_matching_no_target_is_an_input_error(results: RunResults) -> None:
    with pytest.raises(InputError, match=r"gate\[0\]\.target: 'step-\*' matches no target of this run"):
        gate([GateRule(target="step-*", metric="exact", min=0.1)], results)


def test_unknown_metric_is_an_input_error_listing_the_metrics(results: RunResults) -> None:
    with pytest.raises(InputError) as caught:
        gate([GateRule(target="base", metric="classify.f1", min=0.5)], results)
    assert caught.value.field == "gate[0].metric"
    assert "metric 'classify.f1' is not reported for target 'base'" in str(caught.value)
    assert "(metrics: error_rate, exact)" in str(caught.value)


# --- budgets --------------------------------------------------------------------------------------


def test_error_rate_budget(results: RunResults) -> None:
    rules = [GateRule(target="final", max_error_rate=0.02), GateRule(target="base", max_error_rate=0.02)]
    checked = gate(rules, results).rules
    assert [(r.passed, r.reason) for r in checked] == [
        (False, "final error_rate = 0.100 > 0.020 (max)"),
        (True, "base error_rate = 0.000 ≤ 0.020 (max)"),
    ]
    assert checked[0].metric == "error_rate" and checked[0].kind == "budget"


def test_latency_budget_on_p95(results: RunResults) -> None:
    results.usage["final"] = replace(results.usage["final"], latency_p95_s=2.4)
    checked = gate([GateRule(target="final", max_latency_p95_s=2.0)], results).rules[0]
    assert (checked.passed, checked.reason) == (False, "final latency p95 = 2.40 s > 2.00 s (max)")


def test_latency_budget_on_a_cached_rerun_uses_the_recorded_latencies() -> None:
    results = run({"final": marks(20, 0)}, latency=lambda i: 0.1 * (i + 1))
    # every answer came from the cache
    results.usage["final"] = replace(results.usage["final"], latency_p95_s=None)
    checked = gate([GateRule(target="final", max_latency_p95_s=2.0)], results).rules[0]
    assert checked.passed is True
    assert checked.value == pytest.approx(1.905)


def test_cost_budget_from_the_run_costs() -> None:
    results = run(
        {"final": marks(10, 0)}, models={"final": "ft:gpt-4o-mini-2024-07-18:acme::x1"}, tokens=(1000, 100)
    )
    from evalkit.analysis.costs import with_costs

    usage, judges = with_costs(results)
    results = replace(results, usage=usage, judge_usage=judges)
    # 10 cases × (1000 in × $0.30 + 100 out × $1.20) / 1M
    assert results.usage["final"].cost_usd == pytest.approx(0.0042)
    checked = gate([GateRule(target="final", max_cost_usd=5)], results).rules[0]
    assert (checked.passed, checked.reason) == (True, "final cost = $0.0042 ≤ $5.00 (max)")
    over = gate([GateRule(target="final", max_cost_usd=0.004)], results).rules[0]
    assert (over.passed, over.reason) == (False, "final cost = $0.0042 > $0.0040 (max)")


def test_a_cost_budget_for_a_model_without_a_price_is_an_input_error() -> None:
    results = run({"local": marks(3, 0)}, models={"local": "smollm2-135m"})
    with pytest.raises(InputError) as caught:
        gate([GateRule(target="local", max_cost_usd=1)], results, file="suites/triage.yaml")
    assert caught.value.field == "gate[0].max_cost_usd"
    assert "no price is known for model 'smollm2-135m' of target 'local'" in str(caught.value)
    assert "prices:" in str(caught.value)


# --- saved gates --------------------------------------------------------------------------------


def test_a_saved_gate_can_be_reapplied(results: RunResults) -> None:
    rules = [
        GateRule(target="final", metric="exact", min=0.5, on="ci_low"),
        GateRule(target=["base", "final"], max_error_rate=0.1),
        GateRule(target="final", metric="exact", versus="base", margin=0.05),
        GateRule(target="final", metric="exact", versus="base", superior=True, alpha=0.01),
        GateRule(
            target="final", metric="exact", baseline="runs/v1/results.json", margin=0.0, allow_changed=True
        ),
    ]
    saved = verdict_of(
        {
            "verdict": "go",
            "rules": [{**_checked(rule), "value": None, "passed": True, "reason": ""} for rule in rules],
        }
    )
    assert rules_from_results(saved) == rules
    assert [rule_label(r) for r in saved.rules] == [
        "final exact CI low ≥ 0.5",
        "base, final error_rate ≤ 0.1",
        "final exact vs base non-inferior (margin 0.05)",
        "final exact vs base superior (alpha 0.01)",
        "final exact vs baseline runs/v1/results.json non-inferior (margin 0)",
    ]
    applied = gate(rules[:2], results)
    assert rules_from_results(applied) == rules[:2]
    assert gate(rules_from_results(applied), results) == applied
    assert rules_from_results(verdict_of(plain(applied))) == rules[:2]  # as results.json holds it


def _checked(rule: GateRule) -> dict[str, Any]:
    return {"rule": rule.to_json(), "target": rule.target, "metric": rule.figure}


def test_a_gate_saved_by_an_older_evalkit_is_reapplied() -> None:
    saved = verdict_of(
        {
            "verdict": "no-go",
            "rules": [
                {
                    "target": "final",
                    "metric": "exact",
                    "min": 0.5,
                    "max": None,
                    "value": 0.4,
                    "passed": False,
                    "reason": "x",
                }
            ],
        }
    )
    assert rules_from_results(saved) == [GateRule(target="final", metric="exact", min=0.5)]


def test_a_broken_saved_rule_is_an_input_error() -> None:
    saved = verdict_of(
        {
            "verdict": "go",
            "rules": [
                {
                    "rule": {"target": "final", "metric": "exact"},
                    "target": "final",
                    "metric": "exact",
                    "value": None,
                    "passed": True,
                    "reason": "",
                }
            ],
        }
    )
    with pytest.raises(
        InputError, match=r"results.json: gate.rules\[0\]: the saved rule cannot be re-applied"
    ):
        rules_from_results(saved, file="results.json")


def test_rule_targets_resolves_names_and_globs_in_run_order() -> None:
    from evalkit.gate import rule_targets

    names = ["base", "step-10", "step-20", "final"]
    rule = GateRule(target=["final", "step-*"], metric="exact", versus="base", superior=True)
    assert rule_targets(rule, names) == ["step-10", "step-20", "final"]
    assert rule_targets(GateRule(target="*", metric="exact", versus="base", margin=0), names) == names[1:]
    with pytest.raises(InputError, match=r"s.yaml: gate\[3\].target: target 'fnal' is not in this run"):
        rule_targets(GateRule(target="fnal", metric="exact", min=0), names, index=3, file="s.yaml")
