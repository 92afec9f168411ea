"""Paired gate rules: non-inferiority and superiority against another target or a saved run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fixtures.runs import exact_run as run
from fixtures.runs import marks
from pydantic import ValidationError

from evalkit.analysis import analyse
from evalkit.errors import InputError
from evalkit.gate import apply_gate, check_rules
from evalkit.records.cases import ScorerInfo
from evalkit.records.findings import Comparison
from evalkit.records.results import RunInputs, RunResults
from evalkit.records.results_json import write_results
from evalkit.suite.model import GateRule


def comparison(
    target: str, delta: float, ci: tuple[float, float], p: float, versus: str = "base"
) -> Comparison:
    return Comparison(
        target=target,
        versus=versus,
        metric="exact",
        delta=delta,
        ci=ci,
        p_value=p,
        p_adjusted=p,
        test="mcnemar-exact",
        n=200,
    )


@pytest.fixture
def checkpoints() -> RunResults:
    """base, three checkpoints and final, with hand-written comparisons against base."""
    results = run({name: marks(5, 5) for name in ("base", "step-10", "step-20", "step-30", "final")})
    results.comparisons = [
        comparison("step-10", 0.010, (-0.030, 0.050), 0.2),
        comparison("step-20", 0.030, (-0.002, 0.062), 0.04),
        comparison("step-30", 0.100, (0.050, 0.150), 0.003),
        comparison("final", 0.045, (0.012, 0.078), 0.001),
    ]
    return results


def reasons(rules: list[GateRule], results: RunResults, **options: Any) -> list[tuple[bool, str]]:
    return [(r.passed, r.reason) for r in apply_gate(rules, results, **options).rules]


def test_non_inferiority_compares_the_low_end_of_the_delta_ci_with_the_margin(
    checkpoints: RunResults,
) -> None:
    rules = [
        GateRule(target="final", metric="exact", versus="base", margin=0.02),
        GateRule(target="step-10", metric="exact", versus="base", margin=0.02),
        GateRule(target="step-10", metric="exact", versus="base", margin=0.03),
    ]
    assert reasons(rules, checkpoints) == [
        (True, "final exact vs base: Δ = +0.045, 95% CI [+0.012, +0.078] ≥ −0.020 (non-inferior)"),
        (
            False,
            "step-10 exact vs base: Δ = +0.010, 95% CI [−0.030, +0.050] < −0.020 (inferiority not ruled out)",
        ),
        (True, "step-10 exact vs base: Δ = +0.010, 95% CI [−0.030, +0.050] ≥ −0.030 (non-inferior)"),
    ]


def test_superiority_of_one_target_uses_its_p_value(checkpoints: RunResults) -> None:
    rules = [
        GateRule(target="step-30", metric="exact", versus="base", superior=True),
        GateRule(target="step-20", metric="exact", versus="base", superior=True),
        GateRule(target="step-20", metric="exact", versus="base", superior=True, alpha=0.01),
    ]
    assert reasons(rules, checkpoints) == [
        (True, "step-30 exact vs base: Δ = +0.100, p = 0.003 < 0.05 (superior)"),
        (True, "step-20 exact vs base: Δ = +0.030, p = 0.040 < 0.05 (superior)"),
        (False, "step-20 exact vs base: Δ = +0.030, p = 0.040 ≥ 0.01 (not shown superior)"),
    ]


def test_superiority_over_several_targets_is_holm_corrected_across_them(checkpoints: RunResults) -> None:
    checked = apply_gate(
        [GateRule(target="step-*", metric="exact", versus="base", superior=True)], checkpoints
    )
    rule = checked.rules[0]
    assert rule.passed is False
    assert rule.reason == (
        "step-* exact vs base: "
        "step-10: Δ = +0.010, p = 0.200 (Holm 0.200) ≥ 0.05 (not shown superior); "
        "step-20: Δ = +0.030, p = 0.040 (Holm 0.080) ≥ 0.05 (not shown superior); "
        "step-30: Δ = +0.100, p = 0.003 (Holm 0.009) < 0.05 (superior)"
    )
    assert [c.p_holm for c in rule.checks] == pytest.approx([0.2, 0.08, 0.009])
    assert [c.passed for c in rule.checks] == [False, False, True]


def test_a_glob_leaves_out_the_target_compared_with(checkpoints: RunResults) -> None:
    checked = apply_gate([GateRule(target="*", metric="exact", versus="base", margin=0.05)], checkpoints)
    assert [c.target for c in checked.rules[0].checks] == ["step-10", "step-20", "step-30", "final"]
    assert checked.verdict == "go"


def test_a_worse_target_is_never_superior_whatever_its_p(checkpoints: RunResults) -> None:
    checkpoints.comparisons[3] = comparison("final", -0.2, (-0.3, -0.1), 0.0001)
    assert reasons([GateRule(target="final", metric="exact", versus="base", superior=True)], checkpoints) == [
        (False, "final exact vs base: Δ = −0.200, p = 1.0e-04 (not superior: Δ ≤ 0)")
    ]


def test_a_comparison_not_in_the_results_is_computed_like_the_analysis_does() -> None:
    results = run({"base": marks(10, 30), "final": marks(30, 10)})
    rules = [
        GateRule(target="final", metric="exact", versus="base", margin=0.0),
        GateRule(target="final", metric="exact", versus="base", superior=True),
    ]
    on_demand = apply_gate(rules, results)
    results = analyse(results).into(results)
    assert results.comparisons  # now the rules read the analysis' own comparison
    precomputed = apply_gate(rules, results)
    assert on_demand == precomputed
    facts = on_demand.rules[0].checks[0]
    assert facts.delta == pytest.approx(0.5)
    assert facts.test == "mcnemar-exact" and facts.n == 40
    assert on_demand.verdict == "go"


def test_versus_must_name_a_target_of_the_run(checkpoints: RunResults) -> None:
    with pytest.raises(InputError) as caught:
        apply_gate(
            [GateRule(target="final", metric="exact", versus="bsae", margin=0.0)], checkpoints, file="s.yaml"
        )
    assert str(caught.value).startswith(
        "s.yaml: gate[0].versus: no target named 'bsae' in this run; did you mean 'base'?"
    )


def test_a_target_cannot_be_compared_with_itself() -> None:
    with pytest.raises(ValidationError, match="a target cannot be compared with itself"):
        GateRule(target=["final", "base"], metric="exact", versus="base", margin=0.0)


# --- against a saved run ------------------------------------------------------------------------


def save(tmp_path: Path, results: RunResults, where: str = "runs/v1") -> Path:
    return write_results(tmp_path / where / "results.json", results)


def test_a_regression_against_a_saved_run_fails(tmp_path: Path) -> None:
    before = run({"final": marks(18, 2)})
    save(tmp_path, before)
    now = run({"final": marks(12, 8)})
    rule = GateRule(target="final", metric="exact", baseline="runs/v1/results.json", margin=0.02)
    ((passed, reason),) = reasons([rule], now, base_dir=tmp_path)
    assert passed is False
    assert reason.startswith("final exact vs saved run runs/v1/results.json: Δ = −0.300, 95% CI [−")
    assert "< −0.020 (inferiority not ruled out); margin 0.02 is below what 20 cases can resolve" in reason
    same = reasons([rule], run({"final": marks(18, 2)}), base_dir=tmp_path)
    assert same[0][0] is True


def test_the_saved_run_is_found_beside_the_suite_file_by_default(tmp_path: Path) -> None:
    save(tmp_path, run({"final": marks(5, 5)}), "suites/runs/v1")
    now = run({"final": marks(9, 1)})
    now = replace(now, suite=replace(now.suite, file=str(tmp_path / "suites" / "triage.yaml")))
    rule = GateRule(target="final", metric="exact", baseline="runs/v1/results.json", superior=True)
    assert apply_gate([rule], now).rules[0].checks[0].delta == pytest.approx(0.4)


def test_a_saved_run_of_another_suite_or_data_is_refused_unless_allowed(tmp_path: Path) -> None:
    save(tmp_path, run({"final": marks(5, 5)}, data_sha256="c" * 64))
    now = run({"final": marks(5, 5)})
    rule = GateRule(target="final", metric="exact", baseline="runs/v1/results.json", margin=0.1)
    with pytest.raises(InputError) as caught:
        apply_gate([rule], now, base_dir=tmp_path, file="suites/triage.yaml")
    assert caught.value.field == "gate[0].baseline"
    assert "was made with different data (data sha256 cccccccccccc… there, bbbbbbbbbbbb… here)" in str(
        caught.value
    )
    assert "allow_changed: true" in str(caught.value)
    allowed = rule.model_copy(update={"allow_changed": True})
    ((passed, reason),) = reasons([allowed], now, base_dir=tmp_path)
    assert passed is True
    assert reason.endswith("(data changed since the saved run: allowed)")


def test_a_saved_run_of_the_same_cases_and_scoring_is_accepted_whatever_else_the_suite_file_changed(
    tmp_path: Path,
) -> None:
    """Adding the baseline rule itself changes the suite file's hash; that must not make the saved run
    incomparable. Only data, scorers and generation settings count."""
    save(tmp_path, run({"final": marks(5, 5)}, suite_sha256="e" * 64))
    now = run({"final": marks(9, 1)}, suite_sha256="f" * 64)
    rule = GateRule(target="final", metric="exact", baseline="runs/v1/results.json", margin=0.1)
    ((passed, reason),) = reasons([rule], now, base_dir=tmp_path)
    assert passed is True and "changed" not in reason


def test_a_saved_run_sharing_no_case_id_is_refused(tmp_path: Path) -> None:
    save(tmp_path, run({"final": marks(5, 5)}, ids=[f"old{i}" for i in range(10)]))
    rule = GateRule(target="final", metric="exact", baseline="runs/v1/results.json", margin=0.1)
    with pytest.raises(InputError, match="no case id of target 'final' is in the saved run"):
        apply_gate([rule], run({"final": marks(5, 5)}), base_dir=tmp_path)


def test_a_missing_saved_run_is_an_input_error_at_the_rule(tmp_path: Path) -> None:
    rule = GateRule(target="final", metric="exact", baseline="runs/v9/results.json", margin=0.1)
    with pytest.raises(InputError) as caught:
        apply_gate([rule], run({"final": marks(5, 5)}), base_dir=tmp_path, file="suites/triage.yaml")
    assert str(caught.value).startswith("suites/triage.yaml: gate[0].baseline: no saved run at ")


def test_the_saved_runs_target_is_matched_by_name_or_named(tmp_path: Path) -> None:
    save(tmp_path, run({"prod": marks(5, 5)}), "one")
    save(tmp_path, run({"prod": marks(5, 5), "old": marks(1, 9)}), "two")
    now = run({"final": marks(9, 1)})
    only = GateRule(target="final", metric="exact", baseline="one/results.json", margin=0.0)
    assert apply_gate([only], now, base_dir=tmp_path).rules[0].checks[0].versus == "prod"
    several = GateRule(target="final", metric="exact", baseline="two/results.json", margin=0.0)
    with pytest.raises(InputError, match="say which one to compare with: baseline_target: NAME"):
        apply_gate([several], now, base_dir=tmp_path)
    named = several.model_copy(update={"baseline_target": "old"})
    assert apply_gate([named], now, base_dir=tmp_path).rules[0].checks[0].delta == pytest.approx(0.8)


# --- before any call ----------------------------------------------------------------------------


def test_check_rules_refuses_mistakes_before_the_run(tmp_path: Path) -> None:
    names = ["base", "step-10", "final"]
    scorers = ["exact", "classify", "classify.accuracy", "classify.macro_f1", "error_rate"]
    check_rules(
        [
            GateRule(target="step-*", metric="classify.macro_f1", versus="base", superior=True),
            GateRule(target="final", max_cost_usd=3),
        ],
        targets=names,
        metrics=scorers,
    )
    with pytest.raises(InputError, match=r"gate\[0\]\.metric: metric 'exactt' names no scorer"):
        check_rules([GateRule(target="final", metric="exactt", min=0.1)], targets=names, metrics=scorers)
    with pytest.raises(InputError, match=r"gate\[0\]\.target: 'ckpt-\*' matches no target"):
        check_rules([GateRule(target="ckpt-*", metric="exact", min=0.1)], targets=names, metrics=scorers)
    missing = GateRule(target="final", metric="exact", baseline="nowhere/results.json", margin=0)
    with pytest.raises(InputError, match=r"gate\[0\]\.baseline: no saved run at"):
        check_rules([missing], targets=names, metrics=scorers, base_dir=tmp_path)
    save(tmp_path, run({"final": marks(5, 5)}))
    saved = GateRule(target="final", metric="exact", baseline="runs/v1/results.json", margin=0)
    same = RunInputs(
        data_sha256="b" * 64, generation={}, completions={}, scorers=[ScorerInfo("exact", "exact", {})]
    )
    check_rules([saved], targets=names, metrics=scorers, base_dir=tmp_path, inputs=same)
    rescored = replace(same, scorers=[ScorerInfo("exact", "exact", {"casefold": False})])
    with pytest.raises(InputError, match="was made with different scorers; set 'allow_changed: true'"):
        check_rules([saved], targets=names, metrics=scorers, base_dir=tmp_path, inputs=rescored)
    hotter = replace(same, generation={"temperature": 1.0})
    with pytest.raises(InputError, match="was made with different generation settings"):
        check_rules([saved], targets=names, metrics=scorers, base_dir=tmp_path, inputs=hotter)


def test_a_misspelt_metric_is_refused_with_the_closest_name_before_the_run() -> None:
    names = ["base", "final"]
    known = [
        "exact",
        "classify",
        "classify.accuracy",
        "classify.macro_f1",
        "classify.f1.billing",
        "error_rate",
    ]
    with pytest.raises(InputError) as caught:
        check_rules(
            [GateRule(target="final", metric="classify.macro_f11", min=0.8)], targets=names, metrics=known
        )
    assert str(caught.value) == (
        "gate[0].metric: metric 'classify.macro_f11' is not one scorer 'classify' reports; did you mean "
        "'classify.macro_f1'? (it reports: classify, classify.accuracy, classify.macro_f1, classify.f1.billing)"
    )
    with pytest.raises(
        InputError, match=r"metric 'exat' names no scorer of this suite; did you mean 'exact'\?"
    ):
        check_rules([GateRule(target="final", metric="exat", min=0.8)], targets=None, metrics=known)
    check_rules(
        [GateRule(target="nobody", metric="classify.f1.billing", min=0.8)], targets=None, metrics=known
    )


def test_a_resampled_p_value_at_its_floor_reads_as_a_bound(checkpoints: RunResults) -> None:
    floor = 2 / 2001  # the smallest p a paired bootstrap of 2,000 resamples gives
    floored = replace(comparison("step-30", 0.100, (0.050, 0.150), floor), test="paired-bootstrap")
    checkpoints.comparisons = [floored]
    [(passed, reason)] = reasons(
        [GateRule(target="step-30", metric="exact", versus="base", superior=True)], checkpoints
    )
    assert passed
    assert "p < 0.001 < 0.05 (superior)" in reason
    assert "1.0e-03" not in reason
