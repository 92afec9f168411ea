"""End to end: a function-calling fine-tune evaluated with the ``tool_calls`` scorer. The data is chat
JSONL whose references are assistant ``tool_calls``; the fake OpenAI server answers with tool calls (or
text); results.json carries the per-case verdicts, the tool-call figures and a McNemar comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import FakeOpenAI, FakeRequest, Reply, ToolCall

from evalkit.cli import main

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "parameters": {"type": "object", "properties": {key: {"type": "string"} for key in keys}},
        },
    }
    for name, keys in (("get_weather", ["city"]), ("lookup_order", ["order_id"]))
]

CASES: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = [
    ("Weather in Paris?", [("get_weather", {"city": "Paris"})]),
    ("Weather in Rome and order A17?", [("get_weather", {"city": "Rome"}), ("lookup_order", {"order_id": "A17"})]),
    ("Where is order B2?", [("lookup_order", {"order_id": "B2"})]),
    ("Weather in Oslo?", [("get_weather", {"city": "Oslo"})]),
]
"""(user message, the calls the reference assistant message makes)."""

SUITE = """\
name: calls
data: calls.jsonl
scorers:
  - tool_calls
gate:
  - {target: candidate, metric: tool_calls.name_accuracy, min: 0.75}
"""


def _row(question: str, expected: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(expected)
    ]
    return {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": None, "tool_calls": calls},
        ],
        "tools": TOOLS,
    }


def _candidate(request: FakeRequest) -> Reply:
    """Right on every case but Oslo (wrong city); the parallel calls come in the other order."""
    assert request.body["tools"] == TOOLS  # the row's tools reach the model
    question = request.last_user
    expected = next(calls for q, calls in CASES if q == question)
    if "Oslo" in question:
        expected = [("get_weather", {"city": "Bergen"})]
    return Reply(tool_calls=tuple(ToolCall(name, args) for name, args in reversed(expected)))


def _base(request: FakeRequest) -> str | Reply:
    """Text, except on Paris, which it gets right."""
    if "Paris" in request.last_user:
        return Reply(tool_calls=(ToolCall("get_weather", '{"city": "Paris"}'),))
    return "I cannot look that up."


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "calls.jsonl").write_text("".join(json.dumps(_row(q, c)) + "\n" for q, c in CASES))
    path = tmp_path / "calls.yaml"
    path.write_text(SUITE)
    return path


def test_tool_call_answers_are_scored_and_their_figures_reach_results_json(
    fake_openai: FakeOpenAI, suite: Path
) -> None:
    fake_openai.add_model("ft:gpt-4o-mini:acme:calls:abc123")
    fake_openai.script("ft:gpt-4o-mini:acme:calls:abc123", _candidate)
    fake_openai.script("gpt-4o-mini", _base)
    code = main([
        "run", str(suite), "--model", "base=gpt-4o-mini", "--model", "candidate=ft:gpt-4o-mini:acme:calls:abc123",
        "--quiet", "--out", "out",
    ])
    assert code == 0  # name_accuracy 1.0 ≥ 0.75: go
    results = json.loads(Path("out/results.json").read_text(encoding="utf-8"))

    per_case = [(c["results"]["candidate"]["scores"]["tool_calls"], c["results"]["base"]["scores"]["tool_calls"])
                for c in results["cases"]]
    assert per_case == [(1.0, 1.0), (1.0, 0.0), (1.0, 0.0), (0.0, 0.0)]
    oslo = results["cases"][3]["results"]["candidate"]
    assert oslo["explanations"]["tool_calls"] == '"get_weather": argument "city" is "Bergen", expected "Oslo"'

    figures = {name: metric["value"] for name, metric in results["metrics"]["candidate"].items()}
    assert figures == {
        "tool_calls": 0.75,
        "tool_calls.name_accuracy": 1.0,
        "tool_calls.args_exact": 4 / 5,  # 5 paired calls, Oslo's arguments wrong
        "tool_calls.args_f1": 2 * 4 / (5 + 5),
        "tool_calls.text_rate": 0.0,
        "error_rate": 0.0,
    }
    base = {name: metric["value"] for name, metric in results["metrics"]["base"].items()}
    assert (base["tool_calls.name_accuracy"], base["tool_calls.args_exact"], base["tool_calls.text_rate"]) == (
        0.25, 1.0, 0.75,
    )
    assert base["tool_calls.args_f1"] == 2 * 1 / (1 + 5)

    [comparison] = [c for c in results["comparisons"] if c["metric"] == "tool_calls"]
    assert (comparison["target"], comparison["versus"], comparison["delta"]) == ("candidate", "base", 0.5)
    assert comparison["test"] == "mcnemar-exact"  # a 0/1 score: paired exactly


def test_validate_reports_references_that_are_not_tool_calls_before_any_call(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Path("calls.jsonl").open("a", encoding="utf-8") as data:
        data.write(json.dumps({"id": "chat", "messages": [
            {"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi! How can I help?"},
        ]}) + "\n")
    main(["validate", str(suite)])
    out = capsys.readouterr().out
    assert (
        "scorer tool_calls: 1 case(s) it cannot use (first: chat: reference 'Hi! How can I help?' is not "
        "tool calls"
    ) in out
    assert fake_openai.requests == []
