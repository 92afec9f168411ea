"""The ``evalkit`` command: thin wrappers around the stages. Exit codes: 0 go, 1 no-go, 2 error."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit._version import __version__
from evalkit.cli.argtypes import non_negative_float, positive_float, positive_int
from evalkit.cli.plan import add_plan_command, run_plan
from evalkit.errors import EvalkitError, InputError, InternalError, write_crash
from evalkit.text import one_line

if TYPE_CHECKING:
    from evalkit.records.results import RunResults

EXIT_GO, EXIT_NO_GO, EXIT_ERROR = 0, 1, 2

_DESCRIPTION = """\
Decide whether a (fine-tuned) model is ready to ship: run a suite of test conversations through every
target, score the answers, apply the suite's gate and write results.json, report.html, junit.xml and
summary.md. The exit code is the verdict: 0 go, 1 no-go, 2 error (bad input, unreachable service).

The OpenAI side is configured as the openai SDK reads it: OPENAI_API_KEY, OPENAI_BASE_URL (any
OpenAI-compatible server), OPENAI_ORG_ID; Azure OpenAI through AZURE_OPENAI_ENDPOINT,
AZURE_OPENAI_API_KEY and OPENAI_API_VERSION. Cached responses live in $EVALKIT_CACHE_DIR.
"""

_RUN_EPILOG = """\
examples:
  evalkit run suites/ticket-triage.yaml --model base=gpt-4o-mini --model ft=ft:gpt-4o-mini:acme::abc123
  evalkit run suites/legacy.yaml --model old=ft:davinci-002:acme::xyz --out reports/legacy-check
  evalkit run suites/triage.yaml --model local=my-model@chat   # an OpenAI-compatible server's model
  evalkit run suites/triage.yaml --model prod=run:reports/triage/old/results.json#final --model new=gpt-5-mini
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evalkit", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="run a suite against its targets and decide go / no-go",
        description="Run every case of SUITE through every target, score, gate, and write the outputs.",
        epilog=_RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("suite", metavar="SUITE", help="the suite file (YAML)")
    run.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=ID[@chat|@completions|@responses]",
        help="a target to evaluate (repeatable); the endpoint follows the model's lineage unless given. "
        "The name 'base' marks the reference model. NAME=run:PATH/results.json#TARGET replays TARGET's "
        "answers from a saved run with no model call (append ?allow_changed to accept other generation "
        "settings or changed inputs)",
    )
    run.add_argument(
        "--job",
        action="append",
        default=[],
        metavar="ID",
        help="a fine-tuning job (repeatable): evaluates its base model as 'base', every checkpoint as "
        "'step-N' and its final model as 'final', each on the endpoint it serves",
    )
    run.add_argument(
        "--server",
        metavar="URL",
        help="with --job local:DIR: evaluate the run's base, checkpoints and final model on this "
        "OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1, vLLM serving the adapters as LoRA modules: "
        "see `evalkit targets --job local:DIR --serve vllm`) instead of in this process; the run's other "
        "non-local models (a judge too) are called there as well",
    )
    run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: reports/<suite name>/<UTC timestamp>/)",
    )
    run.add_argument(
        "--concurrency",
        type=positive_int,
        default=8,
        metavar="N",
        help="requests in flight at once, across all targets (default: 8)",
    )
    run.add_argument("--no-cache", action="store_true", help="neither read nor write cached responses")
    run.add_argument(
        "--max-attempts",
        type=positive_int,
        default=6,
        metavar="N",
        help="attempts per request before the case is recorded as an error; 429 (honouring "
        "Retry-After), 5xx, timeouts and dropped connections are retried (default: 6)",
    )
    run.add_argument(
        "--timeout",
        type=positive_float,
        default=60.0,
        metavar="SECONDS",
        help="timeout of one attempt (default: 60)",
    )
    run.add_argument(
        "--wait-for-model",
        type=non_negative_float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for a fine-tune that answers 'model not found' while it loads after "
        "the job finished (default: 300; 0 fails at once)",
    )
    run.add_argument(
        "--batch",
        action="store_true",
        help="send the OpenAI targets' requests through the Batch API (half price, answers within 24 h); "
        "an interrupted run resumes polling instead of resubmitting",
    )
    run.add_argument(
        "--no-gate",
        action="store_true",
        help="evaluate without the suite's gate: no rule is checked or applied, the verdict is 'not gated' "
        "(exit 0, or 2 when the run cannot be judged)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")

    validate = commands.add_parser(
        "validate",
        help="check a suite and its data without calling any model",
        description="Check SUITE and its data; print the case count, label distribution and problems.",
    )
    validate.add_argument("suite", metavar="SUITE", help="the suite file (YAML)")

    targets = commands.add_parser(
        "targets",
        help="list the targets a fine-tuning job resolves to, with their endpoints and losses",
        description="Print each target of the job(s) — name, model id, endpoint, step, train and valid "
        "loss at that step — without calling any model.",
    )
    targets.add_argument("--job", action="append", required=True, metavar="ID", help="a fine-tuning job id")
    targets.add_argument(
        "--serve",
        choices=["vllm"],
        help="print only the command that serves a local run (--job local:DIR) for `evalkit run --server`",
    )

    gate = commands.add_parser(
        "gate",
        help="re-apply the gate to a results.json (no model calls)",
        description="Re-apply the gate rules stored in RESULTS (or those of --suite) with no model calls.",
    )
    gate.add_argument("results", type=Path, metavar="RESULTS", help="a results.json")
    gate.add_argument("--suite", type=Path, metavar="SUITE", help="take the gate rules from this suite")

    compare = commands.add_parser(
        "compare",
        help="pair two runs by case id: deltas with CIs and p-values, flips, regressed cases",
        description="Compare run B (the candidate) with run A (the baseline), paired by case id, for "
        "every target they share. Exits 1 when a metric got significantly worse, else 0.",
    )
    compare.add_argument("baseline", type=Path, metavar="A", help="the baseline run's results.json")
    compare.add_argument("candidate", type=Path, metavar="B", help="the new run's results.json")

    report = commands.add_parser(
        "report",
        help="re-render report.html, junit.xml and summary.md from a results.json (no model calls)",
        description="Re-render the reports beside RESULTS (or into --out) with no model calls.",
    )
    report.add_argument("results", type=Path, metavar="RESULTS", help="a results.json")
    report.add_argument("--out", type=Path, metavar="DIR", help="folder to write into (default: beside it)")

    from evalkit.cli.finetune import add_finetune_command
    from evalkit.cli.import_eval import add_import_command

    add_finetune_command(commands)
    add_import_command(commands)
    add_plan_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evalkit`` console script."""
    args = build_parser().parse_args(argv)
    handler = {
        "run": _run,
        "validate": _validate,
        "targets": _targets,
        "gate": _gate,
        "compare": _compare,
        "report": _report,
        "finetune": _finetune,
        "merge": _merge,
        "import": _import,
        "plan": run_plan,
    }[args.command]
    try:
        return handler(args)
    except EvalkitError as error:
        print(f"evalkit: error: {one_line(error)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("evalkit: interrupted", file=sys.stderr)
        return 130
    except InternalError as crash:
        print(f"evalkit: internal error: {one_line(crash)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 — a bug outside a run's stages: the last line of defence
        print(f"evalkit: internal error: {one_line(write_crash(exc, None))}", file=sys.stderr)
        return EXIT_ERROR


def _exit_code(results: RunResults) -> int:
    """0 go (or not gated: ``--no-gate``), 1 no-go; 2 when the run cannot be judged (each reason on stderr,
    one line each)."""
    for error in results.gate.errors:
        print(f"evalkit: error: {one_line(error)}", file=sys.stderr)
    if results.gate.verdict == "error":
        return EXIT_ERROR
    return EXIT_GO if results.gate.verdict in ("go", "not-gated") else EXIT_NO_GO


def _run(args: argparse.Namespace) -> int:
    from evalkit.pipeline import RunOptions, run_suite
    from evalkit.report.console import print_summary

    options = RunOptions(
        model_flags=tuple(args.model),
        job_ids=tuple(args.job),
        server=args.server,
        out_dir=args.out,
        concurrency=args.concurrency,
        use_cache=not args.no_cache,
        max_attempts=args.max_attempts,
        timeout_s=args.timeout,
        model_wait_s=args.wait_for_model,
        batch=args.batch,
        progress=not args.quiet,
        gate=not args.no_gate,
    )
    from evalkit.cli.sidecar import Sidecar

    # A run builds millions of small records that live to its end, and few reference cycles: collecting
    # cycles less often saves about a third of a large run's time (10,000 cases × 5 targets: 6.2 s → 4.2 s).
    gc.set_threshold(50_000, 20, 100)
    # Forked first, before any client, thread or event loop exists: the analysis libraries load on the other
    # core while the calls run, and the analysis runs there once they are done.
    with Sidecar.start() as sidecar:
        result = run_suite(args.suite, options, offload=sidecar)
    for warning in result.results.warnings:
        print(f"evalkit: warning: {one_line(warning)}", file=sys.stderr)
    print_summary(result.results)
    print(f"outputs: {result.out_dir}/ (results.json, report.html, junit.xml, summary.md)")
    return _exit_code(result.results)


def _finetune(args: argparse.Namespace) -> int:
    from evalkit.cli.finetune import run_finetune

    return run_finetune(args)


def _merge(args: argparse.Namespace) -> int:
    from evalkit.cli.finetune import run_merge

    return run_merge(args)


def _import(args: argparse.Namespace) -> int:
    from evalkit.cli.import_eval import run_import

    return run_import(args)


def _validate(args: argparse.Namespace) -> int:
    from evalkit.cli.validate import describe_suite

    print(describe_suite(args.suite))
    return EXIT_GO


def _targets(args: argparse.Namespace) -> int:
    from evalkit.pipeline import list_job_targets
    from evalkit.report.console import print_job_targets

    if args.serve is not None:
        from evalkit.targets.served import local_runs_only, vllm_command

        local_runs_only(args.job, flag=f"--serve {args.serve}", field="--serve")
    for job, targets in list_job_targets(args.job):
        if args.serve is not None:
            print(vllm_command(targets))
        else:
            print_job_targets(job, targets)
    return EXIT_GO


def _gate(args: argparse.Namespace) -> int:
    from evalkit.gate import ErrorBounds, apply_gate, bounds_of, rules_from_results
    from evalkit.records.results_json import read_results
    from evalkit.report.console import print_summary

    results = read_results(args.results)
    if args.suite is not None:
        from evalkit.suite import load_suite

        suite = load_suite(args.suite)
        rules, where, base_dir = suite.gate, args.suite, suite.path.parent
        bounds = ErrorBounds(suite.max_error_rate, suite.max_scoring_error_rate)
    else:
        rules, where, base_dir = rules_from_results(results.gate, file=args.results), args.results, None
        bounds = bounds_of(results.gate)
    if results.incomplete is not None:
        raise InputError(f"a partial run cannot be gated: {results.incomplete}", file=args.results)
    gated = args.suite is not None or results.gate.verdict != "not-gated"  # a --no-gate run stays ungated
    gate = apply_gate(rules, results, file=where, base_dir=base_dir, bounds=bounds, gated=gated)
    results = replace(results, gate=gate)
    print_summary(results)
    return _exit_code(results)


def _compare(args: argparse.Namespace) -> int:
    from evalkit.analysis.runs import compare_results, regressions
    from evalkit.records.results_json import read_results
    from evalkit.report.comparison import render_comparison

    comparison = compare_results(
        read_results(args.baseline), read_results(args.candidate), a_file=args.baseline, b_file=args.candidate
    )
    print(render_comparison(comparison))
    return EXIT_NO_GO if regressions(comparison) else EXIT_GO


def _report(args: argparse.Namespace) -> int:
    from evalkit.records.results_json import read_results
    from evalkit.report.outputs import write_reports

    results = read_results(args.results)
    out_dir = args.out or (args.results if args.results.is_dir() else args.results.parent)
    write_reports(results, out_dir)
    print(f"reports: {out_dir}/ (report.html, junit.xml, summary.md)")
    return _exit_code(results)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
