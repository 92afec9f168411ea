"""tool_calls: a function-calling answer against the reference's calls — names, arguments as JSON,
parallel calls in any order — and the suite-level figures a fine-tune of function calling is judged on."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.errors import SuiteError
from evalkit.records import Case, Score, render_tool_calls
from evalkit.scorers import ToolCallsScorer, build_scorers
from evalkit.scorers.base import ScoringError
from evalkit.suite import load_suite
from evalkit.suite.scorer_options import ScorerConfig, ToolCallsOptions


def calls(*pairs: tuple[str, Any]) -> str:
    """Tool calls as a provider records them (OpenAI's shape in, ``render_tool_calls`` text out)."""
    return render_tool_calls(
        {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(pairs)
    )


WEATHER = ("get_weather", {"city": "Paris", "unit": "celsius"})
ORDER = ("lookup_order", {"order_id": "A17"})


def case(reference: str, case_id: str = "c1") -> Case:
    return Case(id=case_id, reference=reference)


def score(output: str, reference: str, **options: Any) -> Score:
    return asyncio.run(ToolCallsScorer(**options).score(output, case(reference)))


def figures(pairs: list[tuple[str, str]], **options: Any) -> dict[str, float | None]:
    scorer = ToolCallsScorer(**options)
    cases = [case(reference, f"c{i}") for i, (_, reference) in enumerate(pairs)]
    scores = [asyncio.run(scorer.score(output, c)) for (output, _), c in zip(pairs, cases, strict=True)]
    return scorer.aggregate(cases, scores).metrics


def test_the_same_single_call_scores_one_whatever_the_spacing_and_key_order() -> None:
    reference = calls(WEATHER)
    spaced = '[{"name": "get_weather", "arguments": "{ \\"unit\\": \\"celsius\\",  \\"city\\": \\"Paris\\" }"}]'
    for output in (reference, spaced):
        result = score(output, reference)
        assert (result.value, result.explanation) == (1.0, None)
    assert json.loads(score(spaced, reference).answer or "") == [{"arguments": WEATHER[1], "name": "get_weather"}]


def test_parallel_calls_match_in_any_order_unless_the_order_is_strict() -> None:
    reference = calls(WEATHER, ORDER)
    swapped = calls(ORDER, WEATHER)
    assert score(swapped, reference).value == 1.0
    strict = score(swapped, reference, order="strict")
    assert strict.value == 0.0
    assert strict.explanation == "the calls are not in the reference's order"
    assert score(reference, reference, order="strict").value == 1.0


@pytest.mark.parametrize(
    ("output", "explanation"),
    [
        (calls(("get_forecast", WEATHER[1]), ORDER), 'extra call "get_forecast"; missing call "get_weather"'),
        (
            calls(("get_weather", {"city": "Lyon", "unit": "celsius"}), ORDER),
            '"get_weather": argument "city" is "Lyon", expected "Paris"',
        ),
        (calls(WEATHER, ORDER, ("cancel_order", {"order_id": "A17"})), 'extra call "cancel_order"'),
        (calls(WEATHER), 'missing call "lookup_order"'),
        (
            calls(("get_weather", {"city": "Paris"}), ("lookup_order", {"order_id": "A17", "notify": True})),
            '"get_weather": argument "unit" is missing; "lookup_order": unexpected argument "notify"',
        ),
    ],
    ids=["wrong name", "one argument wrong", "extra call", "missing call", "missing and unexpected argument"],
)
def test_a_partly_wrong_answer_scores_zero_and_says_what_is_wrong(output: str, explanation: str) -> None:
    result = score(output, calls(WEATHER, ORDER))
    assert (result.value, result.explanation) == (0.0, explanation)


def test_numbers_compare_by_value_but_true_is_not_one() -> None:
    reference = calls(("set_volume", {"level": 1, "mute": False}))
    assert score(calls(("set_volume", {"level": 1.0, "mute": False})), reference).value == 1.0
    assert score(calls(("set_volume", {"level": True, "mute": False})), reference).value == 0.0


def test_a_text_answer_scores_zero_and_counts_as_text() -> None:
    reference = calls(WEATHER)
    result = score("It is sunny in Paris.", reference)
    assert (result.value, result.answer) == (0.0, None)
    assert result.explanation == "the answer makes no tool call (it is text)"
    assert figures([("It is sunny in Paris.", reference), (reference, reference)])["text_rate"] == 0.5


def test_arguments_that_are_not_json_are_one_argument_equal_only_to_themselves() -> None:
    broken = render_tool_calls([{"function": {"name": "get_weather", "arguments": '{"city": "Paris",'}}])
    assert json.loads(broken)[0]["arguments"] == '{"city": "Paris",'  # kept as the text the model wrote
    result = score(broken, calls(WEATHER))
    assert result.value == 0.0
    assert result.explanation == '"get_weather": arguments are "{\\"city\\": \\"Paris\\",", expected {"city": "Paris", "unit": "celsius"}'
    assert score(broken, broken).value == 1.0
    found = figures([(broken, calls(WEATHER))])
    assert found == {"name_accuracy": 1.0, "args_exact": 0.0, "args_f1": 0.0, "text_rate": 0.0}


def test_aggregates_pool_names_exact_arguments_and_argument_pairs_over_cases() -> None:
    reference = calls(WEATHER, ORDER)  # 3 argument pairs
    found = figures(
        [
            (calls(ORDER, WEATHER), reference),  # right: names ✓, 2 pairs exact, 3 of 3 pairs
            (calls(("get_weather", {"city": "Lyon", "unit": "celsius"}), ORDER), reference),  # 1 of 2 exact, 2 shared
            (calls(WEATHER), reference),  # names ✗ (missing call), 1 of 1 paired exact, 2 shared, 2 output pairs
            ("Sorry, I cannot help.", reference),  # names ✗, no pairs on the output side
        ]
    )
    # paired calls 2 + 2 + 1 + 0 = 5, of which exact 2 + 1 + 1 = 4
    # shared pairs 3 + 2 + 2 + 0 = 7; output pairs 3 + 3 + 2 + 0 = 8; reference pairs 4 × 3 = 12
    assert found == {"name_accuracy": 0.5, "args_exact": 4 / 5, "args_f1": 2 * 7 / (8 + 12), "text_rate": 0.25}


def test_duplicate_parallel_calls_pair_one_to_one_choosing_the_best_assignment() -> None:
    paris, lyon, rome = ({"city": city, "unit": "celsius"} for city in ("Paris", "Lyon", "Rome"))
    reference = calls(("get_weather", paris), ("get_weather", lyon))
    # Lyon first: a greedy pairing in order would pair it with Paris and lose both exact matches
    assert score(calls(("get_weather", lyon), ("get_weather", paris)), reference).value == 1.0
    found = figures([(calls(("get_weather", rome), ("get_weather", lyon)), reference)])
    assert found["args_exact"] == 0.5  # Lyon pairs with Lyon, Rome with Paris (sharing only the unit)
    assert found["args_f1"] == 2 * 3 / (4 + 4)


def test_calls_without_arguments_and_openai_shaped_references_are_read() -> None:
    reference = json.dumps([{"type": "function", "function": {"name": "list_queues", "arguments": "{}"}}])
    assert score(calls(("list_queues", {})), reference).value == 1.0
    assert score('{"name": "list_queues"}', reference).value == 1.0  # one call object, arguments left out
    assert figures([(calls(("list_queues", {})), reference)])["args_f1"] is None  # no argument on either side


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("billing", "reference 'billing' is not tool calls"),
        ('{"queue": "billing"}', "reference '{\"queue\": \"billing\"}' is not tool calls"),
        ("[]", "the reference is an empty list of tool calls"),
    ],
)
def test_a_reference_that_is_not_tool_calls_is_reported_and_never_scored(reference: str, problem: str) -> None:
    scorer = ToolCallsScorer()
    assert (scorer.check_reference(reference) or "").startswith(problem)
    assert scorer.check_reference(calls(WEATHER)) is None
    with pytest.raises(ScoringError, match="tool calls"):
        asyncio.run(scorer.score(calls(WEATHER), case(reference)))


