"""Up to the last model call: resolve the jobs, examine their files, call every target, score.

One client, one cache and one limit on calls in flight (the run's ``Caller``) serve the targets, the judge
and the Batch API alike. Returns the ``RunRecord``; nothing here computes a statistic.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from evalkit.errors import EvalkitError, InputError
from evalkit.pipeline.options import RunOptions
from evalkit.records import CaseSet, Outcome, Score, Target
from evalkit.records.cases import ScorerInfo
from evalkit.records.results import RunRecord
from evalkit.suite.model import Generation, Suite
from evalkit.targets.replay import Replayed
from evalkit.text import one_line

if TYPE_CHECKING:
    from evalkit.checks.examine import Findings
    from evalkit.providers.router import ProviderRouter
    from evalkit.runner import RunSettings
    from evalkit.runner.calls import Caller
    from evalkit.scorers.base import Scorer
    from evalkit.scorers.judge.backend import JudgeBackend
    from evalkit.targets.jobs import JobInfo


class Unscored(Exception):
    """Scoring failed on a bug after every call was answered; ``record`` holds the answers, unscored (its
    cause is the bug)."""

    def __init__(self, record: RunRecord) -> None:
        super().__init__("scoring failed")
        self.record = record


def utc_now() -> datetime:
    """Now, in UTC (the run's start and end times)."""
    return datetime.now(UTC)


def check_targets(suite: Suite, targets: Sequence[Target]) -> None:
    """The gate rules' targets exist among those a job resolved to (the rest was checked before)."""
    from evalkit.gate import rule_targets

    names = [t.name for t in targets]
    for index, rule in enumerate(suite.gate):
        try:
            rule_targets(rule, names, index=index, file=suite.path)
        except InputError as exc:
            raise suite.locate(exc) from None


def scorer_infos(suite: Suite) -> list[ScorerInfo]:
    """The suite's scorers as results.json records them, so a saved run can be re-analysed without it."""
    from evalkit.records.plain import jsonable

    return [
        ScorerInfo(c.kind, c.name, jsonable(c.options.model_dump(by_alias=True, exclude_none=True)))
        for c in suite.scorers
    ]


async def evaluate(
    suite: Suite,
    case_set: CaseSet,
    named: list[Target],
    scorers: list[Scorer],
    options: RunOptions,
    started: datetime,
    *,
    replayed: Replayed | None = None,
) -> RunRecord:
    """Resolve the jobs, call every target, score — one client, one cache and one limit on calls in flight
    (the run's ``Caller``) for the targets, the judge and the Batch API alike. The targets that replay a
    saved run are answered by ``replayed`` (``evalkit.targets.replay``) and never reach the runner."""
    from evalkit.runner.cache import Cache
    from evalkit.runner.calls import Caller
    from evalkit.scorers import build_scorers
    from evalkit.scorers.judge.backend import JudgeBackend
    from evalkit.scorers.run import check_pairwise
    from evalkit.targets.lifecycle import shutdown_warnings, with_shutdowns
    from evalkit.targets.sources import all_targets, fetch_jobs

    provider = providers(suite, named, options)
    cache = Cache.open(Cache.default_dir()) if options.use_cache else None
    caller = Caller(provider, cache=cache, concurrency=options.concurrency)
    try:
        jobs, targets_by_job = await fetch_jobs(provider, options.job_ids)
        targets = await with_shutdowns(provider, all_targets(named, targets_by_job))
        if options.server is not None:  # before any generation call: a model the server lacks stops the run
            from evalkit.targets.served import on_server

            targets = await on_server(provider, targets, from_jobs=targets_by_job, url=options.server)
        if options.job_ids:
            check_targets(suite, targets)
        check_pairwise(scorers, targets)
        case_set, findings = _examine(suite, case_set, jobs, targets_by_job)
        replayed = replayed or Replayed()
        live = [t for t in targets if t.name not in replayed.outcomes]
        called, as_called = await _call_targets(suite, case_set, live, caller, options, findings) if live else ({}, [])
        by_name = {target.name: target for target in as_called}  # shaped, perhaps moved to another endpoint
        targets = [by_name.get(target.name, target) for target in targets]
        answered = {**called, **replayed.outcomes}
        outcomes = {t.name: answered[t.name] for t in targets}  # in the targets' order
        judge = JudgeBackend(caller)
        scorers = build_scorers(suite.scorers, judge=judge)
        try:
            record = await _score(suite, case_set, targets, scorers, outcomes, jobs, findings, judge, started)
        except EvalkitError:
            raise
        except Exception as exc:  # a bug in scoring: the answers are all in, and can be kept
            unscored: dict[str, dict[str, list[Score | None]]] = {t.name: {} for t in targets}
            partial = _record(suite, case_set, targets, outcomes, unscored, jobs, findings, judge, started)
            partial.warnings[:0] = replayed.warnings
            raise Unscored(partial) from exc
        record = replace(record, warnings=[*shutdown_warnings(targets), *replayed.warnings, *record.warnings])
        return _with_escapes(record, provider)
    finally:
        if cache is not None:
            cache.close()
            if cache.unstored:
                print(
                    f"evalkit: warning: {cache.unstored} answer(s) could not be stored in the response cache "
                    f"{cache.path} ({one_line(cache.problem)}): this run used them; a re-run asks for them again",
                    file=sys.stderr,
                )
        await provider.aclose()


def _with_escapes(record: RunRecord, provider: ProviderRouter) -> RunRecord:
    """The record, with one warning when answers held characters UTF-8 cannot encode."""
    escaped = getattr(provider.remote, "escaped_answers", 0)
    if not escaped:
        return record
    warning = (
        f"{escaped} answer(s) held lone surrogates (\\ud800-\\udfff in the JSON the service sent), which "
        "UTF-8 cannot encode: they are recorded, scored and shown as those six-character escapes"
    )
    return replace(record, warnings=[*record.warnings, warning])


def providers(suite: Suite | None, named: list[Target], options: RunOptions) -> ProviderRouter:
    """``local:`` models in this process; the OpenAI(-compatible) service only when a target, a job or a
    judge needs it (so a run of local models needs no API key, and a run of remote ones never loads torch).
    A target replaying a saved run needs neither."""
    from evalkit.providers.local.models import is_local
    from evalkit.providers.local.provider import LocalProvider
    from evalkit.providers.router import ProviderRouter

    models = [t.model for t in named if t.replayed_from is None]
    models += [j for j in options.job_ids if not is_local(j)]
    if suite is not None:
        models += [model for c in suite.scorers for model in c.options.called_models()]  # judges, graders
    remote = None
    if options.server is not None or any(not is_local(model) for model in models):
        from evalkit.providers.openai import OpenAIProvider

        remote = OpenAIProvider.from_env(
            max_attempts=options.max_attempts,
            timeout_s=options.timeout_s,
            model_wait_s=options.model_wait_s,
            on_model_wait=lambda wait: print(f"evalkit: {wait.describe()}", file=sys.stderr),
            base_url=options.server,
        )
    local = LocalProvider(on_load=lambda line: print(f"evalkit: {line}", file=sys.stderr))
    return ProviderRouter(remote=remote, local=local)


def _examine(
    suite: Suite, case_set: CaseSet, jobs: list[JobInfo], targets_by_job: dict[str, list[Target]]
) -> tuple[CaseSet, Findings]:
    """Inferred prompting, parity and contamination from the jobs' files, announced on stderr."""
    from evalkit.checks.examine import Findings, examine_jobs

    if not jobs:
        return case_set, Findings()
    findings = examine_jobs(jobs, targets_by_job, case_set.cases, suite_completions=suite.completions)
    inferred_stops = {tuple(r["stop"]) for r in findings.inferred.values() if "stop" in r}
    if len(inferred_stops) == 1 and any(case.prompt is not None for case in case_set.cases):
        # Legacy references lose the stop sequence the job was trained with, as the suite's would.
        from evalkit.data import load_cases

        (stop,) = inferred_stops
        completions = suite.completions.model_copy(update={"stop": list(stop)})
        case_set = load_cases(suite.model_copy(update={"completions": completions}))
    for note in findings.notes:
        print(f"evalkit: {note}", file=sys.stderr)
    return case_set, findings


async def _call_targets(
    suite: Suite,
    case_set: CaseSet,
    targets: list[Target],
    caller: Caller,
    options: RunOptions,
    findings: Findings,
) -> tuple[dict[str, list[Outcome]], list[Target]]:
    """Every target's outcomes, and the targets as called: their request shapes recorded (said once on
    stderr), a Responses-only model first tried on Chat moved to Responses."""
    from evalkit.runner import RunSettings, run_targets
    from evalkit.targets.shaping import moved_note, with_shapes

    own = {t.name: generation_of(suite, t) for t in targets if t.generation}
    targets, notes = with_shapes(targets, suite.generation, own)
    for note in notes:
        print(f"evalkit: {note}", file=sys.stderr)
    settings = RunSettings(
        generation=suite.generation,
        completions=suite.completions,
        completions_by_target=findings.completions_by_target,
        generation_by_target=own,
    )
    if options.batch and caller.cache is not None:
        await _batch(case_set, targets, caller, settings, options)
    moved: dict[str, Target] = {}
    outcomes = await run_targets(
        case_set.cases, targets, caller=caller, settings=settings, progress=options.progress, moved=moved
    )
    if moved:
        for target in moved.values():
            print(f"evalkit: {moved_note(target)}", file=sys.stderr)
        shaped, _ = with_shapes(list(moved.values()), suite.generation, own)
        by_name = {target.name: target for target in shaped}
        targets = [by_name.get(target.name, target) for target in targets]
    return outcomes, targets


def generation_of(suite: Suite, target: Target) -> Generation:
    """``target``'s generation settings: the suite's, with the target's own over them; ``InputError`` in the
    suite file when they are not valid."""
    from evalkit.targets.shaping import target_generation

    try:
        return target_generation(suite.generation, target)
    except InputError as exc:
        raise suite.locate(exc) from None


async def _batch(
    case_set: CaseSet,
    targets: list[Target],
    caller: Caller,
    settings: RunSettings,
    options: RunOptions,
) -> None:
    """Send the uncached requests through OpenAI's Batch API into the cache; the runner then finds them
    there, and calls live only what a batch could not answer."""
    from evalkit.dirs import cache_dir
    from evalkit.providers.openai import OpenAIProvider
    from evalkit.providers.router import ProviderRouter
    from evalkit.runner.batch_api import run_batch

    router = caller.provider
    if not isinstance(router, ProviderRouter) or not isinstance(router.remote, OpenAIProvider):
        return  # no OpenAI service in this run: nothing to batch
    summary = await run_batch(
        case_set.cases,
        targets,
        caller=caller,
        remote=router.remote,
        settings=settings,
        state_dir=cache_dir(),
        progress=options.progress,
    )
    if summary.errors:
        first = next(iter(summary.errors.values()))
        print(
            f"evalkit: {len(summary.errors)} batch request(s) failed and will be called live "
            f"(first: {first})",
            file=sys.stderr,
        )


async def _score(
    suite: Suite,
    case_set: CaseSet,
    targets: list[Target],
    scorers: list[Scorer],
    outcomes: dict[str, list[Outcome]],
    jobs: list[JobInfo],
    findings: Findings,
    judge: JudgeBackend,
    started: datetime,
) -> RunRecord:
    from evalkit.scorers.run import score_run, score_warnings

    scores = await score_run(case_set.cases, outcomes, scorers, targets=targets)
    record = _record(suite, case_set, targets, outcomes, scores, jobs, findings, judge, started)
    record.warnings += score_warnings(scores)
    return record


def _record(
    suite: Suite,
    case_set: CaseSet,
    targets: list[Target],
    outcomes: dict[str, list[Outcome]],
    scores: dict[str, dict[str, list[Score | None]]],
    jobs: list[JobInfo],
    findings: Findings,
    judge: JudgeBackend,
    started: datetime,
) -> RunRecord:
    """What was asked, answered and scored (``scores`` empty when scoring could not finish)."""
    from evalkit.records.cases import DataSource, SuiteInfo

    warnings = findings.warnings + [
        w for t in targets if (w := _error_warning(t.name, outcomes[t.name])) is not None
    ]
    completions = suite.completions.model_dump(exclude_none=True)
    if findings.inferred:
        completions["inferred"] = findings.inferred
    data = DataSource(source=case_set.source, sha256=case_set.sha256, cases=len(case_set.cases))
    return RunRecord(
        suite=SuiteInfo(suite.name, suite.description, str(suite.path), suite.sha256, data),
        case_set=case_set,
        targets=targets,
        generation=suite.generation.model_dump(exclude_none=True),
        completions=completions,
        scorers=scorer_infos(suite),
        outcomes=outcomes,
        scores=scores,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=utc_now().isoformat(timespec="seconds"),
        warnings=warnings,
        jobs=[job.record() for job in jobs],
        training=[record for job in jobs for record in job.training_records()],
        checks=findings.checks,
        judge_usage=judge.usage(),
    )


def list_job_targets(job_ids: Sequence[str]) -> list[tuple[JobInfo, list[Target]]]:
    """``evalkit targets --job``: each job with the targets it resolves to (no model calls, no files)."""
    from evalkit.targets.lifecycle import with_shutdowns
    from evalkit.targets.sources import fetch_jobs

    async def fetch() -> list[tuple[JobInfo, list[Target]]]:
        provider = providers(None, [], RunOptions(job_ids=tuple(job_ids)))
        try:
            jobs, targets_by_job = await fetch_jobs(provider, job_ids, with_files=False)
            return [(job, await with_shutdowns(provider, targets_by_job[job.id])) for job in jobs]
        finally:
            await provider.aclose()

    return asyncio.run(fetch())


def _error_warning(name: str, outcomes: list[Outcome]) -> str | None:
    """One line for a target some of whose cases failed after every retry."""
    errors = [o.error for o in outcomes if o.error is not None]
    if not errors:
        return None
    return f"target {name}: {len(errors)} of {len(outcomes)} cases failed (first: {errors[0]})"
