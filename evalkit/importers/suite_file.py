"""The suite an import writes, as the mapping its YAML holds, in the order a person reads it: name,
where it came from, data, generation, one ``- grader: {...}`` per criterion, and the replayed run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from evalkit.importers.criteria import Criterion
from evalkit.importers.eval_object import EvalSpec
from evalkit.importers.writing import slug

__all__ = ["Replay", "suite_document", "suite_name"]


@dataclass(frozen=True, slots=True)
class Replay:
    """The saved run the suite replays as a target."""

    target: str
    """The target's name (the model's, made safe)."""
    path: str
    """The saved run's results.json, relative to the suite file."""
    run_id: str
    """OpenAI's run id."""
    model: str | None
    """The model that answered then, if recorded."""


def suite_name(spec: EvalSpec) -> str:
    """The suite's name: the eval's name (else its id), made safe."""
    return slug(spec.name or spec.id, fallback="imported-eval")


def suite_document(
    spec: EvalSpec,
    criteria: Sequence[Criterion],
    *,
    data: str,
    generation: dict[str, Any],
    replay: Replay | None,
) -> dict[str, Any]:
    """The suite file's content."""
    created = f", created {_day(spec.created_at)}" if spec.created_at is not None else ""
    description = f"Imported from OpenAI's Evals platform on {_day(None)}: eval {spec.id}"
    description += f" ({spec.name!r}{created})" if spec.name else created
    if replay is not None:
        model = replay.model or "model not recorded"
        description += f"; target {replay.target} replays its run {replay.run_id} ({model})"
    document: dict[str, Any] = {"name": suite_name(spec), "description": description + ".", "data": data}
    if generation:
        document["generation"] = generation
    document["scorers"] = [{"grader": criterion.grader} for criterion in criteria]
    if replay is not None:
        document["targets"] = {replay.target: f"run:{replay.path}#{replay.target}"}
    return document


def _day(timestamp: int | None) -> str:
    moment = datetime.now(UTC) if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    return moment.date().isoformat()
