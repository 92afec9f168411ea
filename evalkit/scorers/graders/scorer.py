"""``grader``: an OpenAI grader object as a scorer — its mean score under the grader's name, and
``<name>.pass_rate`` when the object has a ``pass_threshold``.

Before any call, ``check_case`` checks every case's ``item`` has each field the object's templates name
with fixed keys (``{{item.answer}}``, ``{{item.meta.lang}}``): a case lacking one stops ``evalkit validate``
and ``evalkit run`` with one line naming the data file's line, the suite's option and the fields the case
has. Graders that call a model (score_model, label_model, cosine, a multi holding one) score every case
concurrently, as judges do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalkit.records import Case, Score
from evalkit.scorers.base import Aggregate, CaseProblem, Scorer
from evalkit.scorers.graders.grading import Grading, build_grading
from evalkit.scorers.graders.templates import item_namespace, sample_namespace
from evalkit.suite.grader_options import GraderOptions
from evalkit.suite.grader_templates import FieldPath, item_paths

if TYPE_CHECKING:
    from evalkit.scorers.judge.backend import JudgeBackend

__all__ = ["GraderScorer", "ModelGraderScorer", "build_grader"]


class GraderScorer(Scorer):
    """One grader object of a suite, scoring each answer as OpenAI's grader would."""

    kind = "grader"

    def __init__(self, options: GraderOptions, grading: Grading) -> None:
        super().__init__(name=options.metric_name)
        self.options = options
        """The grader object as the suite gives it."""
        self.grading = grading
        """The object, ready to grade."""
        self._fields = [(path, field) for path, text in options.templates() for field in item_paths(text)]

    async def score(self, output: str, case: Case) -> Score:
        return await self.grading.grade(sample_namespace(output), item_namespace(case))

    def aggregate_names(self) -> tuple[str, ...]:
        return ("pass_rate",) if self.options.threshold is not None else ()

    def aggregate(self, cases: Sequence[Case], scores: Sequence[Score | None]) -> Aggregate:
        threshold = self.options.threshold
        if threshold is None:
            return Aggregate()
        values = [s.value for s in scores if s is not None and math.isfinite(s.value)]
        passed = sum(value >= threshold for value in values)
        return Aggregate(metrics={"pass_rate": passed / len(values) if values else None}, n=len(values))

    def check_case(self, case: Case) -> CaseProblem | None:
        if not self._fields:
            return None
        namespace = item_namespace(case)
        for option, path in self._fields:
            problem = _missing(namespace, path)
            if problem is not None:
                return CaseProblem(problem, option=f"grader.{option}")
        return None

    async def aclose(self) -> None:
        await self.grading.aclose()


class ModelGraderScorer(GraderScorer):
    """A grader object that calls a model: its cases are scored concurrently."""

    calls_model = True


def build_grader(options: GraderOptions, *, judge: JudgeBackend | None = None) -> GraderScorer:
    """The scorer of one ``- grader:`` entry; ``SuiteError`` (at ``scorers.grader.<option>``) when the object
    cannot work here. ``judge``: the backend model graders call through (without it they cannot score)."""
    name = options.metric_name or "grader"
    grading = build_grading(options, scorer=name, judge=judge)
    scorer = ModelGraderScorer if options.called_models() else GraderScorer
    return scorer(options, grading)


def _missing(namespace: dict[str, Any], path: FieldPath) -> str | None:
    """What ``item`` lacks of ``path`` (``item.meta has no field 'lang' (its fields: a, b)``), or None."""
    value: Any = namespace
    where = "item"
    for key in path:
        if isinstance(value, dict) and isinstance(key, str):
            if key not in value:
                fields = ", ".join(map(str, value)) or "none"
                return f"{where} has no field {key!r} (its fields: {fields})"
            value, where = value[key], f"{where}.{key}"
        elif isinstance(value, list | str) and isinstance(key, int):
            if not -len(value) <= key < len(value):
                return f"{where} has no item {key} (it has {len(value)})"
            value, where = value[key], f"{where}[{key}]"
        else:
            wanted = f"field {key!r}" if isinstance(key, str) else f"item {key}"
            return f"{where} is {_kind(value)}, which has no {wanted}"
    return None


def _kind(value: Any) -> str:
    """What a JSON value is, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    kinds = ((str, "text"), (int | float, "a number"), (list, "a list"), (dict, "an object"))
    return next((word for kind, word in kinds if isinstance(value, kind)), type(value).__name__)
