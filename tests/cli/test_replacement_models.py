"""The replacements of a retiring fine-tune, through the real CLI against the fake OpenAI server: reasoning
models called in their own request shapes, a Responses-only model on ``/v1/responses``, answers left empty
by their token budget recorded as errors.

The suite is written as for the old models (``temperature: 0, max_tokens: 5``): every case must still be
answered, and no request may carry a setting the model refuses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import FakeOpenAI, FakeRequest
from fakeopenai.openapi import OpenAPISpec

from evalkit.cli import main

SUITE = """\
name: replacements
generation: {temperature: 0, max_tokens: 5}
completions: {separator: "\n\nQueue:", stop: ["\n"]}
cases:
  - {id: a, input: "Card charged twice", expected: billing}
  - {id: b, input: "App crashes on start", expected: technical}
  - {id: c, input: "Refund please", expected: billing}
scorers:
  - exact
"""
GENERATE = ("/v1/chat/completions", "/v1/completions", "/v1/responses")


def _label(request: FakeRequest) -> str:
    return "technical" if "crashes" in request.last_user else "billing"


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> Path:
    monkeypatch.chdir(tmp_path)
    for model in ("gpt-4o-mini", "gpt-5-mini", "o3-pro", "ft:gpt-4o-mini:acme::x", "davinci-002"):
        fake_openai.add_model(model) if model.startswith("ft:") else None
        fake_openai.script(model, _label)
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE)
    return path


def _run(suite: Path, *models: str) -> int:
    flags = [flag for model in models for flag in ("--model", model)]
    return main(["run", str(suite), *flags, "--quiet", "--out", "out"])


def _results() -> dict[str, Any]:
    results: dict[str, Any] = json.loads(Path("out/results.json").read_text())
    return results


def _bodies(server: FakeOpenAI, model: str) -> list[tuple[str, dict[str, Any]]]:
    return [(r.path, r.body) for r in server.requests if r.path in GENERATE and r.model == model]


def test_reasoning_targets_on_chat_and_responses_answer_every_case_in_their_own_shapes(
    fake_openai: FakeOpenAI, suite: Path, openai_spec: OpenAPISpec, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(suite, "prod=ft:gpt-4o-mini:acme::x", "next=gpt-5-mini", "pro=o3-pro", "old=davinci-002") == 0
    results = _results()
    for case in results["cases"]:
        assert {name: r["error"] for name, r in case["results"].items()} == dict.fromkeys(("prod", "next", "pro", "old"))
        assert case["results"]["next"]["scores"]["exact"] == 1.0 and case["results"]["pro"]["scores"]["exact"] == 1.0
    assert fake_openai.count(status=400) == 0 and fake_openai.count(status=404) == 0  # nothing refused
    for path, body in [(r.path, r.body) for r in fake_openai.requests if r.path in GENERATE]:
        if path == "/v1/responses":
            openai_spec.check(body, "CreateResponse")
        elif path == "/v1/completions":
            openai_spec.check(body, "CreateCompletionRequest")
        else:
            openai_spec.check(body, "CreateChatCompletionRequest")
    next_bodies = _bodies(fake_openai, "gpt-5-mini")
    assert {path for path, _ in next_bodies} == {"/v1/chat/completions"}
    assert all(b["max_completion_tokens"] == 5 + 4096 and "max_tokens" not in b and "temperature" not in b for _, b in next_bodies)
    pro_bodies = _bodies(fake_openai, "o3-pro")
    assert {path for path, _ in pro_bodies} == {"/v1/responses"}  # never tried on Chat
    assert all(b["max_output_tokens"] == 5 + 4096 and b["store"] is False for _, b in pro_bodies)
    assert all(b["max_tokens"] == 5 and b["temperature"] == 0 for _, b in _bodies(fake_openai, "ft:gpt-4o-mini:acme::x"))
    targets = {t["name"]: t for t in results["targets"]}
    assert (targets["pro"]["endpoint"], targets["next"]["endpoint"]) == ("responses", "chat")
    assert "adjusted" not in targets["prod"]
    assert targets["next"]["adjusted"][1] == "temperature 0 not sent: reasoning models take only the default (1)"
    usage = results["cases"][0]["results"]["next"]["usage"]
    assert usage["reasoning_tokens"] == 40 and usage["completion_tokens"] == 41
    err = capsys.readouterr().err
    assert err.count("evalkit: target 'next' (gpt-5-mini, chat): max_tokens 5 sent as max_completion_tokens") == 1


def test_a_model_the_service_serves_only_on_responses_moves_there_and_says_so_once(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.add_model("acme-thinker", "responses")  # a name no lineage table knows
    fake_openai.script("acme-thinker", _label)
    assert _run(suite, "new=acme-thinker") == 0
    assert fake_openai.count("/v1/chat/completions", model="acme-thinker") == 1  # the first try, then never
    assert fake_openai.count("/v1/responses", model="acme-thinker") == 3
    assert _results()["targets"][0]["endpoint"] == "responses"
    err = capsys.readouterr().err
    assert err.count("evalkit: target 'new' (acme-thinker) is served only on the Responses API") == 1
    assert _run(suite, "new=acme-thinker") == 0  # a re-run: one probe on Chat, the answers from the cache
    assert fake_openai.count("/v1/responses", model="acme-thinker") == 3


def test_an_answer_left_empty_by_its_token_budget_is_an_error_saying_so(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite.write_text(SUITE + "targets:\n  tight: {model: gpt-5-mini, generation: {reasoning_allowance: 10}}\n")
    assert main(["run", str(suite), "--quiet", "--out", "out"]) == 2  # 40 reasoning tokens > 15: no answer at all
    errors = [case["results"]["tight"]["error"] for case in _results()["cases"]]
    assert all(e is not None and e.startswith("the answer is empty: its token budget ran out (15 tokens") for e in errors)
    assert "generation.reasoning_allowance" in errors[0]
    assert _results()["targets"][0]["generation"] == {"reasoning_allowance": 10}
    assert all(b["max_completion_tokens"] == 15 for _, b in _bodies(fake_openai, "gpt-5-mini"))


def test_a_setting_an_unknown_model_refuses_names_the_per_target_override(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.add_model("acme-r1", "chat", reasoning=True)  # a reasoning model evalkit's table does not know
    fake_openai.script("acme-r1", _label)
    assert _run(suite, "r1=acme-r1") == 2
    error = _results()["cases"][0]["results"]["r1"]["error"]
    assert error.startswith("model 'acme-r1' refuses 'max_tokens' (unsupported_parameter: Unsupported parameter")
    assert "targets: {r1: {model: acme-r1, generation: {...}}}" in error
    assert fake_openai.count(model="acme-r1") == 1  # the whole target stops at the first refusal
    suite.write_text(
        SUITE + "targets:\n  r1: {model: acme-r1, generation: {temperature: 1, max_tokens: null, "
        "params: {max_completion_tokens: 64}}}\n"
    )
    assert main(["run", str(suite), "--quiet", "--out", "out"]) == 0


def test_batch_sends_a_responses_target_through_the_batch_api_on_v1_responses(
    fake_openai: FakeOpenAI, suite: Path
) -> None:
    assert main(["run", str(suite), "--model", "pro=o3-pro", "--batch", "--quiet", "--out", "out"]) == 0
    assert fake_openai.count("/v1/responses") == 0  # every answer came from the batch
    assert len(fake_openai.batch_ids()) == 1
    answers = [case["results"]["pro"] for case in _results()["cases"]]
    assert [(a["output"], a["batch"], a["error"]) for a in answers] == [
        ("billing", True, None), ("technical", True, None), ("billing", True, None)
    ]


def test_the_report_lists_what_a_targets_request_shape_changed(fake_openai: FakeOpenAI, suite: Path) -> None:
    assert _run(suite, "next=gpt-5-mini") == 0
    page = Path("out/report.html").read_text(encoding="utf-8")
    assert "request shape: 2 adjusted" in page  # the budget and the temperature
    assert "temperature 0 not sent: reasoning models take only the default (1)" in page
