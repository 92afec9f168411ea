"""Parity: is the fine-tune evaluated with the prompt it was trained with?

A fine-tune learns its training prompt along with the task: the system message of chat data, the
separator and stop sequence of legacy prompt/completion data. Evaluated with another one it scores worse
than it will in production (or better than it should). ``check_parity`` compares the suite's cases and
``completions`` settings with the job's training examples and returns one warning per mismatch:

- chat: the dominant (most common) system message of the training conversations vs that of the cases;
- legacy: the separator the training prompts end with vs the one the suite appends to chat cases
  (``completions.separator``) or that its prompt cases end with; the stop sequence the training
  completions end with vs ``completions.stop``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence

from evalkit.checks.infer import common_ending, shown
from evalkit.providers.prompts import content_text
from evalkit.records import Case, Message, TrainingExample
from evalkit.suite.model import Completions

SYSTEM_ROLES = frozenset({"system", "developer"})
"""Roles whose message is the conversation's standing instruction."""

QUOTE_CHARS = 60
"""How much of a system prompt a warning quotes."""

_NEVER_TRAINED = "the fine-tune is evaluated with a prompt it was never trained on"


def check_parity(
    cases: Sequence[Case], examples: Sequence[TrainingExample], *, completions: Completions
) -> list[str]:
    """Warnings, one per way the suite prompts the model differently from its training data; [] if none."""
    conversations = [example.messages for example in examples if example.messages is not None]
    prompts = [example.prompt for example in examples if example.prompt is not None]
    endings = [example.completion for example in examples if example.completion is not None]
    chat_cases = [case.messages for case in cases if case.messages is not None]
    prompt_cases = [case.prompt for case in cases if case.prompt is not None]
    warnings = [
        _system_warning(chat_cases, conversations) if conversations and chat_cases else None,
        _separator_warning(prompts, completions.separator) if prompts and chat_cases else None,
        _prompt_case_warning(prompts, prompt_cases) if prompts and prompt_cases else None,
        _stop_warning(endings, completions.stop) if endings else None,
    ]
    return [warning for warning in warnings if warning is not None]


def system_prompt(messages: Sequence[Message]) -> str | None:
    """The text of the conversation's first system (or developer) message; None if it has none."""
    for message in messages:
        if message.get("role") in SYSTEM_ROLES:
            return content_text(message.get("content"))
    return None


def _dominant(values: Iterable[str | None]) -> tuple[str | None, Counter[str | None]]:
    counts = Counter(values)
    return counts.most_common(1)[0][0], counts


def _system_warning(
    chat_cases: Sequence[Sequence[Message]], conversations: Sequence[Sequence[Message]]
) -> str | None:
    trained, counts = _dominant(system_prompt(messages) for messages in conversations)
    used, _ = _dominant(system_prompt(messages) for messages in chat_cases)
    if used == trained:
        return None
    total = len(conversations)
    if used is None:
        return (
            f"the job was trained with the system prompt {shown(trained or '', limit=QUOTE_CHARS)} "
            f"({counts[trained]} of {total} training examples), but the suite's cases have no system "
            f"prompt — {_NEVER_TRAINED}"
        )
    if trained is None:
        return (
            f"the suite's cases have the system prompt {shown(used, limit=QUOTE_CHARS)}, but "
            f"{counts[None]} of {total} training examples have none — {_NEVER_TRAINED}"
        )
    quoted_used, quoted_trained = _differing_excerpts(used, trained)
    also = f"; the suite's appears in {counts[used]} of them" if counts[used] else ""
    return (
        f"the suite's system prompt {quoted_used} differs from the one the job was trained with "
        f"{quoted_trained} ({counts[trained]} of {total} training examples{also}) — {_NEVER_TRAINED}"
    )


def _differing_excerpts(first: str, second: str) -> tuple[str, str]:
    """Both texts quoted briefly, from a little before where they differ when that is past the quote."""
    differ_at = len(os.path.commonprefix([first, second]))
    start = 0 if differ_at < QUOTE_CHARS - 10 else differ_at - 20
    return _excerpt(first, start), _excerpt(second, start)


def _excerpt(text: str, start: int) -> str:
    quoted = shown(text[start:], limit=QUOTE_CHARS)
    return '"…' + quoted[1:] if start else quoted


def _separator_warning(prompts: Sequence[str], separator: str | None) -> str | None:
    """The separator appended to chat cases vs the ending the training prompts share."""
    trained = common_ending(prompts)
    if separator == trained:
        return None
    if separator is None:
        return (
            f"the job's training prompts end with the separator {shown(trained or '')}, but the suite "
            f"appends none (completions.separator is not set) — {_NEVER_TRAINED}"
        )
    ending = sum(prompt.endswith(separator) for prompt in prompts)
    if trained is None and ending == len(prompts):
        return None
    where = f"with {shown(trained)}" if trained is not None else "with no common separator"
    return (
        f"the suite appends the separator {shown(separator)} (completions.separator), but the job's "
        f"training prompts end {where} ({ending} of {len(prompts)} end with the suite's) — {_NEVER_TRAINED}"
    )


def _prompt_case_warning(prompts: Sequence[str], prompt_cases: Sequence[str]) -> str | None:
    """Prompt cases are sent as they are: each should end with the training prompts' separator."""
    trained = common_ending(prompts)
    if trained is None:
        return None
    missing = sum(not prompt.endswith(trained) for prompt in prompt_cases)
    if not missing:
        return None
    return (
        f"{missing} of {len(prompt_cases)} test prompts do not end with the separator the job's training "
        f"prompts end with ({shown(trained)}) — {_NEVER_TRAINED}"
    )


def _stop_warning(endings: Sequence[str], stop: Sequence[str] | None) -> str | None:
    """The stop sequences sent vs the ending the training completions share."""
    trained = common_ending(endings)
    stops = list(stop or [])
    shown_stops = "[" + ", ".join(map(shown, stops)) + "]"
    if trained is not None:
        if any(trained.endswith(sequence) for sequence in stops):
            return None
        sent = f"stops at {shown_stops}" if stops else "sets no stop sequence (completions.stop)"
        return (
            f"the job's training completions end with {shown(trained)}, but the suite {sent} — the model "
            "will run on past its answer"
        )
    ending = sum(any(text.endswith(sequence) for sequence in stops) for text in endings)
    if not stops or ending == len(endings):
        return None
    return (
        f"the suite stops at {shown_stops} (completions.stop), but only {ending} of {len(endings)} "
        "training completions end with it — the model may not have learned to produce it"
    )
