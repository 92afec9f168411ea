"""Providers: model services the runner calls. ``base`` defines what a provider is, ``request`` builds
what is sent, ``openai`` talks to OpenAI-compatible services (imported on demand: it loads the SDK)."""

from evalkit.providers.base import CallError, Provider, Reply
from evalkit.providers.request import Request, build_request

__all__ = ["CallError", "Provider", "Reply", "Request", "build_request"]
