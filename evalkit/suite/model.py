"""The suite file's schema: what each key means and what it may hold.

The loader (``evalkit.suite.load``) reads YAML, validates it against ``Suite`` and turns any pydantic
error into one line naming the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from evalkit.scorers.options import ScorerConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Generation(_Strict):
    """How every target generates: sent with each request."""

    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """Sampling temperature; 0 makes runs repeatable and cacheable."""
    max_tokens: int | None = Field(default=256, gt=0)
    """Upper bound on the answer's length in tokens."""
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    seed: int | None = None
    """Sampling seed, for services that honour it."""
    stop: list[str] | None = None
    """Stop sequences for chat targets (completions targets use ``completions.stop``)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Any other request fields, sent as they are (e.g. ``{logprobs: true}``)."""

    @field_validator("stop", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Completions(_Strict):
    """How a conversation becomes a prompt for a legacy completions model."""

    separator: str | None = None
    """Appended after the conversation (e.g. ``"\\n\\n###\\n\\n"``), as in the model's training prompts."""
    stop: list[str] | None = None
    """Stop sequences sent with each request and cut from the end of references (e.g. ``[" END"]``)."""
    template: str | None = None
    """Python format string applied to each message, with ``{role}`` and ``{content}``; the results are
    joined. Default: a lone user message is sent as its content; otherwise ``"{role}: {content}\\n"``."""

    @field_validator("stop", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("template")
    @classmethod
    def _template_fields(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            value.format(role="user", content="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"template may use only {{role}} and {{content}} ({exc})") from None
        return value


class Columns(_Strict):
    """Which columns of a table (CSV, Parquet, hub dataset) hold what."""

    input: str
    """The user message (or the prompt)."""
    expected: str
    """The reference answer."""
    system: str | None = None
    """An optional system message."""
    id: str | None = None
    """An optional stable case id."""


class DataSpec(_Strict):
    """Where the cases come from, when ``data:`` is more than a path."""

    path: str | None = None
    """A file, relative to the suite file: ``.jsonl`` (chat or prompt/completion), ``.csv``, ``.parquet``."""
    hf: str | None = None
    """A Hugging Face dataset available locally (a name in the local cache, or a directory)."""
    config: str | None = None
    """The hub dataset's configuration name."""
    split: str = "test"
    """The hub dataset's split."""
    columns: Columns | None = None
    """Column mapping for tables; required for CSV, Parquet and hub datasets."""
    expand_turns: bool = False
    """One case per weighted assistant turn of a multi-turn conversation, instead of one per conversation."""

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if (self.path is None) == (self.hf is None):
            raise ValueError("give exactly one of 'path' or 'hf'")
        return self


class TargetSpec(_Strict):
    """A model named in the suite's ``targets:`` block."""

    model: str = Field(min_length=1)
    """Model id as the service knows it."""
    endpoint: Literal["chat", "completions"] | None = None
    """Override the endpoint that the model's lineage implies."""


class GateRule(_Strict):
    """One rule of the go/no-go gate: a bound on a target's metric."""

    target: str
    """The target's name (``final``, ``base``, ``step-30``, or a ``--model`` name)."""
    metric: str
    """A metric name: ``<scorer>`` (mean score) or ``<scorer>.<aggregate>`` (``classify.macro_f1``)."""
    min: float | None = None
    """The metric must be at least this."""
    max: float | None = None
    """The metric must be at most this."""

    @model_validator(mode="after")
    def _has_bound(self) -> GateRule:
        if self.min is None and self.max is None:
            raise ValueError("a gate rule needs 'min' or 'max'")
        return self


class Suite(_Strict):
    """A suite file: the test cases, how to score them, and the bar to pass."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
    """Short name; also the folder under ``reports/`` (letters, digits, ``.``, ``_``, ``-``)."""
    description: str = ""
    """One sentence on what the suite checks."""
    data: str | DataSpec | None = None
    """The test cases: a path (relative to the suite file) or a ``DataSpec``."""
    cases: list[dict[str, Any]] | None = None
    """Inline cases, in any of the row shapes a data file may hold."""
    generation: Generation = Field(default_factory=Generation)
    completions: Completions = Field(default_factory=Completions)
    scorers: list[ScorerConfig] = Field(min_length=1)
    """How each answer is scored; at least one."""
    gate: list[GateRule] = Field(default_factory=list)
    """Rules that must all hold for a ``go`` verdict (none: always go)."""
    targets: dict[str, TargetSpec] = Field(default_factory=dict)
    """Models to evaluate by name; ``--model`` adds to or replaces them."""

    _path: Path = PrivateAttr(default=Path("suite.yaml"))
    _sha256: str = PrivateAttr(default="")

    @property
    def path(self) -> Path:
        """The suite file."""
        return self._path

    @property
    def sha256(self) -> str:
        """Hash of the suite file's bytes."""
        return self._sha256

    @property
    def data_spec(self) -> DataSpec | None:
        """``data`` as a ``DataSpec`` (a bare path becomes ``DataSpec(path=...)``)."""
        return DataSpec(path=self.data) if isinstance(self.data, str) else self.data
