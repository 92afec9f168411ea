"""Graders that call a model — score_model, label_model, cosine text_similarity, a multi holding one — hand
the model machinery (``model_graders``, ``embeddings``: stood in for here, they have tests of their own)
their input messages rendered for each answer, and are scored concurrently, as judges are."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Sequence
from typing import Any

import pytest

from evalkit.records import Case, Outcome, Score
from evalkit.scorers import build_scorers
from evalkit.scorers.run import score_run
from evalkit.suite.grader_options import parse_grader
from evalkit.suite.scorer_options import ScorerConfig

BACKEND = object()  # what the scorers are built with; the stand-ins check it is handed on


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the stand-in model machinery was asked, in order."""
    calls: list[dict[str, Any]] = []

    async def score_model_grade(backend: object, **kwargs: Any) -> Score:
        assert backend is BACKEND
        calls.append({"kind": "score_model", **kwargs})
        return Score(7.0 if kwargs["messages"][-1]["content"].endswith("Answer: Paris") else 2.0)

    async def label_model_grade(backend: object, **kwargs: Any) -> Score:
        calls.append({"kind": "label_model", **kwargs})
        return Score(1.0, answer="positive")

    async def cosine_similarity(backend: object, **kwargs: Any) -> float:
        calls.append({"kind": "cosine", **kwargs})
        return 0.5

    models = types.ModuleType("evalkit.scorers.graders.model_graders")
    models.score_model_grade = score_model_grade  # type: ignore[attr-defined]
    models.label_model_grade = label_model_grade  # type: ignore[attr-defined]
    embeddings = types.ModuleType("evalkit.scorers.graders.embeddings")
    embeddings.cosine_similarity = cosine_similarity  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, models.__name__, models)
    monkeypatch.setitem(sys.modules, embeddings.__name__, embeddings)
    return calls


SCORE_MODEL = {
    "type": "score_model",
    "name": "Judge score",
    "model": "gpt-4o",
    "range": [1, 10],
    "pass_threshold": 5,
    "sampling_params": {"temperature": 0.2, "seed": 42},
    "input": [
        {"role": "system", "content": "Score the answer from 1 to 10."},
        {
            "role": "user",
            "type": "message",
            "content": [
                {"type": "input_text", "text": "Question {{item.id}}: reference {{item.reference}}"},
                {"type": "input_text", "text": "Answer: {{sample.output_text}}"},
            ],
        },
    ],
}


def _run(graders: Sequence[dict[str, Any]], outputs: list[str]) -> tuple[list[Any], dict[str, list[Score | None]]]:
    configs = [ScorerConfig(kind="grader", options=parse_grader(g)) for g in graders]
    scorers = build_scorers(configs, judge=BACKEND)  # type: ignore[arg-type]
    cases = [Case(id=f"q{i}", reference="Paris") for i in range(len(outputs))]
    scores = asyncio.run(score_run(cases, {"m": [Outcome(output=o) for o in outputs]}, scorers))
    return scorers, scores["m"]


def test_score_model_gets_its_messages_rendered_and_its_settings(asked: list[dict[str, Any]]) -> None:
    scorers, scores = _run([SCORE_MODEL], ["Paris", "Lyon"])
    assert scorers[0].calls_model
    assert scores["judge_score"] == [Score(7.0), Score(2.0)]
    first = asked[0] if asked[0]["messages"][-1]["content"].endswith("Answer: Paris") else asked[1]
    assert first["messages"] == [
        {"role": "system", "content": "Score the answer from 1 to 10."},
        {"role": "user", "content": "Question q0: reference Paris\nAnswer: Paris"},
    ]
    assert (first["model"], first["scorer"], first["score_range"]) == ("gpt-4o", "judge_score", (1.0, 10.0))
    assert first["sampling"] == {"temperature": 0.2, "seed": 42}
    assert scorers[0].metric_names() == ["judge_score", "judge_score.pass_rate"]
    assert scorers[0].aggregate([], scores["judge_score"]).metrics == {"pass_rate": 0.5}


def test_label_model_and_cosine_reach_the_model_machinery(asked: list[dict[str, Any]]) -> None:
    label = {
        "type": "label_model", "name": "tone", "model": "gpt-4o-mini", "labels": ["positive", "negative"],
        "passing_labels": ["positive"], "input": [{"role": "user", "content": "Tone of: {{sample.output_text}}"}],
    }
    cosine = {
        "type": "text_similarity", "name": "meaning", "evaluation_metric": "cosine", "pass_threshold": 0.4,
        "input": "{{sample.output_text}}", "reference": "{{item.reference}}",
    }  # fmt: skip
    scorers, scores = _run([label, cosine], ["Lovely!"])
    assert [s.calls_model for s in scorers] == [True, True]
    assert scores["tone"] == [Score(1.0, answer="positive")] and scores["meaning"] == [Score(0.5)]
    by_kind = {call["kind"]: call for call in asked}
    assert by_kind["label_model"]["messages"] == [{"role": "user", "content": "Tone of: Lovely!"}]
    assert by_kind["label_model"]["labels"] == ["positive", "negative"]
    assert by_kind["label_model"]["passing_labels"] == ["positive"]
    assert by_kind["cosine"] == {
        "kind": "cosine", "scorer": "meaning", "model": "text-embedding-3-large", "text": "Lovely!", "reference": "Paris",
    }  # fmt: skip


def test_a_multi_holding_a_model_grader_calls_a_model_and_a_local_one_does_not(asked: list[dict[str, Any]]) -> None:
    exact = {"type": "string_check", "input": "{{sample.output_text}}", "reference": "{{item.reference}}", "operation": "eq"}
    multi = {"type": "multi", "name": "mixed", "graders": {"exact": exact, "judge": SCORE_MODEL}, "calculate_output": "exact + judge / 10"}
    local = {"type": "multi", "name": "local", "graders": {"exact": exact}, "calculate_output": "exact"}
    scorers, scores = _run([multi, local], ["Paris"])
    assert [s.calls_model for s in scorers] == [True, False]
    assert scores["mixed"][0] is not None and scores["mixed"][0].value == pytest.approx(1.7)
    assert [c["scorer"] for c in asked] == ["mixed"]  # usage is counted under the grader's own name
    options = parse_grader(multi)
    assert options.called_models() == ["gpt-4o"]
