"""Each target's own generation settings and request shape, said once and recorded on it.

A target's ``generation:`` in the suite's ``targets:`` block goes over the suite's settings
(``target_generation``). Its request shape (``evalkit.providers.shapes``: a reasoning model takes
``max_completion_tokens`` and no temperature but 1, the Responses API takes no ``stop``, …) may change
what is sent: ``with_shapes`` records those changes on the target (``Target.adjusted``) and returns one
line per target that has some, for stderr.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from pydantic import ValidationError

from evalkit.errors import InputError
from evalkit.providers.shapes import shape
from evalkit.records import Target
from evalkit.suite.model import Generation

__all__ = ["moved_note", "target_generation", "with_shapes"]


def target_generation(generation: Generation, target: Target) -> Generation:
    """The suite's ``generation`` with ``target``'s own settings over it; ``InputError`` at
    ``targets.NAME.generation`` when they do not make valid settings."""
    if not target.generation:
        return generation
    try:
        return Generation.model_validate({**generation.model_dump(), **target.generation})
    except ValidationError as exc:
        problem = exc.errors()[0]
        key = ".".join(str(part) for part in problem["loc"])
        raise InputError(problem["msg"], field=f"targets.{target.name}.generation.{key}") from None


def with_shapes(
    targets: Sequence[Target], generation: Generation, own: Mapping[str, Generation]
) -> tuple[list[Target], list[str]]:
    """The targets with what their request shape changes recorded (``adjusted``), and one line per target
    whose requests differ from the generation settings."""
    shaped: list[Target] = []
    lines: list[str] = []
    for target in targets:
        adjusted = shape(target.model, target.endpoint, own.get(target.name, generation)).adjusted
        shaped.append(replace(target, adjusted=list(adjusted) or None))
        if adjusted:
            lines.append(f"target {target.name!r} ({target.model}, {target.endpoint}): {'; '.join(adjusted)}")
    return shaped, lines


def moved_note(target: Target) -> str:
    """The line saying a target was called on another endpoint than first tried."""
    return (
        f"target {target.name!r} ({target.model}) is served only on the Responses API: its calls went there "
        f"for the rest of the run; set 'endpoint: responses' on it in the suite (or --model "
        f"{target.name}={target.model}@responses) to skip the first try"
    )
