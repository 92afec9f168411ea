"""An eval's testing criteria → the suite's ``- grader: {...}`` scorers, each the grader object as OpenAI
defined it (schemas ``EvalGrader*`` / ``Grader*``), so the same criteria score the answers after the move.

A criterion keeps every field its grader type declares, exactly as written (templates, rubrics, Python
source, sampling params); fields the API added that no grader object takes (``id``, …) are left out, and
said. A criterion is reported under its name's metric name (``Right queue`` → ``right_queue``); one whose
name makes no metric name of its own (another's, a reserved one, none) is renamed, and said.
``reference_field`` finds the item field the criteria compare answers with, which the data rows then
carry as each case's reference (shown in reports, read by the built-in scorers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.importers.reading import Where, json_type, shown
from evalkit.suite.grader_base import metric_name
from evalkit.suite.scorer_base import RESERVED_NAMES

__all__ = ["GRADER_FIELDS", "Criterion", "grader_criteria", "reference_field"]

GRADER_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "string_check": (("type", "name", "input", "reference", "operation"), ()),
    "text_similarity": (("type", "name", "input", "reference", "evaluation_metric"), ("pass_threshold",)),
    "score_model": (("type", "name", "input", "model"), ("range", "sampling_params", "pass_threshold")),
    "label_model": (("type", "name", "model", "input", "labels", "passing_labels"), ()),
    "python": (("type", "name", "source"), ("image_tag", "pass_threshold")),
    "multi": (("type", "name", "graders", "calculate_output"), ()),
}
"""Per grader type: its required fields and its optional ones, as OpenAI's spec declares them."""

_CHOICES = {
    "operation": ("eq", "ne", "like", "ilike"),
    "evaluation_metric": (
        "cosine", "fuzzy_match", "bleu", "gleu", "meteor",
        "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l",
    ),
}  # fmt: skip
"""Fields whose value is one of a fixed set, and that set."""

_ITEM_FIELD = re.compile(r"^\{\{\s*item\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


@dataclass(frozen=True, slots=True)
class Criterion:
    """One testing criterion as a suite scorer."""

    grader: dict[str, Any]
    """The grader object written under ``- grader:`` (its API-only fields left out)."""
    given_name: str
    """Its name in the eval (OpenAI's results name it so)."""

    @property
    def name(self) -> str:
        """Its name in the suite (``given_name``, unless that made no metric name of its own)."""
        name: str = self.grader["name"]
        return name

    @property
    def metric(self) -> str:
        """The name its scorer and metrics are reported under (``metric_name``: ``right_queue``)."""
        return metric_name(self.name)


def grader_criteria(criteria: Sequence[tuple[Any, Where]]) -> tuple[list[Criterion], list[str]]:
    """Each criterion as a grader object, checked, and notes on what was changed; ``InputError`` at the
    criterion's field when it is not a grader object evalkit knows."""
    found: list[Criterion] = []
    dropped: list[str] = []
    taken: set[str] = set()
    notes: list[str] = []
    for criterion, where in criteria:
        grader = _checked(criterion, where)
        required, optional = GRADER_FIELDS[grader["type"]]
        dropped += [where.at(key).field for key in grader if key not in required + optional]
        kept = {key: value for key, value in grader.items() if key in required + optional}
        name = _usable(grader["name"], taken, index=len(found) + 1)
        if name != grader["name"]:
            notes.append(
                f"{where.field}: {grader['name']!r} names another criterion's metric or none: named {name!r}"
            )
        found.append(Criterion(grader={**kept, "name": name}, given_name=grader["name"]))
    if dropped:
        notes.append(f"left out fields no grader object takes: {', '.join(dropped)}")
    return found, notes


def _checked(criterion: Any, where: Where) -> dict[str, Any]:
    if not isinstance(criterion, dict):
        raise where.error(f"expected a grader object, got {json_type(criterion)}")
    kind = criterion.get("type")
    if kind not in GRADER_FIELDS:
        allowed = ", ".join(GRADER_FIELDS)
        raise where.at("type").error(f"{shown(kind)} is not a grader type evalkit runs (allowed: {allowed})")
    required, _ = GRADER_FIELDS[kind]
    missing = [key for key in required if key not in criterion]
    if missing:
        raise where.error(f"a {kind} grader needs {', '.join(repr(key) for key in missing)}")
    name = criterion["name"]
    if not isinstance(name, str) or not name.strip():
        raise where.at("name").error(f"expected a non-empty string, got {shown(name)}")
    for key, choices in _CHOICES.items():
        if key in criterion and criterion[key] not in choices:
            value = shown(criterion[key])
            raise where.at(key).error(f"{value} is not allowed (allowed: {', '.join(choices)})")
    return criterion


def _usable(name: str, taken: set[str], *, index: int) -> str:
    """``name``, or one like it, whose metric name is usable and no other criterion's (scorers are told
    apart, and reported, by it)."""
    base = (
        name if metric_name(name) and metric_name(name) not in RESERVED_NAMES else f"{name} criterion {index}"
    )
    candidate, n = base, 1
    while metric_name(candidate) in taken:
        n += 1
        candidate = f"{base} ({n})"
    taken.add(metric_name(candidate))
    return candidate


def reference_field(criteria: Sequence[Criterion]) -> str | None:
    """The item field the first ``string_check`` or ``text_similarity`` criterion compares the answer with,
    when its ``reference`` is just ``{{item.FIELD}}``; None otherwise."""
    for criterion in criteria:
        grader = criterion.grader
        if grader["type"] in ("string_check", "text_similarity") and isinstance(grader["reference"], str):
            match = _ITEM_FIELD.match(grader["reference"].strip())
            if match:
                return match.group(1)
    return None
