"""``evalkit import openai-eval``: bring an eval from OpenAI's closed Evals platform (``evalkit.importers``).

Only argparse here: ``evalkit --help`` builds this parser, and the import loads what it needs when run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_import_command", "run_import"]

_EPILOG = """\
examples:
  evalkit import openai-eval eval.json --data items.jsonl --run run.json --out suites/triage.yaml
  evalkit import openai-eval eval.json --output-items output_items.json --run run.json --out suites/triage.yaml

It writes the suite, its data (data/NAME.jsonl beside the suite) and, with --output-items, the run's
answers as a saved run (runs/NAME-RUN/results.json) that the suite's target named after the model
replays with no call; then prints OpenAI's own pass rates to compare with evalkit's after a run.
"""


def add_import_command(commands: Any) -> None:
    """Add ``import`` (with its ``openai-eval`` source) to the ``evalkit`` subcommands."""
    command = commands.add_parser(
        "import",
        help="bring an eval made elsewhere into a suite (openai-eval: OpenAI's closed Evals platform)",
        description="Bring an eval made elsewhere into an evalkit suite.",
    )
    sources = command.add_subparsers(dest="source", metavar="SOURCE", required=True)
    openai = sources.add_parser(
        "openai-eval",
        help="an eval of OpenAI's Evals platform, as its API returned it",
        description="Write a suite that runs an OpenAI eval's testing criteria (as `- grader:` scorers) on "
        "its items, and keep a run's answers as a saved run that a target replays.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    openai.add_argument(
        "eval_file", type=Path, metavar="EVAL.json", help="the eval object (GET /v1/evals/{id})"
    )
    openai.add_argument(
        "--data",
        type=Path,
        metavar="ITEMS.jsonl",
        help='its items, one a line ({"item": {...}} or the bare item); optional with --output-items, which '
        "carry their items",
    )
    openai.add_argument(
        "--run",
        type=Path,
        metavar="RUN.json",
        help="a run of the eval (GET /v1/evals/{id}/runs/{run}): its input_messages template builds each "
        "item's conversation, its sampling_params become the suite's generation settings",
    )
    openai.add_argument(
        "--output-items",
        type=Path,
        metavar="OUT.jsonl|OUT.json",
        help="that run's output items (GET /v1/evals/{id}/runs/{run}/output_items: the list, a page, or one a "
        "line): the conversation each item was sent, and the answers, kept as a saved run",
    )
    openai.add_argument(
        "--out", type=Path, metavar="SUITE.yaml", help="the suite to write (default: suites/<eval name>.yaml)"
    )
    openai.add_argument(
        "--data-out", type=Path, metavar="PATH.jsonl", help="the data file to write (default: data/NAME.jsonl "
        "beside the suite)"
    )  # fmt: skip
    openai.add_argument("--force", action="store_true", help="overwrite files that exist")


def run_import(args: argparse.Namespace) -> int:
    """Run ``evalkit import``: print what was written, what was not carried over, and what to run next."""
    from evalkit.importers import EvalImport, import_openai_eval
    from evalkit.text import display_path, one_line

    imported = import_openai_eval(
        EvalImport(
            eval_file=args.eval_file,
            items_file=args.data,
            run_file=args.run,
            output_items_file=args.output_items,
            out=args.out,
            data_out=args.data_out,
            force=args.force,
        )
    )
    for written in imported.written:
        print(f"wrote {display_path(written.path)}: {written.what}")
    for note in imported.notes:
        print(f"evalkit: note: {one_line(note)}", file=sys.stderr)
    if imported.openai_results is not None:
        print(imported.openai_results)
    print(f"next: {imported.next_command}")
    return 0
