"""Scoring a whole run: every scorer on every target's outcome of every case.

``score_run`` scores each outcome (None where the call errored; a ``FailedScore`` where the scorer could
not score it, e.g. an unreadable judge verdict). Built-in scorers run case after case (they are cheap);
scorers that call a model (``judge``) score all cases of all targets concurrently, their backend bounding
the calls in flight. Every scorer is closed (``Scorer.aclose``) when scoring ends, however it ends. A pairwise scorer scores each target against its base (``base_targets``); the base
itself gets no pairwise score.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from evalkit.errors import InputError
from evalkit.records import Case, FailedScore, Outcome, Role, Score, Target, failed
from evalkit.scorers.base import Scorer, ScoringError, is_error

Scores = dict[str, dict[str, list[Score | None]]]
"""Per target name, per scorer name, one score per case (None where the outcome errored)."""


async def score_run(
    cases: Sequence[Case],
    outcomes_by_target: Mapping[str, Sequence[Outcome]],
    scorers: Sequence[Scorer],
    *,
    targets: Sequence[Target] | None = None,
) -> Scores:
    """Every scorer's verdict on every target's outcome of every case; None where the outcome errored
    (or, for a pairwise scorer, where the target has no base or is the base), a ``FailedScore`` where the
    scorer could not score it.

    ``targets``: the run's targets, whose roles and names tell pairwise scorers each target's base
    (default: the target named ``base`` is every other target's base)."""
    for target, outcomes in outcomes_by_target.items():
        check_aligned(cases, outcomes, target)
    bases = base_targets(targets if targets is not None else _named_roles(outcomes_by_target))
    scores: Scores = {target: {} for target in outcomes_by_target}
    try:
        for scorer in scorers:
            if scorer.pairwise:
                by_target = await _score_pairs(scorer, cases, outcomes_by_target, bases)
            elif scorer.calls_model:
                by_target = await _score_concurrently(scorer, cases, outcomes_by_target)
            else:
                by_target = {t: await _score_all(scorer, cases, o) for t, o in outcomes_by_target.items()}
            for target, per_case in by_target.items():
                scores[target][scorer.name] = per_case
    finally:
        for scorer in scorers:
            await scorer.aclose()
    return scores


def base_targets(targets: Sequence[Target]) -> dict[str, str]:
    """Each target's base, by name: the ``base``-role target of its job group (``<job>.step-10`` →
    ``<job>.base``), else the only ``base``-role target. Bases, and targets without one, are left out."""
    roles = {target.name: target.role for target in targets}
    bases = [name for name, role in roles.items() if role == "base"]
    found: dict[str, str] = {}
    for name, role in roles.items():
        if role == "base":
            continue
        prefix, dot, _ = name.partition(".")
        group_base = f"{prefix}.base" if dot else None
        if group_base is not None and roles.get(group_base) == "base":
            found[name] = group_base
        elif len(bases) == 1:
            found[name] = bases[0]
    return found


def check_pairwise(scorers: Sequence[Scorer], targets: Sequence[Target]) -> None:
    """Refuse, before any call is made, a pairwise scorer in a run where no target has a base."""
    pairwise = [scorer.name for scorer in scorers if scorer.pairwise]
    if pairwise and not base_targets(targets):
        names = ", ".join(target.name for target in targets) or "none"
        raise InputError(
            f"scorer {pairwise[0]!r} compares each target with its base, but no target of this run has one "
            f"(targets: {names}): name the reference model 'base' (--model base=ID) or evaluate a job (--job)",
            field="scorers",
        )


def score_warnings(scores: Scores) -> list[str]:
    """One line per target and scorer that could not score some outputs (unreadable judge verdicts, …)."""
    lines: list[str] = []
    for target, by_scorer in scores.items():
        for scorer, per_case in by_scorer.items():
            errors = [s.error for s in per_case if isinstance(s, FailedScore)]
            if errors:
                lines.append(
                    f"scorer {scorer}: {len(errors)} output(s) of target {target} could not be scored "
                    f"(first: {errors[0]})"
                )
    return lines


async def _score_all(
    scorer: Scorer, cases: Sequence[Case], outcomes: Sequence[Outcome]
) -> list[Score | None]:
    results: list[Score | None] = []
    for case, outcome in zip(cases, outcomes, strict=True):
        output = outcome.output
        if output is None or outcome.error is not None:
            results.append(None)
        else:
            results.append(await _guarded(scorer.score(output, case)))
    return results


async def _score_concurrently(
    scorer: Scorer, cases: Sequence[Case], outcomes_by_target: Mapping[str, Sequence[Outcome]]
) -> dict[str, list[Score | None]]:
    jobs = {
        (target, index): scorer.score(outcome.output, case)
        for target, outcomes in outcomes_by_target.items()
        for index, (case, outcome) in enumerate(zip(cases, outcomes, strict=True))
        if outcome.output is not None and not is_error(outcome)
    }
    return _arrange(await _gather(jobs), outcomes_by_target, len(cases))


async def _score_pairs(
    scorer: Scorer,
    cases: Sequence[Case],
    outcomes_by_target: Mapping[str, Sequence[Outcome]],
    bases: Mapping[str, str],
) -> dict[str, list[Score | None]]:
    jobs: dict[tuple[str, int], Coroutine[Any, Any, Score]] = {}
    for target, base in bases.items():
        if target not in outcomes_by_target or base not in outcomes_by_target:
            continue
        pairs = zip(cases, outcomes_by_target[target], outcomes_by_target[base], strict=True)
        for index, (case, outcome, theirs) in enumerate(pairs):
            if outcome.output is None or is_error(outcome):
                continue
            if theirs.output is None or is_error(theirs):
                jobs[(target, index)] = _no_pair(base)
            else:
                jobs[(target, index)] = scorer.score_pair(outcome.output, theirs.output, case)
    return _arrange(await _gather(jobs), outcomes_by_target, len(cases))


async def _no_pair(base: str) -> Score:
    raise ScoringError(f"the base target {base} has no answer to this case to compare with")


async def _guarded(scoring: Coroutine[Any, Any, Score]) -> Score:
    """The score, or a ``FailedScore`` when the scorer could not score."""
    try:
        return await scoring
    except ScoringError as exc:
        return failed(exc.message)


async def _gather(jobs: Mapping[tuple[str, int], Coroutine[Any, Any, Score]]) -> dict[tuple[str, int], Score]:
    """Run every scoring at once; the first error that is not a ``ScoringError`` cancels the rest."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = {key: group.create_task(_guarded(job)) for key, job in jobs.items()}
    except BaseExceptionGroup as errors:
        raise errors.exceptions[0] from None
    return {key: task.result() for key, task in tasks.items()}


def _arrange(
    found: Mapping[tuple[str, int], Score], outcomes_by_target: Mapping[str, Sequence[Outcome]], n: int
) -> dict[str, list[Score | None]]:
    return {target: [found.get((target, index)) for index in range(n)] for target in outcomes_by_target}


def _named_roles(outcomes_by_target: Mapping[str, Sequence[Outcome]]) -> list[Target]:
    """Stand-in targets when only names are known: the one named ``base`` is the base."""
    role: dict[bool, Role] = {True: "base", False: "model"}
    return [Target(name, model="", endpoint="chat", role=role[name == "base"]) for name in outcomes_by_target]


def check_aligned(cases: Sequence[Case], outcomes: Sequence[Outcome], target: str) -> None:
    if len(outcomes) != len(cases):
        raise ValueError(f"target {target!r} has {len(outcomes)} outcomes for {len(cases)} cases")
