"""A fine-tuning job as OpenAI reports it: the job body, its checkpoints and its events.

Pure functions from a ``JobSpec`` (what a test asked for) to JSON-ready dicts in OpenAI's shapes
(``FineTuningJob``, ``FineTuningJobCheckpoint``, ``FineTuningJobEvent``). Checkpoints and events are
kept newest first, the order OpenAI lists them in. Every id is derived from the job id, so a test sees
the same ids on every run; timestamps are fixed for the same reason.
"""

from __future__ import annotations

import base64
import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .bodies import JsonDict

STATUSES = ("validating_files", "queued", "running", "succeeded", "failed", "cancelled")
"""Every status a fine-tuning job can have."""

FINISHED = ("succeeded", "failed", "cancelled")
"""Statuses of a job that will not change any more."""

ORGANIZATION = "org-fakeopenai"
"""The ``organization_id`` of every fake job."""

ORG_IN_MODEL_IDS = "acme"
"""The organization part of fake fine-tuned model ids (``ft:{base}:acme::{suffix}``)."""

CREATED_AT = 1_720_000_000
"""``created_at`` of every fake job; everything a job does happens at fixed offsets after it."""

DEFAULT_HYPERPARAMETERS: Mapping[str, Any] = {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}
"""What a job reports when the test gives no hyperparameters (resolved values, as a finished job shows)."""

_Event = tuple[str, str, str, JsonDict]  # level, message, type, data


class Auto(enum.Enum):
    """Marks an argument the fake fills in itself."""

    AUTO = "auto"


AUTO: Final = Auto.AUTO
"""Default of ``fine_tuned_model``: ``ft:{model}:acme::{job_id[-8:]}`` when succeeded, else None."""


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """Everything a test says about one job (see ``FakeOpenAI.add_job`` for the defaults)."""

    job_id: str
    """The job id (``ftjob-...``)."""
    model: str
    """The base model (``gpt-4o-mini-2024-07-18``, ``babbage-002``)."""
    status: str
    """One of ``STATUSES``."""
    fine_tuned_model: str | None | Auto
    """The final model id, None, or ``AUTO``."""
    training_file: str | None
    """A file id; None → an id that no file has (as when the training file was deleted)."""
    validation_file: str | None
    """A file id, or None."""
    checkpoint_steps: Sequence[int]
    """Steps that have a checkpoint."""
    checkpoint_metrics: Mapping[int, Mapping[str, float]] | None
    """Metrics per step; steps left out get made-up ones."""
    result_csv: str | None
    """The result file's CSV text, or None for no result file."""
    result_base64: bool
    """Whether the result file holds base64 of the CSV (newer jobs) or the CSV itself (older ones)."""
    metrics_events: bool
    """Whether each checkpoint step also has a ``type="metrics"`` event."""
    error: Mapping[str, Any] | None
    """``{"code", "message", "param"}`` for a failed job; None → a default error when failed."""
    hyperparameters: Mapping[str, Any] | None
    """The job's hyperparameters; None → ``DEFAULT_HYPERPARAMETERS``."""
    method: Mapping[str, Any] | None
    """The job's ``method``; None → supervised with the hyperparameters."""
    trained_tokens: int | None
    """Billable tokens; None → a made-up count for a succeeded job, else null."""


@dataclass(frozen=True)
class ResultFile:
    """The file a job lists in ``result_files``."""

    file_id: str
    """Its id."""
    content: bytes
    """Its bytes, as ``files.content`` returns them."""


@dataclass(frozen=True)
class BuiltJob:
    """A job ready to serve."""

    body: JsonDict
    """The ``FineTuningJob`` as ``GET /v1/fine_tuning/jobs/{id}`` returns it."""
    checkpoints: tuple[JsonDict, ...]
    """Its ``FineTuningJobCheckpoint`` objects, newest (highest step) first."""
    events: tuple[JsonDict, ...]
    """Its ``FineTuningJobEvent`` objects, newest first."""
    result_file: ResultFile | None
    """The result file to store, if the job has one."""

    @property
    def models(self) -> list[str]:
        """Model ids the job produced: every checkpoint, then the final model if there is one."""
        ids = [c["fine_tuned_model_checkpoint"] for c in self.checkpoints]
        final = self.body["fine_tuned_model"]
        return ids + ([final] if final else [])


