"""OpenAI grader objects as scorers: ``- grader: {type: string_check, name: …, …}`` — the part of the suite
schema that takes the objects of OpenAI's closed Evals and of reinforcement fine-tuning as their API
defined them (``Grader*`` and ``EvalGrader*`` in OpenAI's OpenAPI spec), so testing criteria move over as
they are written.

    string_check     input, reference (templates), operation eq | ne | like | ilike
    text_similarity  input, reference, evaluation_metric (SIMILARITY_METRICS), pass_threshold
    score_model      model, input (messages), range, sampling_params, pass_threshold
    label_model      model, input (messages), labels, passing_labels
    python           source (a ``grade(sample, item)`` function), image_tag (accepted, unused), pass_threshold
    multi            graders (a mapping of key → grader, as reinforcement fine-tuning took them; one grader or
                     a list is read too), calculate_output (a formula over the keys)

The object is validated on its ``type`` (``parse_grader``: an unknown type, a missing or unknown key is
one located error), and its templates are parsed (``evalkit.suite.grader_templates``). What needs the
scorers' code — a ``multi`` formula, a ``python`` source, METEOR's data — is checked when the scorer is
built, still before any call.

The base every object shares (``type``, ``name``, the metric-name rule) is ``grader_base``; the objects
that ask a model (score_model, label_model: messages, sampling) are ``grader_models``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import BaseModel, BeforeValidator, Field, SerializeAsAny, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from evalkit.suite.grader_base import GraderOptions, Template, metric_name
from evalkit.suite.grader_models import (
    GraderMessage,
    LabelModelGrader,
    SamplingParams,
    ScoreModelGrader,
    TextPart,
)
from evalkit.suite.located import ERROR_TYPE, PathElem, located_error

__all__ = [
    "EMBEDDING_MODEL",
    "GRADERS",
    "GRADER_TYPES",
    "SIMILARITY_METRICS",
    "GraderMessage",
    "GraderOptions",
    "LabelModelGrader",
    "MultiGrader",
    "PythonGrader",
    "SamplingParams",
    "ScoreModelGrader",
    "SimilarityMetric",
    "StringCheckGrader",
    "TextPart",
    "TextSimilarityGrader",
    "metric_name",
    "parse_grader",
]

SimilarityMetric = Literal[
    "fuzzy_match", "bleu", "gleu", "meteor", "cosine",
    "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l",
]  # fmt: skip
"""``text_similarity``'s ``evaluation_metric``, as OpenAI's API lists them."""
SIMILARITY_METRICS: tuple[str, ...] = get_args(SimilarityMetric)

EMBEDDING_MODEL = "text-embedding-3-large"
"""The model ``cosine`` embeds both texts with (the one OpenAI's docs name)."""

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class StringCheckGrader(GraderOptions):
    """``string_check``: 1 when ``input`` compares as ``operation`` says with ``reference``, else 0."""

    type: Literal["string_check"]
    input: Template
    reference: Template
    operation: Literal["eq", "ne", "like", "ilike"]
    """eq: equal; ne: not equal; like: input contains reference; ilike: contains, ignoring case."""

    def templates(self) -> list[tuple[str, str]]:
        return [("input", self.input), ("reference", self.reference)]


class TextSimilarityGrader(GraderOptions):
    """``text_similarity``: ``input`` against ``reference`` by ``evaluation_metric``, a figure in [0, 1]."""

    type: Literal["text_similarity"]
    input: Template
    reference: Template
    evaluation_metric: SimilarityMetric
    pass_threshold: float | None = Field(default=None, allow_inf_nan=False)

    @property
    def threshold(self) -> float | None:
        return self.pass_threshold

    def templates(self) -> list[tuple[str, str]]:
        return [("input", self.input), ("reference", self.reference)]

    def called_models(self) -> list[str]:
        return [EMBEDDING_MODEL] if self.evaluation_metric == "cosine" else []


class PythonGrader(GraderOptions):
    """``python``: the source's ``grade(sample, item)`` returns the score (run in a separate process)."""

    type: Literal["python"]
    source: str = Field(min_length=1)
    image_tag: str | None = None
    """OpenAI's sandbox image; accepted and unused (the source runs on the local Python)."""
    pass_threshold: float | None = Field(default=None, allow_inf_nan=False)

    @property
    def threshold(self) -> float | None:
        return self.pass_threshold


def _sub_grader(value: Any) -> GraderOptions:
    grader = parse_grader(value, top=False)
    if isinstance(grader, MultiGrader):
        raise located_error(("type",), "a multi grader's graders cannot be multi graders (as in OpenAI's API)", "multi")
    return grader


def _keyed(value: Any) -> Any:
    """``graders`` as a mapping of key → grader: one grader, or a list, is keyed by its names."""
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        value = [value]
    if isinstance(value, list):
        keyed: dict[Any, Any] = {}
        for index, grader in enumerate(value):
            name = grader.get("name") if isinstance(grader, dict) else None
            if not isinstance(name, str) or not metric_name(name):
                raise located_error((index, "name"), "a grader in a list needs a name: the formula reads it by it", name)
            keyed[metric_name(name).replace("-", "_")] = grader
        return keyed
    return value


class MultiGrader(GraderOptions):
    """``multi``: ``calculate_output`` computed from the scores of ``graders`` (by key)."""

    type: Literal["multi"]
    graders: Annotated[
        dict[str, Annotated[SerializeAsAny[GraderOptions], BeforeValidator(_sub_grader)]], BeforeValidator(_keyed)
    ] = Field(min_length=1)
    calculate_output: str = Field(min_length=1)
    """A formula over the graders' keys (``0.7 * correct + 0.3 * fluent``), evaluated without ``eval``."""

    @model_validator(mode="after")
    def _keys(self) -> Self:
        for key in self.graders:
            if not _KEY.match(key):
                raise located_error(
                    ("graders", key),
                    f"key {key!r} cannot be named in calculate_output (letters, digits and _, not starting "
                    "with a digit)",
                    key,
                )
        return self

    def templates(self) -> list[tuple[str, str]]:
        return [(f"graders.{key}.{path}", text) for key, g in self.graders.items() for path, text in g.templates()]

    def called_models(self) -> list[str]:
        return [model for grader in self.graders.values() for model in grader.called_models()]


GRADERS: dict[str, type[GraderOptions]] = {
    "string_check": StringCheckGrader,
    "text_similarity": TextSimilarityGrader,
    "score_model": ScoreModelGrader,
    "label_model": LabelModelGrader,
    "python": PythonGrader,
    "multi": MultiGrader,
}
GRADER_TYPES = tuple(GRADERS)
"""Every grader ``type``, in the order they are listed to users."""


def parse_grader(value: Any, *, top: bool = True) -> GraderOptions:
    """The grader object ``value`` describes, validated by its ``type``; a ``ValidationError`` located at
    the key that is wrong otherwise (a grader inside a ``multi`` needs no ``name``: its key names it)."""
    if isinstance(value, GraderOptions):
        return value
    if not isinstance(value, dict):
        raise located_error((), f"expected a grader object like {{type: string_check, name: ..., ...}}, got {value!r}", value)
    kind = value.get("type")
    if kind not in GRADERS:
        known = ", ".join(GRADER_TYPES)
        problem = "required key missing" if "type" not in value else f"unknown grader type {kind!r}"
        raise located_error(("type",), f"{problem} (known: {known})", kind)
    cls = GRADERS[kind]
    try:
        grader = cls.model_validate(value)
    except ValidationError as exc:
        raise _with_allowed_keys(exc, cls) from None
    if top and grader.name is None:
        raise located_error(("name",), "required key missing: the grader's name (its metrics are named after it)", None)
    return grader


def _with_allowed_keys(exc: ValidationError, cls: type[BaseModel]) -> ValidationError:
    """``exc`` with each unknown key's error listing the keys allowed there (the suite's error wording)."""
    details: list[InitErrorDetails] = []
    for error in exc.errors():
        kind, message = error["type"], error["msg"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(cls, error["loc"][:-1])
            kind, message = ERROR_TYPE, f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
        context = {**error.get("ctx", {}), "message": message}
        details.append(
            InitErrorDetails(
                type=PydanticCustomError(kind, "{message}", context), loc=error["loc"], input=error["input"]
            )
        )
    return ValidationError.from_exception_data(exc.title, details)


def _allowed_keys(cls: type[BaseModel], loc: tuple[PathElem, ...]) -> list[str]:
    current: Any = cls
    for elem in loc:
        if isinstance(elem, int):  # a list's item: _model_in found its model already
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(elem))
        current = _model_in(field.annotation) if field is not None else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    """The model a field holds, directly or as a list's item or an optional value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
