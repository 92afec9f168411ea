"""json: parse (or extract) JSON from the output, then check a schema and equality, saying what failed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from evalkit.records import Case, Score
from evalkit.scorers import JsonScorer, Scorer
from evalkit.scorers.jsonscore import json_equal

TICKET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"queue": {"enum": ["billing", "technical"]}, "priority": {"type": "integer"}},
    "required": ["queue"],
}


def score(scorer: Scorer, output: str, reference: str = "") -> Score:
    """The scorer's verdict on one output for a case with this reference."""
    case = Case(id="c1", reference=reference, messages=({"role": "user", "content": "..."},))
    return asyncio.run(scorer.score(output, case))


def test_plain_json_passes_and_answer_is_compact_json() -> None:
    result = score(JsonScorer(), ' {"queue": "billing",\n "note": "café"} ')
    assert result.value == 1.0
    assert result.answer == '{"queue": "billing", "note": "café"}'


@pytest.mark.parametrize(
    "output",
    [
        'Sure! Here it is:\n```json\n{"queue": "billing"}\n```\nAnything else?',
        'Here:\n```\n{"queue": "billing"}\n```',
        'The ticket goes to {"queue": "billing"} as requested.',
        'See [note 1]. Result: {"queue": "billing", "tags": ["a]", "{b"]} done',
    ],
)
def test_extract_finds_fenced_or_embedded_json(output: str) -> None:
    result = score(JsonScorer(), output)
    assert result.value == 1.0
    assert result.answer is not None and result.answer.startswith('{"queue": "billing"')
    assert score(JsonScorer(extract=False), output).value == 0.0


def test_extract_skips_brackets_that_are_not_json() -> None:
    result = score(JsonScorer(), "Option [A] is {wrong}; answer: [1, 2]")
    assert result.answer == "[1, 2]"


def test_not_json_scores_zero_with_a_reason() -> None:
    miss = score(JsonScorer(), "I cannot answer that.")
    assert (miss.value, miss.answer) == (0.0, None)
    assert miss.explanation == "no JSON object or array found in the output"
    assert score(JsonScorer(extract=False), "{'single': 'quotes'}").explanation == "output is not JSON"


def test_degenerate_output_is_a_miss_not_a_crash() -> None:
    assert score(JsonScorer(), "[" * 100_000).value == 0.0
    assert score(JsonScorer(), "{[" * 50_000 + '{"a": 1}').value == 0.0


def test_schema_violation_names_the_path() -> None:
    scorer = JsonScorer(schema=TICKET_SCHEMA)
    assert score(scorer, '{"queue": "technical", "priority": 2}').value == 1.0
    miss = score(scorer, '{"queue": "technical", "priority": "high"}')
    assert miss.value == 0.0
    assert miss.explanation is not None
    assert miss.explanation.startswith("schema violation at $.priority:")
    assert "integer" in miss.explanation
    missing = score(scorer, '{"priority": 1}')
    assert missing.explanation is not None and "'queue' is a required property" in missing.explanation


def test_equal_compares_parsed_json_not_text() -> None:
    scorer = JsonScorer(equal=True)
    assert score(scorer, '{"b": [1, 2.0], "a": null}', '{"a": null, "b": [1.0, 2]}').value == 1.0
    miss = score(scorer, '{"a": 1}', '{"a": 2}')
    assert (miss.value, miss.explanation) == (0.0, "not equal to the reference")
    assert score(scorer, '{"a": true}', '{"a": 1}').value == 0.0


def test_equal_with_a_reference_that_is_not_json() -> None:
    scorer = JsonScorer(equal=True)
    assert score(scorer, '{"a": 1}', "a: 1").explanation == "reference is not valid JSON"
    assert scorer.check_reference("a: 1") is not None
    assert scorer.check_reference('{"a": 1}') is None
    assert JsonScorer().check_reference("a: 1") is None


def test_checks_run_in_order_schema_before_equal() -> None:
    scorer = JsonScorer(schema=TICKET_SCHEMA, equal=True)
    miss = score(scorer, '{"queue": "sales"}', '{"queue": "billing"}')
    assert miss.explanation is not None and miss.explanation.startswith("schema violation at $.queue")


def test_json_equal_distinguishes_booleans_from_numbers() -> None:
    assert json_equal([1, {"x": 2.5}], [1.0, {"x": 2.5}])
    assert not json_equal(True, 1)
    assert not json_equal(0, False)
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})
    assert not json_equal("1", 1)
