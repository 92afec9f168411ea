"""Fault injection is deterministic, scoped as asked, and never wedges the server."""

from __future__ import annotations

import asyncio
import threading
import time

import openai
import pytest

from fakeopenai import FAKE_API_KEY, FakeOpenAI, FakeRequest


def client(server: FakeOpenAI, *, max_retries: int = 0, timeout: float = 10.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=FAKE_API_KEY, max_retries=max_retries, timeout=timeout)


def ask(sdk: openai.OpenAI, model: str = "gpt-4o-mini", text: str = "hi") -> str | None:
    answer = sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    return answer.choices[0].message.content


def test_hung_request_times_out_in_the_client_and_the_next_one_is_served(fake_openai: FakeOpenAI) -> None:
    fake_openai.hang_next(1)
    sdk = client(fake_openai, timeout=0.3)

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        ask(sdk)
    assert time.monotonic() - started < 2.0
    assert ask(sdk, text="after") == "after"
    assert [r.status for r in fake_openai.requests] == [None, 200]


def test_stopping_the_server_releases_hung_requests_promptly() -> None:
    server = FakeOpenAI(hang_seconds=60).start()
    server.hang_next(1)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            ask(client(server))
        except openai.APIError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while server.count() == 0:
        time.sleep(0.01)

    started = time.monotonic()
    server.stop()
    caller.join(timeout=5)

    assert time.monotonic() - started < 2.0
    assert not caller.is_alive()  # the held request was dropped, not left waiting 60 s
    assert [type(e) for e in outcome] == [openai.APIConnectionError]


def test_delay_slows_every_answer(fake_openai: FakeOpenAI) -> None:
    fake_openai.delay = 0.2
    sdk = client(fake_openai)

    started = time.monotonic()
    ask(sdk)
    ask(sdk)

    assert 0.4 <= time.monotonic() - started < 1.5


def test_faults_can_target_one_model(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_model("ft:gpt-4o-mini:acme::new")
    fake_openai.fail_next(2, status=404, model="ft:gpt-4o-mini:acme::new")  # a fine-tune still loading
    sdk = client(fake_openai)

    assert ask(sdk, "gpt-4o-mini") == "hi"
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        ask(sdk, "ft:gpt-4o-mini:acme::new")
    assert ask(sdk, "gpt-4o") == "hi"
    with pytest.raises(openai.NotFoundError):
        ask(sdk, "ft:gpt-4o-mini:acme::new")
    assert ask(sdk, "ft:gpt-4o-mini:acme::new") == "hi"  # loaded now


def test_queued_faults_apply_in_order(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(1, status=500)
    fake_openai.fail_next(1, status=503)
    sdk = client(fake_openai)

    for _ in range(3):
        try:
            ask(sdk)
        except openai.InternalServerError:
            pass

    assert [r.status for r in fake_openai.requests] == [500, 503, 200]


def _statuses_with_fault_rate(server: FakeOpenAI, *, seed: int) -> list[tuple[str, int | None]]:
    server.reset()
    server.fault_rate(0.5, statuses=(429, 500), seed=seed)
    sdk = client(server)
    for i in range(40):
        try:
            ask(sdk, text=f"case {i}")
        except openai.APIStatusError:
            pass
    return sorted((r.body["messages"][0]["content"], r.status) for r in server.requests if r.body)


def test_fault_rate_is_reproducible_per_seed_and_roughly_the_rate(fake_openai: FakeOpenAI) -> None:
    first = _statuses_with_fault_rate(fake_openai, seed=7)
    again = _statuses_with_fault_rate(fake_openai, seed=7)
    other = _statuses_with_fault_rate(fake_openai, seed=8)

    failed = sum(status != 200 for _, status in first)
    assert first == again
    assert first != other
    assert 8 <= failed <= 32
    assert {status for _, status in first} == {200, 429, 500}


def test_reset_forgets_log_scripts_faults_and_models(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_model("ft:gpt-4o:acme::x")
    fake_openai.script("gpt-4o-mini", "scripted")
    fake_openai.fail_next(5)
    fake_openai.reject_key(FAKE_API_KEY)
    fake_openai.delay = 5.0

    fake_openai.reset()

    sdk = client(fake_openai)
    assert ask(sdk) == "hi"
    with pytest.raises(openai.NotFoundError):
        ask(sdk, "ft:gpt-4o:acme::x")
    assert len(fake_openai.requests) == 2


def test_sixty_four_concurrent_keep_alive_clients(fake_openai: FakeOpenAI) -> None:
    gate = threading.Barrier(64, timeout=10)

    def slow_first_wave(request: FakeRequest) -> str:
        if request.last_user.endswith("#0"):
            gate.wait()  # the first 64 requests are all in flight at once, or this times out
        return request.last_user.upper()

    fake_openai.script("gpt-4o-mini", slow_first_wave)

    async def run() -> list[str | None]:
        sdk = openai.AsyncOpenAI(base_url=fake_openai.url, api_key=FAKE_API_KEY, max_retries=0)
        limit = asyncio.Semaphore(64)

        async def one(i: int) -> str | None:
            async with limit:
                answer = await sdk.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": f"case {i} #{i // 64}"}]
                )
                return answer.choices[0].message.content

        try:
            return await asyncio.gather(*(one(i) for i in range(400)))
        finally:
            await sdk.close()

    answers = asyncio.run(run())

    assert answers == [f"CASE {i} #{i // 64}" for i in range(400)]
    assert fake_openai.count(status=200) == 400
    assert fake_openai.max_in_flight == 64
