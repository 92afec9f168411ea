"""The OpenAI grader objects that ask a model — ``score_model`` and ``label_model`` — and what they hold:
the messages of their ``input`` (OpenAI's ``EvalItem``: text, a text part or a list of them; templates in
the text) and ``score_model``'s ``sampling_params``."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from evalkit.suite.grader_base import GraderOptions, Template
from evalkit.suite.located import located_error

__all__ = ["GraderMessage", "LabelModelGrader", "SamplingParams", "ScoreModelGrader", "TextPart"]


def _parts(value: Any) -> Any:
    """A message's content as a list of parts: a string is one ``input_text`` part, a part a list of one."""
    if isinstance(value, str):
        return [{"type": "input_text", "text": value}]
    return [value] if isinstance(value, dict) else value


class TextPart(BaseModel):
    """One text part of a grader message (images and audio cannot be sent by evalkit's graders)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["input_text", "output_text"] = "input_text"
    text: Template


class GraderMessage(BaseModel):
    """One message of a model grader's ``input`` (OpenAI's ``EvalItem``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant", "system", "developer"]
    content: Annotated[tuple[TextPart, ...], BeforeValidator(_parts)]
    """Text (a template), a text part, or a list of text parts."""
    type: Literal["message"] | None = None

    @property
    def text(self) -> str:
        """The parts' templates, one after the other (joined by a newline)."""
        return "\n".join(part.text for part in self.content)


class SamplingParams(BaseModel):
    """How a score_model grader's model samples (unset: the model's defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int | None = None
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_completions_tokens: int | None = Field(default=None, ge=1)
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None


class _ModelGrader(GraderOptions):
    model: str = Field(min_length=1)
    """The grading model's id."""
    input: list[GraderMessage] = Field(min_length=1)
    """The messages sent to it, templates rendered."""

    def templates(self) -> list[tuple[str, str]]:
        return [
            (f"input[{m}].content[{p}].text", part.text)
            for m, message in enumerate(self.input)
            for p, part in enumerate(message.content)
        ]

    def called_models(self) -> list[str]:
        return [self.model]


class ScoreModelGrader(_ModelGrader):
    """``score_model``: the model gives a number in ``range``."""

    type: Literal["score_model"]
    range: tuple[float, float] = (0.0, 1.0)
    sampling_params: SamplingParams | None = None
    pass_threshold: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _range(self) -> Self:
        low, high = self.range
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise located_error(("range",), f"expected [low, high] with low < high, got {list(self.range)}", None)
        return self

    @property
    def threshold(self) -> float | None:
        return self.pass_threshold


class LabelModelGrader(_ModelGrader):
    """``label_model``: the model picks one of ``labels``; 1 when it is one of ``passing_labels``, else 0."""

    type: Literal["label_model"]
    labels: list[Annotated[str, Field(min_length=1)]] = Field(min_length=2)
    passing_labels: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _labels(self) -> Self:
        for index, label in enumerate(self.labels):
            if label in self.labels[:index]:
                raise located_error(("labels", index), f"label {label!r} is listed twice", label)
        for index, label in enumerate(self.passing_labels):
            if label not in self.labels:
                raise located_error(
                    ("passing_labels", index), f"{label!r} is not one of the labels ({', '.join(self.labels)})", label
                )
        return self
