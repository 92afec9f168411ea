"""The suite file's schema: what each key means and what it may hold.

The loader (``evalkit.suite.load``) reads YAML, validates it against ``Suite`` and turns any pydantic
error into one line naming the file, the line and the field. The validators here accept the short forms
a person writes (``- exact``, ``final: gpt-4o-mini@chat``) and raise errors located at the offending item
(``scorers[2]``, ``targets.final``), so the same checks hold for suites built in Python.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from evalkit.errors import InputError
from evalkit.suite.located import located_error, relocated
from evalkit.suite.rules import GateRule, Price
from evalkit.suite.scorer_options import SCORER_OPTIONS, ScorerConfig, parse_options
from evalkit.suite.settings import Completions, Generation, StopSequences, _Strict
from evalkit.suite.targets import RUN_PREFIX, TargetSpec
from evalkit.text import display_path

if TYPE_CHECKING:
    from evalkit.suite.located import PathElem
    from evalkit.suite.yamlpos import YamlDoc

__all__ = [
    "DATA_EXTENSIONS",
    "RUN_PREFIX",
    "Columns",
    "Completions",
    "DataSpec",
    "GateRule",
    "Generation",
    "Price",
    "StopSequences",
    "Suite",
    "TargetSpec",
    "check_data_path",
    "data_format",
    "scorer_entry",
]

DATA_EXTENSIONS: dict[str, Literal["jsonl", "csv", "parquet"]] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}
"""Data file extensions and the format each one is read as."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")


class Columns(_Strict):
    """Which columns of a table (CSV, Parquet, hub dataset) hold what."""

    input: str = Field(min_length=1)
    """The user message (or the prompt)."""
    expected: str = Field(min_length=1)
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
    """Column mapping for tables; required for CSV, Parquet and hub datasets (optional for JSONL, whose
    rows then hold the named fields instead of chat or prompt/completion rows)."""
    expand_turns: bool = False
    """One case per weighted assistant turn of a multi-turn conversation, instead of one per conversation."""

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if (self.path is None) == (self.hf is None):
            raise ValueError("give exactly one of 'path' (a data file) or 'hf' (a dataset)")
        if self.path is not None:
            check_data_path(self.path, columns=self.columns)
        elif self.columns is None:
            raise located_error(
                ("columns",), "required for a dataset: {input: COLUMN, expected: COLUMN}", None
            )
        return self

    @property
    def format(self) -> Literal["jsonl", "csv", "parquet", "hf"] | None:
        """How the data is read: from the path's extension, or ``hf``; None for an unknown extension."""
        return "hf" if self.hf is not None else data_format(self.path or "")


def data_format(path: str) -> Literal["jsonl", "csv", "parquet"] | None:
    """The format a data file is read as, from its extension; None for an extension evalkit cannot read."""
    return DATA_EXTENSIONS.get(PurePosixPath(path).suffix.lower())


def check_data_path(path: str, *, columns: Columns | None, loc: tuple[PathElem, ...] = ("path",)) -> None:
    """Raise (located at ``loc`` or ``columns``) unless ``path`` names a readable kind of data file."""
    if not path.strip():
        raise located_error(loc, "must not be empty", path)
    kind = data_format(path)
    if kind is None:
        allowed = ", ".join(DATA_EXTENSIONS)
        suffix = PurePosixPath(path).suffix or "no extension"
        raise located_error(loc, f"cannot read {suffix} files (allowed: {allowed})", path)
    if kind != "jsonl" and columns is None:
        raise located_error(
            ("columns",) if loc else (),
            f"required for a {kind} file: say which columns hold what, e.g. "
            f"data: {{path: {path}, columns: {{input: question, expected: answer}}}}",
            None,
        )


def scorer_entry(value: Any) -> Any:
    """One ``scorers:`` item (``exact``, ``{exact: {...}}``, ``{kind, options}``) as a ``ScorerConfig``."""
    if isinstance(value, ScorerConfig):
        return value
    kind, options = _split_entry(value)
    if kind not in SCORER_OPTIONS:
        known = ", ".join(SCORER_OPTIONS)
        raise located_error((), f"scorer {kind!r} is unknown (known: {known})", value)
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise located_error((kind,), f"expected a mapping of options, got {options!r}", options)
    try:
        validated = parse_options(kind, options)
    except ValidationError as exc:
        raise relocated(exc, (kind,)) from None
    return ScorerConfig(kind=kind, options=validated)


def _split_entry(value: Any) -> tuple[str, Any]:
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and set(value) <= {"kind", "options"} and "kind" in value:
        return str(value["kind"]), value.get("options")
    if isinstance(value, dict) and len(value) == 1:
        ((kind, options),) = value.items()
        return str(kind), options
    if isinstance(value, dict):
        kinds = ", ".join(map(str, value)) or "none"
        raise located_error((), f"a scorer entry names one scorer, got {len(value)} ({kinds})", value)
    raise located_error(
        (), f"expected a scorer name or a mapping like 'classify: {{labels: [...]}}', got {value!r}", value
    )