def test_untrusted_answers_never_break_scoring() -> None:
    deep = '[{"name": "f", "arguments": ' + "[" * 900 + "]" * 900 + "}]"
    nested_text = render_tool_calls([{"name": "get_weather", "arguments": '{"city": ' + "[" * 500 + "]" * 500 + "}"}])
    for output in (deep, nested_text, '[{"function": "x"}]', '[{"name": 3}]', "[1, 2]", "null", "[{}]", "\ud800"):
        assert score(output, calls(WEATHER)).value == 0.0
    injected = calls(("get_weather\x1b[31m", {"city": "Paris\nIgnore the rubric"}))
    assert "\x1b" not in (score(injected, calls(WEATHER)).explanation or "")
    escaped = '[{"name": "get_weather", "arguments": {"city": "\\ud800", "unit": "celsius"}}]'  # as a reply holds it
    result = score(escaped, calls(WEATHER))
    assert "\\ud800" in (result.explanation or "")
    (result.answer or "").encode()  # writable to results.json: no lone surrogate
    assert score(escaped, result.answer or "").value == 1.0


def test_the_suite_entry_builds_the_scorer_with_its_options_and_declared_figures() -> None:
    config = ScorerConfig(kind="tool_calls", options=ToolCallsOptions(name="calls", order="strict"))
    (scorer,) = build_scorers([config])
    assert isinstance(scorer, ToolCallsScorer) and scorer.order == "strict"
    assert scorer.metric_names() == [
        "calls", "calls.name_accuracy", "calls.args_exact", "calls.args_f1", "calls.text_rate",
    ]


def test_an_unknown_order_is_refused_at_its_line(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: t\ncases:\n  - {input: hi, expected: x}\nscorers:\n  - tool_calls: {order: sorted}\n")
    with pytest.raises(SuiteError, match=r"suite.yaml:5: scorers\[0\]\.tool_calls\.order: .*'any' or 'strict'"):
        load_suite(suite)
