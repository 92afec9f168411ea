"""The report's tables, as plain rows: metrics with CIs and Δ vs base, comparisons, flips, cost and latency.

Everything is read defensively: a results.json from before statistics existed (no CIs, comparisons,
flips, recommendation or cost) gives the same tables with those cells empty. Figures stay numbers here;
the template formats them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.report.summary import headline_metrics, headline_value

__all__ = [
    "base_target",
    "comparison_rows",
    "flip_rows",
    "focus_target",
    "metrics_table",
    "significance",
    "usage_rows",
]

ALPHA = 0.05
"""The significance level the markers are read at."""

_LOWER_IS_BETTER = ("error_rate", "unparsed_rate")


def base_target(results: Mapping[str, Any]) -> str | None:
    """The target the others are compared with: the comparisons' reference, else the ``base`` role."""
    names = [t["name"] for t in results["targets"]]
    for comparison in results.get("comparisons") or []:
        if comparison.get("versus") in names:
            return str(comparison["versus"])
    return next((t["name"] for t in results["targets"] if t["role"] == "base"), None)


def focus_target(results: Mapping[str, Any], base: str | None) -> str | None:
    """The candidate a reviewer looks at first: the recommendation's final, a ``final`` role, the last."""
    names = [t["name"] for t in results["targets"]]
    recommended = (results.get("recommendation") or {}).get("final")
    if recommended in names:
        return str(recommended)
    finals = [t["name"] for t in results["targets"] if t["role"] == "final"]
    others = [name for name in names if name != base]
    return finals[-1] if finals else others[-1] if others else None


