"""``evalkit run`` with OpenAI grader objects as scorers, in-process against the fake OpenAI: each grader's
mean under its (sanitised) name, ``<name>.pass_rate`` where it has a threshold, per-case scores in
results.json; and a template naming a field some case lacks stops validate and run before any call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import FakeOpenAI, FakeRequest
from rapidfuzz import fuzz, utils

from evalkit.cli import main

ROWS = [
    {"id": "q1", "question": "Capital of France?", "answer": "Paris", "full": "The capital of France is Paris"},
    {"id": "q2", "question": "Capital of Italy?", "answer": "Rome", "full": "The capital of Italy is Rome"},
    {"id": "q3", "question": "Capital of Spain?", "answer": "Madrid", "full": "The capital of Spain is Madrid"},
    {"id": "q4", "question": "Capital of Peru?", "answer": "Lima", "full": "The capital of Peru is Lima"},
]
ANSWERS = {  # target model -> question -> answer
    "gpt-4o-mini": {
        "France": "The capital of France is Paris",
        "Italy": "It is Rome, I think",
        "Spain": "Barcelona",
        "Peru": "the capital of peru is lima",
    },
    "gpt-4o": {
        "France": "The capital of France is Paris",
        "Italy": "The capital of Italy is Rome",
        "Spain": "The capital of Spain is Madrid",
        "Peru": "Lima",
    },
}
SUITE = """\
name: capitals
data: test.jsonl
scorers:
  - grader:
      type: string_check
      name: Mentions the answer (any case)
      input: "{{ sample.output_text }}"
      reference: "{{ item.answer }}"
      operation: ilike
  - grader:
      type: text_similarity
      name: Close to the full answer
      input: "{{sample.output_text}}"
      reference: "{{item.full}}"
      evaluation_metric: fuzzy_match
      pass_threshold: 0.9
"""


def _rows(rows: list[dict[str, str]]) -> str:
    return "".join(
        json.dumps({
            "id": row["id"],
            "messages": [{"role": "user", "content": row["question"]}],
            "item": {k: row[k] for k in ("answer", "full") if k in row},
        }) + "\n"
        for row in rows
    )  # fmt: skip


def _answer(model: str) -> Any:
    def answer(request: FakeRequest) -> str:
        country = request.last_user.split()[-1].rstrip("?")
        return ANSWERS[model][country]

    return answer


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "test.jsonl").write_text(_rows(ROWS))
    path = tmp_path / "capitals.yaml"
    path.write_text(SUITE)
    return path


def test_grader_metrics_and_pass_rate_reach_results_json(fake_openai: FakeOpenAI, suite: Path) -> None:
    for model in ANSWERS:
        fake_openai.script(model, _answer(model))

    code = main(["run", str(suite), "--model", "base=gpt-4o-mini", "--model", "big=gpt-4o", "--quiet", "--out", "out"])

    assert code == 0
    results = json.loads(Path("out/results.json").read_text())
    mentions, close = "mentions_the_answer_any_case", "close_to_the_full_answer"
    for model, target in (("gpt-4o-mini", "base"), ("gpt-4o", "big")):
        answers = [ANSWERS[model][row["question"].split()[-1].rstrip("?")] for row in ROWS]
        contains = [float(row["answer"].lower() in a.lower()) for row, a in zip(ROWS, answers, strict=True)]
        similar = [
            fuzz.WRatio(a, row["full"], processor=utils.default_process) / 100
            for row, a in zip(ROWS, answers, strict=True)
        ]
        metrics = results["metrics"][target]
        assert metrics[mentions]["value"] == pytest.approx(sum(contains) / 4)
        assert metrics[close]["value"] == pytest.approx(sum(similar) / 4)
        assert metrics[f"{close}.pass_rate"]["value"] == pytest.approx(sum(s >= 0.9 for s in similar) / 4)
        scores = [case["results"][target]["scores"] for case in results["cases"]]
        assert [s[mentions] for s in scores] == contains
        assert [s[close] for s in scores] == pytest.approx(similar)
    assert results["metrics"]["base"][mentions]["value"] == 0.75  # "Barcelona" misses Madrid
    assert [s["kind"] for s in results["scorers"]] == ["grader", "grader"]


def test_a_case_lacking_a_template_field_stops_validate_and_run_before_any_call(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [dict(row) for row in ROWS]
    del rows[2]["answer"]
    Path("test.jsonl").write_text(_rows(rows))

    for argv in (["validate", str(suite)], ["run", str(suite), "--model", "m=gpt-4o-mini", "--quiet"]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2
        assert err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith("evalkit: error: test.jsonl:3: item: case q3: item has no field 'answer' ")
        assert "(its fields: full, id, reference)" in err
        assert "scorers[0].grader.reference (capitals.yaml:8)" in err
    assert fake_openai.requests == []
