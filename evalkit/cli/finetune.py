"""The ``evalkit finetune`` command: its arguments and its handler (no heavy imports here).

``evalkit.cli`` adds it with ``add_finetune_command(commands)`` and dispatches ``finetune`` to
``run_finetune(args)``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evalkit.cli.argtypes import positive_float, positive_int
from evalkit.providers.local.models import BUILTINS, DEFAULT_BASE

_EPILOG = """\
examples:
  evalkit finetune suites/demo/train.jsonl --out runs/demo
  evalkit run suites/demo/demo.yaml --job local:runs/demo

The run directory holds Hugging Face Trainer checkpoints (checkpoint-N/ LoRA adapters, trainer_state.json)
and a job record shaped like OpenAI's (job.json, checkpoints.json, results.csv), so `--job local:DIR`
evaluates the base model, every checkpoint and the final model. Running the same command again reuses
the finished run.
"""


def add_finetune_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``finetune`` to the ``evalkit`` subcommands."""
    parser = commands.add_parser(
        "finetune",
        help="fine-tune a local model with LoRA on the CPU (offline), for `run --job local:DIR`",
        description="Fine-tune a local model with LoRA on DATA — the JSONL you would upload to OpenAI (chat "
        'rows, where "weight": 0 marks assistant messages not to learn, or prompt/completion rows) — '
        "saving one checkpoint per epoch into --out.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data", type=Path, metavar="DATA", help="the training file (JSONL)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="the run directory to write")
    parser.add_argument(
        "--base",
        default=DEFAULT_BASE,
        metavar="MODEL",
        help=f"the model to fine-tune: local:NAME ({', '.join(BUILTINS)}) or local:PATH to a Hugging Face "
        f"model directory or .gguf file (default: {DEFAULT_BASE})",
    )
    parser.add_argument(
        "--validation", type=Path, metavar="FILE", help="a validation file, evaluated each epoch"
    )
    parser.add_argument(
        "--epochs", type=positive_int, default=3, metavar="N", help="passes over the data (default: 3)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=4, metavar="N", help="examples per step (default: 4)"
    )
    parser.add_argument(
        "--learning-rate",
        type=positive_float,
        default=1e-3,
        metavar="LR",
        help="peak learning rate (default: 0.001)",
    )
    parser.add_argument(
        "--lora-rank", type=positive_int, default=8, metavar="R", help="LoRA rank (default: 8)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="training seed (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_finetune(args: argparse.Namespace) -> int:
    """Run ``evalkit finetune``; print where the run is and how to evaluate it. Returns 0."""
    from evalkit.lab.finetune import finetune

    out = finetune(
        args.data,
        out=args.out,
        base=args.base,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        lora_rank=args.lora_rank,
        validation=args.validation,
        seed=args.seed,
        progress=not args.quiet,
    )
    print(f"run: {out}/ (evaluate it with: evalkit run SUITE --job local:{out})")
    return 0
