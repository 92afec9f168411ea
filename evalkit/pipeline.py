"""One evaluation run, stage by stage: suite → cases → targets → runner → scorers → metrics → gate → outputs.

This is the only module that knows the order of the stages; each stage lives in its own module and takes
plain values from the one before. The CLI calls ``run_suite`` and turns its verdict into an exit code.
Everything after the last model call (``_finish``: aggregates, statistics, gate, outputs) needs no client,
so a caller may hand it elsewhere (``offload``): the CLI runs it in its sidecar, a forked process that
imported the analysis libraries while the calls were in flight (``evalkit.cli.sidecar``). Library calls
run it here.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar

from evalkit.errors import InputError
from evalkit.records import CaseSet, Outcome, Target
from evalkit.records.cases import ScorerInfo
from evalkit.records.results import RunRecord, RunResults
from evalkit.suite.model import Suite

if TYPE_CHECKING:
    from evalkit.checks.examine import Findings
    from evalkit.providers.router import ProviderRouter
    from evalkit.runner import RunSettings
    from evalkit.runner.calls import Caller
    from evalkit.scorers.base import Scorer
    from evalkit.scorers.judge.backend import JudgeBackend
    from evalkit.targets.jobs import JobInfo


P = ParamSpec("P")
T = TypeVar("T")

OFFLOAD_MAX_ANSWERS = 60_000
"""Above this many (case, target) answers the analysis runs in this process even when it could be
offloaded: two processes would each hold every answer (memory), and sending them (about 15 µs an answer
here) costs more than the 1–2 s of imports the other process hides."""


class Offload(Protocol):
    """Somewhere else to run the analysis: ``call(fn, *args)`` returns what ``fn(*args)`` returns, or
    raises what it raises (the CLI's ``Sidecar``)."""

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T: ...


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a suite: the CLI's flags."""

    model_flags: tuple[str, ...] = ()
    """``NAME=ID[@chat|@completions]`` values, added to (or replacing) the suite's targets."""
    job_ids: tuple[str, ...] = ()
    """Fine-tuning jobs whose base model, checkpoints and final model are evaluated."""
    out_dir: Path | None = None
    """Where the outputs go; default ``reports/<suite name>/<UTC timestamp>/``."""
    concurrency: int = 8
    """Requests in flight at once, across all targets."""
    use_cache: bool = True
    """Reuse cached responses for identical requests (and store new ones)."""
    max_attempts: int = 6
    """Attempts per request, first try included, before a case is recorded as an error."""
    timeout_s: float = 60.0
    """Per-attempt request timeout in seconds."""
    model_wait_s: float = 300.0
    """How long to wait for a fine-tune that answers "model not found" while it loads."""
    batch: bool = False
    """Send OpenAI targets' requests through the Batch API (cheaper, slower) before the live runner."""
    progress: bool = True
    """Show progress bars on stderr."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a finished run hands back to the CLI."""

    results: RunResults
    """What the run found (results.json's records)."""
    out_dir: Path
    """Where results.json and the reports were written."""

    @property
    def verdict(self) -> str:
        """``go`` or ``no-go``."""
        return self.results.gate.verdict


def _utc_now() -> datetime:
    return datetime.now(UTC)


def default_out_dir(suite: Suite, started: datetime) -> Path:
    """``reports/<suite name>/<UTC timestamp>/`` under the current directory."""
    return Path("reports") / suite.name / started.strftime("%Y%m%dT%H%M%SZ")


def check_suite(
    suite: Suite, case_set: CaseSet, scorers: Sequence[Scorer], *, targets: Sequence[Target] | None = None
) -> None:
    """What can be known wrong before any call, as ``evalkit validate`` and ``evalkit run`` both check it:
    every gate rule's metric is one the scorers declare, its saved run is readable and comparable, and
    (once ``targets`` are known) its targets exist. ``InputError`` naming the rule's file, key and the
    closest valid name."""
    from evalkit.gate import check_rules
    from evalkit.records.plain import settings
    from evalkit.records.results import RunInputs
    from evalkit.scorers import declared_metrics

    inputs = RunInputs(
        data_sha256=case_set.sha256,
        generation=settings(suite.generation.model_dump(exclude_none=True)),
        completions=settings(suite.completions.model_dump(exclude_none=True)),
        scorers=_scorer_infos(suite),
    )
    try:
        check_rules(
            suite.gate,
            targets=None if targets is None else [t.name for t in targets],
            metrics=declared_metrics(scorers),
            file=suite.path,
            base_dir=suite.path.parent,
            inputs=inputs,
        )
    except InputError as exc:
        raise suite.locate(exc) from None


def _check_targets(suite: Suite, targets: Sequence[Target]) -> None:
    """The gate rules' targets exist among those a job resolved to (the rest was checked before)."""
    from evalkit.gate import rule_targets

    names = [t.name for t in targets]
    for index, rule in enumerate(suite.gate):
        try:
            rule_targets(rule, names, index=index, file=suite.path)
        except InputError as exc:
            raise suite.locate(exc) from None


def _scorer_infos(suite: Suite) -> list[ScorerInfo]:
    """The suite's scorers as results.json records them, so a saved run can be re-analysed without it."""
    from evalkit.records.cases import ScorerInfo
    from evalkit.records.plain import jsonable

    return [
        ScorerInfo(c.kind, c.name, jsonable(c.options.model_dump(by_alias=True, exclude_none=True)))
        for c in suite.scorers
    ]


def run_suite(suite_path: str | Path, options: RunOptions, *, offload: Offload | None = None) -> RunResult:
    """Run every case through every target, score, gate, and write the outputs.

    ``offload``: where the analysis after the last call may run (at most ``OFFLOAD_MAX_ANSWERS`` answers);
    by default, here. When it ran elsewhere, the ``RunResult`` handed back holds no cases (they are in its
    results.json)."""
    from evalkit.data import load_cases
    from evalkit.report.outputs import check_out_dir
    from evalkit.scorers import build_scorers
    from evalkit.suite import load_suite
    from evalkit.targets.spec import resolve_targets

    if options.batch and not options.use_cache:
        raise InputError("--batch stores the batch's answers in the cache; drop --no-cache", field="--batch")
    started = _utc_now()
    suite = load_suite(suite_path)
    case_set = load_cases(suite)  # bad input fails here, before any network call
    scorers = build_scorers(suite.scorers)
    named = resolve_targets(suite.targets, list(options.model_flags), allow_empty=bool(options.job_ids))
    check_suite(suite, case_set, scorers, targets=None if options.job_ids else named)  # with jobs: below
    out_dir = options.out_dir or default_out_dir(suite, started)
    check_out_dir(out_dir)
    record = asyncio.run(_evaluate(suite, case_set, named, scorers, options, started))
    if offload is not None and len(record.case_set.cases) * len(record.targets) <= OFFLOAD_MAX_ANSWERS:
        return offload.call(_finish_elsewhere, suite, record, out_dir)
    return _finish(suite, record, out_dir)


async def _evaluate(
    suite: Suite,
    case_set: CaseSet,
    named: list[Target],
    scorers: list[Scorer],
    options: RunOptions,
    started: datetime,
) -> RunRecord:
    """Resolve the jobs, call every target, score — one client, one cache and one limit on calls in flight
    (the run's ``Caller``) for the targets, the judge and the Batch API alike."""
    from evalkit.runner.cache import Cache
    from evalkit.runner.calls import Caller
    from evalkit.scorers import build_scorers
    from evalkit.scorers.judge.backend import JudgeBackend
    from evalkit.scorers.run import check_pairwise
    from evalkit.targets.sources import all_targets, fetch_jobs

    provider = _providers(suite, named, options)
    cache = Cache.open(Cache.default_dir()) if options.use_cache else None
    caller = Caller(provider, cache=cache, concurrency=options.concurrency)
    try:
        jobs, targets_by_job = await fetch_jobs(provider, options.job_ids)
        targets = all_targets(named, targets_by_job)
        if options.job_ids:
            _check_targets(suite, targets)
        check_pairwise(scorers, targets)
        case_set, findings = _examine(suite, case_set, jobs, targets_by_job)
        outcomes = await _call_targets(suite, case_set, targets, caller, options, findings)
        judge = JudgeBackend(caller)
        scorers = build_scorers(suite.scorers, judge=judge)
        return await _score(suite, case_set, targets, scorers, outcomes, jobs, findings, judge, started)
    finally:
        if cache is not None:
            cache.close()
        await provider.aclose()


def _providers(suite: Suite | None, named: list[Target], options: RunOptions) -> ProviderRouter:
    """``local:`` models in this process; the OpenAI(-compatible) service only when a target, a job or a
    judge needs it (so a run of local models needs no API key, and a run of remote ones never loads torch)."""
    from evalkit.providers.local.models import is_local
    from evalkit.providers.local.provider import LocalProvider
    from evalkit.providers.router import ProviderRouter

    models = [t.model for t in named] + [j for j in options.job_ids if not is_local(j)]
    if suite is not None:
        models += [str(getattr(c.options, "model", "")) for c in suite.scorers if c.kind == "judge"]
    remote = None
    if any(not is_local(model) for model in models):
        from evalkit.providers.openai import OpenAIProvider

        remote = OpenAIProvider.from_env(
            max_attempts=options.max_attempts,
            timeout_s=options.timeout_s,
            model_wait_s=options.model_wait_s,
            on_model_wait=lambda wait: print(f"evalkit: {wait.describe()}", file=sys.stderr),
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
) -> dict[str, list[Outcome]]:
    from evalkit.runner import RunSettings, run_targets

    settings = RunSettings(
        generation=suite.generation,
        completions=suite.completions,
        completions_by_target=findings.completions_by_target,
    )
    if options.batch and caller.cache is not None:
        await _batch(case_set, targets, caller, settings, options)
    return await run_targets(case_set.cases, targets, caller=caller, settings=settings, progress=options.progress)


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
    from evalkit.records.cases import DataSource, SuiteInfo
    from evalkit.scorers.run import score_run, score_warnings

    scores = await score_run(case_set.cases, outcomes, scorers, targets=targets)
    warnings = findings.warnings + [
        w for t in targets if (w := _error_warning(t.name, outcomes[t.name])) is not None
    ]
    warnings += score_warnings(scores)
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
        scorers=_scorer_infos(suite),
        outcomes=outcomes,
        scores=scores,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=_utc_now().isoformat(timespec="seconds"),
        warnings=warnings,
        jobs=[job.record() for job in jobs],
        training=[record for job in jobs for record in job.training_records()],
        checks=findings.checks,
        judge_usage=judge.usage(),
    )