def build_job(spec: JobSpec) -> BuiltJob:
    """The job, checkpoints, events and result file that ``spec`` describes (ValueError if inconsistent)."""
    _check(spec)
    final = _final_model(spec)
    steps = sorted(spec.checkpoint_steps)
    metrics = {step: _metrics(spec, step) for step in steps}
    stem = final or f"ft:{spec.model}:{ORG_IN_MODEL_IDS}::{spec.job_id[-8:]}"
    checkpoints = [_checkpoint(spec.job_id, f"{stem}:ckpt-step-{step}", metrics[step]) for step in steps]
    result = _result_file(spec)
    body = _job_body(spec, final, [result.file_id] if result else [], total_steps=steps[-1] if steps else 0)
    return BuiltJob(
        body=body,
        checkpoints=tuple(reversed(checkpoints)),
        events=tuple(reversed(_events(spec, final, checkpoints))),
        result_file=result,
    )


def object_id(prefix: str, *parts: object) -> str:
    """A stable OpenAI-looking id: ``prefix`` + 24 characters derived from ``parts``."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"{prefix}{digest[:24]}"


# ── the pieces ────────────────────────────────────────────────────────────────────────────────────


def _check(spec: JobSpec) -> None:
    if spec.status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}; got {spec.status!r}")
    steps = list(spec.checkpoint_steps)
    if len(set(steps)) != len(steps) or any(not isinstance(s, int) or s < 1 for s in steps):
        raise ValueError(f"checkpoint_steps must be distinct positive integers; got {steps}")
    unknown = sorted(set(spec.checkpoint_metrics or {}) - set(steps))
    if unknown:
        raise ValueError(f"checkpoint_metrics has steps {unknown} that are not in checkpoint_steps {steps}")


def _final_model(spec: JobSpec) -> str | None:
    if spec.fine_tuned_model is not AUTO:
        return spec.fine_tuned_model
    if spec.status != "succeeded":
        return None
    return f"ft:{spec.model}:{ORG_IN_MODEL_IDS}::{spec.job_id[-8:]}"


def made_up_metrics(step: int) -> dict[str, float]:
    """Plausible metrics for ``step``: losses fall and accuracies rise as the step grows."""
    train_loss = round(2.0 / (1 + 0.05 * step), 4)
    valid_loss = round(train_loss * 1.1, 4)
    full_valid_loss = round(train_loss * 1.05, 4)
    return {
        "step": float(step),
        "train_loss": train_loss,
        "train_mean_token_accuracy": round(1 - train_loss / 4, 4),
        "valid_loss": valid_loss,
        "valid_mean_token_accuracy": round(1 - valid_loss / 4, 4),
        "full_valid_loss": full_valid_loss,
        "full_valid_mean_token_accuracy": round(1 - full_valid_loss / 4, 4),
    }


def _metrics(spec: JobSpec, step: int) -> dict[str, float]:
    given = (spec.checkpoint_metrics or {}).get(step)
    if given is None:
        return made_up_metrics(step)
    return {"step": float(step), **{name: float(value) for name, value in given.items()}}


def _checkpoint(job_id: str, model: str, metrics: dict[str, float]) -> JsonDict:
    step = int(metrics["step"])
    return {
        "object": "fine_tuning.job.checkpoint",
        "id": object_id("ftckpt_", job_id, step),
        "created_at": CREATED_AT + 60 * step,
        "fine_tuned_model_checkpoint": model,
        "fine_tuning_job_id": job_id,
        "metrics": metrics,
        "step_number": step,
    }


def _result_file(spec: JobSpec) -> ResultFile | None:
    if spec.result_csv is None:
        return None
    csv = spec.result_csv.encode()
    return ResultFile(
        object_id("file-", spec.job_id, "results"), base64.b64encode(csv) if spec.result_base64 else csv
    )


def _job_body(spec: JobSpec, final: str | None, result_files: list[str], *, total_steps: int) -> JsonDict:
    finished = spec.status in FINISHED
    hyperparameters = dict(spec.hyperparameters or DEFAULT_HYPERPARAMETERS)
    method = spec.method or {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}}
    trained_tokens = spec.trained_tokens
    if trained_tokens is None and spec.status == "succeeded":
        trained_tokens = 1_000 * max(total_steps, 1)
    return {
        "object": "fine_tuning.job",
        "id": spec.job_id,
        "model": spec.model,
        "created_at": CREATED_AT,
        "finished_at": CREATED_AT + 60 * total_steps + 600 if finished else None,
        "fine_tuned_model": final,
        "organization_id": ORGANIZATION,
        "result_files": result_files,
        "status": spec.status,
        "validation_file": spec.validation_file,
        "training_file": spec.training_file or object_id("file-", spec.job_id, "deleted-training-file"),
        "hyperparameters": hyperparameters,
        "trained_tokens": trained_tokens,
        "error": _error(spec),
        "integrations": [],
        "seed": 42,
        "estimated_finish": None if finished else CREATED_AT + 86_400,
        "method": dict(method),
        "metadata": None,
    }


def _error(spec: JobSpec) -> JsonDict | None:
    if spec.error is not None:
        error = spec.error
        return {"code": error["code"], "message": error["message"], "param": error.get("param")}
    if spec.status != "failed":
        return None
    return {
        "code": "invalid_training_file",
        "message": "The job failed due to an invalid training file. Expected file to have JSONL format, "
        "where every line is a valid JSON dictionary. Line 1 is not a dictionary.",
        "param": "training_file",
    }


def _events(spec: JobSpec, final: str | None, checkpoints: list[JsonDict]) -> list[JsonDict]:
    """The job's events, oldest first: what OpenAI logs from creation to the outcome."""
    made = _start_events(spec, trained=bool(checkpoints))
    total = checkpoints[-1]["step_number"] if checkpoints else 0
    for checkpoint in checkpoints:
        made += _checkpoint_events(spec, checkpoint, total)
    made += _outcome_events(spec, final)
    return [
        {
            "object": "fine_tuning.job.event",
            "id": object_id("ftevent-", spec.job_id, index),
            "created_at": CREATED_AT + 10 * index,
            "level": level,
            "message": message,
            "type": kind,
            "data": data,
        }
        for index, (level, message, kind, data) in enumerate(made)
    ]


