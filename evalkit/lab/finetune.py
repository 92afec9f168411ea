"""``evalkit finetune``: LoRA fine-tuning on the CPU, on the JSONL a user would upload to OpenAI.

The data is checked line by line first (``evalkit.lab.examples``), then encoded with the loss only on
the tokens the model should learn (``evalkit.lab.encode``: weighted assistant messages, or legacy
completions). ``transformers.Trainer`` trains a LoRA adapter (all linear layers) with ``peft`` and saves
one ``checkpoint-N/`` adapter per epoch plus ``trainer_state.json``; the job record beside them
(``evalkit.lab.record``) is shaped like OpenAI's, so ``--job local:DIR`` evaluates the run as it would
evaluate an OpenAI job.

A run directory is written once. Calling ``finetune`` again with the same data and settings reuses the
finished run; other data or settings in the same directory are refused. An interrupted run is trained
again from the start.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import InputError
from evalkit.lab.examples import TrainingFile, read_training_file
from evalkit.lab.record import JobFacts, write_record
from evalkit.providers.local.models import DEFAULT_BASE, LocalModel, load_base, resolve_model
from evalkit.targets.local_jobs import JOB_FILE, TRAINING_FILE, VALIDATION_FILE, base_id

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from evalkit.lab.encode import Encoded

RECIPE_VERSION = "1"
"""Bumped when the training recipe changes, so that an old run is not reused for a new recipe."""


@dataclass(frozen=True, slots=True)
class Settings:
    """How to train: the hyperparameters a run records and compares when it is reused."""

    epochs: int = 3
    """Passes over the training data; one checkpoint per epoch."""
    batch_size: int = 4
    """Examples per optimizer step."""
    learning_rate: float = 1e-3
    """Peak learning rate (linear decay to 0)."""
    lora_rank: int = 8
    """LoRA rank ``r``; alpha is twice the rank."""
    max_length: int = 1024
    """Tokens an example is cut to."""
    seed: int = 0
    """Seed of the adapter's initialisation and the data order."""

    def hyperparameters(self) -> dict[str, Any]:
        """OpenAI's hyperparameters of the job record."""
        return {"n_epochs": self.epochs, "batch_size": self.batch_size}

    def recipe(self) -> dict[str, str]:
        """The rest of the recipe, as the job record's ``metadata`` strings."""
        return {
            "learning_rate": repr(self.learning_rate),
            "lora_rank": str(self.lora_rank),
            "lora_alpha": str(2 * self.lora_rank),
            "lora_target_modules": "all-linear",
            "max_length": str(self.max_length),
        }


