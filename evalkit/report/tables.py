"""The report's tables, as plain rows for the template: metrics with CIs and Δ vs base, flips, cost and
latency (the paired comparisons: ``report.paired_table``).

A run without statistics (no CIs, comparisons, flips, recommendation or cost) gives the same tables with
those cells empty. Figures stay numbers here; the template formats them. A figure's ``note`` is what to say
beside it (``19 of 48``, a pairwise judge's ties: ``report.counts``), None when nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from evalkit.records import Target
from evalkit.records.findings import Comparison, Flip
from evalkit.records.results import RunResults
from evalkit.report.counts import figure_note
from evalkit.report.pvalues import p_text, resamples_of
from evalkit.report.summary import headline_metrics, headline_value

__all__ = [
    "base_target",
    "flip_rows",
    "focus_target",
    "metrics_table",
    "significance",
    "tone",
    "usage_rows",
]

ALPHA = 0.05
"""The significance level the markers are read at."""

_LOWER_IS_BETTER = ("error_rate", "unparsed_rate")


def base_target(results: RunResults) -> str | None:
    """The target the others are compared with: the comparisons' reference, else the ``base`` role."""
    names = results.target_names
    for comparison in results.comparisons:
        if comparison.versus in names:
            return comparison.versus
    return next((t.name for t in results.targets if t.role == "base"), None)


def focus_target(results: RunResults, base: str | None) -> str | None:
    """The candidate a reviewer looks at first: the recommendation's final, a ``final`` role, the last."""
    names = results.target_names
    recommended = results.recommendation.final if results.recommendation is not None else None
    if recommended in names:
        return recommended
    finals = [t.name for t in results.targets if t.role == "final"]
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


def metrics_table(
    results: RunResults, *, base: str | None, best: str | None, recommended: str | None = None
) -> dict[str, Any]:
    """Targets × headline metrics (value, CI, Δ vs base), and every other metric in a second table; the
    best-scoring and the recommended target's rows marked."""
    headline = headline_metrics(results)
    others = sorted({m for per_target in results.metrics.values() for m in per_target} - set(headline))
    rows = [_metric_row(results, target, headline, base, best) for target in results.targets]
    for row in rows:
        row["is_recommended"] = row["target"].name == recommended
    return {
        "columns": headline,
        "rows": rows,
        "has_ci": any(cell["ci"] for row in rows for cell in row["cells"]),
        "tested": any(cell["delta"] and cell["delta"]["tested"] for row in rows for cell in row["cells"]),
        "more_columns": others,
        "more_rows": [
            {"name": t.name, "cells": [_value_cell(results, t.name, m) for m in others]} for t in results.targets
        ],
    }


def _metric_row(
    results: RunResults, target: Target, columns: Sequence[str], base: str | None, best: str | None
) -> dict[str, Any]:
    name = target.name
    cells = []
    for metric in columns:
        cell = _value_cell(results, name, metric)
        if base is not None and name != base:
            cell["delta"] = _delta(results, name, base, metric, cell["value"])
        cells.append(cell)
    return {"target": target, "is_base": name == base, "is_best": name == best, "cells": cells}


def _value_cell(results: RunResults, target: str, metric: str) -> dict[str, Any]:
    found = results.metric(target, metric)
    if found is None:
        value = headline_value(results, target, metric)
        return {"value": value, "ci": None, "n": None, "note": None, "delta": None}
    note = figure_note(results, target, metric)
    return {"value": found.value, "ci": found.ci, "n": found.n, "note": note, "delta": None}


def _delta(results: RunResults, target: str, base: str, metric: str, value: float | None) -> dict[str, Any] | None:
    """Δ vs base: the paired comparison when the run made one, else the plain difference (no test)."""
    comparison = _comparison(results, target, base, metric)
    if comparison is not None and comparison.delta is not None:
        delta = comparison.delta
        p = comparison.p_adjusted
        tested = True
        shown = p_text(comparison, resamples=resamples_of(results), adjusted=True, decimals=4)
    else:
        before = _value_cell(results, base, metric)["value"]
        if value is None or before is None:
            return None
        delta, p, tested, shown = float(value) - float(before), None, False, "—"
    marker = significance(p)
    return {
        "value": delta,
        "ci": comparison.ci if comparison else None,
        "p": p,
        "p_text": "no p-value" if p is None else f"p {shown}" if shown.startswith("<") else f"p = {shown}",
        "marker": marker,
        "tested": tested,
        "tone": tone(delta, metric, significant=bool(marker)),
    }


def tone(delta: float, metric: str, *, significant: bool) -> str:
    """``better``/``worse`` for a significant change (in the metric's good direction), else ``same``."""
    if not significant or delta == 0:
        return "same"
    return "better" if (delta > 0) != lower_is_better(metric) else "worse"


def _comparison(results: RunResults, target: str, versus: str, metric: str) -> Comparison | None:
    for comparison in results.comparisons:
        if (comparison.target, comparison.versus, comparison.metric) == (target, versus, metric):
            return comparison
    return None


def flip_rows(results: RunResults, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per target vs base: fixed, broken, both right, both wrong — the run's flips, else counted from the
    cases' deciding scorer."""
    if results.flips:
        return [_flip_row(flip) for flip in results.flips]
    base = data.get("base")
    if base is None:
        return []
    where = data["targets"].index(base)
    rows = []
    for index, target in enumerate(data["targets"]):
        if index != where:
            counts = _count_pairs(data["cases"], index, where)
            rows.append({"target": target, "versus": base, "scorer": data.get("scorer"), **counts,
                         "net": counts["fixed"] - counts["broken"]})
    return rows


def _flip_row(flip: Flip) -> dict[str, Any]:
    return {
        "target": flip.target, "versus": flip.versus, "scorer": flip.scorer, "fixed": flip.fixed,
        "broken": flip.broken, "both_right": flip.both_right, "both_wrong": flip.both_wrong,
        "net": flip.fixed - flip.broken,
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


def usage_rows(results: RunResults) -> dict[str, Any]:
    """Per target: calls, cache hits, errors, tokens, cost (total and per 1,000 cases), latency p50/p95;
    the judges' usage apart."""
    cases = len(results.cases)
    rows = []
    for target in results.targets:
        found = results.usage.get(target.name)
        usage: dict[str, Any] = asdict(found) if found is not None else {}
        cost = usage.get("cost_usd")
        usage["cost_per_1k"] = None if cost is None or not cases else float(cost) * 1000 / cases
        rows.append({"target": target.name, **usage})
    judges = [{"scorer": name, **asdict(usage)} for name, usage in results.judge_usage.items()]
    has_cost = any(row.get("cost_usd") is not None for row in [*rows, *judges])
    return {"rows": rows, "judges": judges, "has_cost": has_cost}
