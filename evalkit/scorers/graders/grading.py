"""One grader object, ready to grade: its templates rendered for an answer, its figure computed.

    string_check     1 or 0: eq (equal), ne (not equal), like (input contains reference), ilike (contains,
                     ignoring case — ``str.casefold``); the empty reference is contained in every input
    text_similarity  ``similarity`` (local libraries), or ``cosine`` of two embeddings (``embeddings``)
    score_model      the model's score on ``range``, through the judge's backend (``model_graders``)
    label_model      1 when the model's label is a passing one, else 0 (``model_graders``)
    python           the source's ``grade(sample, item)``, in a worker process with a time limit and no
                     network (``python_grader``); started at the first answer, closed by ``aclose``
    multi            its ``calculate_output`` over its graders' scores by key (``formula``: parsed, never
                     ``eval``), not clipped (OpenAI documents no range for it)

``build_grading`` makes the checks that need the scorers' code — a formula that does not parse or names
an unknown key, a Python source without ``grade``, METEOR without its data — and raises ``SuiteError``
at the option (``scorers.grader.calculate_output``; ``build_scorers`` adds the entry's index). An answer
that cannot be graded (a template reading what it lacks, a verdict that cannot be read, a Python grader
that raised or timed out) raises ``ScoringError``: that case's error, never a made-up score.
"""

from __future__ import annotations

import asyncio
import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any

from evalkit.errors import ServiceError, SuiteError
from evalkit.records import Message, Score
from evalkit.scorers.base import ScoringError, binary
from evalkit.scorers.graders.similarity import metric_problem, similarity
from evalkit.scorers.graders.templates import render
from evalkit.suite.grader_options import (
    EMBEDDING_MODEL,
    GraderMessage,
    GraderOptions,
    LabelModelGrader,
    MultiGrader,
    PythonGrader,
    ScoreModelGrader,
    StringCheckGrader,
    TextSimilarityGrader,
)

if TYPE_CHECKING:
    from evalkit.scorers.graders.formula import Formula
    from evalkit.scorers.graders.python_grader import PythonGrader as PythonWorker
    from evalkit.scorers.judge.backend import JudgeBackend

__all__ = ["Grading", "build_grading"]

Namespace = dict[str, Any]

PYTHON_TIMEOUT_S = 10.0
"""Longest a python grader may take on one answer (then the case gets an error and the worker a restart)."""


class Grading(ABC):
    """A grader object built for one scorer: ``grade`` scores one answer (its ``sample`` and ``item``)."""

    @abstractmethod
    async def grade(self, sample: Namespace, item: Namespace) -> Score:
        """The grader's score of one answer; ``ScoringError`` when it cannot be graded."""

    async def aclose(self) -> None:
        """Release what grading held (a Python worker)."""


class StringCheck(Grading):
    def __init__(self, options: StringCheckGrader) -> None:
        self.options = options

    async def grade(self, sample: Namespace, item: Namespace) -> Score:
        text = render(self.options.input, sample=sample, item=item)
        reference = render(self.options.reference, sample=sample, item=item)
        operation = self.options.operation
        matched = {
            "eq": lambda: text == reference,
            "ne": lambda: text != reference,
            "like": lambda: reference in text,
            "ilike": lambda: reference.casefold() in text.casefold(),
        }[operation]()
        return binary(matched, explanation=f"{operation} failed: input {_short(text)}, reference {_short(reference)}")


class TextSimilarity(Grading):
    def __init__(self, options: TextSimilarityGrader, *, scorer: str, judge: JudgeBackend | None) -> None:
        self.options, self.scorer, self.judge = options, scorer, judge

    async def grade(self, sample: Namespace, item: Namespace) -> Score:
        text = render(self.options.input, sample=sample, item=item)
        reference = render(self.options.reference, sample=sample, item=item)
        metric = self.options.evaluation_metric
        if metric != "cosine":
            return Score(similarity(metric, text, reference))
        from evalkit.scorers.graders.embeddings import cosine_similarity

        backend = _backend(self.judge, self.scorer, EMBEDDING_MODEL)
        value = await cosine_similarity(
            backend, scorer=self.scorer, model=EMBEDDING_MODEL, text=text, reference=reference
        )
        return Score(value)


class ScoreModel(Grading):
    def __init__(self, options: ScoreModelGrader, *, scorer: str, judge: JudgeBackend | None) -> None:
        self.options, self.scorer, self.judge = options, scorer, judge

    async def grade(self, sample: Namespace, item: Namespace) -> Score:
        from evalkit.scorers.graders.model_graders import score_model_grade

        options = self.options
        sampling = options.sampling_params.model_dump(exclude_none=True) if options.sampling_params else {}
        score: Score = await score_model_grade(
            _backend(self.judge, self.scorer, options.model),
            scorer=self.scorer,
            model=options.model,
            messages=_messages(options.input, sample, item),
            score_range=options.range,
            sampling=sampling,
        )
        return score


