"""``python`` and ``multi`` graders through ``score_run``: a grade() that raises or runs out of time gives
that case an error (a ``FailedScore``), never a crash nor a made-up score; the worker is closed when
scoring ends; a multi's ``calculate_output`` is computed from its graders' scores by key.

These use ``evalkit.scorers.graders.formula`` and ``python_grader`` (written beside this package)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sacrebleu

from evalkit.records import Case, FailedScore, Outcome, Score
from evalkit.scorers import build_scorers
from evalkit.scorers.graders import grading
from evalkit.scorers.run import score_run
from evalkit.suite.grader_options import parse_grader
from evalkit.suite.scorer_options import ScorerConfig

CASES = [
    Case(id="a", reference="Paris", item={"kind": "ok"}),
    Case(id="b", reference="Rome", item={"kind": "raise"}),
    Case(id="c", reference="Lima", item={"kind": "ok"}),
]
SOURCE = """
def grade(sample, item):
    if item["kind"] == "raise":
        raise KeyError("no such thing")
    if item["kind"] == "hang":
        while True:
            pass
    return 1.0 if sample["output_text"] == item["reference"] else 0.25
"""


def _score(grader: dict[str, Any], outputs: list[str], cases: list[Case] = CASES) -> list[Score | None]:
    config = ScorerConfig(kind="grader", options=parse_grader(grader))
    scorers = build_scorers([config])
    outcomes = {"m": [Outcome(output=text) for text in outputs]}
    return asyncio.run(score_run(cases, outcomes, scorers))["m"][scorers[0].name]


def test_a_python_grader_that_raises_fails_that_case_only() -> None:
    scores = _score({"type": "python", "name": "py", "source": SOURCE}, ["Paris", "Rome", "Quito"])
    first, second, third = scores
    assert first == Score(1.0) and third == Score(0.25)
    assert isinstance(second, FailedScore)
    assert "KeyError" in second.error and "no such thing" in second.error
    assert second.error.startswith("the python grader failed: ")


def test_a_python_grader_out_of_time_fails_that_case_and_grades_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grading, "PYTHON_TIMEOUT_S", 1.0)
    cases = [CASES[0], Case(id="h", reference="x", item={"kind": "hang"}), CASES[2]]
    first, second, third = _score({"type": "python", "name": "py", "source": SOURCE}, ["Paris", "x", "Lima"], cases)
    assert isinstance(second, FailedScore)
    assert first == Score(1.0) and third == Score(1.0)  # a fresh worker took the next case


def test_a_python_grader_returning_no_number_is_a_case_error() -> None:
    source = "def grade(sample, item):\n    return 'high'\n"
    (score,) = _score({"type": "python", "name": "py", "source": source}, ["x"], [CASES[0]])
    assert isinstance(score, FailedScore)


def test_the_python_worker_is_closed_when_scoring_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.scorers.graders import python_grader

    closed: list[object] = []
    close = python_grader.PythonGrader.close

    async def spy(self: python_grader.PythonGrader) -> None:
        closed.append(self)
        await close(self)

    monkeypatch.setattr(python_grader.PythonGrader, "close", spy)
    _score({"type": "python", "name": "py", "source": SOURCE}, ["Paris", "Rome", "Lima"])
    assert len(closed) == 1


MULTI = {
    "type": "multi",
    "name": "combined",
    "graders": {
        "exact": {
            "type": "string_check", "input": "{{sample.output_text}}", "reference": "{{item.reference}}",
            "operation": "eq",
        },
        "bleu": {
            "type": "text_similarity", "input": "{{sample.output_text}}", "reference": "{{item.reference}}",
            "evaluation_metric": "bleu",
        },
        "py": {"type": "python", "source": SOURCE},
    },
    "calculate_output": "0.5 * exact + 0.25 * bleu + 0.25 * py ^ 2",
}  # fmt: skip


def test_a_multi_grader_computes_its_formula_from_its_graders_scores() -> None:
    cases = [
        Case(id="a", reference="the cat sat on the mat", item={"kind": "ok"}),
        Case(id="c", reference="the cat sat on the mat", item={"kind": "ok"}),
    ]
    outputs = ["the cat sat on the mat", "a cat sat on a mat"]
    first, second = _score(MULTI, outputs, cases)
    assert first is not None and first.value == pytest.approx(1.0)
    bleu = sacrebleu.sentence_bleu(outputs[1], [cases[1].reference]).score / 100
    assert second is not None and second.value == pytest.approx(0.5 * 0 + 0.25 * bleu + 0.25 * 0.25**2)
    assert second.explanation is not None and "exact=0" in second.explanation


def test_a_multi_whose_grader_fails_or_whose_formula_cannot_be_computed_fails_that_case() -> None:
    first, second, _ = _score(MULTI, ["Paris", "Rome", "Lima"])
    assert first is not None and first.value == pytest.approx(0.5 + 0.25 + 0.25)
    assert isinstance(second, FailedScore) and "KeyError" in second.error  # its python grader raised
    dividing = {**MULTI, "calculate_output": "exact / bleu"}
    (score,) = _score(dividing, ["Lima"], [Case(id="x", reference="Paris", item={"kind": "ok"})])
    assert isinstance(score, FailedScore) and "division by zero" in score.error
