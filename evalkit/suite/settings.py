"""The generation settings sent with every request, and how a conversation becomes a legacy prompt: the
suite's ``generation:`` and ``completions:`` (a target's own ``generation:`` takes the same keys)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

__all__ = ["Completions", "Generation", "StopSequences"]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _non_empty_strings(values: list[str] | None) -> list[str] | None:
    if values is not None and any(value == "" for value in values):
        raise ValueError("stop sequences must not be empty strings")
    return values


StopSequences = Annotated[list[str] | None, BeforeValidator(_one_or_many), AfterValidator(_non_empty_strings)]
"""Stop sequences: one string or a list of them, none empty."""


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
    stop: StopSequences = None
    """Stop sequences for chat targets (completions targets use ``completions.stop``)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Any other request fields, sent as they are (e.g. ``{logprobs: true}``)."""
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    """How hard a reasoning model thinks (``reasoning_effort`` on Chat, ``reasoning.effort`` on Responses);
    unset: the model's default. Not sent to other models."""
    reasoning_allowance: int = Field(default=4096, ge=0)
    """Tokens a reasoning model may think on top of ``max_tokens``, which is the visible answer's budget:
    such a model is sent ``max_tokens + reasoning_allowance`` as its ``max_completion_tokens`` (Chat) or
    ``max_output_tokens`` (Responses), since its thinking counts against that cap."""


class Completions(_Strict):
    """How a conversation becomes a prompt for a legacy completions model."""

    separator: str | None = None
    """Appended after the conversation (e.g. ``"\\n\\n###\\n\\n"``), as in the model's training prompts."""
    stop: StopSequences = None
    """Stop sequences sent with each request and cut from the end of references (e.g. ``[" END"]``)."""
    template: str | None = None
    """Python format string applied to each message, with ``{role}`` and ``{content}``; the results are
    joined. Default: a lone user message is sent as its content; otherwise ``"{role}: {content}\\n"``."""

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
