"""The gate: the suite's rules applied to a run's metrics → a go/no-go verdict with one reason per rule.

It reads metrics in their results.json form (``{target: {metric: {"value", "ci", "n"}}}``), so the same
code decides ``evalkit run`` and re-decides a saved run with ``evalkit gate DIR/results.json``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.suite.model import GateRule

__all__ = ["apply_gate", "rule_label", "rules_from_results"]

Metrics = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""Metrics as results.json holds them: per target, per metric name, ``{"value", "ci", "n"}``."""


def apply_gate(
    rules: Sequence[GateRule], metrics: Metrics, *, file: str | Path | None = None
) -> dict[str, Any]:
    """Check every rule; the verdict is ``go`` when all hold (or there are none), else ``no-go``.

    A rule naming a target or metric the run does not have is a mistake in the suite, not a failed
    check: ``InputError`` at ``gate[i].target`` / ``gate[i].metric`` (in ``file``, when given), listing
    what exists. A metric with no scored case fails its rule.
    """
    checked = [_check(index, rule, metrics, file) for index, rule in enumerate(rules)]
    verdict = "go" if all(rule["passed"] for rule in checked) else "no-go"
    return {"verdict": verdict, "rules": checked}


def rules_from_results(results: Mapping[str, Any]) -> list[GateRule]:
    """The rules a saved run was gated with, to re-apply them to its metrics."""
    return [
        GateRule(target=r["target"], metric=r["metric"], min=r.get("min"), max=r.get("max"))
        for r in results["gate"]["rules"]
    ]


def rule_label(rule: Mapping[str, Any]) -> str:
    """The rule itself in a few words: ``final classify.macro_f1 ≥ 0.8``."""
    bounds = []
    if rule.get("min") is not None:
        bounds.append(f"≥ {rule['min']:g}")
    if rule.get("max") is not None:
        bounds.append(f"≤ {rule['max']:g}")
    return f"{rule['target']} {rule['metric']} {', '.join(bounds)}".rstrip()


def _check(index: int, rule: GateRule, metrics: Metrics, file: str | Path | None) -> dict[str, Any]:
    value = _lookup(index, rule, metrics, file)
    passed, reason = _judge(rule, value)
    return {
        "target": rule.target,
        "metric": rule.metric,
        "min": rule.min,
        "max": rule.max,
        "value": value,
        "passed": passed,
        "reason": reason,
    }


def _lookup(index: int, rule: GateRule, metrics: Metrics, file: str | Path | None) -> float | None:
    if rule.target not in metrics:
        raise InputError(
            f"target {rule.target!r} is not in this run{_suggest(rule.target, metrics)} "
            f"(targets: {_names(metrics)})",
            file=file,
            field=f"gate[{index}].target",
        )
    known = metrics[rule.target]
    if rule.metric not in known:
        raise InputError(
            f"metric {rule.metric!r} is not reported for target {rule.target!r}{_suggest(rule.metric, known)} "
            f"(metrics: {_names(known)})",
            file=file,
            field=f"gate[{index}].metric",
        )
    value = known[rule.metric].get("value")
    return None if value is None else float(value)


def _judge(rule: GateRule, value: float | None) -> tuple[bool, str]:
    name = f"{rule.target} {rule.metric}"
    if value is None:
        return False, f"{name}: no scored cases"
    if rule.min is not None and value < rule.min:
        shown, bar = _pair(value, rule.min)
        return False, f"{name} = {shown} < {bar} (min)"
    if rule.max is not None and value > rule.max:
        shown, bar = _pair(value, rule.max)
        return False, f"{name} = {shown} > {bar} (max)"
    if rule.min is not None and rule.max is not None:
        low, high = _pair(value, rule.min)[1], _pair(value, rule.max)[1]
        return True, f"{name} = {_pair(value, rule.min)[0]} within [{low}, {high}]"
    if rule.min is not None:
        shown, bar = _pair(value, rule.min)
        return True, f"{name} = {shown} ≥ {bar} (min)"
    assert rule.max is not None  # GateRule requires one bound
    shown, bar = _pair(value, rule.max)
    return True, f"{name} = {shown} ≤ {bar} (max)"


def _pair(value: float, bar: float) -> tuple[str, str]:
    """Both numbers with 3 decimals, or more when 3 would make different numbers look equal."""
    digits = 3
    while digits < 9 and value != bar and f"{value:.{digits}f}" == f"{bar:.{digits}f}":
        digits += 1
    return f"{value:.{digits}f}", f"{bar:.{digits}f}"


def _names(names: Mapping[str, Any]) -> str:
    return ", ".join(sorted(names)) or "none"


def _suggest(name: str, names: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
