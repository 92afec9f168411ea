"""A fake OpenAI API for evalkit's tests: a real HTTP server on loopback, answering like OpenAI.

Use the ``fake_openai`` fixture (tests/conftest.py): it resets the shared server, points
``OPENAI_BASE_URL``/``OPENAI_API_KEY`` at it and returns the ``FakeOpenAI`` to script. See
``server.py`` for the whole API; ``openapi.py`` checks bodies against OpenAI's official spec.
"""

from __future__ import annotations

from .bodies import ApiError, Reply, ToolCall
from .generate import FakeRequest, Script
from .log import RecordedRequest
from .models import DEFAULT_MODELS, Kind
from .server import DEFAULT_RETRY_AFTER, FAKE_API_KEY, FakeOpenAI

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_RETRY_AFTER",
    "FAKE_API_KEY",
    "ApiError",
    "FakeOpenAI",
    "FakeRequest",
    "Kind",
    "RecordedRequest",
    "Reply",
    "Script",
    "ToolCall",
]
