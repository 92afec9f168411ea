"""What every scorer is: a name, an async per-case ``score``, and optional suite-level aggregates.

A scorer reads one model output next to its case and returns a ``Score``. Scorers whose figures are not
a mean of per-case scores (classification metrics) also override ``aggregate``; scorers that can tell a
case's reference is unusable (a classify reference that is no label) override ``check_reference`` so
that ``evalkit validate`` reports it before any model is called. A case a scorer cannot score at all (a
grader's template names a field the case's item lacks) is a ``check_case`` problem: ``evalkit validate``
and ``evalkit run`` both stop on it before any call. A scorer holding a resource (a grader's Python
worker) releases it in ``aclose``, which ``score_run`` calls when scoring ends.

A scorer that cannot score an output (a judge whose verdict does not parse) raises ``ScoringError``;
``evalkit.scorers.run.score_run`` records that as a ``FailedScore`` — an error for that case, left out of the
scorer's metrics, never a made-up score. Scorers that call a model set ``calls_model`` so their cases are
scored concurrently; ``pairwise`` scorers compare a target's output with its base's (``score_pair``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from evalkit.records import Case, Outcome, Score


@dataclass(frozen=True, slots=True)
class Aggregate:
    """A scorer's suite-level figures for one target, over the cases it scored."""

    metrics: dict[str, float | None] = field(default_factory=dict)
    """Figures by aggregate name without the scorer prefix (``accuracy``, ``macro_f1``); None if undefined."""
    details: dict[str, Any] = field(default_factory=dict)
    """JSON-able extras that are not one number (``labels``, ``confusion_matrix``, ``support``)."""
    n: int | None = None
    """How many cases the figures cover, when that is not every scored case."""


@dataclass(frozen=True, slots=True)
class CaseProblem:
    """Why a scorer cannot score a case at all, found before any call."""

    message: str
    """What the case lacks (``item has no field 'answer' (its fields: id, reference)``)."""
    option: str | None = None
    """The option of the scorer's suite entry that asks for it, from the entry's key (``grader.reference``)."""


class ScoringError(Exception):
    """A scorer could not score one output (an unparseable or out-of-scale verdict, a failed judge call).

    Its text is recorded as the case's score error for that scorer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_error(outcome: Outcome) -> bool:
    """True when the call produced no output to score."""
    return outcome.error is not None or outcome.output is None


class Scorer(ABC):
    """One configured scorer of a suite; subclasses set ``kind`` and implement ``score``."""

    kind: ClassVar[str]
    """The scorer family as written in a suite file (``exact``, ``classify``, …)."""
    calls_model: ClassVar[bool] = False
    """True when scoring calls a model: ``score_run`` then scores every case concurrently."""
    pairwise: ClassVar[bool] = False
    """True when the scorer compares each target's output with its base's (``score_pair``)."""

    def __init__(self, *, name: str | None = None) -> None:
        self.name: str = name or self.kind
        """The name its metrics are reported under (the ``name`` option, else the kind)."""

    @abstractmethod
    async def score(self, output: str, case: Case) -> Score:
        """Score one output against its case."""

    async def score_pair(self, output: str, other: str, case: Case) -> Score:
        """Pairwise scorers: score ``output`` against ``other`` (the base's output) on one case."""
        raise TypeError(f"scorer {self.name!r} is not pairwise")

    def aggregate(self, cases: Sequence[Case], scores: Sequence[Score | None]) -> Aggregate:
        """Suite-level figures over the scored cases (None: errored call; ``FailedScore``: could not be
        scored — leave both out), named as ``aggregate_names`` declares; none by default."""
        return Aggregate()

    def aggregate_names(self) -> tuple[str, ...]:
        """The names ``aggregate`` reports figures under (without the scorer's prefix), known before any
        output is scored — so a gate rule on a misspelt one is refused before the first call."""
        return ()

    def metric_names(self) -> list[str]:
        """Every metric this scorer reports: its mean (``<name>``), then ``<name>.<aggregate>``."""
        return [self.name, *(f"{self.name}.{aggregate}" for aggregate in self.aggregate_names())]

    def check_reference(self, reference: str) -> str | None:
        """What is wrong with a case's reference for this scorer, or None when it can be used."""
        return None

    def check_case(self, case: Case) -> CaseProblem | None:
        """Why this scorer cannot score ``case`` at all, or None; a problem stops ``evalkit validate`` and
        ``evalkit run`` before any call (unlike ``check_reference``'s, which validate only lists)."""
        return None

    async def aclose(self) -> None:
        """Release what scoring held (a worker process); ``score_run`` calls it when scoring ends."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def binary(matched: bool, *, answer: str | None = None, explanation: str | None = None) -> Score:
    """A 1.0 / 0.0 score; the explanation is kept only for a miss."""
    return Score(1.0 if matched else 0.0, answer=answer, explanation=None if matched else explanation)