def significance(p: float | None) -> str:
    """``***``, ``**``, ``*`` for p below 0.001, 0.01, 0.05; empty otherwise."""
    if p is None:
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < ALPHA else ""


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of ``metric`` is the better one (error and unparsed rates)."""
    return metric.rsplit(".", 1)[-1] in _LOWER_IS_BETTER


def metrics_table(results: Mapping[str, Any], *, base: str | None, best: str | None) -> dict[str, Any]:
    """Targets × headline metrics (value, CI, Δ vs base), and every other metric in a second table."""
    headline = headline_metrics(results)
    others = sorted({m for per_target in results["metrics"].values() for m in per_target} - set(headline))
    rows = [_metric_row(results, target, headline, base, best) for target in results["targets"]]
    return {
        "columns": headline,
        "rows": rows,
        "has_ci": any(cell["ci"] for row in rows for cell in row["cells"]),
        "tested": any(cell["delta"] and cell["delta"]["tested"] for row in rows for cell in row["cells"]),
        "more_columns": others,
        "more_rows": [
            {"name": t["name"], "cells": [_value_cell(results, t["name"], m) for m in others]}
            for t in results["targets"]
        ],
    }


def _metric_row(
    results: Mapping[str, Any], target: Mapping[str, Any], columns: Sequence[str], base: str | None, best: str | None
) -> dict[str, Any]:
    name = target["name"]
    cells = []
    for metric in columns:
        cell = _value_cell(results, name, metric)
        if base is not None and name != base:
            cell["delta"] = _delta(results, name, base, metric, cell["value"])
        cells.append(cell)
    return {"target": target, "is_base": name == base, "is_best": name == best, "cells": cells}


def _value_cell(results: Mapping[str, Any], target: str, metric: str) -> dict[str, Any]:
    found = results["metrics"].get(target, {}).get(metric) or {}
    value = found.get("value", headline_value(results, target, metric))
    return {"value": value, "ci": _interval(found.get("ci")), "n": found.get("n"), "delta": None}


def _delta(
    results: Mapping[str, Any], target: str, base: str, metric: str, value: float | None
) -> dict[str, Any] | None:
    """Δ vs base: the paired comparison when the run made one, else the plain difference (no test)."""
    comparison = _comparison(results, target, base, metric)
    if comparison is not None and comparison.get("delta") is not None:
        delta = float(comparison["delta"])
        p = _p(comparison)
        tested = True
    else:
        before = _value_cell(results, base, metric)["value"]
        if value is None or before is None:
            return None
        delta, p, tested = float(value) - float(before), None, False
    marker = significance(p)
    return {
        "value": delta,
        "ci": _interval(comparison.get("ci")) if comparison else None,
        "p": p,
        "marker": marker,
        "tested": tested,
        "tone": _tone(delta, metric, significant=bool(marker)),
    }


def _tone(delta: float, metric: str, *, significant: bool) -> str:
    """``better``/``worse`` for a significant change (in the metric's good direction), else ``same``."""
    if not significant or delta == 0:
        return "same"
    return "better" if (delta > 0) != lower_is_better(metric) else "worse"


def _comparison(
    results: Mapping[str, Any], target: str, versus: str, metric: str
) -> Mapping[str, Any] | None:
    for comparison in results.get("comparisons") or []:
        if (comparison.get("target"), comparison.get("versus"), comparison.get("metric")) == (target, versus, metric):
            return comparison  # type: ignore[no-any-return]
    return None


def _p(comparison: Mapping[str, Any]) -> float | None:
    """The p-value to read: Holm-adjusted when the run adjusted it."""
    p = comparison.get("p_adjusted", comparison.get("p_value"))
    return None if p is None else float(p)


def _interval(ci: Any) -> tuple[float, float] | None:
    if isinstance(ci, Sequence) and len(ci) == 2 and all(isinstance(x, int | float) for x in ci):
        return float(ci[0]), float(ci[1])
    return None


def comparison_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every paired comparison, with its significance marker and tone."""
    rows = []
    for c in results.get("comparisons") or []:
        delta, p = c.get("delta"), _p(c)
        marker = significance(p)
        rows.append({
            "target": c.get("target"), "versus": c.get("versus"), "metric": c.get("metric"),
            "delta": delta, "ci": _interval(c.get("ci")), "p_value": c.get("p_value"),
            "p_adjusted": c.get("p_adjusted"), "test": c.get("test"), "n": c.get("n"), "marker": marker,
            "tone": "same" if delta is None else _tone(float(delta), str(c.get("metric")), significant=bool(marker)),
        })
    return rows


def flip_rows(results: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per target vs base: fixed, broken, both right, both wrong — the run's flips, else counted from the
    cases' deciding scorer."""
    recorded = results.get("flips") or []
    if recorded:
        return [_flip_row(flip) for flip in recorded]
    base = data.get("base")
    if base is None:
        return []
    where = data["targets"].index(base)
    rows = []
    for index, target in enumerate(data["targets"]):
        if index != where:
            counts = _count_pairs(data["cases"], index, where)
            rows.append(_flip_row({"target": target, "versus": base, "scorer": data.get("scorer"), **counts}))
    return rows


def _flip_row(flip: Mapping[str, Any]) -> dict[str, Any]:
    counts = {key: int(flip.get(key) or 0) for key in ("fixed", "broken", "both_right", "both_wrong")}
    return {
        "target": flip.get("target"), "versus": flip.get("versus"), "scorer": flip.get("scorer"), **counts,
        "net": counts["fixed"] - counts["broken"],
    }


def _count_pairs(cases: Sequence[Mapping[str, Any]], target: int, base: int) -> dict[str, int]:
    counts = {"fixed": 0, "broken": 0, "both_right": 0, "both_wrong": 0}
    for case in cases:
        now, before = case["res"][target], case["res"][base]
        if now is None or before is None or now.get("ok") is None or before.get("ok") is None:
            continue
        key = {(True, False): "fixed", (False, True): "broken", (True, True): "both_right"}.get(
            (now["ok"], before["ok"]), "both_wrong"
        )
        counts[key] += 1
    return counts


def usage_rows(results: Mapping[str, Any]) -> dict[str, Any]:
    """Per target: calls, cache hits, errors, tokens, cost (total and per 1,000 cases), latency p50/p95;
    the judges' usage apart."""
    cases = len(results["cases"])
    rows = []
    for target in results["targets"]:
        usage = dict((results.get("usage") or {}).get(target["name"]) or {})
        cost = usage.get("cost_usd")
        usage["cost_per_1k"] = None if cost is None or not cases else float(cost) * 1000 / cases
        rows.append({"target": target["name"], **usage})
    judges = [{"scorer": name, **usage} for name, usage in (results.get("judge_usage") or {}).items()]
    has_cost = any(row.get("cost_usd") is not None for row in [*rows, *judges])
    return {"rows": rows, "judges": judges, "has_cost": has_cost}
