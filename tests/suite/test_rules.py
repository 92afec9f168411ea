"""Gate rules and prices in a suite file: every kind loads, every mistake is one located line."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import SuiteError
from evalkit.suite import load_suite
from evalkit.suite.model import GateRule, Price

HEAD = """\
name: triage
cases:
  - {prompt: "q", completion: "a"}
scorers: [exact, {classify: {labels: [a, b]}}]
"""


def load(tmp_path: Path, tail: str) -> object:
    path = tmp_path / "suite.yaml"
    path.write_text(HEAD + tail)
    return load_suite(path)


def test_every_kind_of_rule_and_prices_load(tmp_path: Path) -> None:
    suite = load(
        tmp_path,
        """\
gate:
  - {target: final, metric: classify.macro_f1, min: 0.8, on: ci_low}
  - {target: final, metric: exact, versus: base, margin: 0.02}
  - {target: "step-*", metric: classify.macro_f1, versus: base, superior: true, alpha: 0.01}
  - {target: [final, step-30], metric: exact, baseline: runs/v1/results.json, margin: 0, allow_changed: true}
  - {target: final, max_error_rate: 0.02}
  - {target: final, max_cost_usd: 5}
  - {target: final, max_latency_p95_s: 2.0}
prices:
  gpt-4o-mini: {input: 0.15, output: 0.6}
  "ft:gpt-4o-mini": {input: 0.3, output: 1.2}
""",
    )
    assert [rule.kind for rule in suite.gate] == [  # type: ignore[attr-defined]
        "bound",
        "non-inferiority",
        "superiority",
        "non-inferiority",
        "budget",
        "budget",
        "budget",
    ]
    assert suite.gate[3].target_patterns == ["final", "step-30"]  # type: ignore[attr-defined]
    assert suite.gate[5].budget == ("cost_usd", 5.0)  # type: ignore[attr-defined]
    assert suite.prices == {  # type: ignore[attr-defined]
        "gpt-4o-mini": Price(input=0.15, output=0.6),
        "ft:gpt-4o-mini": Price(input=0.3, output=1.2),
    }


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        ("{target: final, metric: exact}", "gate[0]", "a gate rule needs 'min' or 'max' (a bound)"),
        ("{target: final, min: 0.5}", "gate[0]", "a gate rule needs 'metric'"),
        ("{target: final, metric: exact, versus: base}", "gate[0]", "a comparison needs 'margin: M'"),
        (
            "{target: final, metric: exact, versus: base, margin: 0.1, superior: true}",
            "gate[0].margin",
            "give 'margin' (non-inferiority) or 'superior: true', not both",
        ),
        (
            "{target: final, metric: exact, versus: base, margin: 0.1, min: 0.5}",
            "gate[0].min",
            "a comparison bounds the difference with 'margin' or 'superior: true'",
        ),
        (
            "{target: final, metric: exact, min: 0.5, margin: 0.1}",
            "gate[0].margin",
            "goes with 'versus' or 'baseline'",
        ),
        ("{target: final, metric: exact, versus: base, margin: -0.1}", "gate[0].margin", "at least 0"),
        (
            "{target: final, metric: exact, versus: base, superior: true, alpha: 1.5}",
            "gate[0].alpha",
            "less than 1",
        ),
        (
            "{target: final, metric: exact, versus: base, margin: 0.1, alpha: 0.1}",
            "gate[0].alpha",
            "'superior: true'",
        ),
        ("{target: final, metric: exact, min: 0.5, on: lower}", "gate[0].on", "value"),
        ("{target: final, metric: exact, min: 0.9, max: 0.5}", "gate[0].max", "max 0.5 is below min 0.9"),
        (
            "{target: final, max_cost_usd: 5, max_error_rate: 0.1}",
            "gate[0].max_cost_usd",
            "one budget per rule",
        ),
        (
            "{target: final, max_cost_usd: 5, metric: exact}",
            "gate[0].metric",
            "does not go with max_cost_usd",
        ),
        ("{target: final, max_error_rate: 1.5}", "gate[0].max_error_rate", "at most 1"),
        ("{target: [], metric: exact, min: 0.1}", "gate[0].target", "name at least one target"),
        ("{target: [a, a], metric: exact, min: 0.1}", "gate[0].target", "a target is listed twice"),
        (
            "{target: final, metric: exact, versus: base, baseline: r.json, margin: 0}",
            "gate[0].baseline",
            "not both",
        ),
        (
            "{target: final, metric: exact, versus: base, margin: 0, allow_changed: true}",
            "gate[0].allow_changed",
            "goes with 'baseline'",
        ),
        ("{target: final, metric: exact, versus: 'step-*', margin: 0}", "gate[0].versus", "not a pattern"),
        ("{target: final, metric: exact, min: 0.1, maximum: 2}", "gate[0].maximum", "unknown key"),
    ],
)
def test_a_wrong_rule_is_one_located_error(tmp_path: Path, rule: str, field: str, message: str) -> None:
    with pytest.raises(SuiteError) as caught:
        load(tmp_path, f"gate:\n  - {rule}\n")
    error = caught.value
    assert error.line == 6, str(error)
    assert error.field == field, str(error)
    assert message in error.message


@pytest.mark.parametrize(
    ("prices", "field", "message"),
    [
        ("{gpt-4o: {input: 1}}", "prices.gpt-4o.output", "required"),
        ("{gpt-4o: {input: -1, output: 1}}", "prices.gpt-4o.input", "at least 0"),
        ("{gpt-4o: {input: 1, output: 1, cached: 0.5}}", "prices.gpt-4o.cached", "unknown key"),
        ('{"ft:": {input: 1, output: 1}}', "prices.ft:", "name a model id"),
    ],
)
def test_a_wrong_price_is_one_located_error(tmp_path: Path, prices: str, field: str, message: str) -> None:
    with pytest.raises(SuiteError) as caught:
        load(tmp_path, f"prices: {prices}\n")
    assert caught.value.field == field, str(caught.value)
    assert message in caught.value.message


def test_a_rule_stored_in_results_rebuilds_the_same_rule() -> None:
    rule = GateRule(target=["final", "step-*"], metric="exact", baseline="r.json", superior=True, alpha=0.01)
    assert rule.to_json() == {
        "target": ["final", "step-*"],
        "metric": "exact",
        "baseline": "r.json",
        "superior": True,
        "alpha": 0.01,
    }
    assert GateRule.model_validate(rule.to_json()) == rule
