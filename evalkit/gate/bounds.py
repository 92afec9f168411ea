"""Rules on one target's own figures: bounds on a metric (or its CI), and budgets on errors, cost, latency."""

from __future__ import annotations

import statistics
from typing import Any

from evalkit.gate.context import Finding, GateContext
from evalkit.gate.health import why_unscored
from evalkit.gate.text import money, pair
from evalkit.records import ERROR_RATE
from evalkit.records.results import RunResults
from evalkit.suite.rules import GateRule

_ON_WORDS = {"ci_low": "low", "ci_high": "high"}


def check_bound(context: GateContext, index: int, rule: GateRule, target: str) -> Finding:
    """``min``/``max`` on the metric's value or on one end of its 95% CI."""
    entry = context.metric_entry(index, rule, target)
    value = entry.value
    if value is None:
        why = why_unscored(context.run, target, rule.figure)
        return Finding(target, False, None, f": no scored cases ({why})", error=why)
    if rule.on == "value":
        return _bounded(target, rule, float(value), prefix=" = ")
    ci = entry.ci
    if ci is None:
        return Finding(target, False, None, f" = {float(value):.3f}: no confidence interval to bound")
    figure = float(ci[0] if rule.on == "ci_low" else ci[1])
    shown = f"[{float(ci[0]):.3f}, {float(ci[1]):.3f}]"
    return _bounded(
        target, rule, figure, prefix=f" = {float(value):.3f}, 95% CI {shown}: {_ON_WORDS[rule.on]} "
    )


def _bounded(target: str, rule: GateRule, figure: float, *, prefix: str) -> Finding:
    if rule.min is not None and figure < rule.min:
        shown, bar = pair(figure, rule.min)
        return Finding(target, False, figure, f"{prefix}{shown} < {bar} (min)")
    if rule.max is not None and figure > rule.max:
        shown, bar = pair(figure, rule.max)
        return Finding(target, False, figure, f"{prefix}{shown} > {bar} (max)")
    if rule.min is not None and rule.max is not None:
        low, high = pair(figure, rule.min)[1], pair(figure, rule.max)[1]
        return Finding(target, True, figure, f"{prefix}{pair(figure, rule.min)[0]} within [{low}, {high}]")
    if rule.min is not None:
        shown, bar = pair(figure, rule.min)
        return Finding(target, True, figure, f"{prefix}{shown} ≥ {bar} (min)")
    assert rule.max is not None  # a bound rule has min or max
    shown, bar = pair(figure, rule.max)
    return Finding(target, True, figure, f"{prefix}{shown} ≤ {bar} (max)")


def check_budget(context: GateContext, index: int, rule: GateRule, target: str) -> Finding:
    """``max_error_rate``, ``max_cost_usd`` or ``max_latency_p95_s`` for one target."""
    budget = rule.budget
    assert budget is not None  # only budget rules come here
    figure, cap = budget
    if figure == "error_rate":
        return _capped(target, error_rate(context.run, target), cap, "error_rate", pair)
    if figure == "cost_usd":
        cost = target_cost(context, index, target)
        return _capped(target, cost, cap, "cost", money)
    latency = latency_p95(context.run, target)
    if latency is None:
        why = why_unscored(context.run, target, "latency")
        return Finding(target, False, None, f" latency p95: no successful call was timed ({why})", error=why)

    def seconds(value: float, bar: float) -> tuple[str, str]:
        shown, limit = pair(value, bar, 2)
        return f"{shown} s", f"{limit} s"

    return _capped(target, latency, cap, "latency p95", seconds)


def _capped(target: str, value: float | None, cap: float, name: str, show: Any) -> Finding:
    if value is None:
        return Finding(target, False, None, f" {name}: nothing to measure")
    shown, bar = show(value, cap)
    if value > cap:
        return Finding(target, False, value, f" {name} = {shown} > {bar} (max)")
    return Finding(target, True, value, f" {name} = {shown} ≤ {bar} (max)")


def error_rate(results: RunResults, target: str) -> float | None:
    """The reported error_rate, or errored cases / answered cases when the run did not report it."""
    entry = results.metric(target, ERROR_RATE)
    if entry is not None and entry.value is not None:
        return float(entry.value)
    answered = [result for _, result in results.answers(target)]
    if not answered:
        return None
    return sum(1 for r in answered if r.error is not None) / len(answered)


def latency_p95(results: RunResults, target: str) -> float | None:
    """This run's p95 latency; on a cached re-run, the p95 of the latencies recorded with the cases."""
    usage = results.usage.get(target)
    if usage is not None and usage.latency_p95_s is not None:
        return float(usage.latency_p95_s)
    latencies = [
        float(r.latency_s) for _, r in results.answers(target) if r.error is None and r.latency_s is not None
    ]
    if len(latencies) < 2:
        return latencies[0] if latencies else None
    return statistics.quantiles(latencies, n=100, method="inclusive")[94]


def target_cost(context: GateContext, index: int, target: str) -> float:
    """The target's cost in USD; ``InputError`` when its model's price is unknown."""
    from evalkit.analysis.costs import target_cost as compute

    usage = context.run.usage.get(target)
    cost = usage.cost_usd if usage is not None and usage.price is not None else compute(context.run, target)
    if cost is None:
        model = context.model_of(target)
        raise context.error(
            index,
            "max_cost_usd",
            f"no price is known for model {model!r} of target {target!r}; add it to the suite: "
            f"prices: {{{model!r}: {{input: USD per 1M tokens, output: USD per 1M tokens}}}}",
        )
    return float(cost)
