"""``evalkit run --batch`` through the real CLI against the fake OpenAI: answers the Batch API gave are
costed at the batch rate (half the standard one), in the run that got them and in a re-run served from the
cache, so a ``max_cost_usd`` budget reads what was really spent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import FakeOpenAI, FakeRequest

from evalkit.cli import main

SUITE = """\
name: tiny
cases:
  - {id: a, input: "Card charged twice", expected: billing}
  - {id: b, input: "App crashes on start", expected: technical}
  - {id: c, input: "Where is my parcel?", expected: billing}
scorers:
  - classify: {labels: [billing, technical]}
"""
GENERATION = "/v1/chat/completions"


def _first_word(request: FakeRequest) -> str:
    return "billing" if "charged" in request.last_user else "technical"


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tiny.yaml"
    path.write_text(SUITE)
    return path


def run(suite: Path, out: str, *flags: str, cache: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``evalkit run`` of the suite on gpt-4o-mini with the response cache in ``cache``; its results.json."""
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(suite.parent / cache))
    code = main(["run", str(suite), "--model", "m=gpt-4o-mini", *flags, "--quiet", "--out", out])
    results: dict[str, Any] = json.loads(Path(out, "results.json").read_text())
    results["exit_code"] = code
    return results


def tokens(results: dict[str, Any]) -> list[tuple[int, int]]:
    """Per case, the prompt and completion tokens of target m's answer."""
    usage = [case["results"]["m"]["usage"] for case in results["cases"]]
    return [(u["prompt_tokens"], u["completion_tokens"]) for u in usage]


def test_a_batch_run_costs_half_a_live_run_and_its_cached_re_run_keeps_the_batch_price(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.script("gpt-4o-mini", _first_word)
    live = run(suite, "live", cache="live-cache", monkeypatch=monkeypatch)
    live_calls = fake_openai.count(GENERATION)

    batch = run(suite, "batch", "--batch", cache="batch-cache", monkeypatch=monkeypatch)

    assert (live["exit_code"], batch["exit_code"]) == (0, 0)
    assert live_calls == 3 and fake_openai.count(GENERATION) == live_calls  # the batch run: no live call
    assert len(fake_openai.batch_ids()) == 1
    assert tokens(batch) == tokens(live) and all(p > 0 and c > 0 for p, c in tokens(live))
    assert [case["results"]["m"]["batch"] for case in live["cases"]] == [False] * 3
    assert [case["results"]["m"]["batch"] for case in batch["cases"]] == [True] * 3
    live_cost = live["usage"]["m"]["cost_usd"]
    assert live_cost > 0
    assert batch["usage"]["m"]["cost_usd"] == pytest.approx(live_cost / 2)
    assert batch["usage"]["m"]["price"] == live["usage"]["m"]["price"]  # the standard price is shown

    requests = len(fake_openai.requests)
    again = run(suite, "again", cache="batch-cache", monkeypatch=monkeypatch)  # no --batch: all cached

    assert again["exit_code"] == 0 and len(fake_openai.requests) == requests
    answers = [case["results"]["m"] for case in again["cases"]]
    assert [(answer["cached"], answer["batch"]) for answer in answers] == [(True, True)] * 3
    assert again["usage"]["m"]["cost_usd"] == pytest.approx(live_cost / 2)


def test_a_cost_budget_between_the_batch_and_the_live_price_passes_only_the_batch_answers(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.script("gpt-4o-mini", _first_word)
    live_cost = run(suite, "live", cache="live-cache", monkeypatch=monkeypatch)["usage"]["m"]["cost_usd"]
    run(suite, "batch", "--batch", cache="batch-cache", monkeypatch=monkeypatch)
    suite.write_text(SUITE + f"gate:\n  - {{target: m, max_cost_usd: {live_cost * 0.75!r}}}\n")

    over = run(suite, "over", cache="live-cache", monkeypatch=monkeypatch)
    within = run(suite, "within", cache="batch-cache", monkeypatch=monkeypatch)

    assert (over["exit_code"], over["gate"]["verdict"]) == (1, "no-go")
    assert (within["exit_code"], within["gate"]["verdict"]) == (0, "go")
