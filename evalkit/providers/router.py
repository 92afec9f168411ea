"""One provider for the runner that sends each call where its model lives: ``local:…`` model ids to the
in-process local provider, every other id to the OpenAI(-compatible) provider.

Either side may be absent: a run of local models only needs no API key, and a run without local models
never loads torch. A call for a side that is absent fails for its whole target with a message that says
what to configure.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from evalkit.providers.base import CallError, Provider, Reply
from evalkit.providers.local.models import is_local
from evalkit.providers.request import Request

if TYPE_CHECKING:
    from evalkit.providers.local.provider import LocalProvider
    from evalkit.providers.openai import OpenAIProvider


class ProviderRouter:
    """Dispatches each request by its model id: ``local:…`` → ``local``, anything else → ``remote``."""

    def __init__(
        self,
        *,
        remote: OpenAIProvider | Provider | None = None,
        local: LocalProvider | Provider | None = None,
    ) -> None:
        if remote is None and local is None:
            raise ValueError("a router needs at least one provider")
        self.remote = remote
        """The OpenAI(-compatible) provider, if the run has any remote model."""
        self.local = local
        """The local provider, if the run has any ``local:`` model."""

    @property
    def identity(self) -> str:
        """The remote service's identity when there is one, else the local provider's."""
        provider = self.remote if self.remote is not None else self.local
        assert provider is not None
        return provider.identity

    def cache_identity(self, model: str) -> str:
        """The cache identity the provider that serves ``model`` gives it (this router's identity when
        that provider is absent: the call fails and nothing is stored)."""
        provider = self.local if is_local(model) else self.remote
        return provider.cache_identity(model) if provider is not None else self.identity

    async def call(self, request: Request, *, probe: bool = False) -> Reply:
        """Send ``request`` to the provider that serves its model."""
        if is_local(request.model):
            if self.local is None:
                raise CallError(
                    f"{request.model} is a local model, but local models are off in this run",
                    whole_target=True,
                )
            return await self.local.call(request, probe=probe)
        if self.remote is None:
            raise CallError(
                f"{request.model} is not a local model (local:…) and no OpenAI-compatible service is configured: "
                "set OPENAI_API_KEY (and OPENAI_BASE_URL for another server)",
                whole_target=True,
            )
        return await self.remote.call(request, probe=probe)

    async def aclose(self) -> None:
        """Close both providers."""
        for provider in (self.remote, self.local):
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
