"""The local provider answers like an OpenAI-compatible server: chat, completions, stop, usage, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from evalkit.providers.base import CallError, Reply
from evalkit.providers.embeddings import embedding_request
from evalkit.providers.local import engine as local_engine
from evalkit.providers.local.provider import LocalProvider
from evalkit.providers.request import Request

BASE = "local:smollm2-135m-instruct"
T = TypeVar("T")


def request(endpoint: str = "chat", model: str = BASE, **payload: Any) -> Request:
    if endpoint == "chat":
        payload.setdefault("messages", [{"role": "user", "content": "Name a colour."}])
    else:
        payload.setdefault("prompt", "Monday, Tuesday, Wednesday,")
    return Request(
        target="t", model=model, endpoint=endpoint, payload={"model": model, "temperature": 0, **payload}
    )  # type: ignore[arg-type]


def with_provider(use: Callable[[LocalProvider], Awaitable[T]]) -> T:
    async def run() -> T:
        provider = LocalProvider()
        try:
            return await use(provider)
        finally:
            await provider.aclose()

    return asyncio.run(run())


def test_chat_goes_through_the_chat_template_and_counts_tokens(local_models: Path) -> None:
    from transformers import AutoTokenizer

    reply = with_provider(lambda p: p.call(request(max_tokens=4)))

    (folder,) = [p for p in (local_models / "models").iterdir() if (p / "config.json").is_file()]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Name a colour."}], tokenize=False, add_generation_prompt=True
    )
    assert reply.usage.prompt_tokens == len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert reply.output.strip()
    assert (reply.usage.completion_tokens, reply.finish_reason) == (4, "length")


def test_completions_take_the_raw_prompt_and_stop_before_a_stop_sequence(local_models: Path) -> None:
    async def both(provider: LocalProvider) -> tuple[Reply, Reply]:
        free = await provider.call(request("completions", max_tokens=12))
        words = free.output.split()
        stop = words[len(words) // 2]
        return free, await provider.call(request("completions", max_tokens=12, stop=[stop]))

    free, stopped = with_provider(both)

    assert free.usage.prompt_tokens == 6  # "Monday, Tuesday, Wednesday," alone: no template, no BOS
    stop = free.output.split()[len(free.output.split()) // 2]
    assert stopped.output == free.output[: free.output.index(stop)]
    assert stopped.finish_reason == "stop"


def test_calls_in_flight_together_are_batched_and_duplicates_generated_once(
    local_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[int] = []
    generate = local_engine._generate

    def counting(loaded: Any, texts: list[str], *args: Any) -> list[Reply]:
        rows.append(len(texts))
        return generate(loaded, texts, *args)

    monkeypatch.setattr(local_engine, "_generate", counting)
    asks = [
        request(messages=[{"role": "user", "content": f"Say {word}."}], max_tokens=3)
        for word in ("yes", "no", "maybe")
    ]

    async def together(provider: LocalProvider) -> tuple[list[Reply], list[Reply]]:
        batched = await asyncio.gather(*(provider.call(r) for r in asks + asks[:1]))
        alone = [await provider.call(r) for r in asks]
        return list(batched), alone

    batched, alone = with_provider(together)

    assert rows[0] == 3  # four calls, one of them a duplicate: one batch of three
    assert batched[3] == batched[0]
    assert [r.output for r in batched[:3]] == [r.output for r in alone]


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        (request(model="local:no-such-model"), "expected local:NAME with NAME one of smollm2-135m-instruct"),
        (request(model="local:/no/such/dir"), "/no/such/dir does not exist"),
        (request(logprobs=True), "do not support the request field(s) logprobs"),
        (request(n=2), "one choice (n=1)"),
        (embedding_request(BASE, "billing", name="t"), "local models give no embeddings"),
    ],
    ids=["unknown-name", "missing-path", "unsupported-field", "several-choices", "embeddings"],
)
def test_calls_that_cannot_be_served_fail_for_the_whole_target(ask: Request, message: str) -> None:
    with pytest.raises(CallError) as caught:
        with_provider(lambda p: p.call(ask))

    assert caught.value.whole_target
    assert message in caught.value.message


def test_the_identity_names_the_libraries_that_generate() -> None:
    identity = LocalProvider().identity

    assert identity.startswith("local:transformers-")
    assert "+peft-" in identity and "+torch-" in identity
