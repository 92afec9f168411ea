"""Which checkpoint to ship: the best of the checkpoints and final models on the primary metric, and a
warning when an earlier checkpoint beats the final model (possible overfitting).

Targets of one fine-tuning job form a group: ``base``, ``step-<N>``, ``final``, or with several jobs
``<job>.base``, ``<job>.step-<N>``, ``<job>.final``. The primary metric is the first classify scorer's
``macro_f1``, else the first scorer's mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from evalkit.analysis.cases import Run, Side
from evalkit.analysis.paired import compare_sides
from evalkit.records import Target
from evalkit.records.findings import Comparison, Recommendation

JOB_ROLES = ("base", "checkpoint", "final")
"""Roles of targets that come from a fine-tuning job."""


def group_of(target: Target) -> str | None:
    """The job group of a target (its name's prefix before the last dot, "" for a single job); None for
    a target that comes from no job."""
    if target.role not in JOB_ROLES:
        return None
    return target.name.rsplit(".", 1)[0] if "." in target.name else ""


def base_of(targets: Sequence[Target], name: str) -> str | None:
    """A target's base: the base of its job group, else the run's only base target, else None."""
    target = next((t for t in targets if t.name == name), None)
    if target is None or target.role == "base":
        return None
    bases = [t for t in targets if t.role == "base"]
    group = group_of(target)
    same_group = [t for t in bases if group is not None and group_of(t) == group]
    if same_group:
        return same_group[0].name
    return bases[0].name if len(bases) == 1 else None


def primary_metric(run: Run) -> str | None:
    """The first classify scorer's ``macro_f1``, else the first scorer's mean; None without scorers."""
    kinds = run.scorer_kinds
    classify = [name for name, kind in kinds.items() if kind == "classify"]
    if classify:
        return f"{classify[0]}.macro_f1"
    return next(iter(kinds), None)


def recommend(run: Run, *, seed: int, resamples: int) -> Recommendation | None:
    """The best checkpoint-or-final target on the primary metric (ties go to the later step, then to
    final); None when the run has no checkpoints or the metric has no value for any of them."""
    metric = primary_metric(run)
    targets = run.results.targets
    if metric is None or not any(t.role == "checkpoint" for t in targets):
        return None
    scored = [
        (t, value)
        for t in targets
        if t.role in ("checkpoint", "final")
        if (value := _value(run, t.name, metric)) is not None
    ]
    if not scored:
        return None
    best, value = max(scored, key=lambda item: (item[1], _step(item[0]), item[0].role == "final"))
    final = next((t for t in targets if t.role == "final" and group_of(t) == group_of(best)), None)
    final_value = None if final is None else _value(run, final.name, metric)
    overfitting = (
        final is not None
        and final_value is not None
        and best.role == "checkpoint"
        and value > final_value
        and _step(best) < _step(final)
    )
    facts = Recommendation(
        metric=metric,
        best=best.name,
        best_step=best.step,
        value=value,
        final=None if final is None else final.name,
        final_value=final_value,
        overfitting=overfitting,
        reason="",
    )
    return replace(facts, reason=_reason(run, facts, len(scored), seed=seed, resamples=resamples))


def _reason(run: Run, recommendation: Recommendation, count: int, *, seed: int, resamples: int) -> str:
    """One line: why this target, and (when an earlier checkpoint beats final) how sure that is."""
    best, value, metric = recommendation.best, recommendation.value, recommendation.metric
    final, final_value = recommendation.final, recommendation.final_value
    assert value is not None  # only a target with a value is recommended
    if recommendation.overfitting and final is not None and final_value is not None:
        paired = compare_sides(Side(run, best), Side(run, final), metric, seed=seed, resamples=resamples)
        return (
            f"{best} scores {value:.3f} {metric}, above {final}'s {final_value:.3f}{_evidence(paired)}: "
            f"possible overfitting after step {recommendation.best_step}"
        )
    text = f"{best} scores {value:.3f} {metric}, the best of {count} fine-tuned models"
    if final is None:
        return text + " (the job has no final model yet)"
    if final != best and final_value is not None:
        return text + f" ({final}: {final_value:.3f})"
    return text


def _evidence(comparison: Comparison) -> str:
    """`` (Δ +0.070, 95% CI [-0.010, +0.150], p = 0.08)`` when the comparison has them."""
    if comparison.delta is None or comparison.ci is None:
        return ""
    low, high = comparison.ci
    p = comparison.p_value
    tail = "" if p is None else f", p = {p:.2g}"
    return f" (Δ {comparison.delta:+.3f}, 95% CI [{low:+.3f}, {high:+.3f}]{tail})"


def _value(run: Run, target: str, metric: str) -> float | None:
    entry = run.results.metric(target, metric)
    return None if entry is None or entry.value is None else float(entry.value)


def _step(target: Target) -> float:
    """The training step, for ordering: a final model without one comes after every checkpoint."""
    if target.step is not None:
        return float(target.step)
    return float("inf") if target.role == "final" else float("-inf")
