"""One path to a model: the targets' calls and the judge's go through one ``Caller`` — one cache table,
one limit on calls in flight."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from test_run import FakeService, answer, cases, provider_for

from evalkit.records import Outcome, Target
from evalkit.runner import run_targets
from evalkit.runner.cache import Cache
from evalkit.runner.calls import Caller
from evalkit.scorers import build_scorers
from evalkit.scorers.judge.backend import JudgeBackend
from evalkit.scorers.run import score_run
from evalkit.suite.scorer_options import JudgeOptions, ScorerConfig

TARGETS = [Target(name="a", model="gpt-4o-mini", endpoint="chat"), Target(name="b", model="gpt-4o", endpoint="chat")]
VERDICT = json.dumps({"reasoning": "fine", "score": 4})


@pytest.fixture(autouse=True)
def fake_service_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://fake.test/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-calls")


def judge_answers(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
    """The judge (a system message first) gets a verdict; the targets get the service's echo."""
    if body["messages"][0]["role"] == "system":
        return httpx2.Response(200, json=answer(path, body, VERDICT))
    return None


def run_both(service: FakeService, cache: Cache) -> tuple[dict[str, list[Outcome]], int]:
    """The targets' calls and a judge's, at the same time, through one caller with two slots; returns the
    targets' outcomes and how many verdicts the judge got."""
    judged = cases(6)
    earlier = {"earlier": [Outcome(output=f"answer {i}") for i in range(len(judged))]}

    async def go() -> tuple[dict[str, list[Outcome]], int]:
        async with provider_for(service) as provider:
            caller = Caller(provider, cache=cache, concurrency=2)
            config = ScorerConfig(kind="judge", options=JudgeOptions(model="gpt-4.1", rubric="Be right."))
            scorers = build_scorers([config], judge=JudgeBackend(caller))
            outcomes, scores = await asyncio.gather(
                run_targets(cases(5), TARGETS, caller=caller, progress=False),
                score_run(judged, earlier, scorers),
            )
        verdicts = [s for s in scores["earlier"]["judge"] if s is not None and s.value == 0.75]
        return outcomes, len(verdicts)

    return asyncio.run(go())


def test_a_judge_call_and_a_target_call_share_the_cache_table_and_the_limit(tmp_path: Path) -> None:
    service = FakeService(fault=judge_answers, delay=0.01)
    with Cache.open(tmp_path) as cache:
        outcomes, verdicts = run_both(service, cache)
        stored = len(cache)

    judge_calls = [body for _, body in service.calls if body["model"] == "gpt-4.1"]
    target_calls = [body for _, body in service.calls if body["model"] != "gpt-4.1"]
    assert len(target_calls) == 10 and len(judge_calls) == 6 and verdicts == 6
    assert service.max_in_flight == 2  # both kinds of call were in flight together, never more than 2
    assert stored == 16  # every answer, the judge's and the targets', in the one table

    again = FakeService(fault=judge_answers)
    with Cache.open(tmp_path) as cache:
        outcomes_again, verdicts_again = run_both(again, cache)
    assert again.calls == []  # both kinds of answer came back from the one cache
    assert verdicts_again == 6
    assert [o.output for o in outcomes_again["a"]] == [o.output for o in outcomes["a"]]
    assert all(o.cached for o in outcomes_again["b"])
