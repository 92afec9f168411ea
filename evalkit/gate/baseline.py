"""``baseline:`` rules: this run against a saved run's results.json, paired by case id.

The saved run must have been made with the same data (its sha256), scorers and generation settings —
what decides the answers and their scores — unless the rule says ``allow_changed: true``; the rest of the
suite file (its gate above all, which a ``baseline:`` rule itself changes) may differ. At least one case id
must be in both runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from evalkit.gate.context import GateContext, listing, suggest
from evalkit.records.findings import Comparison
from evalkit.records.results import RunInputs, RunResults
from evalkit.suite.rules import GateRule


def baseline_path(rule: GateRule, base_dir: Path) -> Path:
    """Where a rule's saved run is: its ``baseline`` path, relative to ``base_dir`` unless absolute."""
    assert rule.baseline is not None  # only baseline rules come here
    path = Path(rule.baseline).expanduser()
    return path if path.is_absolute() else base_dir / path


def read_baseline(path: Path, *, on_missing: Callable[[str], Exception]) -> RunResults:
    """The saved run at ``path`` (a results.json or its folder); ``on_missing(message)`` builds the error
    for a path that does not exist. A file that is not a results.json raises ``InputError`` naming it."""
    from evalkit.records.results_json import read_results

    if not path.exists():
        raise on_missing(
            f"no saved run at {path}; give the results.json of an earlier run (relative to the suite file)"
        )
    return read_results(path)


def changed_inputs(current: RunInputs, saved: RunInputs) -> list[str]:
    """Which of ``data``, ``scorers`` and ``generation settings`` differ between two runs."""
    changed = []
    if current.data_sha256 != saved.data_sha256:
        changed.append("data")
    if current.scorers != saved.scorers:
        changed.append("scorers")
    if _generation(current) != _generation(saved):
        changed.append("generation settings")
    return changed


def _generation(run: RunInputs) -> tuple[Any, Any]:
    """How the targets were asked: generation settings, and the completions prompting the suite set
    (what a job's training file implied, ``inferred``, goes with the job, not the suite)."""
    completions = {k: v for k, v in run.completions.items() if k != "inferred"}
    return run.generation, completions


def baseline_comparison(
    context: GateContext, index: int, rule: GateRule, target: str, *, alpha: float
) -> tuple[Comparison, list[str]]:
    """The comparison of ``target`` with its counterpart in the rule's saved run (``analysis.compare_runs``,
    its ``mde`` at ``alpha``), and what differs from that run (``allow_changed``)."""
    from evalkit.analysis import compare_runs

    saved = _saved_run(context, index, rule)
    current, then = RunInputs.of(context.run), RunInputs.of(saved)
    changed = changed_inputs(current, then)
    if changed and not rule.allow_changed:
        raise context.error(
            index,
            "baseline",
            f"the saved run {rule.baseline} was made with different {' and '.join(changed)} "
            f"({_hashes(current, then, changed)}); its cases may not be comparable — set "
            "'allow_changed: true' on this rule to compare anyway",
        )
    other = _counterpart(context, index, rule, target, saved)
    context.metric_entry(index, rule, target)
    metric = rule.figure
    if metric not in saved.metrics.get(other, {}):
        raise context.error(
            index,
            "metric",
            f"the saved run {rule.baseline} has no metric {metric!r} for target {other!r} "
            f"(metrics: {listing(saved.metrics.get(other, {}))})",
        )
    if not _shared_ids(context.run, target, saved, other):
        raise context.error(
            index,
            "baseline",
            f"no case id of target {target!r} is in the saved run {rule.baseline} (target {other!r}); "
            "a baseline must share case ids with this run",
        )
    comparison = compare_runs(
        context.run, saved, target=target, metric=metric, baseline_target=other, alpha=alpha
    )
    return replace(comparison, versus=other), changed


def _saved_run(context: GateContext, index: int, rule: GateRule) -> RunResults:
    path = baseline_path(rule, context.base_dir)
    if path not in context.baselines:
        context.baselines[path] = read_baseline(
            path, on_missing=lambda msg: context.error(index, "baseline", msg)
        )
    return context.baselines[path]


def _counterpart(context: GateContext, index: int, rule: GateRule, target: str, saved: RunResults) -> str:
    """The saved run's target to compare ``target`` with."""
    names = saved.target_names
    if rule.baseline_target is not None:
        if rule.baseline_target not in names:
            raise context.error(
                index,
                "baseline_target",
                f"the saved run {rule.baseline} has no target {rule.baseline_target!r}"
                f"{suggest(rule.baseline_target, names)} (its targets: {listing(names)})",
            )
        return rule.baseline_target
    if target in names:
        return target
    if len(names) == 1:
        return names[0]
    raise context.error(
        index,
        "target",
        f"the saved run {rule.baseline} has no target named {target!r} (its targets: {listing(names)}); "
        "say which one to compare with: baseline_target: NAME",
    )


def _shared_ids(current: RunResults, target: str, saved: RunResults, other: str) -> set[str]:
    mine = {case_id for case_id, _ in current.answers(target)}
    theirs = {case_id for case_id, _ in saved.answers(other)}
    return mine & theirs


def _hashes(current: RunInputs, saved: RunInputs, changed: list[str]) -> str:
    parts = []
    if "data" in changed:
        theirs, mine = saved.data_sha256, current.data_sha256
        parts.append(f"data sha256 {theirs[:12]}… there, {mine[:12]}… here")
    if "scorers" in changed:
        parts.append(f"scorers {_names(saved)} there, {_names(current)} here")
    if "generation settings" in changed:
        parts.append(f"generation {_generation(saved)[0]} there, {_generation(current)[0]} here")
    return "; ".join(parts)


def _names(run: RunInputs) -> str:
    return ", ".join(f"{s.name} ({s.kind})" for s in run.scorers) or "none"