def list_job_targets(job_ids: Sequence[str]) -> list[tuple[JobInfo, list[Target]]]:
    """``evalkit targets --job``: each job with the targets it resolves to (no model calls, no files)."""
    from evalkit.targets.sources import fetch_jobs

    async def fetch() -> list[tuple[JobInfo, list[Target]]]:
        provider = _providers(None, [], RunOptions(job_ids=tuple(job_ids)))
        try:
            jobs, targets_by_job = await fetch_jobs(provider, job_ids, with_files=False)
        finally:
            await provider.aclose()
        return [(job, targets_by_job[job.id]) for job in jobs]

    return asyncio.run(fetch())


def _error_warning(name: str, outcomes: list[Outcome]) -> str | None:
    """One line for a target some of whose cases failed after every retry."""
    errors = [o.error for o in outcomes if o.error is not None]
    if not errors:
        return None
    return f"target {name}: {len(errors)} of {len(outcomes)} cases failed (first: {errors[0]})"


def _finish_elsewhere(suite: Suite, record: RunRecord, out_dir: Path) -> RunResult:
    """``_finish`` in another process: the result handed back holds everything but the cases, which stay in
    results.json (the caller prints a summary; sending 50,000 answers back would take about a second)."""
    result = _finish(suite, record, out_dir)
    return replace(result, results=replace(result.results, cases=[]))


