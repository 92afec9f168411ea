"""Which charts a run gets, and their data: checkpoint curves per job, confusion matrices per target.

The checkpoint curve puts every target with a training step on one x axis — the base at step 0, each
checkpoint at its step, the final model at its step (or the last training step) — with the headline metrics
and their CI bands on the left axis and the job's train and valid losses on the right. A run without steps
or training metrics gets no curve; a run without ``classify`` details gets no heatmaps.
"""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.records import Target
from evalkit.records.jobs import TrainingRecord
from evalkit.records.results import RunResults
from evalkit.report.charts import LOSS_COLOURS, Band, Heatmap, Line, checkpoint_curve_svg, confusion_svg
from evalkit.report.summary import headline_metrics

__all__ = ["confusion_chart", "curve_charts"]

MAX_CURVE_METRICS = 3
MAX_HEATMAPS = 6
_ROLE_ORDER = {"base": 0, "checkpoint": 1, "final": 2, "model": 3}


def curve_charts(results: RunResults) -> list[dict[str, str]]:
    """One ``{"title", "svg"}`` per fine-tuning job with steps or training metrics to draw."""
    jobs = [job.id for job in results.jobs]
    groups: list[tuple[str | None, list[Target]]]
    if len(jobs) > 1:
        groups = [(job, [t for t in results.targets if t.name.startswith(f"{job}.")]) for job in jobs]
    else:
        groups = [(jobs[0] if jobs else None, list(results.targets))]
    charts = []
    for index, (job, targets) in enumerate(groups):
        svg = _curve(results, job, targets, ident=str(index))
        if svg:
            charts.append({"title": job or "", "svg": svg})
    return charts


def _curve(results: RunResults, job: str | None, targets: Sequence[Target], *, ident: str) -> str | None:
    training = [r for r in results.training if job is None or r.job in (None, job)]
    last_step = max((r.step for r in training), default=None)
    points = _points(targets, last_step)
    if len([p for p in points if p[1].role != "base"]) < 1 and not training:
        return None
    metrics = [_metric_line(results, metric, points) for metric in _curve_metrics(results)] if points else []
    losses = [_loss_line(training, key) for key in LOSS_COLOURS if any(getattr(r, key) is not None for r in training)]
    recommended = results.recommendation.best if results.recommendation is not None else None
    best = next((p for p in points if p[1].name == recommended), None)
    return checkpoint_curve_svg(
        metrics, losses,
        best_step=None if best is None else best[0],
        best_label=f"best: {best[1].name}" if best else "best",
        ident=ident,
    )


def _points(targets: Sequence[Target], last_step: int | None) -> list[tuple[float, Target]]:
    """(step, target) for the base, the checkpoints and the final model, in step order."""
    steps = [t.step for t in targets if t.role == "checkpoint" and t.step is not None]
    final_step = last_step if last_step is not None else max(steps, default=None)
    found: list[tuple[float, Target]] = []
    for target in targets:
        if target.role == "base":
            found.append((0.0, target))
        elif target.role == "checkpoint" and target.step is not None:
            found.append((float(target.step), target))
        elif target.role == "final":
            step = target.step if target.step is not None else final_step
            if step is not None:
                found.append((float(step), target))
    if not any(t.role != "base" for _, t in found):
        return []
    return sorted(found, key=lambda p: (p[0], _ROLE_ORDER[p[1].role]))


def _curve_metrics(results: RunResults) -> list[str]:
    """The recommendation's metric, the gate's metrics, then the other headline metrics: one per scorer
    (``classify`` and ``classify.macro_f1`` would draw the same line twice), error rates aside."""
    known = {m for per_target in results.metrics.values() for m in per_target}
    wanted = [results.recommendation.metric] if results.recommendation is not None else []
    wanted += [rule.metric for rule in results.gate.rules]
    wanted += headline_metrics(results)
    chosen: dict[str, str] = {}
    for metric in wanted:
        scorer = metric.split(".", 1)[0]
        if metric in known and not metric.endswith("_rate") and scorer not in chosen:
            chosen[scorer] = metric
    return list(chosen.values())[:MAX_CURVE_METRICS]


def _metric_line(results: RunResults, metric: str, points: Sequence[tuple[float, Target]]) -> Line:
    found = [results.metric(t.name, metric) for _, t in points]
    cis = [f.ci if f is not None else None for f in found]
    band = Band([c[0] if c else None for c in cis], [c[1] if c else None for c in cis]) if any(cis) else None
    marks = ["s" if t.role == "base" else "D" if t.role == "final" else "" for _, t in points]
    values = [f.value if f is not None else None for f in found]
    return Line(metric, [p[0] for p in points], values, band=band, marks=marks)


def _loss_line(training: Sequence[TrainingRecord], key: str) -> Line:
    rows = sorted((r for r in training if getattr(r, key) is not None), key=lambda r: r.step)
    return Line(key.replace("_", " "), [float(r.step) for r in rows], [float(getattr(r, key)) for r in rows],
                colour=LOSS_COLOURS[key])


def confusion_chart(results: RunResults, *, base: str | None, focus: str | None) -> str | None:
    """Heatmaps of the classify confusion matrices, side by side in one chart (base, best, final and
    named models only when there are many targets); None when the run has none."""
    details = results.details
    panels = []
    for target in _heatmap_targets(results, base, focus):
        found = {s: d for s, d in (details.get(target) or {}).items() if d.get("labels") and d.get("confusion_matrix")}
        for scorer, detail in sorted(found.items()):
            title = f"{target} · {scorer}" if len(found) > 1 else target
            panels.append(Heatmap(title, [str(x) for x in detail["labels"]], detail["confusion_matrix"]))
    return confusion_svg(panels) if panels else None


def _heatmap_targets(results: RunResults, base: str | None, focus: str | None) -> list[str]:
    names = results.target_names
    if len(names) <= MAX_HEATMAPS:
        return names
    best = results.recommendation.best if results.recommendation is not None else None
    keep = {base, focus, best} | {t.name for t in results.targets if t.role in ("final", "model")}
    return [name for name in names if name in keep]
