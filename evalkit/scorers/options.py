"""The options each built-in scorer takes in a suite file — the scorer part of the suite schema.

A suite lists scorers as ``- exact`` or ``- classify: {labels: [...]}``; the options below are what may
follow the scorer's name. ``name`` renames a scorer so that two of one kind can coexist
(``- regex: {name: has_ticket_id, pattern: ...}``); metrics are reported under that name.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ScorerOptions(BaseModel):
    """Options every scorer accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    """Name the scorer's metrics are reported under (default: the scorer's kind)."""


class ExactOptions(ScorerOptions):
    """``exact``: output equals the reference after normalisation."""

    strip: bool = True
    """Ignore leading and trailing whitespace."""
    casefold: bool = False
    """Ignore case."""
    whitespace: bool = False
    """Collapse every run of whitespace to one space."""
    punctuation: bool = False
    """Ignore punctuation characters."""


class IncludesOptions(ScorerOptions):
    """``includes``: output contains the reference (or the given text)."""

    text: str | None = None
    """Text to look for instead of the reference."""
    casefold: bool = False
    """Ignore case."""


class RegexOptions(ScorerOptions):
    """``regex``: output matches a regular expression."""

    pattern: str
    """A Python regular expression, searched for in the output."""
    ignorecase: bool = False
    """Match regardless of case."""
    fullmatch: bool = False
    """The whole output (stripped) must match, not just a part of it."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


class JsonOptions(ScorerOptions):
    """``json``: output parses as JSON (optionally: validates against a schema, equals the reference)."""

    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    """A JSON Schema the parsed output must satisfy."""
    equal: bool = False
    """The parsed output must equal the reference parsed as JSON."""
    extract: bool = True
    """Accept JSON wrapped in a Markdown code fence or surrounded by text (the first object or array)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ClassifyOptions(ScorerOptions):
    """``classify``: output mapped to one of a fixed set of labels; reference is the true label."""

    labels: list[str] = Field(min_length=2)
    """The allowed labels, at least two, no duplicates."""
    match: Literal["exact", "first"] = "first"
    """``exact``: the (normalised) output must be a label; ``first``: the first label mentioned in it."""
    casefold: bool = True
    """Ignore case when matching labels."""

    @field_validator("labels")
    @classmethod
    def _unique(cls, labels: list[str]) -> list[str]:
        seen: set[str] = set()
        for label in labels:
            if not label.strip():
                raise ValueError("labels must not be empty strings")
            if label in seen:
                raise ValueError(f"label {label!r} is listed twice; labels must be unique")
            seen.add(label)
        return labels


SCORER_OPTIONS: dict[str, type[ScorerOptions]] = {
    "exact": ExactOptions,
    "includes": IncludesOptions,
    "regex": RegexOptions,
    "json": JsonOptions,
    "classify": ClassifyOptions,
}
"""Every built-in scorer kind and its options, in the order they are listed to users."""


class ScorerConfig(BaseModel):
    """One entry of a suite's ``scorers:`` list, validated: its kind and its options."""

    model_config = ConfigDict(frozen=True)

    kind: str
    """The built-in scorer kind (a key of ``SCORER_OPTIONS``)."""
    options: ScorerOptions
    """The validated options (an instance of ``SCORER_OPTIONS[kind]``)."""

    @property
    def name(self) -> str:
        """Name the scorer's metrics are reported under."""
        return self.options.name or self.kind
