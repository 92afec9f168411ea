"""``string_check`` as OpenAI defines it — eq, ne, like (contains), ilike (contains, ignoring case) → 1 or 0 —
with its input and reference rendered from the answer (``sample``) and the case's data row (``item``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from evalkit.records import Case
from evalkit.scorers.graders import build_grader
from evalkit.suite.grader_options import parse_grader


def _score(grader: dict[str, Any], output: str, case: Case | None = None) -> float:
    scorer = build_grader(parse_grader({"type": "string_check", "name": "check", **grader}))
    return asyncio.run(scorer.score(output, case or Case(id="c1", reference=""))).value


@pytest.mark.parametrize(
    ("operation", "text", "reference", "expected"),
    [
        ("eq", "Paris", "Paris", 1.0),
        ("eq", "Paris", "paris", 0.0),  # case counts
        ("eq", "Paris ", "Paris", 0.0),  # so does whitespace
        ("eq", "", "", 1.0),
        ("ne", "Paris", "Rome", 1.0),
        ("ne", "Paris", "Paris", 0.0),
        ("ne", "", "", 0.0),
        ("like", "The capital is Paris.", "Paris", 1.0),
        ("like", "The capital is paris.", "Paris", 0.0),  # like is case-sensitive
        ("like", "Paris", "The capital is Paris", 0.0),  # input contains reference, not the other way
        ("like", "anything", "", 1.0),  # the empty text is in every text
        ("like", "", "Paris", 0.0),
        ("ilike", "THE CAPITAL IS PARIS.", "paris", 1.0),
        ("ilike", "Straße", "STRASSE", 1.0),  # ignoring case as Unicode does (casefold)
        ("ilike", "Rome", "paris", 0.0),
        ("ilike", "", "", 1.0),
    ],
)
def test_each_operation_on_literal_texts(operation: str, text: str, reference: str, expected: float) -> None:
    grader = {"operation": operation, "input": "{{sample.output_text}}", "reference": "{{item.expected}}"}
    case = Case(id="c1", reference="", item={"expected": reference})
    assert _score(grader, text, case) == expected


def test_templates_read_the_answer_the_reference_and_item_fields() -> None:
    case = Case(id="q7", reference="Paris", item={"city": {"name": "Paris"}, "tags": ["geo", "eu"]})
    reads_reference = {"operation": "eq", "input": "{{sample.output_text}}", "reference": "{{item.reference}}"}
    assert _score(reads_reference, "Paris", case) == 1.0
    nested = {"operation": "eq", "input": "{{ sample.output_text }}", "reference": "{{ item.city.name }}"}
    assert _score(nested, "Paris", case) == 1.0
    composed = {"operation": "eq", "input": "{{item.id}}: {{sample.output_text}}", "reference": "q7: {{item.tags[1]}}"}
    assert _score(composed, "eu", case) == 1.0
    literal = {"operation": "like", "input": "{{sample.output_text}}", "reference": "Paris"}
    assert _score(literal, "It is Paris", case) == 1.0


def test_output_json_reads_fields_of_a_json_answer() -> None:
    grader = {"operation": "eq", "input": "{{sample.output_json.city}}", "reference": "{{item.reference}}"}
    case = Case(id="c1", reference="Paris")
    assert _score(grader, '{"city": "Paris", "country": "France"}', case) == 1.0
    assert _score(grader, '{"city": "Lyon"}', case) == 0.0


def test_output_tools_reads_the_tool_calls_of_an_answer() -> None:
    grader = {"operation": "eq", "input": "{{sample.output_tools[0].function.name}}", "reference": "get_weather"}
    answer = '[{"arguments": {"city": "Paris"}, "name": "get_weather"}]'  # evalkit's rendering of tool calls
    assert _score(grader, answer) == 1.0
    arguments = {"operation": "like", "input": "{{sample.output_tools[0].function.arguments}}", "reference": "Paris"}
    assert _score(arguments, answer) == 1.0


def test_a_miss_says_what_was_compared() -> None:
    scorer = build_grader(
        parse_grader({
            "type": "string_check", "name": "check", "operation": "eq",
            "input": "{{sample.output_text}}", "reference": "{{item.reference}}",
        })
    )  # fmt: skip
    score = asyncio.run(scorer.score("Rome", Case(id="c1", reference="Paris")))
    assert score.value == 0.0
    assert score.explanation == "eq failed: input 'Rome', reference 'Paris'"
    assert scorer.name == "check" and scorer.kind == "grader" and not scorer.calls_model
    assert scorer.metric_names() == ["check"]  # no pass threshold: no pass_rate
