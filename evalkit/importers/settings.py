"""How the eval's model was asked, as the suite's ``generation:`` and each row's ``tools``: the run's
``sampling_params``, else what the output items' samples record, so the next model is asked the same way
and the replayed answers count as made with the suite's settings.

    sampling_params / sample        generation
    temperature                     temperature    (1, OpenAI's default, when a run sampled and neither says)
    top_p, seed                     top_p, seed
    max_completion_tokens           max_tokens     (null: no cap, when a run sampled and neither says)
    reasoning_effort                reasoning_effort (minimal, low, medium or high; others left out, said)
    response_format / text.format   params.response_format
    tools                           each row's tools (Chat Completions' shape)

A sample's value counts only when every sample agrees on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.importers.reading import Where, shown
from evalkit.importers.run_object import RunSpec

__all__ = ["RequestSettings", "request_settings"]

_EFFORTS = ("minimal", "low", "medium", "high")
_FROM_SAMPLES = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "max_tokens": "max_completion_tokens",
}
"""Generation setting → the sample field that records it."""


@dataclass(frozen=True, slots=True)
class RequestSettings:
    """The suite's generation settings and the tools every row is sent with."""

    generation: dict[str, Any]
    """``generation:`` keys to write (empty: evalkit's defaults)."""
    tools: list[dict[str, Any]] | None = None
    """Tools sent with every case, in Chat Completions' shape; None when the run had none."""
    notes: list[str] = field(default_factory=list)
    """What could not be carried over, one line each."""


def request_settings(run: RunSpec | None, samples: Sequence[Mapping[str, Any]]) -> RequestSettings:
    """The settings the eval's model was asked with (see the module docstring); ``InputError`` at the run's
    field when a value is one evalkit cannot send."""
    sampled = run is not None and run.kind != "jsonl"
    params = run.sampling_params if run is not None else {}
    notes: list[str] = []
    generation: dict[str, Any] = {}
    sources: dict[str, Where | None] = {}
    for key, sample_key in _FROM_SAMPLES.items():
        param_key = "max_completion_tokens" if key == "max_tokens" else key
        if params.get(param_key) is not None:
            generation[key], sources[key] = params[param_key], run.params_where.at(param_key) if run else None
        elif (agreed := _agreed(samples, sample_key, notes)) is not None:
            generation[key], sources[key] = agreed, None
    if sampled:
        generation.setdefault("temperature", 1)
        generation.setdefault("max_tokens", None)
    effort = params.get("reasoning_effort")
    if effort in _EFFORTS:
        generation["reasoning_effort"] = effort
    elif effort is not None:
        notes.append(f"reasoning_effort {shown(effort)} left out: evalkit sends {', '.join(_EFFORTS)}")
    response_format = _response_format(params)
    if response_format is not None:
        generation["params"] = {"response_format": response_format}
    _check(generation, sources)
    tools = _tools(params.get("tools"), notes) if run is not None else None
    return RequestSettings(generation=generation, tools=tools, notes=notes)


def _agreed(samples: Sequence[Mapping[str, Any]], key: str, notes: list[str]) -> Any:
    values = {json.dumps(sample[key]): sample[key] for sample in samples if sample.get(key) is not None}
    if len(values) > 1:
        notes.append(
            f"the samples were made with different {key} values ({', '.join(sorted(values))}): not set"
        )
        return None
    return next(iter(values.values()), None)


def _response_format(params: Mapping[str, Any]) -> Any:
    if params.get("response_format") is not None:
        return params["response_format"]
    text = params.get("text")
    wanted = text.get("format") if isinstance(text, dict) else None
    if not isinstance(wanted, dict) or wanted.get("type") != "json_schema":
        return wanted if isinstance(wanted, dict) and wanted.get("type") == "json_object" else None
    schema = {key: value for key, value in wanted.items() if key != "type"}
    return {"type": "json_schema", "json_schema": schema}  # the Responses shape, as Chat Completions takes it


def _tools(tools: Any, notes: list[str]) -> list[dict[str, Any]] | None:
    if not isinstance(tools, list) or not tools:
        return None
    found: list[dict[str, Any]] = []
    for tool in tools:
        if (
            isinstance(tool, dict)
            and tool.get("type") == "function"
            and isinstance(tool.get("function"), dict)
        ):
            found.append(tool)
        elif isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("name"), str):
            function = {key: value for key, value in tool.items() if key != "type"}
            found.append({"type": "function", "function": function})  # a Responses function tool
        else:
            kind = tool.get("type") if isinstance(tool, dict) else None
            notes.append(f"tool {shown(kind)} left out: only function tools are sent")
    return found or None


def _check(generation: dict[str, Any], sources: Mapping[str, Where | None]) -> None:
    from pydantic import ValidationError

    from evalkit.errors import InputError
    from evalkit.suite.model import Generation

    try:
        Generation.model_validate(generation)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else ""
        where = sources.get(key)
        message = f"{shown(generation.get(key))} cannot be sent as generation.{key}: {error['msg']}"
        raise (where.error(message) if where is not None else InputError(f"the samples' {message}")) from None
