"""Training examples → token ids and labels, with the loss only where the model should learn.

- Chat: the conversation is rendered with the model's chat template, exactly as it is rendered when the
  model is called. The tokens of each assistant message whose ``weight`` is not 0 — its content and the
  template's end-of-message marker — are labelled; everything else (system, user, tool messages,
  assistant messages with ``"weight": 0``, the template's headers) gets the label ``IGNORE``, so it adds
  nothing to the loss.
- Legacy: the prompt gets ``IGNORE``; the completion and an end-of-sequence token are labelled.

Text is tokenized in pieces cut at the labelled spans, and a prompt is tokenized alone, as it is at
inference time, so training and serving see the same tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evalkit.providers.local.templates import TemplateError, render_chat, template_message
from evalkit.records import Message, TrainingExample

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

IGNORE = -100
"""The label of a token that adds nothing to the loss (PyTorch's cross-entropy ``ignore_index``)."""


@dataclass(frozen=True, slots=True)
class Encoded:
    """One example as the model is trained on it."""

    input_ids: list[int]
    """The tokens."""
    labels: list[int]
    """Per token: the token itself where it is learned, ``IGNORE`` elsewhere."""

    @property
    def learned(self) -> int:
        """How many tokens carry loss."""
        return sum(label != IGNORE for label in self.labels)


def encode(
    example: TrainingExample,
    tokenizer: PreTrainedTokenizerBase,
    *,
    tools: list[dict[str, Any]] | None = None,
    max_length: int = 1024,
) -> Encoded:
    """``example`` as token ids and labels, cut to ``max_length`` tokens."""
    if example.messages is not None:
        encoded = encode_chat(example.messages, tokenizer, tools=tools)
    else:
        encoded = encode_legacy(example.prompt or "", example.completion or "", tokenizer)
    return Encoded(encoded.input_ids[:max_length], encoded.labels[:max_length])


def encode_chat(
    messages: Sequence[Message],
    tokenizer: PreTrainedTokenizerBase,
    *,
    tools: list[dict[str, Any]] | None = None,
) -> Encoded:
    """A conversation, labelled on its weighted assistant messages."""
    plain = [template_message(m) for m in messages]
    full = render_chat(plain, tokenizer, tools=tools, open_reply=False)
    pieces: list[tuple[str, bool]] = []
    done = 0
    for index, message in enumerate(messages):
        if message.get("role") != "assistant" or message.get("weight", 1) == 0:
            continue
        start, end = _span(plain, index, full, tokenizer, tools=tools)
        pieces += [(full[done:start], False), (full[start:end], True)]
        done = end
    pieces.append((full[done:], False))
    ids: list[int] = []
    labels: list[int] = []
    for text, learned in pieces:
        piece = _ids(text, tokenizer)
        ids += piece
        labels += piece if learned else [IGNORE] * len(piece)
    return Encoded(ids, labels)


def encode_legacy(prompt: str, completion: str, tokenizer: PreTrainedTokenizerBase) -> Encoded:
    """A prompt/completion pair, labelled on the completion and an end-of-sequence token."""
    prompt_ids = _ids(prompt, tokenizer)
    completion_ids = _ids(completion, tokenizer)
    eos = tokenizer.eos_token_id
    if isinstance(eos, int):
        completion_ids.append(eos)
    return Encoded(prompt_ids + completion_ids, [IGNORE] * len(prompt_ids) + completion_ids)


def _span(
    plain: list[dict[str, Any]],
    index: int,
    full: str,
    tokenizer: PreTrainedTokenizerBase,
    *,
    tools: list[dict[str, Any]] | None,
) -> tuple[int, int]:
    """Where in ``full`` assistant message ``index`` is: after the header that asks for it, up to the
    end of its end-of-message marker (trailing whitespace left out)."""
    before = render_chat(plain[:index], tokenizer, tools=tools, open_reply=True) if index else ""
    through = render_chat(plain[: index + 1], tokenizer, tools=tools, open_reply=False)
    if not (through.startswith(before) and full.startswith(through)):
        raise TemplateError(
            "the model's chat template renders a conversation differently from its beginning, so the "
            "tokens of each assistant message cannot be told apart"
        )
    end = len(through.rstrip())
    return len(before), max(end, len(before))


def _ids(text: str, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    if not text:
        return []
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return [int(i) for i in ids]
