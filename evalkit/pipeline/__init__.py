"""One evaluation run, stage by stage: suite → cases → targets → runner → scorers → metrics → gate → outputs.

This package is the only place that knows the order of the stages; each stage lives in its own package and
takes plain values from the one before. ``run_suite`` checks the suite before any call, then runs
``evaluate`` (everything up to the last model call: ``pipeline.evaluate``) and ``finish`` (aggregates,
statistics, gate, outputs: ``pipeline.finish``). ``finish`` needs no client, so a caller may hand it
elsewhere (``offload``): the CLI runs it in its sidecar, a forked process that imported the analysis
libraries while the calls were in flight (``evalkit.cli.sidecar``). Library calls run it here. The CLI
turns the verdict into an exit code.
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar

from evalkit.errors import EvalkitError, InputError, write_crash
from evalkit.pipeline.evaluate import (
    Unscored,
    evaluate,
    generation_of,
    list_job_targets,
    scorer_infos,
    utc_now,
)
from evalkit.pipeline.finish import finish, finish_elsewhere, write_partial
from evalkit.pipeline.options import RunOptions, RunResult
from evalkit.records import CaseSet, Target
from evalkit.suite.model import Suite
from evalkit.targets.replay import Replayed

if TYPE_CHECKING:
    from evalkit.scorers.base import Scorer

__all__ = [
    "RunOptions",
    "RunResult",
    "build_checked_scorers",
    "check_cases",
    "check_suite",
    "list_job_targets",
    "named_targets",
    "run_suite",
]

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


def default_out_dir(suite: Suite, started: datetime) -> Path:
    """``reports/<suite name>/<UTC timestamp>/`` under the current directory."""
    return Path("reports") / suite.name / started.strftime("%Y%m%dT%H%M%SZ")


def check_suite(
    suite: Suite, case_set: CaseSet, scorers: Sequence[Scorer], *, targets: Sequence[Target] | None = None
) -> None:
    """What can be known wrong before any call, as ``evalkit validate`` and ``evalkit run`` both check it:
    every gate rule's metric is one the scorers declare, its saved run is readable and comparable, (once
    ``targets`` are known) its targets exist and their own generation settings are valid, and every scorer
    can score every case (``check_cases``). ``InputError`` naming the rule's file, key and the closest valid
    name."""
    from evalkit.gate import check_rules
    from evalkit.records.plain import settings
    from evalkit.records.results import RunInputs
    from evalkit.scorers import declared_metrics

    inputs = RunInputs(
        data_sha256=case_set.sha256,
        generation=settings(suite.generation.model_dump(exclude_none=True)),
        completions=settings(suite.completions.model_dump(exclude_none=True)),
        scorers=scorer_infos(suite),
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
    for target in targets or []:
        generation_of(suite, target)  # its own settings over the suite's are valid
    check_cases(suite, case_set, scorers)


def check_cases(suite: Suite, case_set: CaseSet, scorers: Sequence[Scorer]) -> None:
    """Every scorer can score every case (``Scorer.check_case``: a grader's template names an item field the
    case has); ``DataError`` at the first case that cannot be, naming its file and line, the suite's option
    and its line."""
    from evalkit.errors import DataError
    from evalkit.suite import display_path

    for index, scorer in enumerate(scorers):
        for case in case_set.cases:
            problem = scorer.check_case(case)
            if problem is None:
                continue
            option = f"scorers[{index}]" + (f".{problem.option}" if problem.option else "")
            line = suite.line_of("scorers", index, *_steps(problem.option))
            where = f"{display_path(suite.path)}:{line}" if line is not None else display_path(suite.path)
            file, case_line = case.source, case.line
            if file is None and suite.cases is not None and case.line is not None:  # an inline case
                file, case_line = display_path(suite.path), suite.line_of("cases", case.line - 1)
            raise DataError(
                f"case {case.id}: {problem.message}, which {option} ({where}) reads",
                file=file or case_set.source,
                line=case_line,
                field="item",
            )


def _steps(option: str | None) -> list[str | int]:
    """``grader.input[1].content`` → ``["grader", "input", 1, "content"]``."""
    return [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", option or "")]


def build_checked_scorers(suite: Suite) -> list[Scorer]:
    """The suite's scorers, built to check them (no judge backend): ``SuiteError`` at the option's line in
    the suite file when one cannot work here (a ``multi`` formula, a ``python`` source, METEOR's data)."""
    from evalkit.errors import SuiteError
    from evalkit.scorers import build_scorers

    try:
        return build_scorers(suite.scorers)
    except SuiteError as exc:
        raise suite.locate(exc) from None


def named_targets(
    suite: Suite, case_set: CaseSet, model_flags: Sequence[str], *, allow_empty: bool = False
) -> tuple[list[Target], Replayed]:
    """The suite's targets and the ``--model`` ones, and the answers of those that replay a saved run
    (``evalkit.targets.replay``), checked against this run's cases and settings — as ``evalkit run`` and
    ``evalkit validate`` both check them, before any call. ``InputError`` at the flag, or at the suite's
    key and line."""
    from evalkit.targets.replay import Replays
    from evalkit.targets.spec import resolve_targets

    replays = Replays()
    try:
        targets = resolve_targets(
            suite.targets, model_flags, allow_empty=allow_empty, base_dir=suite.path.parent, replays=replays
        )
        replayed = replays.answers(
            targets, case_set.cases, generation=suite.generation, completions=suite.completions
        )
    except InputError as exc:
        raise (suite.locate(exc) if (exc.field or "").startswith("targets.") else exc) from None
    return targets, replayed


def run_suite(suite_path: str | Path, options: RunOptions, *, offload: Offload | None = None) -> RunResult:
    """Run every case through every target, score, gate, and write the outputs.

    ``offload``: where the analysis after the last call may run (at most ``OFFLOAD_MAX_ANSWERS`` answers);
    by default, here. When it ran elsewhere, the ``RunResult`` handed back holds no cases (they are in its
    results.json)."""
    from evalkit.data import load_cases
    from evalkit.report.outputs import check_out_dir
    from evalkit.suite import load_suite

    if options.batch and not options.use_cache:
        raise InputError("--batch stores the batch's answers in the cache; drop --no-cache", field="--batch")
    from evalkit.targets.served import check_server

    check_server(options.server, options.job_ids)
    started = utc_now()
    suite = load_suite(suite_path)
    if not options.gate:  # --no-gate: no rule is checked (its targets, metric, saved run) nor applied
        suite = suite.model_copy(update={"gate": []})
    case_set = load_cases(suite)  # bad input fails here, before any network call
    scorers = build_checked_scorers(suite)
    named, replayed = named_targets(suite, case_set, options.model_flags, allow_empty=bool(options.job_ids))
    check_suite(suite, case_set, scorers, targets=None if options.job_ids else named)  # with jobs: below
    out_dir = options.out_dir or default_out_dir(suite, started)
    check_out_dir(out_dir)
    try:
        record = asyncio.run(evaluate(suite, case_set, named, scorers, options, started, replayed=replayed))
    except EvalkitError:
        raise
    except Unscored as unscored:  # a bug in scoring, every answer in: they are kept in a partial results.json
        bug = unscored.__cause__ or unscored
        crash = write_crash(bug, out_dir)
        write_partial(unscored.record, out_dir, f"evalkit stopped on an internal error ({crash.summary})")
        raise crash from bug
    except Exception as exc:  # a bug: the answers received are in the cache; say where the details are
        raise write_crash(exc, out_dir) from exc
    if offload is not None and len(record.case_set.cases) * len(record.targets) <= OFFLOAD_MAX_ANSWERS:
        return offload.call(finish_elsewhere, suite, record, out_dir, gated=options.gate)
    return finish(suite, record, out_dir, gated=options.gate)
