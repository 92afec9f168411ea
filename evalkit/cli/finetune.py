"""The ``evalkit finetune`` and ``evalkit merge`` commands: their arguments and handlers (no heavy imports
here).

``evalkit.cli`` adds them with ``add_finetune_command(commands)`` and dispatches ``finetune`` to
``run_finetune(args)`` and ``merge`` to ``run_merge(args)``.
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
the finished run. --merge also writes each checkpoint merged into its base (checkpoint-N/merged/, a
plain model folder for `transformers serve` or vLLM); `evalkit merge DIR` does that for an existing run.
"""

_MERGE_EPILOG = """\
examples:
  evalkit merge runs/demo
  evalkit run suites/demo/demo.yaml --model merged=local:runs/demo/checkpoint-6/merged

Writes checkpoint-N/merged/ (and DIR/merged/ for a final adapter saved in DIR): config.json,
model.safetensors and the tokenizer files, loadable by path with transformers, `transformers serve` or
vLLM. Folders merged already are skipped, so the command can be run again after an interruption.
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
    parser.add_argument(
        "--merge",
        action="store_true",
        help="after training, also write each checkpoint merged into the base (checkpoint-N/merged/)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")

    merge = commands.add_parser(
        "merge",
        help="merge a local run's LoRA checkpoints into full models (checkpoint-N/merged/) for serving",
        description="Merge every LoRA adapter of the run in DIR (a run of `evalkit finetune` or a Hugging Face "
        "Trainer output directory) into its base model, writing checkpoint-N/merged/ beside each adapter.",
        epilog=_MERGE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    merge.add_argument("run", type=Path, metavar="DIR", help="the run directory")


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
    if args.merge:
        from evalkit.lab.merge import merge_run

        merge_run(out)
    print(f"run: {out}/ (evaluate it with: evalkit run SUITE --job local:{out})")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """Run ``evalkit merge``: one line per checkpoint on stderr, the merged folders on stdout. Returns 0."""
    from evalkit.lab.merge import merge_run

    for folder in merge_run(args.run):
        print(folder)
    return 0
