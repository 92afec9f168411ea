"""A run's records pickled as columns of plain values, for the CLI's sidecar to hand a run to another process.

A run of 10,000 cases × 5 targets holds 50,000 answers and 100,000 scores, each a small frozen record:
pickled one object at a time they take about 2 s to send and receive; their values, packed into tuples,
take a few tens of milliseconds, and rebuilding the records on the other side about a tenth of a second.
``RunRecord`` and ``RunResults`` pickle through ``pack_*`` / ``unpack_*`` here; everything else about them
(their fields, their meaning) is unchanged, and unpacking gives records equal to the ones packed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from evalkit.records.values import FailedScore, Outcome, Score, Usage

OutcomeRow = tuple[str | None, str | None, int, int, int, float | None, bool, str | None, bool]
ScoreRow = tuple[float, str | None, str | None] | tuple[str] | None


def pack_outcomes(outcomes: Mapping[str, Sequence[Outcome]]) -> dict[str, list[OutcomeRow]]:
    """Per target, one tuple of plain values per outcome."""
    return {
        name: [
            (o.output, o.error, o.usage.prompt_tokens, o.usage.completion_tokens, o.usage.reasoning_tokens,
             o.latency_s, o.cached, o.finish_reason, o.batch)
            for o in found
        ]
        for name, found in outcomes.items()
    }


def unpack_outcomes(rows: Mapping[str, Sequence[OutcomeRow]]) -> dict[str, list[Outcome]]:
    """The outcomes ``pack_outcomes`` packed."""
    return {
        name: [
            Outcome(output, error, Usage(prompt, completion, reasoning), latency, cached, finish, batch)
            for output, error, prompt, completion, reasoning, latency, cached, finish, batch in found
        ]
        for name, found in rows.items()
    }


def pack_scores(
    scores: Mapping[str, Mapping[str, Sequence[Score | None]]],
) -> dict[str, dict[str, list[ScoreRow]]]:
    """Per target and scorer, one row per case: None, ``(value, answer, explanation)``, or ``(error,)`` for a
    score that could not be given."""
    return {
        name: {scorer: [_score_row(score) for score in found] for scorer, found in by_scorer.items()}
        for name, by_scorer in scores.items()
    }


def unpack_scores(rows: Mapping[str, Mapping[str, Sequence[ScoreRow]]]) -> dict[str, dict[str, list[Score | None]]]:
    """The scores ``pack_scores`` packed."""
    return {
        name: {scorer: [_score(row) for row in found] for scorer, found in by_scorer.items()}
        for name, by_scorer in rows.items()
    }


def _score_row(score: Score | None) -> ScoreRow:
    if score is None:
        return None
    if isinstance(score, FailedScore):
        return (score.error,)
    return (score.value, score.answer, score.explanation)


def _score(row: ScoreRow) -> Score | None:
    if row is None:
        return None
    if len(row) == 1:
        return FailedScore(math.nan, error=row[0])
    value, answer, explanation = row
    return Score(value, answer, explanation)


def fields_of(record: Any, *, leave_out: Sequence[str]) -> dict[str, Any]:
    """A dataclass's fields by name, but ``leave_out``."""
    return {f.name: getattr(record, f.name) for f in fields(record) if f.name not in leave_out}
