"""The runner against a mock OpenAI transport: concurrency, retries, failures, cache, alignment."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fakeopenai import FakeOpenAI

from evalkit.errors import ServiceError
from evalkit.providers.openai import ModelWait, OpenAIProvider
from evalkit.records import Case, Outcome, Target
from evalkit.runner import RunSettings, run_targets
from evalkit.runner.cache import FILE_NAME, Cache
from evalkit.runner.calls import Caller
from evalkit.suite.model import Completions, Generation

SECRET = "sk-proj-SECRETsecret0123456789abcdef"
CHAT = Target(name="chatty", model="gpt-4o-mini", endpoint="chat")
LEGACY = Target(name="legacy", model="davinci-002", endpoint="completions")

Fault = Callable[[str, dict[str, Any], int], httpx2.Response | None]
"""(path, body, attempt number for this input) → a response to send instead of the answer, or None."""


def error(status: int, message: str, *, code: str | None = None, **headers: str) -> httpx2.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return httpx2.Response(status, json=body, headers=headers)


class FakeService:
    """Answers ``echo:<input>`` like OpenAI does; counts calls and in-flight requests; injects faults."""

    def __init__(self, *, fault: Fault | None = None, delay: float = 0.0) -> None:
        self.fault = fault
        self.delay = delay
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.attempts: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        path = request.url.path
        self.calls.append((path, body))
        text = body["prompt"] if "prompt" in body else body["messages"][-1]["content"]
        self.attempts[text] = self.attempts.get(text, 0) + 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        injected = self.fault(path, body, self.attempts[text]) if self.fault else None
        return injected or httpx2.Response(200, json=answer(path, body, f"echo:{text}"))


def answer(path: str, body: dict[str, Any], text: str) -> dict[str, Any]:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    if path.endswith("/chat/completions"):
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return {
            "id": "c",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [choice],
            "usage": usage,
        }
    choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
    return {
        "id": "c",
        "object": "text_completion",
        "model": body["model"],
        "choices": [choice],
        "usage": usage,
    }


@pytest.fixture(autouse=True)
def openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_OPENAI_ENDPOINT", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://fake.test/v1")


def provider_for(service: FakeService, *, max_attempts: int = 3) -> OpenAIProvider:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(service.handle))
    return OpenAIProvider.from_env(max_attempts=max_attempts, timeout_s=5, http_client=client)


def cases(n: int) -> list[Case]:
    return [
        Case(id=f"c{i}", reference="x", messages=({"role": "user", "content": f"q{i}"},)) for i in range(n)
    ]


def run(
    service: FakeService,
    targets: list[Target],
    n: int = 4,
    *,
    cache: Cache | None = None,
    concurrency: int = 4,
    max_attempts: int = 3,
) -> dict[str, list[Outcome]]:
    provider = provider_for(service, max_attempts=max_attempts)
    settings = RunSettings(generation=Generation(max_tokens=4), completions=Completions(separator="|"))
    caller = Caller(provider, cache=cache, concurrency=concurrency)
    return asyncio.run(run_targets(cases(n), targets, caller=caller, settings=settings, progress=False))


def test_every_target_answers_every_case_in_case_order() -> None:
    service = FakeService(delay=0.001)
    outcomes = run(service, [CHAT, LEGACY], n=12)
    assert [o.output for o in outcomes["chatty"]] == [f"echo:q{i}" for i in range(12)]
    assert [o.output for o in outcomes["legacy"]] == [f"echo:q{i}|" for i in range(12)]
    first = outcomes["chatty"][0]
    assert first.error is None and first.finish_reason == "stop" and not first.cached
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (5, 2)
    assert first.latency_s is not None and first.latency_s >= 0.001
    paths = sorted({path for path, _ in service.calls})
    assert paths == ["/v1/chat/completions", "/v1/completions"]


def test_concurrency_bound_is_respected() -> None:
    service = FakeService(delay=0.01)
    run(service, [CHAT, LEGACY], n=15, concurrency=3)
    assert len(service.calls) == 30
    assert service.max_in_flight == 3


def test_rate_limit_with_retry_after_is_retried_then_answered() -> None:
    def rate_limited(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
        return error(429, "Rate limit reached", **{"retry-after": "0.02"}) if attempt <= 2 else None

    service = FakeService(fault=rate_limited)
    outcomes = run(service, [CHAT], n=1)
    assert outcomes["chatty"][0].output == "echo:q0"
    assert len(service.calls) == 3
    latency = outcomes["chatty"][0].latency_s
    assert latency is not None and latency >= 0.04


def test_server_errors_are_retried_then_answered() -> None:
    def flaky(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
        return error(500, "The server had an error", **{"retry-after-ms": "5"}) if attempt == 1 else None

    service = FakeService(fault=flaky)
    outcomes = run(service, [CHAT], n=3)
    assert [o.output for o in outcomes["chatty"]] == ["echo:q0", "echo:q1", "echo:q2"]
    assert len(service.calls) == 6


def test_exhausted_retries_become_that_cases_error_not_a_gap() -> None:
    def q1_always_fails(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
        text = body["messages"][-1]["content"]
        return error(503, "overloaded", **{"retry-after-ms": "2"}) if text == "q1" else None

    service = FakeService(fault=q1_always_fails)
    outcomes = run(service, [CHAT], n=3, max_attempts=3)["chatty"]
    assert len(outcomes) == 3
    assert outcomes[0].output == "echo:q0" and outcomes[2].output == "echo:q2"
    assert outcomes[1].output is None
    assert outcomes[1].error == "HTTP 503 after 3 attempts from http://fake.test/v1: overloaded"
    assert service.attempts["q1"] == 3


def test_wrong_endpoint_fails_the_whole_target_after_one_call() -> None:
    wrong = (
        "This is a chat model and not supported in the v1/completions endpoint. "
        "Did you mean to use v1/chat/completions?"
    )

    def chat_only(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
        return error(404, wrong) if path.endswith("/v1/completions") else None

    service = FakeService(fault=chat_only, delay=0.001)
    misrouted = Target(name="tuned", model="ft:gpt-4o-mini:org::abc", endpoint="completions")
    outcomes = run(service, [misrouted, CHAT], n=10, concurrency=8)
    errors = {o.error for o in outcomes["tuned"]}
    assert len(errors) == 1 and all(o.output is None for o in outcomes["tuned"])
    message = errors.pop()
    assert message is not None
    assert "served on the chat endpoint" in message
    assert "--model tuned=ft:gpt-4o-mini:org::abc@chat" in message and "endpoint: chat" in message
    assert sum(1 for path, _ in service.calls if path == "/v1/completions") == 1
    assert [o.output for o in outcomes["chatty"]] == [f"echo:q{i}" for i in range(10)]


def test_unknown_model_fails_the_whole_target_after_one_call() -> None:
    def missing(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
        text = f"The model `{body['model']}` does not exist or you do not have access to it."
        return error(404, text, code="model_not_found")

    service = FakeService(fault=missing)
    outcomes = run(service, [CHAT], n=6)["chatty"]
    assert len(service.calls) == 1
    assert all(o.error and "model 'gpt-4o-mini' was not found" in o.error for o in outcomes)


def test_rejected_key_stops_the_run_without_showing_the_key() -> None:
    def rejected(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
        return error(
            401, f"Incorrect API key provided: {SECRET[:8]}****{SECRET[-4:]}.", code="invalid_api_key"
        )

    service = FakeService(fault=rejected)
    with pytest.raises(ServiceError) as caught:
        run(service, [CHAT, LEGACY], n=50, concurrency=2)
    message = str(caught.value)
    assert message.startswith("the API key was rejected (401) by http://fake.test/v1: set OPENAI_API_KEY")
    assert SECRET[:8] not in message and SECRET[-4:] not in message
    assert len(service.calls) <= 2


def test_other_client_errors_are_per_case_and_redacted() -> None:
    def bad(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
        return (
            error(400, f"context too long for key {SECRET}")
            if body["messages"][-1]["content"] == "q0"
            else None
        )

    service = FakeService(fault=bad)
    outcomes = run(service, [CHAT], n=2)["chatty"]
    assert outcomes[0].error == "HTTP 400 from http://fake.test/v1: context too long for key [key]"
    assert outcomes[1].output == "echo:q1"
    assert len(service.calls) == 2


def test_unreachable_server_stops_the_run() -> None:
    async def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("[Errno 111] Connection refused", request=request)

    provider = OpenAIProvider.from_env(
        max_attempts=1, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(refuse))
    )
    with pytest.raises(ServiceError) as caught:
        asyncio.run(run_targets(cases(3), [CHAT], caller=Caller(provider), progress=False))
    assert str(caught.value) == (
        "cannot reach http://fake.test/v1 on the only attempt: [Errno 111] Connection refused; "
        "check OPENAI_BASE_URL"
    )


def test_second_identical_run_is_served_from_cache(tmp_path: Path) -> None:
    first_service = FakeService(delay=0.002)
    with Cache.open(tmp_path) as cache:
        first = run(first_service, [CHAT, LEGACY], n=5, cache=cache)
    second_service = FakeService()
    with Cache.open(tmp_path) as cache:
        second = run(second_service, [CHAT, LEGACY], n=5, cache=cache)
    assert second_service.calls == []
    for name in ("chatty", "legacy"):
        assert [o.output for o in second[name]] == [o.output for o in first[name]]
        assert [o.latency_s for o in second[name]] == [o.latency_s for o in first[name]]
        assert all(o.cached for o in second[name]) and not any(o.cached for o in first[name])
    assert SECRET.encode() not in (tmp_path / FILE_NAME).read_bytes()


def test_another_server_does_not_share_cache_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Cache.open(tmp_path) as cache:
        run(FakeService(), [CHAT], n=3, cache=cache)
        monkeypatch.setenv("OPENAI_BASE_URL", "http://other.test/v1")
        other = FakeService()
        outcomes = run(other, [CHAT], n=3, cache=cache)
    assert len(other.calls) == 3
    assert not any(o.cached for o in outcomes["chatty"])


def test_changed_settings_miss_the_cache(tmp_path: Path) -> None:
    with Cache.open(tmp_path) as cache:
        run(FakeService(), [CHAT], n=2, cache=cache)
        again = FakeService()
        provider = provider_for(again)
        settings = RunSettings(generation=Generation(max_tokens=5))
        asyncio.run(
            run_targets(cases(2), [CHAT], caller=Caller(provider, cache=cache), settings=settings, progress=False)
        )
    assert len(again.calls) == 2


def test_errors_are_not_cached(tmp_path: Path) -> None:
    def q0_fails(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
        return error(400, "bad") if body["messages"][-1]["content"] == "q0" else None

    with Cache.open(tmp_path) as cache:
        run(FakeService(fault=q0_fails), [CHAT], n=2, cache=cache)
        retry = FakeService()
        outcomes = run(retry, [CHAT], n=2, cache=cache)["chatty"]
    assert [body["messages"][-1]["content"] for _, body in retry.calls] == ["q0"]
    assert outcomes[0].output == "echo:q0" and not outcomes[0].cached
    assert outcomes[1].cached


def test_aborted_run_keeps_the_answers_it_got(tmp_path: Path) -> None:
    def reject_after_two(path: str, body: dict[str, Any], attempt: int) -> httpx2.Response | None:
        done = int(body["messages"][-1]["content"][1:])
        return error(401, "no") if done >= 2 else None

    cache = Cache.open(tmp_path)
    with pytest.raises(ServiceError):
        run(FakeService(fault=reject_after_two), [CHAT], n=5, cache=cache, concurrency=1)
    with sqlite3.connect(tmp_path / FILE_NAME) as other_process:
        assert other_process.execute("SELECT COUNT(*) FROM responses").fetchone() == (2,)
    cache.close()


def test_progress_shows_one_bar_per_target(capsys: pytest.CaptureFixture[str]) -> None:
    provider = provider_for(FakeService())
    asyncio.run(run_targets(cases(2), [CHAT, LEGACY], caller=Caller(provider), progress=True))
    err = capsys.readouterr().err
    assert "chatty" in err and "legacy" in err and "2/2" in err


# ── fine-tunes that load late, Responses-only models, per-target prompting (against the fake server) ─

FINE_TUNE = Target(name="final", model="ft:gpt-4o-mini:org::abc", endpoint="chat", role="final")


def run_on(
    server: FakeOpenAI,
    targets: list[Target],
    n: int = 4,
    *,
    wait_schedule: tuple[float, ...] = (0.1,),
    model_wait_s: float = 1.0,
    waits: list[ModelWait] | None = None,
) -> dict[str, list[Outcome]]:
    provider = OpenAIProvider.from_env(
        max_attempts=1,
        model_wait_s=model_wait_s,
        wait_schedule=wait_schedule,
        on_model_wait=None if waits is None else waits.append,
    )
    settings = RunSettings(generation=Generation(max_tokens=4))

    async def go() -> dict[str, list[Outcome]]:
        async with provider:
            caller = Caller(provider, concurrency=4)
            return await run_targets(cases(n), targets, caller=caller, settings=settings, progress=False)

    return asyncio.run(go())


def test_fine_tune_that_is_still_loading_is_waited_for_then_evaluated(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_model(FINE_TUNE.model)
    fake_openai.script("*", lambda request: "billing")
    fake_openai.fail_next(2, status=404, model=FINE_TUNE.model)
    waits: list[ModelWait] = []
    outcomes = run_on(fake_openai, [FINE_TUNE, CHAT], n=4, waits=waits)
    assert [o.output for o in outcomes["final"]] == ["billing"] * 4
    assert [o.output for o in outcomes["chatty"]] == ["billing"] * 4
    assert [w.waited_s for w in waits] == [0.0, 0.1]
    log = [(r.model, r.status) for r in fake_openai.requests]
    assert log.count((FINE_TUNE.model, 404)) == 2 and log.count((FINE_TUNE.model, 200)) == 4
    first_answer = log.index((FINE_TUNE.model, 200))
    assert log[:first_answer].count(("gpt-4o-mini", 200)) == 4  # the other target did not wait
    latency = outcomes["final"][0].latency_s
    assert latency is not None and latency < 0.2  # the 0.2 s spent waiting for it to load is not latency


def test_fine_tune_never_found_fails_the_whole_target_with_the_access_hint(fake_openai: FakeOpenAI) -> None:
    outcomes = run_on(fake_openai, [FINE_TUNE, CHAT], n=5, wait_schedule=(0.02,), model_wait_s=0.1)
    errors = {o.error for o in outcomes["final"]}
    assert len(errors) == 1 and all(o.output is None for o in outcomes["final"])
    message = errors.pop()
    assert message is not None and "after waiting 0.1 s" in message and "may lack access" in message
    assert "OPENAI_ORG_ID" in message
    assert fake_openai.count(model=FINE_TUNE.model) == 1 + 5  # the probe, then one try after each 0.02 s
    assert all(o.error is None for o in outcomes["chatty"])


def test_chat_model_that_is_not_a_chat_model_may_be_responses_only(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_model("o1-pro", kind="completions")  # answers as OpenAI does for a Responses-only model
    pro = Target(name="pro", model="o1-pro", endpoint="chat")
    outcomes = run_on(fake_openai, [pro], n=3)
    assert fake_openai.count(model="o1-pro") == 1
    assert fake_openai.count(path="/v1/completions") == 0  # never re-routed
    message = outcomes["pro"][0].error
    assert message is not None and "Responses API" in message and "--model pro=o1-pro@responses" in message
    assert all(o.error == message for o in outcomes["pro"])


def test_each_completions_target_gets_its_own_separator_and_stop() -> None:
    service = FakeService()
    job = Target(name="job-final", model="ft:davinci-002:org::x", endpoint="completions")
    settings = RunSettings(
        completions=Completions(separator="|", stop=["\n"]),
        completions_by_target={"job-final": Completions(separator="\n\n###\n\n", stop=[" END"])},
    )
    asyncio.run(
        run_targets(
            cases(2), [LEGACY, job], caller=Caller(provider_for(service)), settings=settings, progress=False
        )
    )
    sent = {(body["model"], body["prompt"], tuple(body["stop"])) for _, body in service.calls}
    assert sent == {
        ("davinci-002", "q0|", ("\n",)),
        ("davinci-002", "q1|", ("\n",)),
        ("ft:davinci-002:org::x", "q0\n\n###\n\n", (" END",)),
        ("ft:davinci-002:org::x", "q1\n\n###\n\n", (" END",)),
    }


def test_per_target_settings_for_an_unknown_target_are_refused() -> None:
    settings = RunSettings(completions_by_target={"fnial": Completions(separator="|")})
    provider = provider_for(FakeService())
    with pytest.raises(
        ValueError, match=r"completions_by_target names targets this run does not have: \['fnial'\]"
    ):
        asyncio.run(run_targets(cases(1), [LEGACY], caller=Caller(provider), settings=settings, progress=False))
