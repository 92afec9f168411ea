"""A local fine-tune's job record, shaped like OpenAI's, beside its Hugging Face Trainer output.

A run directory holds, besides ``checkpoint-N/`` and ``trainer_state.json``:

- ``job.json`` — a FineTuningJob object (``id``, ``status``, ``model``, ``fine_tuned_model``,
  ``hyperparameters``, ``result_files``, ``training_file``, ``method``, …);
- ``checkpoints.json`` — the page ``checkpoints.list`` would return: FineTuningJobCheckpoint objects
  (``fine_tuned_model_checkpoint``, ``step_number``, ``metrics``), newest first;
- ``results.csv`` — the result file: ``step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy``
  plus ``full_valid_loss,full_valid_mean_token_accuracy`` (the validation file, evaluated each epoch);
- ``training.jsonl`` (and ``validation.jsonl``) — the data, as the job's files.

Model ids in the record are ``local:`` + a path relative to the run directory (``local:checkpoint-12``),
so a run can be moved or cloned; ``evalkit.targets.local_jobs`` reads them back as absolute ids. File
ids are file names in the run directory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.targets.local_jobs import (
    CHECKPOINTS_FILE,
    JOB_FILE,
    RESULT_FILE,
    TRAINING_FILE,
    VALIDATION_FILE,
    history_metrics,
)
from evalkit.targets.training import TrainingStep

RESULT_COLUMNS = (
    "step",
    "train_loss",
    "train_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
    "full_valid_loss",
    "full_valid_mean_token_accuracy",
)
"""The result file's header: OpenAI's five columns, then the full validation set's."""
_CSV_NAMES = {"train_accuracy": "train_mean_token_accuracy"}


@dataclass(slots=True)
class JobFacts:
    """What a job record says about a run, apart from its metrics."""

    id: str
    """``ftjob-local-…``."""
    base: str
    """The base model's local id (``local:smollm2-135m-instruct``)."""
    created_at: int
    """Unix time the run started."""
    hyperparameters: dict[str, Any]
    """OpenAI's: ``n_epochs`` and ``batch_size`` (the rest of the recipe goes in ``metadata``)."""
    seed: int
    """The training seed."""
    metadata: dict[str, str] = field(default_factory=dict)
    """Strings: the recipe beyond OpenAI's hyperparameters (``learning_rate``, ``lora_rank``, …) and
    ``evalkit_config``, the hash a re-run compares to reuse the run."""
    status: str = "running"
    """``running``, ``succeeded``, ``failed`` or ``cancelled``."""
    finished_at: int | None = None
    """Unix time the run ended."""
    trained_tokens: int | None = None
    """Tokens seen in training (file tokens × epochs)."""
    error: str | None = None
    """Why the run failed."""
    validation: bool = False
    """The run has a validation file."""


def relative_id(name: str) -> str:
    """The record's id of a model in the run directory: ``local:`` + its relative path."""
    return f"local:{name}"


def job_object(facts: JobFacts, *, final: str | None) -> dict[str, Any]:
    """A FineTuningJob object; ``final`` is the directory name of the final model, if there is one."""
    error = None
    if facts.error is not None:
        error = {"code": "local_training_error", "message": facts.error, "param": None}
    return {
        "id": facts.id,
        "object": "fine_tuning.job",
        "created_at": facts.created_at,
        "finished_at": facts.finished_at,
        "model": facts.base,
        "fine_tuned_model": relative_id(final) if final is not None else None,
        "organization_id": "local",
        "status": facts.status,
        "hyperparameters": facts.hyperparameters,
        "method": {"type": "supervised", "supervised": {"hyperparameters": facts.hyperparameters}},
        "training_file": TRAINING_FILE,
        "validation_file": VALIDATION_FILE if facts.validation else None,
        "result_files": [RESULT_FILE] if facts.status == "succeeded" else [],
        "trained_tokens": facts.trained_tokens,
        "error": error,
        "seed": facts.seed,
        "estimated_finish": None,
        "integrations": [],
        "metadata": facts.metadata or None,
    }


def checkpoints_page(
    job_id: str, steps: Sequence[tuple[int, int]], training: Sequence[TrainingStep]
) -> dict[str, Any]:
    """The checkpoint list page for checkpoints given as ``(step, created_at)``, newest first."""
    by_step = {record["step"]: record for record in training}
    data = [
        {
            "id": f"ftckpt-{job_id.removeprefix('ftjob-')}-{step}",
            "object": "fine_tuning.job.checkpoint",
            "created_at": created_at,
            "fine_tuned_model_checkpoint": relative_id(f"checkpoint-{step}"),
            "fine_tuning_job_id": job_id,
            "step_number": step,
            "metrics": {
                "step": float(step),
                **{k: v for k, v in by_step.get(step, {}).items() if k != "step" and v is not None},
            },
        }
        for step, created_at in sorted(steps, reverse=True)
    ]
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def result_csv(training: Sequence[TrainingStep]) -> str:
    """The result file's text: one row per step, empty cells where a metric is unknown."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for record in training:
        writer.writerow([_cell(record.get(_CSV_NAMES.get(column, column))) for column in RESULT_COLUMNS])
    return buffer.getvalue()


def write_record(
    out: Path,
    facts: JobFacts,
    *,
    log_history: Sequence[Mapping[str, Any]] = (),
    checkpoints: Sequence[tuple[int, int]] = (),
) -> None:
    """Write ``job.json`` and, once the run has succeeded, ``checkpoints.json`` and ``results.csv``.

    ``checkpoints``: ``(step, created_at)`` of each saved checkpoint; the last one is the final model."""
    if facts.status == "succeeded":
        training = history_metrics(log_history)
        _write(
            out / CHECKPOINTS_FILE, json.dumps(checkpoints_page(facts.id, checkpoints, training), indent=2)
        )
        _write(out / RESULT_FILE, result_csv(training))
    final = f"checkpoint-{max(checkpoints)[0]}" if facts.status == "succeeded" and checkpoints else None
    _write(out / JOB_FILE, json.dumps(job_object(facts, final=final), indent=2))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


def _write(path: Path, text: str) -> None:
    """Replace ``path`` in one step, so a reader never sees half a file."""
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(text, encoding="utf-8")
    scratch.replace(path)
