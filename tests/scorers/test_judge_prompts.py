"""The judge's prompts, how its verdicts are read, and the judge options a suite may give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.errors import SuiteError
from evalkit.records import Case, Score
from evalkit.scorers import ScoringError, build_scorers
from evalkit.scorers.judge.backend import JudgeModel
from evalkit.scorers.judge.prompts import (
    NONCE,
    neutralise,
    pairwise_prompt,
    parse_score,
    parse_winner,
    pointwise_prompt,
    render_conversation,
)
from evalkit.suite import load_suite
from evalkit.suite.scorer_options import JudgeOptions, ScorerConfig

SCALE = (1, 5)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"reasoning": "right and polite", "score": 4}', (4, "right and polite")),
        ('```json\n{"reasoning": "fine", "score": 5}\n```', (5, "fine")),
        ('Here is my verdict: {"score": 2, "reasoning": "rude"} Thanks.', (2, "rude")),
        ('{"reasoning": "ok", "score": "3"}', (3, "ok")),
        ('{"reasoning": "ok", "score": 3.0}', (3, "ok")),
        ("The answer is right.\nScore: 4", (4, "The answer is right.\nScore: 4")),
        ("**Score:** 3/5", (3, "**Score:** 3/5")),
        ("A score: 2 would be harsh.\nFinal score = 5", (5, "A score: 2 would be harsh.\nFinal score = 5")),
    ],
)
def test_verdicts_are_read_from_json_or_plain_text(reply: str, expected: tuple[int, str]) -> None:
    assert parse_score(reply, scale=SCALE) == expected


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("A fine answer overall.", "has no score: 'A fine answer overall.'"),
        ("", "has no score: (empty reply)"),
        ('{"reasoning": "x", "score": 0}', "score 0 is outside the scale 1 to 5"),
        ('{"reasoning": "x", "score": 6}', "score 6 is outside the scale 1 to 5"),
        ("Score: 4.5", "score '4.5' is not a whole number from 1 to 5"),
        ('{"reasoning": "x", "score": "four"}', "score 'four' is not a whole number"),
        ('{"reasoning": "x", "score": true}', "score True is not a whole number"),
        ('{"reasoning": "x", "score": null}', "score None is not a whole number"),
    ],
)
def test_an_unreadable_or_off_scale_verdict_is_an_error(reply: str, error: str) -> None:
    with pytest.raises(ScoringError, match="^the judge's ") as caught:
        parse_score(reply, scale=SCALE)
    assert error in caught.value.message


def test_a_long_unreadable_reply_is_quoted_short() -> None:
    with pytest.raises(ScoringError) as caught:
        parse_score("blah " * 200, scale=SCALE)
    assert len(caught.value.message) < 200 and caught.value.message.endswith("…'")


@pytest.mark.parametrize(
    ("reply", "winner"),
    [
        ('{"reasoning": "A is right", "winner": "A"}', "A"),
        ('{"reasoning": "", "winner": "b"}', "B"),
        ('{"reasoning": "", "winner": "Answer A"}', "A"),
        ('{"reasoning": "", "winner": "TIE"}', "tie"),
        ("Both are fine.\nWinner: tie", "tie"),
        ("**Winner:** B", "B"),
        ("winner = answer_a", "A"),
    ],
)
def test_pairwise_verdicts_are_read_from_json_or_plain_text(reply: str, winner: str) -> None:
    assert parse_winner(reply)[0] == winner


@pytest.mark.parametrize(
    "reply", ['{"reasoning": "", "winner": "C"}', "I prefer the first one.", '{"winner": 1}']
)
def test_a_pairwise_verdict_without_a_winner_is_an_error(reply: str) -> None:
    with pytest.raises(ScoringError, match="^the judge's"):
        parse_winner(reply)


def test_data_cannot_forge_a_marker() -> None:
    text = f"x >>> y <<<< ＜＜＜z ANSWER_{NONCE}>>> answer_{NONCE.upper()}"
    safe = neutralise(text)
    assert safe == "x ››› y ‹‹‹‹ ‹‹‹z ANSWER_····››› answer_····"
    assert "a << b >> c -> d" == neutralise("a << b >> c -> d")  # shorter runs are ordinary text


def test_conversations_are_rendered_with_roles_parts_and_tool_calls() -> None:
    case = Case(
        id="c",
        reference="r",
        messages=(
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": "lookup", "arguments": '{"id": 7}'}}],
            },
            {"role": "tool", "content": "a cat"},
        ),
    )
    assert render_conversation(case) == (
        "[system]\nBe brief.\n\n"
        "[user]\nWhat is this?\n[image_url]\n\n"
        '[assistant]\n(tool calls) [{"arguments": {"id": 7}, "name": "lookup"}]\n\n'
        "[tool]\na cat"
    )
    assert render_conversation(Case(id="p", reference="r", prompt="Ticket: help\n\n###\n\n")) == (
        "Ticket: help\n\n###\n\n"
    )


def test_prompts_are_the_same_for_the_same_case_so_that_they_are_cached() -> None:
    case = Case(id="c", reference="", prompt="q")
    first = pointwise_prompt(case, "a", rubric="R", scale=(0, 10))
    assert first == pointwise_prompt(case, "a", rubric="R", scale=(0, 10))
    assert "(no reference answer)" in first.user
    assert first.schema["schema"]["properties"]["score"]["enum"] == list(range(11))
    swapped = pairwise_prompt(case, "b", "a", rubric="R")
    assert swapped.system == pairwise_prompt(case, "a", "b", rubric="R").system
    assert json.dumps(swapped.schema).count('"winner"') == 2  # property and required


# --- options --------------------------------------------------------------------------------------


def _suite(tmp_path: Path, judge: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "name: s\ncases:\n  - {prompt: q, completion: a}\nscorers:\n"
        f"  - judge: {{model: gpt-4o, rubric: Is it right?, {judge}}}\n"
    )
    return path


@pytest.mark.parametrize(
    ("scale", "pass_mark"), [((1, 5), 4.0), ((1, 10), 8.0), ((0, 10), 8.0), ((1, 3), 3.0), ((0, 1), 1.0)]
)
def test_the_default_pass_mark_is_three_quarters_up_the_scale(
    scale: tuple[int, int], pass_mark: float
) -> None:
    options = JudgeOptions(model="gpt-4o", rubric="R", scale=scale)
    assert options.effective_pass_mark == pass_mark
    assert (
        JudgeOptions(model="gpt-4o", rubric="R", scale=scale, pass_mark=scale[0]).effective_pass_mark
        == scale[0]
    )


def test_a_judge_entry_loads_from_a_suite(tmp_path: Path) -> None:
    suite = load_suite(_suite(tmp_path, "scale: [1, 10], pass_mark: 7, repeats: 3, temperature: 0.5"))
    options = suite.scorers[0].options
    assert isinstance(options, JudgeOptions)
    assert (options.scale, options.effective_pass_mark, options.repeats, options.temperature) == (
        (1, 10),
        7,
        3,
        0.5,
    )


@pytest.mark.parametrize(
    ("judge", "error"),
    [
        ("scale: [5, 1]", "scorers[0].judge.scale: the scale's lowest verdict must be below its highest"),
        ("pass_mark: 6", "scorers[0].judge.pass_mark: 6 is outside the scale [1, 5]"),
        ("repeats: 0", "scorers[0].judge.repeats: must be at least 1"),
        ("mode: pairwise, repeats: 3", "scorers[0].judge: repeats applies only to mode: pointwise"),
        ("mode: pairwise, scale: [0, 10]", "scorers[0].judge: scale applies only to mode: pointwise"),
        ("mode: both", "scorers[0].judge.mode"),
        ("model2: x", "scorers[0].judge.model2: unknown key"),
    ],
)
def test_bad_judge_options_are_located(tmp_path: Path, judge: str, error: str) -> None:
    with pytest.raises(SuiteError) as caught:
        load_suite(_suite(tmp_path, judge))
    assert f"suite.yaml:5: {error}" in str(caught.value)


def test_an_unknown_endpoint_suffix_on_the_judge_model_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown endpoint '@chatt' \(allowed: @chat, @completions, @responses\)"):
        JudgeOptions(model="gpt-4o@chatt", rubric="R")


@pytest.mark.parametrize(
    ("spec", "model", "endpoint"),
    [
        ("gpt-4o", "gpt-4o", "chat"),
        ("davinci-002", "davinci-002", "completions"),
        ("ft:davinci-002:acme::x1", "ft:davinci-002:acme::x1", "completions"),
        ("my-judge@completions", "my-judge", "completions"),
        ("davinci-002@chat", "davinci-002", "chat"),
        ("claude@20240229", "claude@20240229", "chat"),
    ],
)
def test_the_judge_model_is_called_where_it_is_served(spec: str, model: str, endpoint: str) -> None:
    assert JudgeModel.parse(spec) == JudgeModel(model, endpoint)  # type: ignore[arg-type]


def test_a_saved_runs_judge_scorers_re_aggregate_from_values_and_answers_alone() -> None:
    configs = [
        JudgeOptions(model="gpt-4o", rubric="R", repeats=3),
        JudgeOptions(model="gpt-4o", rubric="R", mode="pairwise", name="versus"),
    ]
    saved = json.loads(json.dumps([c.model_dump(by_alias=True, exclude_none=True) for c in configs]))
    pointwise, pairwise = build_scorers(
        [ScorerConfig(kind="judge", options=JudgeOptions(**s)) for s in saved]
    )

    rated = pointwise.aggregate([], [Score(0.75, answer="3, 4, 5"), Score(0.5, answer="3, 3, 3"), None])
    assert rated.n == 2
    assert rated.metrics == {"pass_rate": 0.5, "mean_verdict": 3.5, "spread": 0.5}
    compared = pairwise.aggregate(
        [], [Score(1.0, answer="target, target"), Score(0.5, answer="target, base"), None]
    )
    assert compared.n == 2
    assert compared.metrics == {"win_rate": 0.5, "loss_rate": 0.0, "tie_rate": 0.5, "position_bias_rate": 0.5}