def finetune(
    data: str | Path,
    *,
    out: str | Path,
    base: str = DEFAULT_BASE,
    epochs: int = 3,
    batch_size: int = 4,
    learning_rate: float = 1e-3,
    lora_rank: int = 8,
    validation: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Fine-tune ``base`` on ``data`` (chat or prompt/completion JSONL) into the run directory ``out``
    and return it. A finished run of the same data and settings in ``out`` is reused as it is.

    Raises ``DataError`` for a bad data file, ``InputError`` for a bad option, an unknown base or an
    ``out`` that holds something else, ``ServiceError`` when torch/transformers/peft are missing."""
    settings = Settings(epochs, batch_size, learning_rate, lora_rank, seed=seed)
    _check_settings(settings)
    model = resolve_model(base, field="--base")
    if model.adapter is not None:
        raise InputError(f"{base!r} is an adapter; fine-tune its base model instead", field="--base")
    training = read_training_file(data)
    held_out = read_training_file(validation) if validation is not None else None
    out = Path(out)
    config = _config_hash(model, training, held_out, settings)
    if _reusable(out, config):
        _say(f"reusing the finished fine-tune in {out} (same data and settings)", progress)
        return out
    _prepare(out)
    facts = JobFacts(
        id=f"ftjob-local-{config[:12]}",
        base=base_id(model.base),
        created_at=int(time.time()),
        hyperparameters=settings.hyperparameters(),
        seed=seed,
        metadata={**settings.recipe(), "evalkit_config": config},
        validation=held_out is not None,
    )
    _copy_data(training, held_out, out)
    write_record(out, facts)
    try:
        _train(model, training, held_out, settings, out, facts, progress=progress)
    except BaseException as exc:
        facts.status = "cancelled" if isinstance(exc, KeyboardInterrupt) else "failed"
        facts.error = f"{type(exc).__name__}: {exc}"
        facts.finished_at = int(time.time())
        write_record(out, facts)
        raise
    return out


def _train(
    model: LocalModel,
    training: TrainingFile,
    held_out: TrainingFile | None,
    settings: Settings,
    out: Path,
    facts: JobFacts,
    *,
    progress: bool,
) -> None:
    from evalkit.lab.trainer import train_lora

    network, tokenizer = load_base(model.base, say=lambda line: _say(line, progress))
    train_set = _encoded(training, tokenizer, settings)
    eval_set = _encoded(held_out, tokenizer, settings) if held_out is not None else None
    history = train_lora(
        network,
        tokenizer,
        train_set,
        eval_set,
        out=out,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        lora_rank=settings.lora_rank,
        seed=settings.seed,
        progress=progress,
    )
    _point_adapters_at(out, facts.base)
    facts.status = "succeeded"
    facts.finished_at = int(time.time())
    facts.trained_tokens = sum(len(e.input_ids) for e in train_set) * settings.epochs
    write_record(out, facts, log_history=history, checkpoints=_saved_checkpoints(out))


def _encoded(file: TrainingFile, tokenizer: PreTrainedTokenizerBase, settings: Settings) -> list[Encoded]:
    """The file's examples as token ids and labels; ``DataError`` naming the line of an example that has
    nothing left to learn once cut to ``max_length``."""
    from evalkit.errors import DataError
    from evalkit.lab.encode import encode
    from evalkit.providers.local.templates import TemplateError

    encoded: list[Encoded] = []
    for number, (example, tools) in enumerate(zip(file.examples, file.tools, strict=True), 1):
        try:
            item = encode(example, tokenizer, tools=tools, max_length=settings.max_length)
        except TemplateError as exc:
            raise InputError(f"{file.path}: {exc}", field="--base") from None
        if item.learned == 0:
            raise DataError(
                f"example {number} has no tokens to learn within the first {settings.max_length} tokens",
                file=str(file.path),
            )
        encoded.append(item)
    return encoded


def _check_settings(settings: Settings) -> None:
    for name in ("epochs", "batch_size", "lora_rank"):
        value = getattr(settings, name)
        if value < 1:
            raise InputError(f"must be at least 1, got {value}", field=f"--{name.replace('_', '-')}")
    if not settings.learning_rate > 0:
        raise InputError(f"must be more than 0, got {settings.learning_rate}", field="--learning-rate")


def _config_hash(
    model: LocalModel, training: TrainingFile, held_out: TrainingFile | None, settings: Settings
) -> str:
    material = {
        "recipe_version": RECIPE_VERSION,
        "base": model.base.key,
        "training": training.sha256,
        "validation": held_out.sha256 if held_out is not None else None,
        "hyperparameters": settings.hyperparameters(),
        "recipe": settings.recipe(),
        "seed": settings.seed,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _reusable(out: Path, config: str) -> bool:
    """``out`` holds a finished run of this configuration; ``InputError`` if it holds another."""
    record = out / JOB_FILE
    if not record.is_file():
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise InputError(
                f"{out} exists and is not an evalkit run: choose another --out, or delete it", field="--out"
            )
        return False
    try:
        job = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # a broken record of our own: train again
    metadata = job.get("metadata") or {}
    if job.get("status") != "succeeded":
        return False
    if metadata.get("evalkit_config") == config:
        return True
    raise InputError(
        f"{out} already holds a fine-tune of other data or settings: choose another --out, or delete it",
        field="--out",
    )


def _prepare(out: Path) -> None:
    """An empty run directory (an unfinished run of our own is cleared)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)


def _copy_data(training: TrainingFile, held_out: TrainingFile | None, out: Path) -> None:
    shutil.copyfile(training.path, out / TRAINING_FILE)
    if held_out is not None:
        shutil.copyfile(held_out.path, out / VALIDATION_FILE)


def _saved_checkpoints(out: Path) -> list[tuple[int, int]]:
    """``(step, created_at)`` of each ``checkpoint-N`` folder the Trainer wrote."""
    found = []
    for folder in out.glob("checkpoint-*"):
        step = folder.name.removeprefix("checkpoint-")
        if step.isdigit() and (folder / "adapter_config.json").is_file():
            found.append((int(step), int(folder.stat().st_mtime)))
    return sorted(found)


def _point_adapters_at(out: Path, base: str) -> None:
    """Make every adapter name its base portably: the Hub id of a built-in (which evalkit maps back to
    the built-in, and other tools can fetch), else the base's path — never evalkit's cache folder."""
    from evalkit.providers.local.models import BUILTINS

    builtin = BUILTINS.get(base.removeprefix("local:"))
    name = builtin.hub_ids[0] if builtin is not None else base.removeprefix("local:")
    for config_path in out.glob("checkpoint-*/adapter_config.json"):
        config = json.loads(config_path.read_text(encoding="utf-8"))
        config["base_model_name_or_path"] = name
        config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")


def _say(text: str, enabled: bool) -> None:
    if enabled:
        print(f"evalkit: {text}", file=sys.stderr)
