"""How the gate writes figures and bars: enough digits to tell them apart, signed deltas, p-values, money."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from evalkit.records.findings import RuleResult
from evalkit.text import digits_for


def pair(value: float, bar: float, digits: int = 3) -> tuple[str, str]:
    """Both numbers with ``digits`` decimals, or more when that would make different numbers look equal."""
    digits = digits_for(value, bar, digits)
    return f"{value:.{digits}f}", f"{bar:.{digits}f}"


def p_value(value: float, alpha: float) -> str:
    """A p-value next to its level: 3 decimals (more near ``alpha``), scientific when tiny."""
    if value < 0.001:
        return f"{value:.1e}"
    return f"{value:.{digits_for(value, alpha)}f}"


def money(value: float, bar: float) -> tuple[str, str]:
    """Dollar amounts: cents, two significant digits for sums under a cent, more when near the bar."""
    digits_value, digits_bar = _cents(value), _cents(bar)
    if value != bar and f"{value:.{digits_value}f}" == f"{bar:.{digits_bar}f}":
        digits_value = digits_bar = digits_for(value, bar, max(digits_value, digits_bar))
    return f"${value:.{digits_value}f}", f"${bar:.{digits_bar}f}"


def _cents(amount: float) -> int:
    if amount >= 0.01 or amount <= 0:
        return 2
    return 1 - math.floor(math.log10(amount))


def target_label(target: str | list[str]) -> str:
    """A rule's ``target`` as written: a name, a glob, or names joined by commas."""
    return target if isinstance(target, str) else ", ".join(target)


def rule_label(rule: RuleResult) -> str:
    """A checked rule in a few words: ``final classify.macro_f1 ≥ 0.8``."""
    written = {"target": rule.target, "metric": rule.metric, "min": rule.min, "max": rule.max}
    spec: Mapping[str, Any] = rule.rule or written
    target = target_label(spec["target"])
    if spec.get("max_error_rate") is not None:
        return f"{target} error_rate ≤ {spec['max_error_rate']:g}"
    if spec.get("max_cost_usd") is not None:
        return f"{target} cost ≤ ${spec['max_cost_usd']:g}"
    if spec.get("max_latency_p95_s") is not None:
        return f"{target} latency p95 ≤ {spec['max_latency_p95_s']:g} s"
    metric = spec["metric"]
    reference = spec.get("versus") or (f"baseline {spec['baseline']}" if spec.get("baseline") else None)
    if reference is not None:
        if spec.get("superior"):
            return f"{target} {metric} vs {reference} superior (alpha {spec.get('alpha', 0.05):g})"
        return f"{target} {metric} vs {reference} non-inferior (margin {spec.get('margin', 0):g})"
    on = {"ci_low": " CI low", "ci_high": " CI high"}.get(spec.get("on", "value"), "")
    bounds = []
    if spec.get("min") is not None:
        bounds.append(f"≥ {spec['min']:g}")
    if spec.get("max") is not None:
        bounds.append(f"≤ {spec['max']:g}")
    return f"{target} {metric}{on} {', '.join(bounds)}".rstrip()
