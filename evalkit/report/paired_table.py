"""The report's paired-comparisons table, readable at a glance.

A classify scorer alone gives each target some twenty comparisons (per-class precision, recall and F1,
kappa, …); with four checkpoints that is over a hundred rows before the flips. The table shows first the
rows a reviewer decides on — the headline metrics:

    the metrics a gate rule uses       (``gate.rules[].metric``)
    the primary metric                 what checkpoints are ranked by (``classify.macro_f1``, …)
    every scorer's mean                ``exact``, ``classify``, ``judge``, …
    every figure of a judge scorer     ``judge.pass_rate``, ``judge.mean_verdict``, …
    error_rate                         when some call failed (its Δ is not 0)

and folds the rest (per-class figures, the other aggregates) under one disclosure. p-values at their
resampling floor read as the bound they are (``report.pvalues``); the resample count is said once.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from evalkit.analysis import primary_metric_of
from evalkit.records import ERROR_RATE
from evalkit.records.findings import Comparison
from evalkit.records.results import RunResults
from evalkit.report.counts import comparison_note
from evalkit.report.pvalues import p_text, resamples_of, resampling_note
from evalkit.report.tables import significance, tone

__all__ = ["headline_comparison_metrics", "paired_table"]


def paired_table(results: RunResults) -> dict[str, Any]:
    """The comparisons as ``headline`` rows and ``folded`` ones (each with its marker, tone, ``n of N`` note,
    p-value texts), ``per_class``: how many folded rows are per-class figures, and the resampling ``note``."""
    headline = headline_comparison_metrics(results)
    resamples = resamples_of(results)
    shown = [c for c in results.comparisons if c.metric in headline]
    folded = [c for c in results.comparisons if c.metric not in headline]
    per_class = _per_class_metrics(results)
    return {
        "headline": [_row(results, c, resamples) for c in shown],
        "folded": [_row(results, c, resamples) for c in folded],
        "per_class": sum(1 for c in folded if c.metric in per_class),
        "note": resampling_note(results, results.comparisons),
    }


def headline_comparison_metrics(results: RunResults) -> set[str]:
    """The metrics whose comparisons the table shows unfolded (see the module's list)."""
    found = {rule.metric for rule in results.gate.rules}
    primary = primary_metric_of(results)
    if primary is not None:
        found.add(primary)
    kinds = {scorer.name: scorer.kind for scorer in results.scorers}
    for comparison in results.comparisons:
        metric = comparison.metric
        scorer, dot, _ = metric.partition(".")
        mean = not dot and metric in kinds
        failed_calls = metric == ERROR_RATE and bool(comparison.delta)
        if mean or failed_calls or kinds.get(scorer) == "judge":
            found.add(metric)
    return found


def _per_class_metrics(results: RunResults) -> set[str]:
    """``<classify scorer>.<precision|recall|f1>.<label>`` among the compared metrics."""
    from evalkit.analysis.cases import PER_LABEL

    prefixes = tuple(
        f"{scorer.name}.{kind}." for scorer in results.scorers if scorer.kind == "classify" for kind in PER_LABEL
    )
    return {c.metric for c in results.comparisons if c.metric.startswith(prefixes)} if prefixes else set()


def _row(results: RunResults, comparison: Comparison, resamples: int) -> dict[str, Any]:
    marker = significance(comparison.p_adjusted)
    delta = comparison.delta
    shade = "same" if delta is None else tone(delta, comparison.metric, significant=bool(marker))
    return {
        **asdict(comparison),
        "marker": marker,
        "tone": shade,
        "note": comparison_note(results, comparison),
        "p_text": p_text(comparison, resamples=resamples, decimals=4),
        "p_adjusted_text": p_text(comparison, resamples=resamples, adjusted=True, decimals=4),
    }
