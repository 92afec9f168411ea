"""What the options of every scorer share: a ``name`` its metrics are reported under, and the models
scoring calls. Apart from ``scorer_options`` so that the grader objects (``grader_options``), which
``scorer_options`` registers, can build on it too."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalkit.records import ERROR_RATE

__all__ = ["RESERVED_NAMES", "ScorerOptions"]

RESERVED_NAMES = frozenset({ERROR_RATE})
"""Metric names evalkit reports itself, which a scorer may not be named."""


class ScorerOptions(BaseModel):
    """Options every scorer accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    """Name the scorer's metrics are reported under (default: the scorer's kind)."""

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        if value in RESERVED_NAMES:
            raise ValueError(f"scorer name {value!r} is reserved for evalkit's own metric")
        return value

    @property
    def metric_name(self) -> str | None:
        """The name the scorer's metrics are reported under, when it is not the scorer's kind."""
        return self.name

    def called_models(self) -> list[str]:
        """The models scoring calls (a judge's model), so the run can reach their service; none by default."""
        return []
