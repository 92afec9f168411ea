"""A suite's ``targets:`` entries: a model to call (``MODEL``, ``MODEL@chat``, a mapping with its own
endpoint and generation settings) or a saved run's target standing in for one (``run:PATH#TARGET``)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from evalkit.suite.located import located_error
from evalkit.suite.settings import Generation, _Strict

__all__ = ["RUN_PREFIX", "TargetSpec"]

RUN_PREFIX = "run:"
"""How a target names a saved run's target instead of a model: ``run:PATH#TARGET``."""
_WORD = re.compile(r"[A-Za-z_\-]+")


class TargetSpec(_Strict):
    """A model named in the suite's ``targets:`` block (``MODEL``, ``MODEL@chat`` or a mapping), or a saved
    run's target standing in for one (``run:PATH#TARGET``, ``{run: PATH#TARGET, allow_changed: true}``:
    ``evalkit.targets.replay``)."""

    model: str = Field(min_length=1)
    """Model id as the service knows it; ``run:PATH#TARGET`` replays TARGET's answers from the saved run
    PATH (an evalkit results.json, relative to the suite file) with no model call."""
    endpoint: Literal["chat", "completions", "responses"] | None = None
    """Override the endpoint that the model's lineage implies."""
    generation: dict[str, Any] | None = None
    """This target's own generation settings, over the suite's (``{temperature: 1, max_tokens: null}``):
    for a model that refuses a setting the others take. Keys as in ``generation:``."""
    allow_changed: bool = False
    """A ``run:`` target only: replay the saved answers even where the saved run asked a case differently or
    was made with other generation settings (a warning says what differs)."""

    @field_validator("generation")
    @classmethod
    def _known_settings(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            unknown = sorted(set(value) - set(Generation.model_fields))
            if unknown:
                allowed = ", ".join(Generation.model_fields)
                raise ValueError(f"unknown generation setting(s) {', '.join(unknown)} (allowed: {allowed})")
        return value

    @property
    def replays(self) -> bool:
        """Whether this names a saved run's target (``run:PATH#TARGET``) rather than a model to call."""
        return self.model.startswith(RUN_PREFIX)

    @model_validator(mode="after")
    def _replay_options(self) -> TargetSpec:
        if self.replays and (self.endpoint is not None or self.generation is not None):
            raise ValueError("a saved run's target is not called: 'endpoint' and 'generation' do not apply")
        if self.allow_changed and not self.replays:
            raise ValueError("'allow_changed' applies only to a saved run's target (run: PATH#TARGET)")
        return self

    @classmethod
    def parse(cls, text: str) -> TargetSpec:
        """``"MODEL"``, ``"MODEL@chat"``, ``"MODEL@completions"`` or ``"MODEL@responses"`` as a spec;
        ValueError if malformed.

        A suffix that is not a word (``claude-3-haiku@20240307``) is part of the model id."""
        text = text.strip()
        model, at, suffix = text.rpartition("@")
        endpoint = suffix if at and suffix in ("chat", "completions", "responses") else None
        if at and endpoint is None and _WORD.fullmatch(suffix):
            raise ValueError(
                f"{text!r}: unknown endpoint '@{suffix}' (allowed: @chat, @completions, @responses)"
            )
        model = model.strip() if endpoint else text
        if not model:
            raise ValueError(f"{text!r}: the model id is missing")
        return cls(model=model, endpoint=endpoint)  # type: ignore[arg-type]

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().startswith(RUN_PREFIX):
            return {"model": value.strip()}  # a path may hold '@': no endpoint suffix to split off
        if isinstance(value, dict) and "run" in value:  # {run: PATH#TARGET, ...}: a saved run's target
            run = value["run"]
            if "model" in value:
                message = "give 'model' (a model to call) or 'run' (a saved run), not both"
                raise located_error(("run",), message, run)
            if not isinstance(run, str) or not run.strip():
                raise located_error(("run",), "expected a saved run's target: PATH/results.json#TARGET", run)
            return {**{k: v for k, v in value.items() if k != "run"}, "model": RUN_PREFIX + run.strip()}
        if isinstance(value, str):
            try:
                return cls.parse(value).model_dump()
            except ValueError as exc:
                raise located_error((), str(exc), value) from None
        return value
