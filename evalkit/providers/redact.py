"""Text from a service, made safe to show: the API key (and anything shaped like one) blanked out.

Shared by every caller of the OpenAI API (model calls, fine-tuning jobs, files), so that no error message
evalkit prints or stores can carry a key — OpenAI's own 401 body quotes part of it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import openai

_KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_\-*.]{3,}")
MAX_MESSAGE = 400
"""Longest server message quoted, in characters."""


class Redactor:
    """Blanks out one secret and every ``sk-…`` token in a text."""

    def __init__(self, secret: object) -> None:
        self._secret = secret if isinstance(secret, str) else ""

    def __call__(self, text: str) -> str:
        if len(self._secret) >= 8:
            text = text.replace(self._secret, "[key]")
        return _KEY_PATTERN.sub("sk-[key]", text)

    def server_message(self, exc: openai.APIStatusError) -> str:
        """The error message the service sent (or the HTTP reason), redacted and shortened."""
        body = exc.body
        text = body.get("message") if isinstance(body, dict) else body
        if not isinstance(text, str) or not text:
            text = exc.response.reason_phrase or "no details"
        text = self(text)
        return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
