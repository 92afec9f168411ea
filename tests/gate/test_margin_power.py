"""A non-inferiority margin finer than the suite can resolve: said in the reason and as a gate warning,
with the verdict left as the rule decides it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from fixtures.runs import exact_run, marks

from evalkit.analysis import analyse
from evalkit.gate import apply_gate, rule_levels
from evalkit.records.findings import Comparison, GateVerdict
from evalkit.records.results import RunResults
from evalkit.records.results_json import read_results, write_results
from evalkit.suite.model import GateRule

NON_INFERIOR = GateRule(target="final", metric="exact", versus="base", margin=0.02)


def small_run(base: int = 14, final: int = 17) -> RunResults:
    """24 cases: by default the fine-tune fixes 3 the base got wrong and breaks none (12.5% disagree)."""
    results = exact_run({"base": marks(base, 24 - base), "final": marks(final, 24 - final)})
    return analyse(results, alphas=rule_levels([NON_INFERIOR], results.target_names)).into(results)


def gated(results: RunResults, rules: list[GateRule]) -> GateVerdict:
    return apply_gate(rules, results)


def test_a_margin_below_the_mde_is_said_in_the_reason_and_warned_about() -> None:
    results = small_run()
    comparison = next(c for c in results.comparisons if c.metric == "exact")
    assert comparison.n == 24 and comparison.mde is not None and comparison.mde > 0.02
    verdict = gated(results, [NON_INFERIOR])
    shown = f"{comparison.mde:.2f}"
    assert verdict.rules[0].reason == (
        "final exact vs base: Δ = +0.125, 95% CI [+0.000, +0.250] ≥ −0.020 (non-inferior); "
        f"margin 0.02 is below what 24 cases can resolve (mde {shown})"
    )
    assert verdict.warnings == [
        (
            "gate[0] (final exact vs base non-inferior (margin 0.02)): final: margin 0.02 is below what 24 "
            f"cases can resolve (mde {shown}): even a model exactly as good as the reference passes this "
            "rule less than 80% of the time; `evalkit plan` says how many cases would resolve the margin"
        )
    ]


def test_the_verdict_is_the_rules_own() -> None:
    verdicts = set()
    for results in (small_run(), small_run(base=17, final=14)):  # better, then worse than the base
        without = replace(results, comparisons=[replace(c, mde=None) for c in results.comparisons])
        for margin in (0.0, 0.02, 0.2):
            rule = NON_INFERIOR.model_copy(update={"margin": margin})
            warned, plain = gated(results, [rule]), gated(without, [rule])
            assert warned.verdict == plain.verdict and warned.rules[0].passed == plain.rules[0].passed
            assert warned.warnings and not plain.warnings
            assert warned.rules[0].reason.startswith(plain.rules[0].reason + "; margin ")
            verdicts.add(warned.verdict)
    assert verdicts == {"go", "no-go"}  # passing and failing rules alike


def test_a_margin_the_suite_can_resolve_gets_no_warning() -> None:
    results = small_run()
    comparison = next(c for c in results.comparisons if c.metric == "exact")
    assert comparison.mde is not None
    rule = NON_INFERIOR.model_copy(update={"margin": round(comparison.mde + 0.01, 2)})
    verdict = gated(results, [rule])
    assert verdict.warnings == [] and "resolve" not in verdict.rules[0].reason
    superior = GateRule(target="final", metric="exact", versus="base", superior=True)
    assert gated(results, [superior]).warnings == []  # no margin to compare


def test_a_rule_over_several_targets_warns_for_each(tmp_path: Path) -> None:
    results = exact_run({"base": marks(14, 10), "step-1": marks(16, 8), "final": marks(17, 7)})
    results = analyse(results).into(results)
    rule = GateRule(target="*", metric="exact", versus="base", margin=0.01)
    verdict = gated(results, [rule])
    assert [w.split(": ")[1] for w in verdict.warnings] == ["step-1", "final"]
    # results.json keeps the warnings, and a run with none leaves the key out
    saved = write_results(tmp_path / "results.json", replace(results, gate=verdict))
    assert read_results(saved).gate.warnings == verdict.warnings
    assert json.loads(saved.read_text())["gate"]["warnings"] == verdict.warnings
    quiet = write_results(tmp_path / "quiet.json", replace(results, gate=gated(results, [])))
    assert "warnings" not in json.loads(quiet.read_text())["gate"]


def test_a_saved_comparison_without_mde_is_judged_as_before() -> None:
    results = small_run()
    results.comparisons = [
        Comparison("final", "base", "exact", 0.125, (0.0, 0.25), 0.25, 0.25, "mcnemar-exact", 24)
    ]  # as results.json files written before the mde held it
    verdict = gated(results, [NON_INFERIOR])
    assert verdict.warnings == [] and verdict.rules[0].reason.endswith("(non-inferior)")
