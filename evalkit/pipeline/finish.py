"""After the last model call: aggregates, statistics, costs, the gate and the outputs.

It needs no client, so a caller may run it elsewhere (the CLI's sidecar); each stage returns its part of
the ``RunResults``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from evalkit.errors import EvalkitError, write_crash
from evalkit.pipeline.options import RunResult
from evalkit.records.results import RunRecord
from evalkit.suite.model import Suite


def finish_elsewhere(suite: Suite, record: RunRecord, out_dir: Path, *, gated: bool = True) -> RunResult:
    """``finish`` in another process: the result handed back holds everything but the cases, which stay in
    results.json (the caller prints a summary; sending 50,000 answers back would take about a second)."""
    result = finish(suite, record, out_dir, gated=gated)
    return replace(result, results=replace(result.results, cases=[]))


def finish(suite: Suite, record: RunRecord, out_dir: Path, *, gated: bool = True) -> RunResult:
    """Aggregates, statistics, costs, the gate and the outputs (into ``out_dir``): everything after the
    last model call, which needs no client (and so can be offloaded). Each stage returns its part of the
    ``RunResults``. Not ``gated`` (``--no-gate``): the verdict is ``not-gated`` unless the run cannot be
    judged.

    An unexpected exception (a bug) raises ``InternalError`` after writing ``crash.txt`` and a partial
    results.json into ``out_dir``: the answers, marked ``incomplete``, with the verdict ``error``."""
    try:
        return _finish(suite, record, out_dir, gated=gated)
    except EvalkitError:
        raise
    except Exception as exc:
        crash = write_crash(exc, out_dir)
        write_partial(record, out_dir, f"evalkit stopped on an internal error ({crash.summary})")
        raise crash from exc


def write_partial(record: RunRecord, out_dir: Path, why: str) -> None:
    """Best effort: results.json with the answers and no figures, marked incomplete (nothing if even that
    fails: crash.txt says why)."""
    from evalkit.records.findings import GateVerdict
    from evalkit.records.results import run_results
    from evalkit.records.results_json import write_results

    try:
        results = run_results(record, metrics={}, details={})
        gate = GateVerdict("error", errors=[why])
        write_results(out_dir / "results.json", replace(results, incomplete=why, gate=gate))
    except Exception:  # noqa: BLE001, S110 — the crash file is already written; this is only a bonus
        pass


def _finish(suite: Suite, record: RunRecord, out_dir: Path, *, gated: bool) -> RunResult:
    from evalkit.analysis import analyse
    from evalkit.analysis.costs import with_costs
    from evalkit.analysis.metrics import compute_metrics
    from evalkit.gate import ErrorBounds, apply_gate, rule_levels, rule_targets
    from evalkit.records.results import run_results
    from evalkit.report.outputs import write_outputs
    from evalkit.scorers import build_scorers

    scorers = build_scorers(suite.scorers)  # aggregating needs no judge backend
    metrics, details = compute_metrics(record.case_set.cases, record.outcomes, record.scores, scorers)
    results = run_results(record, metrics=metrics, details=details)
    names = results.target_names
    pairs = [(t, rule.versus) for rule in suite.gate if rule.versus for t in rule_targets(rule, names)]
    results = analyse(results, pairs=pairs, alphas=rule_levels(suite.gate, names)).into(results)
    usage, judge_usage = with_costs(results, suite.prices)
    results = replace(results, usage=usage, judge_usage=judge_usage)
    bounds = ErrorBounds(suite.max_error_rate, suite.max_scoring_error_rate)
    gate = apply_gate(
        suite.gate, results, file=suite.path, base_dir=suite.path.parent, bounds=bounds, gated=gated
    )
    results = replace(results, gate=gate)
    write_outputs(results, out_dir)
    return RunResult(results=results, out_dir=out_dir)