class LabelModel(Grading):
    def __init__(self, options: LabelModelGrader, *, scorer: str, judge: JudgeBackend | None) -> None:
        self.options, self.scorer, self.judge = options, scorer, judge

    async def grade(self, sample: Namespace, item: Namespace) -> Score:
        from evalkit.scorers.graders.model_graders import label_model_grade

        options = self.options
        score: Score = await label_model_grade(
            _backend(self.judge, self.scorer, options.model),
            scorer=self.scorer,
            model=options.model,
            messages=_messages(options.input, sample, item),
            labels=options.labels,
            passing_labels=options.passing_labels,
        )
        return score


class Python(Grading):
    def __init__(self, options: PythonGrader) -> None:
        self.options = options
        self._worker: PythonWorker | None = None
        self._lock = asyncio.Lock()

    async def grade(self, sample: Namespace, item: Namespace) -> Score:
        from evalkit.scorers.graders.python_grader import GraderError
        from evalkit.scorers.graders.python_grader import PythonGrader as PythonWorker

        async with self._lock:  # one worker, one answer at a time
            if self._worker is None:
                self._worker = PythonWorker(self.options.source, timeout_s=PYTHON_TIMEOUT_S)
            try:
                value = await self._worker.grade(sample, item)
            except GraderError as exc:
                raise ScoringError(f"the python grader failed: {exc.message}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ScoringError(f"the python grader returned {value!r}, not a finite number")
        return Score(float(value))

    async def aclose(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await worker.close()


class Multi(Grading):
    def __init__(self, options: MultiGrader, graders: dict[str, Grading], formula: Formula) -> None:
        self.options, self.graders, self.formula = options, graders, formula

    async def grade(self, sample: Namespace, item: Namespace) -> Score:
        from evalkit.scorers.graders.formula import FormulaError

        scores = await _all(grader.grade(sample, item) for grader in self.graders.values())
        values = {key: score.value for key, score in zip(self.graders, scores, strict=True)}
        try:
            value = self.formula.evaluate(values)
        except FormulaError as exc:
            raise ScoringError(f"calculate_output could not be computed: {exc}") from None
        if not math.isfinite(value):
            raise ScoringError(f"calculate_output gave {value}, not a finite number")
        parts = ", ".join(f"{key}={value:.4g}" for key, value in values.items())
        return Score(value, explanation=parts)

    async def aclose(self) -> None:
        for grader in self.graders.values():
            await grader.aclose()


def build_grading(
    options: GraderOptions, *, scorer: str, judge: JudgeBackend | None, field: str = "scorers.grader"
) -> Grading:
    """``options`` ready to grade for the scorer named ``scorer`` (``judge``: the backend model graders call
    through); ``SuiteError`` at ``field`` (the object's place in the suite) when it cannot work here."""
    if isinstance(options, StringCheckGrader):
        return StringCheck(options)
    if isinstance(options, TextSimilarityGrader):
        problem = metric_problem(options.evaluation_metric)
        if problem is not None:
            raise SuiteError(problem, field=f"{field}.evaluation_metric")
        return TextSimilarity(options, scorer=scorer, judge=judge)
    if isinstance(options, ScoreModelGrader):
        return ScoreModel(options, scorer=scorer, judge=judge)
    if isinstance(options, LabelModelGrader):
        return LabelModel(options, scorer=scorer, judge=judge)
    if isinstance(options, PythonGrader):
        from evalkit.scorers.graders.python_grader import check_source

        problem = check_source(options.source)
        if problem is not None:
            raise SuiteError(problem, field=f"{field}.source")
        return Python(options)
    if isinstance(options, MultiGrader):
        from evalkit.scorers.graders.formula import FormulaError, parse_formula

        graders = {
            key: build_grading(sub, scorer=scorer, judge=judge, field=f"{field}.graders.{key}")
            for key, sub in options.graders.items()
        }
        try:
            formula = parse_formula(options.calculate_output, allowed_names=list(graders))
        except FormulaError as exc:
            raise SuiteError(str(exc), field=f"{field}.calculate_output") from None
        return Multi(options, graders, formula)
    raise TypeError(f"no grading for {type(options).__name__}")


def _messages(messages: list[GraderMessage], sample: Namespace, item: Namespace) -> list[Message]:
    """A model grader's ``input`` rendered for one answer: role and text."""
    return [{"role": m.role, "content": render(m.text, sample=sample, item=item)} for m in messages]


def _backend(judge: JudgeBackend | None, scorer: str, model: str) -> JudgeBackend:
    if judge is None:
        raise ServiceError(
            f"scorer {scorer!r} cannot call its model {model}: it was built without a judge backend "
            "(build_scorers(configs, judge=JudgeBackend(Caller(provider, cache=...))))"
        )
    return judge


async def _all(awaitables: Iterable[Awaitable[Score]]) -> list[Score]:
    """Await concurrently and let every one finish (a model's verdict is cached); then raise the first failure."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [result for result in results if isinstance(result, Score)]


def _short(text: str, limit: int = 80) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
