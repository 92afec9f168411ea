"""Rules on a paired difference Δ = target − reference: non-inferiority (the low end of Δ's 95% CI ≥
−margin) and superiority (Δ > 0 with p < alpha, Holm-corrected across the targets a rule covers).

The reference is another target of the run (``versus``), whose comparison is taken from the run's
``comparisons`` or computed on demand, or a saved run (``baseline``, see ``baseline.py``).

A non-inferiority margin smaller than the comparison's ``mde`` (the smallest true Δ its test detects
with 80% power) is said in the reason and as a warning; the rule still decides by its CI. The level a
rule tests at (``rule_level``) is what the comparisons' ``mde`` is computed at (``rule_levels``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from evalkit.analysis.floors import RESAMPLES, at_floor
from evalkit.gate.baseline import baseline_comparison
from evalkit.gate.context import Finding, GateContext
from evalkit.gate.health import why_unscored
from evalkit.gate.text import p_value, pair
from evalkit.records.findings import Comparison
from evalkit.suite.rules import GateRule
from evalkit.text import digits_for, p_figure, signed


def rule_level(rule: GateRule, covered: int) -> float:
    """The two-sided level at which a ``versus``/``baseline`` rule covering ``covered`` targets tests each
    of them: a superiority rule's ``alpha``, divided by the number of targets when it covers several (the
    first, strictest step of Holm's correction: the level the smallest p must beat); a non-inferiority
    rule's 95% CI, 0.05 (one-sided 0.025; each target must pass on its own, so no correction)."""
    from evalkit.analysis.power import ALPHA

    return rule.alpha / max(1, covered) if rule.superior else ALPHA


def rule_levels(rules: Sequence[GateRule], targets: Sequence[str]) -> dict[tuple[str, str, str], float]:
    """Per (target, versus, metric) a ``versus`` rule compares, the level it is tested at
    (``rule_level``); the strictest when several rules compare it. ``InputError`` as ``rule_targets``."""
    context = GateContext(list(targets), None, Path.cwd())
    levels: dict[tuple[str, str, str], float] = {}
    for index, rule in enumerate(rules):
        if rule.versus is None or rule.metric is None:
            continue
        covered = context.targets_of(index, rule)
        for target in covered:
            key = (target, rule.versus, rule.metric)
            levels[key] = min(levels.get(key, 1.0), rule_level(rule, len(covered)))
    return levels


def check_paired(context: GateContext, index: int, rule: GateRule, targets: Sequence[str]) -> list[Finding]:
    """Each target's verdict under a ``versus`` or ``baseline`` rule."""
    level = rule_level(rule, len(targets))
    comparisons = [_comparison(context, index, rule, target, level) for target in targets]
    if rule.superior:
        checks = _superiority(rule, targets, comparisons)
    else:
        checks = [_non_inferiority(rule, target, c) for target, c in zip(targets, comparisons, strict=True)]
    return [_with_cause(context, rule, check) for check in checks]


def _with_cause(context: GateContext, rule: GateRule, check: Finding) -> Finding:
    """A check with no case scored for both: why, in terms of the failed calls or scoring that caused it."""
    if check.value is not None or check.facts.get("n"):
        return check
    sides = [check.target] + ([rule.versus] if rule.versus is not None else [])
    causes = [
        why_unscored(context.run, side, rule.figure)
        for side in sides
        if (entry := context.run.metric(side, rule.figure)) is None or entry.value is None
    ]
    why = "; ".join(causes) or "the two sides scored no case in common"
    return replace(check, text=f"{check.text} ({why})", error=why)


Paired = tuple[Comparison, list[str]]
"""A comparison, and what differs from the saved run it was made against (allowed by the rule)."""


def _comparison(context: GateContext, index: int, rule: GateRule, target: str, level: float) -> Paired:
    if rule.baseline is not None:
        return baseline_comparison(context, index, rule, target, alpha=level)
    assert rule.versus is not None and rule.metric is not None  # a paired rule has one or the other
    context.metric_entry(index, rule, target)
    context.metric_entry(index, rule, rule.versus)
    for comparison in context.run.comparisons:
        if (comparison.target, comparison.versus, comparison.metric) == (target, rule.versus, rule.metric):
            return comparison, []
    from evalkit.analysis import compare

    return compare(context.run, target, rule.versus, rule.metric, alpha=level), []