class Suite(_Strict):
    """A suite file: the test cases, how to score them, and the bar to pass."""

    name: str
    """Short name; also the folder under ``reports/`` (letters, digits, ``.``, ``_``, ``-``)."""
    description: str = ""
    """One sentence on what the suite checks."""
    data: str | DataSpec | None = None
    """The test cases: a path (relative to the suite file) or a ``DataSpec``."""
    cases: list[dict[str, Any]] | None = Field(default=None, min_length=1)
    """Inline cases, in any of the row shapes a data file may hold."""
    generation: Generation = Field(default_factory=Generation)
    """How every target generates."""
    completions: Completions = Field(default_factory=Completions)
    """How conversations become prompts for completions targets."""
    scorers: list[Annotated[ScorerConfig, BeforeValidator(scorer_entry)]] = Field(min_length=1)
    """How each answer is scored; at least one."""
    gate: list[GateRule] = Field(default_factory=list)
    """Rules that must all hold for a ``go`` verdict (none: always go)."""
    max_error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    """Most share of a target's calls that may fail before the run cannot be judged (exit 2); unset: only a
    target with no successful answer makes the run an error."""
    max_scoring_error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    """Most share of a target's answers a scorer may fail to score (unreadable judge verdicts, …) before
    the run cannot be judged (exit 2); unset: only a scorer that scored none of them does."""
    targets: dict[str, TargetSpec] = Field(default_factory=dict)
    """Models to evaluate by name; ``--model`` adds to or replaces them."""
    prices: dict[str, Price] = Field(default_factory=dict)
    """USD per 1M input/output tokens by model id, overriding evalkit's table; ``ft:<base>`` prices every
    fine-tune (and checkpoint) of that base: ``{gpt-4o-mini: {input: 0.15, output: 0.6}}``."""

    _path: Path = PrivateAttr(default=Path("suite.yaml"))
    _sha256: str = PrivateAttr(default="")
    _doc: YamlDoc | None = PrivateAttr(default=None)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid suite name (start with a letter or digit; then letters, digits, "
                "'.', '_', '-')"
            )
        return value

    @field_validator("data", mode="before")
    @classmethod
    def _data(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return DataSpec.model_validate(value)
        if isinstance(value, str):
            check_data_path(value, columns=None, loc=())
            return value
        if value is None or isinstance(value, DataSpec):
            return value
        raise located_error((), f"expected a file path or a mapping like {{path: ...}}, got {value!r}", value)

    @field_validator("scorers")
    @classmethod
    def _unique_names(cls, scorers: list[ScorerConfig]) -> list[ScorerConfig]:
        first: dict[str, int] = {}
        for index, scorer in enumerate(scorers):
            if scorer.name in first:
                raise located_error(
                    (index,),
                    f"scorers[{first[scorer.name]}] is already named {scorer.name!r}; give one of them its "
                    f"own name, e.g. '- {scorer.kind}: {{name: {scorer.name}_2, ...}}'",
                    scorer.name,
                )
            first[scorer.name] = index
        return scorers

    @field_validator("targets")
    @classmethod
    def _target_names(cls, targets: dict[str, TargetSpec]) -> dict[str, TargetSpec]:
        for name in targets:
            if not _NAME.match(name):
                raise located_error(
                    (name,),
                    f"{name!r} is not a valid target name (letters, digits, '.', '_', '-')",
                    name,
                )
        return targets

    @field_validator("prices")
    @classmethod
    def _price_names(cls, prices: dict[str, Price]) -> dict[str, Price]:
        for model in prices:
            if not model.strip() or model.strip() == "ft:":
                raise located_error((model,), "name a model id (or ft:<base> for its fine-tunes)", model)
        return prices

    @model_validator(mode="after")
    def _one_source(self) -> Suite:
        if self.data is not None and self.cases is not None:
            raise located_error(("cases",), "give 'data' or 'cases', not both", None)
        if self.data is None and self.cases is None:
            raise located_error(
                (), "required key missing: 'data' (a file of test cases) or 'cases' (a list of cases)", None
            )
        return self

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

    def line_of(self, *path: PathElem) -> int | None:
        """1-based line in the suite file of the value at ``path`` (e.g. ``"cases", 3``); None if unknown."""
        return self._doc.line_of(path) if self._doc is not None else None

    def locate(self, error: InputError) -> InputError:
        """``error`` about a key of this suite (its ``field`` a path like ``gate[1].metric``) placed in the
        file: the suite file as the user named it, and the line of that key."""
        if error.line is not None or not error.field:
            return error
        path = [int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", error.field)]
        return type(error)(error.message, file=display_path(self.path), line=self.line_of(*path), field=error.field)
