"""includes and regex: containment and pattern matches on the raw output."""

from __future__ import annotations

import asyncio

from evalkit.records import Case, Score
from evalkit.scorers import IncludesScorer, RegexScorer, Scorer, build_scorers
from evalkit.suite.scorer_options import RegexOptions, ScorerConfig


def score(scorer: Scorer, output: str, reference: str) -> Score:
    """The scorer's verdict on one output for a case with this reference."""
    case = Case(id="c1", reference=reference, messages=({"role": "user", "content": "..."},))
    return asyncio.run(scorer.score(output, case))


def test_includes_looks_for_the_reference() -> None:
    scorer = IncludesScorer()
    assert score(scorer, "The capital is Paris, of course.", "Paris").value == 1.0
    miss = score(scorer, "The capital is paris.", "Paris")
    assert miss.value == 0.0
    assert miss.explanation == "reference not found in the output"


def test_includes_casefold_and_fixed_text() -> None:
    assert score(IncludesScorer(casefold=True), "THE CAPITAL IS PARIS", "Paris").value == 1.0
    fixed = IncludesScorer(text="Ticket #")
    assert score(fixed, "See Ticket #123", "irrelevant").value == 1.0
    assert score(fixed, "See ticket 123", "irrelevant").value == 0.0


def test_includes_flags_an_empty_reference() -> None:
    assert IncludesScorer().check_reference("  ") is not None
    assert IncludesScorer().check_reference("Paris") is None
    assert IncludesScorer(text="x").check_reference("") is None


def test_regex_searches_anywhere_and_answers_with_the_match() -> None:
    scorer = RegexScorer(r"TCK-\d+")
    result = score(scorer, "Opened TCK-4711 for you.", "")
    assert (result.value, result.answer) == (1.0, "TCK-4711")
    assert score(scorer, "Opened tck-4711", "").value == 0.0
    assert score(RegexScorer(r"TCK-\d+", ignorecase=True), "Opened tck-4711", "").value == 1.0


def test_regex_fullmatch_needs_the_whole_stripped_output() -> None:
    scorer = RegexScorer(r"yes|no", fullmatch=True)
    assert score(scorer, "  yes\n", "").value == 1.0
    miss = score(scorer, "yes, definitely", "")
    assert miss.value == 0.0
    assert miss.explanation == "pattern does not match the output"


def test_regex_built_from_options_is_compiled_once() -> None:
    (scorer,) = build_scorers([ScorerConfig(kind="regex", options=RegexOptions(pattern="a+", name="as"))])
    assert isinstance(scorer, RegexScorer)
    assert scorer.name == "as"
    assert scorer.pattern.pattern == "a+"
