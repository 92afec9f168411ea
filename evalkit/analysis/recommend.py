"""Which model to ship: the final model, unless an earlier checkpoint is significantly better than it.

The rule (README, "Statistics"): every checkpoint trained for fewer steps than the final model is compared
with it on the primary metric, paired case by case (``paired.compare_sides``: the test a comparison of
that metric uses), and the p-values are Holm-adjusted across those checkpoints. When one is better with
an adjusted p below ``ALPHA``, the final model may be overfitted: the best such checkpoint is recommended
and flagged. Otherwise the final model is recommended — a checkpoint scoring a case or two more is within
noise on the suite — and the reason says how far the best checkpoint was from it. A scored difference
alone never raises the flag. A job with no final model yet gets its best checkpoint.

Targets of one fine-tuning job form a group: ``base``, ``step-<N>``, ``final``, or with several jobs
``<job>.base``, ``<job>.step-<N>``, ``<job>.final``. The primary metric is the first classify scorer's
``macro_f1``, else the first scorer's mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from evalkit.analysis.cases import Run, Side
from evalkit.analysis.floors import adjusted_at_floor, at_floor
from evalkit.analysis.paired import compare_sides
from evalkit.analysis.stats import holm
from evalkit.records import Target
from evalkit.records.findings import Comparison, Recommendation
from evalkit.text import p_figure, signed

JOB_ROLES = ("base", "checkpoint", "final")
"""Roles of targets that come from a fine-tuning job."""

ALPHA = 0.05
"""An earlier checkpoint is significantly better than the final model below this Holm-adjusted p-value."""


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


def recommend(
    run: Run, *, known: Sequence[Comparison] = (), seed: int, resamples: int
) -> Recommendation | None:
    """The model to ship (see the module's rule); None when the run has no checkpoints or the metric has
    no value for any checkpoint or final model. ``known``: comparisons already made (reused when one is
    a checkpoint against the final model on the metric; the numbers are the same)."""
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
    versus: list[Comparison] = []
    if final is not None and final_value is not None:
        earlier = [t for t, _ in scored if t.role == "checkpoint" and group_of(t) == group_of(final)]
        earlier = [t for t in earlier if _step(t) < _step(final)]
        versus = _versus_final(run, earlier, final.name, metric, known, seed=seed, resamples=resamples)
    better = [c for c in versus if _significantly_better(c)]
    values = {t.name: v for t, v in scored}
    steps = {t.name: _step(t) for t, _ in scored}
    if better:
        recommended = max(better, key=lambda c: (values[c.target], steps[c.target])).target
    else:
        recommended = best.name if final is None or final_value is None else final.name
    facts = Recommendation(
        metric=metric,
        best=best.name,
        best_step=best.step,
        value=value,
        final=None if final is None else final.name,
        final_value=final_value,
        overfitting=bool(better),
        reason="",
        recommended=recommended,
        versus_final=versus,
    )
    reason = _reason(facts, values, len(scored), resamples=resamples, step=_step_of(run, recommended))
    return replace(facts, reason=reason)


def _versus_final(
    run: Run,
    earlier: Sequence[Target],
    final: str,
    metric: str,
    known: Sequence[Comparison],
    *,
    seed: int,
    resamples: int,
) -> list[Comparison]:
    """Each earlier checkpoint against the final model on ``metric``, Holm-adjusted across them."""
    made = {(c.target, c.versus, c.metric): c for c in known}
    found = [
        made.get((t.name, final, metric))
        or compare_sides(Side(run, t.name), Side(run, final), metric, seed=seed, resamples=resamples)
        for t in earlier
    ]
    tested = [i for i, c in enumerate(found) if c.p_value is not None]
    adjusted = holm([float(found[i].p_value or 0.0) for i in tested])
    by_index = dict(zip(tested, adjusted, strict=True))
    return [replace(c, p_adjusted=by_index.get(i)) for i, c in enumerate(found)]


def _significantly_better(comparison: Comparison) -> bool:
    adjusted = comparison.p_adjusted
    return comparison.delta is not None and comparison.delta > 0 and adjusted is not None and adjusted < ALPHA


def _reason(
    facts: Recommendation, values: dict[str, float], count: int, *, resamples: int, step: int | None
) -> str:
    """One sentence: why this model, with the figures of the comparison the advice rests on."""
    best, metric, final = facts.best, facts.metric, facts.final
    top = f"{best} scores {values[best]:.3f} {metric}, the best of {count} fine-tuned models"
    if final is None:
        return top + " (the job has no final model yet)"
    if facts.final_value is None:
        return top + f" ({final} has no {metric} value)"
    by_target = {c.target: c for c in facts.versus_final}
    if facts.overfitting and facts.recommended in by_target:
        chosen = by_target[facts.recommended]
        figures = _evidence(chosen, values, final, metric, resamples=resamples, shown=("p_adj",))
        after = "" if step is None else f" past step {step}"
        return f"{chosen.target} is significantly better than {final} ({figures}): training{after} may have overfitted"
    if best == final:
        return top
    compared = by_target.get(best)
    if compared is None or compared.delta is None:
        return f"{best} scores {values[best]:.3f} {metric} at the final model's step, {final} {values[final]:.3f}"
    if compared.p_value is None or compared.p_value >= ALPHA:
        figures = _evidence(compared, values, final, metric, resamples=resamples, shown=("p",))
        return f"{best} and {final} are indistinguishable on this suite ({figures})"
    figures = _evidence(compared, values, final, metric, resamples=resamples, shown=("p", "p_adj"))
    if compared.delta > 0:
        family = len(facts.versus_final)
        return f"{best} is not significantly better than {final} once adjusted for {family} checkpoints ({figures})"
    return f"{best} is not better than {final} on the cases both answered ({figures})"


def _evidence(
    comparison: Comparison,
    values: dict[str, float],
    final: str,
    metric: str,
    *,
    resamples: int,
    shown: tuple[str, ...],
) -> str:
    """``classify.macro_f1 0.875 vs 0.833, Δ +0.042, 95% CI [−0.104, +0.190], p = 0.62`` with the p-values
    ``shown`` (``p``, ``p_adj``: Holm-adjusted across the earlier checkpoints)."""
    parts = [f"{metric} {values[comparison.target]:.3f} vs {values[final]:.3f}", f"Δ {signed(comparison.delta)}"]
    if comparison.ci is not None:
        parts.append(f"95% CI [{signed(comparison.ci[0])}, {signed(comparison.ci[1])}]")
    p_values = {
        "p": (comparison.p_value, at_floor(comparison.p_value, comparison.test, resamples=resamples)),
        "p_adj": (comparison.p_adjusted, adjusted_at_floor(comparison, resamples=resamples)),
    }
    for name in shown:
        p, bound = p_values[name]
        if p is not None:
            parts.append(f"{name} {_p(p, bound)}")
    return ", ".join(parts)


def _p(p: float | None, bound: bool) -> str:
    """``= 0.62`` or ``< 0.001``."""
    shown = p_figure(p, bound=bound, decimals=None)
    return shown if shown.startswith("<") else f"= {shown}"


def _step_of(run: Run, name: str) -> int | None:
    target = run.results.target(name)
    return None if target is None else target.step


def _value(run: Run, target: str, metric: str) -> float | None:
    entry = run.results.metric(target, metric)
    return None if entry is None or entry.value is None else float(entry.value)


def _step(target: Target) -> float:
    """The training step, for ordering: a final model without one comes after every checkpoint."""
    if target.step is not None:
        return float(target.step)
    return float("inf") if target.role == "final" else float("-inf")
