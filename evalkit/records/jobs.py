"""The fine-tuning jobs a run's targets came from: their checkpoints, training curves and training files' checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import ConfigDict

from evalkit.records.values import SCHEMA_CONFIG


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    """Training metrics at one step, with OpenAI's names."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    step: int
    """The training step."""
    job: str | None = None
    """The job the step belongs to."""
    train_loss: float | None = None
    """Loss on the training batch."""
    train_mean_token_accuracy: float | None = None
    """Token accuracy on the training batch."""
    valid_loss: float | None = None
    """Loss on a validation batch."""
    valid_mean_token_accuracy: float | None = None
    """Token accuracy on a validation batch."""
    full_valid_loss: float | None = None
    """Loss on the whole validation set (at the end of an epoch)."""
    full_valid_mean_token_accuracy: float | None = None
    """Token accuracy on the whole validation set."""


@dataclass(frozen=True, slots=True)
class JobCheckpoint:
    """One checkpoint of a job."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    step: int
    """The step it was saved at."""
    model: str
    """Its model id."""


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A fine-tuning job the targets were resolved from."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    id: str
    """The job id (`ftjob-…`, or `local:…` for a local run)."""
    status: str
    """The job's status when the run started."""
    base_model: str
    """The model the job fine-tuned (the `base` target)."""
    fine_tuned_model: str | None = None
    """The final model; null while the job runs."""
    training_file: str | None = None
    """The training file's id."""
    validation_file: str | None = None
    """The validation file's id."""
    hyperparameters: dict[str, Any] | None = None
    """The job's hyperparameters as the service reports them."""
    trained_tokens: int | None = None
    """Billable tokens the job processed."""
    method: dict[str, Any] | None = None
    """The fine-tuning method (`{"type": "supervised", …}`)."""
    checkpoints: list[JobCheckpoint] = field(default_factory=list)
    """Every checkpoint, by step."""


@dataclass(frozen=True, slots=True)
class Overlap:
    """Test cases whose input also appears in a fine-tuning file."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    exact: list[str] = field(default_factory=list)
    """Ids of cases whose input appears verbatim in the file, in case order."""
    near: list[str] = field(default_factory=list)
    """Ids of cases whose input appears after normalisation (case, punctuation, whitespace), in case order."""

    def __len__(self) -> int:
        return len(self.exact) + len(self.near)


@dataclass(frozen=True, slots=True)
class JobChecks:
    """What a job's training files say about the suite."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    parity: list[str] = field(default_factory=list)
    """Warnings: the suite's system prompt / separator / stop differ from the training data's."""
    contamination: dict[str, Overlap] = field(default_factory=dict)
    """Per file (`training`, `validation`), the test cases that also appear in it."""
