"""What every scorer is: a name, an async per-case ``score``, and optional suite-level aggregates.

A scorer reads one model output next to its case and returns a ``Score``. Scorers whose figures are not
a mean of per-case scores (classification metrics) also override ``aggregate``; scorers that can tell a
case's reference is unusable (a classify reference that is no label) override ``check_reference`` so
that ``evalkit validate`` reports it before any model is called.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from evalkit.records import Case, Score

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Aggregate:
    """A scorer's suite-level figures for one target, over the cases it scored."""

    metrics: dict[str, float | None] = field(default_factory=dict)
    """Figures by aggregate name without the scorer prefix (``accuracy``, ``macro_f1``); None if undefined."""
    details: dict[str, Any] = field(default_factory=dict)
    """JSON-able extras that are not one number (``labels``, ``confusion_matrix``, ``support``)."""
    n: int | None = None
    """How many cases the figures cover, when that is not every scored case."""


class Scorer(ABC):
    """One configured scorer of a suite; subclasses set ``kind`` and implement ``score``."""

    kind: ClassVar[str]
    """The scorer family as written in a suite file (``exact``, ``classify``, …)."""

    def __init__(self, *, name: str | None = None) -> None:
        self.name: str = name or self.kind
        """The name its metrics are reported under (the ``name`` option, else the kind)."""

    @abstractmethod
    async def score(self, output: str, case: Case) -> Score:
        """Score one output against its case."""

    def aggregate(self, cases: Sequence[Case], scores: Sequence[Score | None]) -> Aggregate:
        """Suite-level figures over the scored cases (None scores are errored calls); none by default."""
        return Aggregate()

    def check_reference(self, reference: str) -> str | None:
        """What is wrong with a case's reference for this scorer, or None when it can be used."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def binary(matched: bool, *, answer: str | None = None, explanation: str | None = None) -> Score:
    """A 1.0 / 0.0 score; the explanation is kept only for a miss."""
    return Score(1.0 if matched else 0.0, answer=answer, explanation=None if matched else explanation)


def is_punctuation(char: str) -> bool:
    """True for Unicode punctuation (general category ``P*``: ``.,;:!?'"()[]{}«»“”-`` …)."""
    return unicodedata.category(char).startswith("P")


def remove_punctuation(text: str) -> str:
    """``text`` without any Unicode punctuation character."""
    return "".join(char for char in text if not is_punctuation(char))


def collapse_whitespace(text: str) -> str:
    """``text`` with every run of whitespace replaced by one space."""
    return _WHITESPACE.sub(" ", text)