def _finish(suite: Suite, record: RunRecord, out_dir: Path) -> RunResult:
    """Aggregates, statistics, costs, the gate and the outputs (into ``out_dir``): everything after the
    last model call, which needs no client (and so can be offloaded). Each stage returns its part of the
    ``RunResults``."""
    from evalkit.analysis import analyse
    from evalkit.analysis.costs import with_costs
    from evalkit.analysis.metrics import compute_metrics
    from evalkit.gate import apply_gate, rule_targets
    from evalkit.records.results import run_results
    from evalkit.report.outputs import write_outputs
    from evalkit.scorers import build_scorers

    scorers = build_scorers(suite.scorers)  # aggregating needs no judge backend
    metrics, details = compute_metrics(record.case_set.cases, record.outcomes, record.scores, scorers)
    results = run_results(record, metrics=metrics, details=details)
    names = results.target_names
    pairs = [(t, rule.versus) for rule in suite.gate if rule.versus for t in rule_targets(rule, names)]
    results = analyse(results, pairs=pairs).into(results)
    usage, judge_usage = with_costs(results, suite.prices)
    results = replace(results, usage=usage, judge_usage=judge_usage)
    results = replace(results, gate=apply_gate(suite.gate, results, file=suite.path, base_dir=suite.path.parent))
    write_outputs(results, out_dir)
    return RunResult(results=results, out_dir=out_dir)
