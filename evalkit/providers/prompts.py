"""Conversation → prompt, for calling a legacy completions model with a chat case.

Each message is rendered with the suite's ``completions.template`` (``{role}`` and ``{content}``); the
default sends a conversation that is a lone user message as its content and renders anything longer as
``"{role}: {content}\\n"`` per message. The renderings are joined and ``completions.separator`` is
appended, so the prompt ends the way the model's training prompts did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalkit.records import Message
from evalkit.suite.model import Completions

DEFAULT_TEMPLATE = "{role}: {content}\n"
"""How each message of a multi-turn conversation is rendered when the suite gives no template."""


def to_prompt(messages: Sequence[Message], completions: Completions) -> str:
    """The completions prompt for ``messages``: rendered, joined, separator appended."""
    separator = completions.separator or ""
    template = completions.template
    if template is None and len(messages) == 1 and messages[0].get("role") == "user":
        return content_text(messages[0].get("content")) + separator
    template = template or DEFAULT_TEMPLATE
    rendered = (
        template.format(role=message.get("role", ""), content=content_text(message.get("content")))
        for message in messages
    )
    return "".join(rendered) + separator


def content_text(content: Any) -> str:
    """A message's content as text: a string as it is, a list of parts as its text parts joined by
    newlines (images and audio dropped), nothing as the empty string."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        return "\n".join(texts)
    return str(content)
