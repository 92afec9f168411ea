"""One evaluation run, stage by stage: suite → cases → targets → runner → scorers → metrics → gate → outputs.

This is the only module that knows the order of the stages; each stage lives in its own module and takes
plain values from the one before. The CLI calls ``run_suite`` and turns its verdict into an exit code.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.records import Outcome, RunRecord, Target
from evalkit.suite.model import Suite


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a suite: the CLI's flags."""

    model_flags: tuple[str, ...] = ()
    """``NAME=ID[@chat|@completions]`` values, added to (or replacing) the suite's targets."""
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
    progress: bool = True
    """Show progress bars on stderr."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a finished run hands back to the CLI."""

    results: dict[str, Any]
    """The results.json content."""
    out_dir: Path
    """Where results.json and the reports were written."""

    @property
    def verdict(self) -> str:
        """``go`` or ``no-go``."""
        return str(self.results["gate"]["verdict"])


def _utc_now() -> datetime:
    return datetime.now(UTC)


def default_out_dir(suite: Suite, started: datetime) -> Path:
    """``reports/<suite name>/<UTC timestamp>/`` under the current directory."""
    return Path("reports") / suite.name / started.strftime("%Y%m%dT%H%M%SZ")


def check_gate_names(suite: Suite, targets: list[Target]) -> None:
    """Refuse, before any call is made, gate rules that name a target or scorer the run won't have."""
    names = [t.name for t in targets]
    scorer_names = [s.name for s in suite.scorers] + ["error_rate"]
    for i, rule in enumerate(suite.gate):
        if rule.target not in names:
            raise InputError(
                f"no target named {rule.target!r} (targets of this run: {', '.join(names)})",
                file=suite.path,
                field=f"gate[{i}].target",
            )
        if rule.metric.split(".", 1)[0] not in scorer_names:
            raise InputError(
                f"metric {rule.metric!r} names no scorer of this suite "
                f"(known: {', '.join(scorer_names)}; aggregates look like classify.macro_f1)",
                file=suite.path,
                field=f"gate[{i}].metric",
            )


def run_suite(suite_path: str | Path, options: RunOptions) -> RunResult:
    """Run every case through every target, score, gate, and write the outputs."""
    from evalkit.data import load_cases
    from evalkit.scorers import build_scorers
    from evalkit.suite import load_suite
    from evalkit.targets.spec import resolve_targets

    started = _utc_now()
    suite = load_suite(suite_path)
    case_set = load_cases(suite)
    targets = resolve_targets(suite.targets, list(options.model_flags))
    scorers = build_scorers(suite.scorers)
    check_gate_names(suite, targets)

    record = asyncio.run(_evaluate(suite, case_set, targets, scorers, options, started))
    return _finish(suite, record, options, started)


async def _evaluate(
    suite: Suite,
    case_set: Any,
    targets: list[Target],
    scorers: list[Any],
    options: RunOptions,
    started: datetime,
) -> RunRecord:
    from evalkit.cache import Cache
    from evalkit.metrics import compute_metrics, score_run
    from evalkit.providers.openai import OpenAIProvider
    from evalkit.runner import RunSettings, run_targets

    provider = OpenAIProvider.from_env(max_attempts=options.max_attempts, timeout_s=options.timeout_s)
    cache = Cache.open(Cache.default_dir()) if options.use_cache else None
    settings = RunSettings(
        generation=suite.generation,
        completions=suite.completions,
        concurrency=options.concurrency,
    )
    try:
        outcomes = await run_targets(
            case_set.cases, targets, provider=provider, settings=settings, cache=cache,
            progress=options.progress,
        )
    finally:
        if cache is not None:
            cache.close()
        await provider.aclose()
    warnings = [w for t in targets if (w := _error_warning(t.name, outcomes[t.name])) is not None]
    scores = await score_run(case_set.cases, outcomes, scorers)
    metrics, details = compute_metrics(case_set.cases, outcomes, scores, scorers)
    return RunRecord(
        suite_name=suite.name,
        suite_description=suite.description,
        suite_file=str(suite.path),
        suite_sha256=suite.sha256,
        case_set=case_set,
        targets=targets,
        generation=suite.generation.model_dump(exclude_none=True),
        completions=suite.completions.model_dump(exclude_none=True),
        outcomes=outcomes,
        scores=scores,
        metrics=metrics,
        details=details,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=_utc_now().isoformat(timespec="seconds"),
        warnings=warnings,
    )


def _error_warning(name: str, outcomes: list[Outcome]) -> str | None:
    """One line for a target some of whose cases failed after every retry."""
    errors = [o.error for o in outcomes if o.error is not None]
    if not errors:
        return None
    return f"target {name}: {len(errors)} of {len(outcomes)} cases failed (first: {errors[0]})"


def _finish(suite: Suite, record: RunRecord, options: RunOptions, started: datetime) -> RunResult:
    from evalkit.gate import apply_gate
    from evalkit.outputs import write_outputs
    from evalkit.results import build_results

    results = build_results(record, {"verdict": "go", "rules": []})
    results["gate"] = apply_gate(suite.gate, results["metrics"])
    out_dir = options.out_dir or default_out_dir(suite, started)
    write_outputs(results, out_dir)
    return RunResult(results=results, out_dir=out_dir)