def _facts(paired: Paired) -> dict[str, Any]:
    comparison, changed = paired
    facts: dict[str, Any] = {
        "versus": comparison.versus,
        "delta": comparison.delta,
        "ci": comparison.ci,
        "p_value": comparison.p_value,
        "test": comparison.test,
        "n": comparison.n,
    }
    if changed:
        facts["baseline_changed"] = list(changed)
    return facts


def _missing(target: str, paired: Paired) -> Finding | None:
    """A failed check when the comparison has no figure to judge, else None."""
    if paired[0].delta is None or not paired[0].n:
        return Finding(target, False, None, ": no case was scored for both", _facts(paired))
    return None


def _non_inferiority(rule: GateRule, target: str, paired: Paired) -> Finding:
    missing = _missing(target, paired)
    if missing is not None:
        return missing
    assert rule.margin is not None and paired[0].delta is not None  # a non-inferiority rule has a margin
    delta, ci, bar = float(paired[0].delta), paired[0].ci, -rule.margin
    if ci is None:
        return Finding(target, False, None, f": Δ = {signed(delta)}, no confidence interval", _facts(paired))
    low, high = float(ci[0]), float(ci[1])
    digits = digits_for(low, bar)
    shown = f"Δ = {signed(delta, digits)}, 95% CI [{signed(low, digits)}, {signed(high, digits)}]"
    if low >= bar:
        text = f": {shown} ≥ {signed(bar, digits)} (non-inferior)"
    else:
        text = f": {shown} < {signed(bar, digits)} (inferiority not ruled out)"
    mde, n = paired[0].mde, paired[0].n
    if mde is None or rule.margin >= mde:
        return Finding(target, low >= bar, low, text, _facts(paired))
    resolve = f"margin {rule.margin:g} is below what {n} case{'' if n == 1 else 's'} can resolve"
    resolve += f" (mde {pair(mde, rule.margin, 2)[0]})"
    warning = (
        f"{target}: {resolve}: even a model exactly as good as the reference passes this rule less than 80% "
        "of the time; `evalkit plan` says how many cases would resolve the margin"
    )
    return Finding(target, low >= bar, low, f"{text}; {resolve}", _facts(paired), warning=warning)


def _superiority(rule: GateRule, targets: Sequence[str], comparisons: Sequence[Paired]) -> list[Finding]:
    from evalkit.analysis.stats import holm

    tested = [
        i for i, c in enumerate(comparisons) if _missing(targets[i], c) is None and c[0].p_value is not None
    ]
    raw = [float(comparisons[i][0].p_value or 0.0) for i in tested]
    adjusted = dict(zip(tested, holm(raw) if len(targets) > 1 else raw, strict=True))
    checks = []
    for i, (target, comparison) in enumerate(zip(targets, comparisons, strict=True)):
        missing = _missing(target, comparison)
        if missing is not None:
            checks.append(missing)
        elif i not in adjusted:
            text = f": Δ = {signed(comparison[0].delta)}, no p-value"
            checks.append(Finding(target, False, None, text, _facts(comparison)))
        else:
            checks.append(_superior(rule, target, comparison, adjusted[i], several=len(targets) > 1))
    return checks


def _superior(rule: GateRule, target: str, comparison: Paired, adjusted: float, *, several: bool) -> Finding:
    delta, raw = float(comparison[0].delta or 0.0), float(comparison[0].p_value or 0.0)
    floored = at_floor(raw, comparison[0].test, resamples=RESAMPLES)  # a bound, not a figure: "p < 0.002"
    p = f"p {_p_text(raw, rule.alpha, floored)}"
    if several:
        p += f" (Holm {_p_text(adjusted, rule.alpha, floored and adjusted < 1).removeprefix('= ')})"
    facts = {**_facts(comparison), "p_holm": adjusted} if several else _facts(comparison)
    shown = f": Δ = {signed(delta)}, {p}"
    if delta <= 0:
        return Finding(target, False, adjusted, f"{shown} (not superior: Δ ≤ 0)", facts)
    if adjusted < rule.alpha:
        return Finding(target, True, adjusted, f"{shown} < {rule.alpha:g} (superior)", facts)
    return Finding(target, False, adjusted, f"{shown} ≥ {rule.alpha:g} (not shown superior)", facts)


def _p_text(value: float, alpha: float, bound: bool) -> str:
    """``= 0.034`` next to its level, or ``< 0.002`` for a p-value at its resampling floor."""
    return p_figure(value, bound=True) if bound else f"= {p_value(value, alpha)}"
