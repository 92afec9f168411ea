"""The eval run object, as ``GET /v1/evals/{id}/runs/{run}`` returned it (schema ``EvalRun``): which model
answered, on which API, how each item became the conversation it was sent (``data_source.input_messages``)
and with which sampling parameters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.importers.reading import Where, json_type, read_json, shown
from evalkit.records import Endpoint

__all__ = ["RUN_SOURCES", "RunSpec", "read_run"]

RUN_SOURCES = ("completions", "responses", "jsonl")
"""A run's ``data_source.type``: a model sampled through Chat Completions or Responses, or no sampling
(the items carried their samples)."""

_WHAT = "an eval run object as GET /v1/evals/{id}/runs/{run} returns it"
_INPUT_KINDS = ("template", "item_reference")


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What an eval run says about how its answers were made."""

    id: str
    """The run's id (``evalrun_...``)."""
    eval_id: str | None
    """The eval it belongs to, if said."""
    model: str | None
    """The model that answered (``data_source.model``, else the run's ``model``), if any."""
    created_at: int | None
    """When it was created (Unix seconds), if said."""
    kind: str
    """``data_source.type``: one of ``RUN_SOURCES``."""
    input_messages: dict[str, Any] | None
    """``data_source.input_messages``: a ``template`` or an ``item_reference``; None when not given."""
    input_where: Where
    """Where ``input_messages`` is in the file."""
    sampling_params: dict[str, Any]
    """``data_source.sampling_params`` (empty when not given)."""
    params_where: Where
    """Where ``sampling_params`` is in the file."""

    @property
    def endpoint(self) -> Endpoint:
        """The API the model was called on."""
        return "responses" if self.kind == "responses" else "chat"


def read_run(path: Path) -> RunSpec:
    """The eval run object in ``path``; ``InputError`` naming the file and field when it is not one."""
    document, where = read_json(path, what=_WHAT)
    kind = document.get("object", "eval.run")
    if kind != "eval.run":
        raise where.at("object").error(f"{shown(kind)} is not an eval run ('eval.run'); expected {_WHAT}")
    run_id = document.get("id")
    if not isinstance(run_id, str) or not run_id.strip():
        raise where.at("id").error(f"expected a non-empty string, got {shown(run_id)}")
    source = document.get("data_source")
    at = where.at("data_source")
    if not isinstance(source, dict):
        raise at.error(f"expected an object saying how the run sampled, got {json_type(source)}")
    if source.get("type") not in RUN_SOURCES:
        allowed = ", ".join(RUN_SOURCES)
        raise at.at("type").error(
            f"{shown(source.get('type'))} is not a run data source (allowed: {allowed})"
        )
    params = source.get("sampling_params") or {}
    if not isinstance(params, dict):
        raise at.at("sampling_params").error(f"expected an object, got {json_type(params)}")
    model = source.get("model") or document.get("model")
    eval_id, created = document.get("eval_id"), document.get("created_at")
    return RunSpec(
        id=run_id,
        eval_id=eval_id if isinstance(eval_id, str) else None,
        model=model if isinstance(model, str) and model.strip() else None,
        created_at=created if isinstance(created, int) and not isinstance(created, bool) else None,
        kind=source["type"],
        input_messages=_input_messages(source.get("input_messages"), at.at("input_messages")),
        input_where=at.at("input_messages"),
        sampling_params=params,
        params_where=at.at("sampling_params"),
    )


def _input_messages(value: Any, where: Where) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in _INPUT_KINDS:
        kind = value.get("type") if isinstance(value, dict) else None
        got = shown(kind) if isinstance(value, dict) else json_type(value)
        raise where.at("type").error(
            f"{got} is not a kind of input messages (allowed: {', '.join(_INPUT_KINDS)})"
        )
    if value["type"] == "template":
        template = value.get("template")
        if not isinstance(template, list) or not template:
            raise where.at("template").error(f"expected a list of messages, got {json_type(template)}")
        for index, message in enumerate(template):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                raise (
                    where.at("template")
                    .at(index)
                    .error('expected a message like {"role": ..., "content": ...}')
                )
    else:
        reference = value.get("item_reference")
        if not isinstance(reference, str) or not reference.startswith("item."):
            got = shown(reference)
            raise where.at("item_reference").error(
                f"expected a field of the item like 'item.messages', got {got}"
            )
    return value