def _start_events(spec: JobSpec, *, trained: bool) -> list[_Event]:
    made: list[_Event] = [
        ("info", f"Created fine-tuning job: {spec.job_id}", "message", {}),
        ("info", f"Validating training file: {spec.training_file or 'deleted'}", "message", {}),
    ]
    if spec.status == "validating_files" or (spec.status == "failed" and not trained):
        return made  # a job that failed before its first checkpoint failed on its files
    made.append(("info", "Files validated, moving job to queued state", "message", {}))
    if spec.status != "queued":
        made.append(("info", "Fine-tuning job started", "message", {}))
    return made


def _checkpoint_events(spec: JobSpec, checkpoint: JsonDict, total: int) -> list[_Event]:
    step = checkpoint["step_number"]
    found: list[_Event] = []
    if spec.metrics_events:
        metrics = {**checkpoint["metrics"], "step": step, "total_steps": total}
        loss = metrics.get("train_loss")
        text = f"Step {step}/{total}" + ("" if loss is None else f": training loss={loss:.2f}")
        found.append(("info", text, "metrics", metrics))
    model = checkpoint["fine_tuned_model_checkpoint"]
    found.append(("info", f"Checkpoint created at step {step} with Snapshot ID: {model}", "message", {}))
    return found


def _outcome_events(spec: JobSpec, final: str | None) -> list[_Event]:
    if spec.status == "succeeded":
        created: list[_Event] = (
            [("info", f"New fine-tuned model created: {final}", "message", {})] if final else []
        )
        return [*created, ("info", "The job has successfully completed", "message", {})]
    if spec.status == "failed":
        error = _error(spec)
        return [("error", error["message"] if error else "The job failed", "message", {})]
    if spec.status == "cancelled":
        return [("info", "The job was cancelled", "message", {})]
    return []
