"""Chat templates: how a local model reads a conversation — the same text when it is called and when it is
trained (``evalkit.lab.encode`` labels the tokens of this very rendering)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalkit.providers.prompts import content_text
from evalkit.records import Message, render_tool_calls

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["TemplateError", "render_chat", "template_message"]


class TemplateError(ValueError):
    """The model's chat template cannot be used to tell which tokens an assistant message produced."""


def template_message(message: Message) -> dict[str, Any]:
    """A message as chat templates expect it: role and text content (content parts joined, an
    assistant's tool calls written as JSON text when it has no text), nothing else."""
    content = content_text(message.get("content"))
    calls = message.get("tool_calls")
    if not content and calls:
        content = render_tool_calls(calls)
    return {"role": str(message.get("role", "user")), "content": content}


def render_chat(
    messages: Sequence[dict[str, Any]],
    tokenizer: PreTrainedTokenizerBase,
    *,
    tools: list[dict[str, Any]] | None = None,
    open_reply: bool,
) -> str:
    """The conversation as text, through the model's chat template; ``open_reply`` adds the header
    that asks for the assistant's answer. ``TemplateError`` if the model has no chat template."""
    if not getattr(tokenizer, "chat_template", None):
        raise TemplateError("the model has no chat template: call it on the completions endpoint")
    options: dict[str, Any] = {"tools": tools} if tools else {}
    text = tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=open_reply, **options
    )
    if not isinstance(text, str):
        raise TemplateError("the chat template did not produce text")
    return text
