"""The router sends ``local:`` models to the local provider and every other model to the remote one."""

from __future__ import annotations

import asyncio

import pytest

from evalkit.providers.base import CallError, Reply
from evalkit.providers.request import Request
from evalkit.providers.router import ProviderRouter


class Recording:
    """A provider that answers with its own name and remembers what it was asked."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.models: list[str] = []
        self.closed = False

    @property
    def identity(self) -> str:
        return f"{self.name}-service"

    def cache_identity(self, model: str) -> str:
        return self.identity

    async def call(self, request: Request, *, probe: bool = False) -> Reply:
        self.models.append(request.model)
        return Reply(output=self.name)

    async def aclose(self) -> None:
        self.closed = True


def ask(model: str) -> Request:
    return Request(target="t", model=model, endpoint="chat", payload={"model": model, "messages": []})


def test_each_model_goes_to_the_provider_that_serves_it() -> None:
    remote, local = Recording("remote"), Recording("local")
    router = ProviderRouter(remote=remote, local=local)

    async def calls() -> list[str]:
        async with router:
            replies = [
                await router.call(ask(m)) for m in ("gpt-4o-mini", "local:smollm2-135m-instruct", "ft:x:y::z")
            ]
        return [r.output for r in replies]

    assert asyncio.run(calls()) == ["remote", "local", "remote"]
    assert local.models == ["local:smollm2-135m-instruct"]
    assert remote.closed and local.closed


def test_each_model_is_cached_under_the_identity_of_the_provider_that_serves_it() -> None:
    router = ProviderRouter(remote=Recording("remote"), local=Recording("local"))

    assert router.identity == "remote-service"
    assert router.cache_identity("gpt-4o-mini") == "remote-service"
    assert router.cache_identity("local:/runs/x/checkpoint-2") == "local-service"
    assert ProviderRouter(local=Recording("local")).identity == "local-service"


@pytest.mark.parametrize(
    ("router", "model", "message"),
    [
        (lambda: ProviderRouter(local=Recording("local")), "gpt-4o-mini", "set OPENAI_API_KEY"),
        (
            lambda: ProviderRouter(remote=Recording("remote")),
            "local:smollm2-135m-instruct",
            "local models are off",
        ),
    ],
    ids=["no-remote", "no-local"],
)
def test_a_model_without_its_provider_fails_for_the_whole_target(
    router: object, model: str, message: str
) -> None:
    with pytest.raises(CallError) as caught:
        asyncio.run(router().call(ask(model)))  # type: ignore[operator]

    assert caught.value.whole_target
    assert message in caught.value.message
