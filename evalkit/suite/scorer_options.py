"""The options each built-in scorer takes in a suite file — the scorer part of the suite schema.

A suite lists scorers as ``- exact`` or ``- classify: {labels: [...]}``; the options below are what may
follow the scorer's name. ``name`` renames a scorer so that two of one kind can coexist
(``- regex: {name: has_ticket_id, pattern: ...}``); metrics are reported under that name. ``- grader:``
takes an OpenAI grader object (``evalkit.suite.grader_options``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evalkit.suite.grader_options import GraderOptions, parse_grader
from evalkit.suite.located import located_error
from evalkit.suite.scorer_base import ScorerOptions as ScorerOptions  # noqa: PLC0414 (re-exported)
from evalkit.text import collapse_whitespace, is_punctuation

UNPARSED = "unparsed"
"""What ``classify`` predicts for an output that names no label (a reserved name, never a label)."""

_EDGE_SYMBOLS = "`*_~"
"""Markdown emphasis and code marks stripped from the ends along with punctuation (``**Billing**``)."""


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

    @field_validator("text")
    @classmethod
    def _not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("text is empty, so it would be found in every output")
        return value


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

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is None:
            return None
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for

        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            where = "/".join(str(part) for part in exc.path) or "(top level)"
            raise ValueError(f"not a valid JSON Schema: {exc.message} (at {where})") from None
        return schema


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

    _by_key: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        by_key: dict[str, str] = {}
        for label in self.labels:
            key = self.label_key(label)
            if not key:
                problem = f"label {label!r} is only punctuation or whitespace, which is ignored when matching"
            elif key == self.label_key(UNPARSED):
                problem = f"label {label!r} is reserved: {UNPARSED!r} is what an output naming no label is counted as"
            elif key in by_key:
                why = " when case is ignored (set casefold: false to tell them apart)" if self.casefold else ""
                problem = f"labels {by_key[key]!r} and {label!r} are the same after normalisation{why}"
            else:
                by_key[key] = label
                continue
            raise located_error(("labels",), problem, self.labels)
        self._by_key = by_key
        return self

    def label_key(self, text: str) -> str:
        """``text`` as it is compared with labels: whitespace runs collapsed; surrounding whitespace,
        quotes, punctuation and Markdown marks stripped; case folded unless ``casefold`` is off."""
        text = _strip_edges(collapse_whitespace(text).strip())
        return text.casefold() if self.casefold else text

    def label_of(self, text: str) -> str | None:
        """The label ``text`` is (``Billing.`` → ``billing``), as spelled in ``labels``; None if none."""
        return self._by_key.get(self.label_key(text))

    @property
    def labels_by_key(self) -> dict[str, str]:
        """Each label by its ``label_key``."""
        return dict(self._by_key)


class ToolCallsOptions(ScorerOptions):
    """``tool_calls``: the output's function calls against the reference's (both as ``render_tool_calls``
    writes them): names, and arguments compared as JSON."""

    order: Literal["any", "strict"] = "any"
    """``any``: parallel calls match in any order; ``strict``: the calls must come in the reference's order."""


JUDGE_MODEL_ENDPOINTS = ("chat", "completions", "responses")
"""Endpoints a judge model may be pinned to with an ``@`` suffix (``gpt-4o@chat``)."""


class JudgeOptions(ScorerOptions):
    """``judge``: another model grades each answer against a rubric (pointwise) or against the base's
    answer to the same case (pairwise)."""

    model: str = Field(min_length=1)
    """The judge model's id; its endpoint follows its lineage unless pinned (``gpt-4o@chat``)."""
    rubric: str = Field(min_length=1)
    """What a good answer is, in the suite author's words (trusted: it becomes the judge's instructions)."""
    scale: tuple[int, int] = (1, 5)
    """Pointwise: the lowest and highest integer verdict."""
    pass_mark: float | None = None
    """Pointwise: a case passes when its mean verdict is at least this (default: 3/4 up the scale,
    rounded half up — 4 on 1–5, 8 on 1–10)."""
    mode: Literal["pointwise", "pairwise"] = "pointwise"
    """``pointwise``: a verdict on the scale per answer; ``pairwise``: each target against its base, blind,
    in both orders."""
    repeats: int = Field(default=1, ge=1, le=20)
    """Pointwise: independent verdicts per answer (their spread is reported)."""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """The judge's sampling temperature."""
    max_tokens: int = Field(default=400, ge=16)
    """Most tokens the judge may write per verdict (its reasoning included)."""

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        model, sep, suffix = value.strip().rpartition("@")
        if sep and re.fullmatch(r"[A-Za-z_\-]+", suffix) and suffix not in JUDGE_MODEL_ENDPOINTS:
            allowed = ", ".join(f"@{e}" for e in JUDGE_MODEL_ENDPOINTS)
            raise ValueError(f"unknown endpoint '@{suffix}' (allowed: {allowed})")
        if sep and suffix in JUDGE_MODEL_ENDPOINTS and not model.strip():
            raise ValueError("the model id before the '@' is empty")
        return value.strip()

    @field_validator("scale")
    @classmethod
    def _scale(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low >= high:
            raise ValueError(f"the scale's lowest verdict must be below its highest, got [{low}, {high}]")
        if high - low > 100:
            raise ValueError(f"a scale of more than 101 verdicts is not supported, got [{low}, {high}]")
        return value

    @field_validator("pass_mark")
    @classmethod
    def _on_scale(cls, value: float | None, info: ValidationInfo) -> float | None:
        scale = info.data.get("scale")
        if value is not None and scale is not None and not scale[0] <= value <= scale[1]:
            raise ValueError(f"{value:g} is outside the scale [{scale[0]}, {scale[1]}]")
        return value

    @model_validator(mode="after")
    def _fits_mode(self) -> Self:
        if self.mode == "pairwise":
            pointwise_only = [
                name
                for name, unset in (("scale", (1, 5)), ("pass_mark", None), ("repeats", 1))
                if getattr(self, name) != unset
            ]
            if pointwise_only:
                verb = "applies" if len(pointwise_only) == 1 else "apply"
                raise ValueError(
                    f"{', '.join(pointwise_only)} {verb} only to mode: pointwise (pairwise verdicts are a "
                    "win, a loss or a tie, asked once in each order)"
                )
        return self

    def called_models(self) -> list[str]:
        return [self.model]

    @property
    def effective_pass_mark(self) -> float:
        """The pass mark in use: the given one, else 3/4 up the scale rounded half up."""
        if self.pass_mark is not None:
            return self.pass_mark
        low, high = self.scale
        return float(math.floor(low + 0.75 * (high - low) + 0.5))


def _strip_edges(text: str) -> str:
    """``text`` without the quotes, punctuation, Markdown marks and whitespace around it."""
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_edge(char: str) -> bool:
    return char.isspace() or char in _EDGE_SYMBOLS or is_punctuation(char)


SCORER_OPTIONS: dict[str, type[ScorerOptions]] = {
    "exact": ExactOptions,
    "includes": IncludesOptions,
    "regex": RegexOptions,
    "json": JsonOptions,
    "classify": ClassifyOptions,
    "tool_calls": ToolCallsOptions,
    "judge": JudgeOptions,
    "grader": GraderOptions,
}
"""Every built-in scorer kind and its options, in the order they are listed to users."""


def parse_options(kind: str, options: dict[str, Any]) -> ScorerOptions:
    """The validated options of a ``kind`` scorer (a ``grader``'s by the class of its ``type``)."""
    return parse_grader(options) if kind == "grader" else SCORER_OPTIONS[kind].model_validate(options)


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
        return self.options.metric_name or self.kind
