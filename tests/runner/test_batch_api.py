"""``--batch`` against the fake OpenAI: answers land in the cache, so the runner afterwards calls nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import openai
import pytest
from fakeopenai import FAKE_API_KEY, ApiError, FakeOpenAI, FakeRequest

from evalkit.providers.openai import OpenAIProvider
from evalkit.records import Case, Outcome, Target
from evalkit.runner import RunSettings, run_targets
from evalkit.runner.batch_api import STATE_FILE, BatchSummary, run_batch
from evalkit.runner.cache import Cache
from evalkit.runner.calls import Caller

CHAT = Target(name="chatty", model="gpt-4o-mini", endpoint="chat")
LEGACY = Target(name="legacy", model="davinci-002", endpoint="completions")
LOCAL = Target(name="local", model="local:smollm2", endpoint="chat")
GENERATION_PATHS = ("/v1/chat/completions", "/v1/completions")


def cases(n: int) -> list[Case]:
    return [
        Case(id=f"c{i}", reference="x", messages=({"role": "user", "content": f"ticket {i}"},))
        for i in range(n)
    ]


async def batch(
    tmp_path: Path, items: Sequence[Case], targets: Sequence[Target], *, poll_s: float = 0.0
) -> BatchSummary:
    async with OpenAIProvider.from_env(max_attempts=1) as provider:
        with Cache.open(tmp_path / "cache") as cache:
            return await run_batch(
                items,
                targets,
                caller=Caller(provider, cache=cache),
                remote=provider,
                settings=RunSettings(),
                state_dir=tmp_path / "state",
                poll_s=poll_s,
                progress=False,
            )


async def run_live(
    tmp_path: Path, items: Sequence[Case], targets: Sequence[Target]
) -> dict[str, list[Outcome]]:
    async with OpenAIProvider.from_env(max_attempts=1) as provider:
        with Cache.open(tmp_path / "cache") as cache:
            return await run_targets(items, targets, caller=Caller(provider, cache=cache), progress=False)


async def interrupt_while_polling(
    fake: FakeOpenAI, tmp_path: Path, items: Sequence[Case], targets: Sequence[Target]
) -> None:
    """Start a batch run and cancel it (as Ctrl-C would) once all its batches are being polled."""
    task = asyncio.create_task(batch(tmp_path, items, targets, poll_s=0.01))
    while (
        not (ids := fake.batch_ids()) or len(ids) < len(targets) or fake.count(f"/v1/batches/{ids[-1]}") == 0
    ):
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def live_calls(fake: FakeOpenAI) -> int:
    return sum(fake.count(path) for path in GENERATION_PATHS)


def submitted_files(fake: FakeOpenAI) -> list[str]:
    """The text of every uploaded batch input file, read back through the API."""
    client = openai.OpenAI(base_url=fake.url, api_key=FAKE_API_KEY)
    ids = [client.batches.retrieve(batch_id).input_file_id for batch_id in fake.batch_ids()]
    return [client.files.content(file_id).text for file_id in ids]


def test_a_batch_run_then_a_normal_run_makes_no_live_call(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    items = cases(3)

    summary = asyncio.run(batch(tmp_path, items, [CHAT, LEGACY]))
    outcomes = asyncio.run(run_live(tmp_path, items, [CHAT, LEGACY]))

    assert (summary.submitted, summary.cached, summary.errors) == (6, 6, {})
    assert live_calls(fake_openai) == 0
    assert [o.output for o in outcomes["chatty"]] == ["ticket 0", "ticket 1", "ticket 2"]
    assert all(o.cached and o.error is None for target in outcomes.values() for o in target)
    assert all(o.batch for target in outcomes.values() for o in target)  # charged at the batch rate
    assert outcomes["chatty"][0].usage.completion_tokens == 2


def test_each_endpoint_gets_its_own_batch_with_the_right_url(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    asyncio.run(batch(tmp_path, cases(2), [CHAT, LEGACY]))

    created = [r.body for r in fake_openai.requests if r.path == "/v1/batches" and r.method == "POST"]
    assert sorted(body["endpoint"] for body in created if body) == ["/v1/chat/completions", "/v1/completions"]
    for text in submitted_files(fake_openai):
        lines = [json.loads(line) for line in text.splitlines()]
        url = lines[0]["url"]
        assert all(line["url"] == url and line["method"] == "POST" for line in lines)
        assert ("messages" in lines[0]["body"]) == (url == "/v1/chat/completions")
        assert len({line["custom_id"] for line in lines}) == len(lines) == 2


def test_requests_already_cached_and_local_models_are_not_submitted(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    asyncio.run(batch(tmp_path, cases(2), [CHAT]))

    again = asyncio.run(batch(tmp_path, cases(3), [CHAT, LOCAL]))

    assert again.submitted == 1
    assert [text.count("\n") for text in submitted_files(fake_openai)] == [2, 1]
    assert not any("local:" in text for text in submitted_files(fake_openai))


def test_an_interrupted_run_resumes_polling_without_submitting_again(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.batches.complete_after = 10_000
    items = cases(3)

    asyncio.run(interrupt_while_polling(fake_openai, tmp_path, items, [CHAT, LEGACY]))
    saved = json.loads((tmp_path / "state" / STATE_FILE).read_text())
    fake_openai.batches.complete_after = 0
    summary = asyncio.run(batch(tmp_path, items, [CHAT, LEGACY]))

    assert len(saved) == 2
    assert fake_openai.count("/v1/batches") == 2
    assert fake_openai.count("/v1/files") == 2
    assert (summary.submitted, summary.resumed, summary.cached) == (0, 6, 6)
    assert json.loads((tmp_path / "state" / STATE_FILE).read_text()) == {}
    asyncio.run(run_live(tmp_path, items, [CHAT, LEGACY]))
    assert live_calls(fake_openai) == 0


def test_failed_lines_are_not_cached_so_the_runner_calls_them_live(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    failures: list[str] = []

    def flaky(request: FakeRequest) -> str:
        if request.last_user == "ticket 1" and not failures:
            failures.append(request.last_user)
            raise ApiError(500, "The server had an error while processing your request.", type="server_error")
        return "billing"

    fake_openai.script("*", flaky)
    items = cases(3)

    summary = asyncio.run(batch(tmp_path, items, [CHAT]))
    outcomes = asyncio.run(run_live(tmp_path, items, [CHAT]))

    assert summary.cached == 2
    assert list(summary.errors.values()) == [
        f"batch line HTTP 500 from {fake_openai.url}: The server had an error while processing your request."
    ]
    assert live_calls(fake_openai) == 1
    assert [o.cached for o in outcomes["chatty"]] == [True, False, True]
    assert [o.batch for o in outcomes["chatty"]] == [True, False, True]  # the live call is charged live
    assert [o.output for o in outcomes["chatty"]] == ["billing"] * 3


def test_the_key_is_in_neither_the_submitted_files_the_state_nor_the_errors(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    def leaky(request: FakeRequest) -> str:
        if request.last_user == "ticket 0":
            raise ApiError(400, f"Bad request made with key {FAKE_API_KEY}")
        return "ok"

    fake_openai.script("*", leaky)
    fake_openai.batches.complete_after = 10_000
    items = cases(2)

    asyncio.run(interrupt_while_polling(fake_openai, tmp_path, items, [CHAT, LEGACY]))
    state = (tmp_path / "state" / STATE_FILE).read_text()
    fake_openai.batches.complete_after = 0
    summary = asyncio.run(batch(tmp_path, items, [CHAT, LEGACY]))

    assert len(summary.errors) == 2
    for text in [state, *submitted_files(fake_openai), *summary.errors.values()]:
        assert FAKE_API_KEY not in text
        assert FAKE_API_KEY[-8:] not in text
