"""exact: equality after the normalisations the suite turns on, applied to output and reference alike."""

from __future__ import annotations

import asyncio

import pytest

from evalkit.records import Case, Score
from evalkit.scorers import ExactScorer, Scorer
from evalkit.scorers.exact import build_exact
from evalkit.suite.scorer_options import ExactOptions


def score(scorer: Scorer, output: str, reference: str) -> Score:
    """The scorer's verdict on one output for a case with this reference."""
    case = Case(id="c1", reference=reference, messages=({"role": "user", "content": "..."},))
    return asyncio.run(scorer.score(output, case))


def test_strip_is_on_by_default_and_nothing_else_is() -> None:
    scorer = ExactScorer()
    assert score(scorer, "  Paris\n", "Paris").value == 1.0
    assert score(scorer, "paris", "Paris").value == 0.0
    assert score(scorer, "Paris.", "Paris").value == 0.0
    assert score(scorer, "New  York", "New York").value == 0.0


def test_strip_off_keeps_surrounding_whitespace_significant() -> None:
    assert score(ExactScorer(strip=False), " Paris", "Paris").value == 0.0


@pytest.mark.parametrize(
    ("options", "output", "reference"),
    [
        ({"casefold": True}, "PARIS", "paris"),
        ({"casefold": True}, "STRASSE", "straße"),  # casefold, not lower()
        ({"whitespace": True}, "New \t\n York", "New York"),
        ({"punctuation": True}, "«Paris!»", "Paris"),
        ({"punctuation": True}, "it's", "its"),
        ({"punctuation": True, "whitespace": True}, "New - York", "New York"),
    ],
)
def test_each_normalisation_makes_a_match(options: dict[str, bool], output: str, reference: str) -> None:
    assert score(build_exact(ExactOptions.model_validate(options)), output, reference).value == 1.0
    assert score(ExactScorer(), output, reference).value == 0.0


def test_normalisation_applies_to_the_reference_too() -> None:
    assert score(ExactScorer(casefold=True, punctuation=True), "yes", "  YES!  ").value == 1.0


def test_answer_is_the_normalised_output_and_a_miss_explains() -> None:
    result = score(ExactScorer(casefold=True, whitespace=True), " The  ANSWER ", "no")
    assert result.answer == "the answer"
    assert result.value == 0.0
    assert result.explanation
    assert score(ExactScorer(), "no", "no").explanation is None


def test_name_defaults_to_kind() -> None:
    assert ExactScorer().name == "exact"
    assert ExactScorer(name="strict").name == "strict"
