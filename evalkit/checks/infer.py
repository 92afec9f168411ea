"""How a legacy fine-tune expects to be prompted, read off its prompt/completion training data.

Legacy (babbage-002, davinci-002) training prompts end with a fixed separator and completions end with a
fixed stop sequence; the model must be called the same way. When the suite does not say, they are
inferred here from the longest common ending of all prompts (the separator) and of all completions (the
stop), never when some text is nothing but the shared ending (identical completions say nothing about
where the answer stops), and cut back to a separator boundary in two steps, the same for both:

1. It does not start inside a word: ``"…refund\\nQueue:"`` and ``"…weird sound\\nQueue:"`` share
   ``"und\\nQueue:"``; the separator is ``"\\nQueue:"``.
2. It carries none of the texts' own words: the first line of the ending (the line on which the texts
   differ) may end in words they all happen to share. When such words are followed by separator material
   — a line break, or a symbol that is not a word's closing punctuation (``-``, ``>``, ``#``, ``=``, …) —
   they are text, and the ending starts where that material does: prompts all ending
   ``" fine.\\n\\n###\\n\\n"`` give ``"\\n\\n###\\n\\n"``, ``" fine. ->"`` gives ``" ->"``, and
   completions all ending ``" thanks.\\n"`` stop at ``"\\n"``. Words after a line break (``"\\n\\nQueue:"``)
   are the separator's, and so are words with nothing but spaces and closing punctuation after them
   (``" END"``, ``" Answer:"``): nothing there tells them from a separator.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from evalkit.records import TrainingExample
from evalkit.suite.model import Completions

_TRAILING_PUNCTUATION = frozenset(".,;:!?'\")]}»”’…。、，！？；：」』）】〉》")
"""Characters that end a word rather than start a separator (``"twice."`` + ``"\\n"``, not ``".\\n"``)."""

_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
"""What ``str.splitlines`` breaks lines at."""


@dataclass(frozen=True, slots=True)
class Inferred:
    """The separator and stop sequence a job's legacy training data implies."""

    separator: str | None
    """The ending every training prompt shares; None if they share none (or there are none)."""
    stop: list[str] | None
    """The ending every training completion shares, as a stop-sequence list; None if none."""
    examples: int
    """How many prompt/completion training examples it was inferred from (0: chat data or none)."""

    def describe(self) -> str:
        """One line for the terminal, with the inferred strings escaped."""
        if not self.examples:
            return "no prompt/completion training examples to infer a separator and stop sequence from"
        noun = "prompt" if self.examples == 1 else "prompts"
        separator = shown(self.separator) if self.separator is not None else "(none in common)"
        stop = "[" + ", ".join(map(shown, self.stop)) + "]" if self.stop is not None else "(none in common)"
        return f"inferred from {self.examples} training {noun}: separator {separator}, stop {stop}"

    def fill(self, completions: Completions) -> Completions:
        """``completions`` with the separator and stop it leaves unset taken from what was inferred."""
        update: dict[str, object] = {}
        if completions.separator is None and self.separator is not None:
            update["separator"] = self.separator
        if completions.stop is None and self.stop is not None:
            update["stop"] = list(self.stop)
        return completions.model_copy(update=update) if update else completions

    def to_json(self) -> dict[str, object]:
        """``{"separator", "stop", "examples"}`` for results.json."""
        return {"separator": self.separator, "stop": self.stop, "examples": self.examples}


def infer_completions(examples: Sequence[TrainingExample]) -> Inferred:
    """The separator and stop sequence shared by the legacy (prompt/completion) examples; chat ignored."""
    prompts = [example.prompt for example in examples if example.prompt is not None]
    completions = [example.completion for example in examples if example.completion is not None]
    stop = common_ending(completions)
    return Inferred(
        separator=common_ending(prompts),
        stop=[stop] if stop is not None else None,
        examples=len(prompts),
    )


def common_ending(texts: Sequence[str]) -> str | None:
    """The ending all ``texts`` share, from a separator boundary (see the module docstring): the longest
    one that starts at a word boundary in each of them, without the words the texts happen to share before
    separator material. None if there is none, if there are no texts, or if some text is nothing but the
    shared ending (all identical)."""
    if not texts:
        return None
    # The common prefix of the reversed texts is the common suffix of the texts.
    suffix = os.path.commonprefix([text[::-1] for text in texts])[::-1]
    if len(suffix) == min(len(text) for text in texts):
        return None  # some text is all ending (all identical, or one is an empty answer): no evidence
    for start in range(len(suffix)):
        length = len(suffix) - start
        # Inside the common suffix the character before the cut is the same in every text.
        befores = {suffix[start - 1]} if start else {text[-length - 1] for text in texts}
        if all(_is_boundary(before, suffix[start]) for before in befores):
            return _without_shared_words(suffix[start:])
    return None


def _without_shared_words(ending: str) -> str:
    """``ending`` from where the separator material after the words of its first line starts; all of it
    when its first line has no words, or they have no such material after them."""
    first_line = next((i for i, char in enumerate(ending) if char in _LINE_BREAKS), len(ending))
    last_word = next((i for i in reversed(range(first_line)) if _is_word(ending[i])), None)
    if last_word is None:
        return ending
    for start in range(last_word + 1, len(ending)):
        if _is_boundary(ending[start - 1], ending[start]) and any(map(_is_material, ending[start:])):
            return ending[start:]
    return ending


def _is_material(char: str) -> bool:
    """A line break or a symbol: what marks a separator off from the text before it (a space or a word's
    closing punctuation does not)."""
    return char in _LINE_BREAKS or not (char.isspace() or _is_word(char) or char in _TRAILING_PUNCTUATION)


def _is_boundary(before: str, first: str) -> bool:
    """Whether an ending starting with ``first`` after ``before`` starts outside a word."""
    if before.isspace():
        return True
    if first in _TRAILING_PUNCTUATION:
        return False
    return not (_is_word(before) and _is_word(first))


def _is_word(char: str) -> bool:
    """Letters, digits, ``_`` and combining marks (a decomposed ``é`` is still one word)."""
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def shown(text: str, *, limit: int | None = None) -> str:
    """``text`` double-quoted for a terminal line: newlines, control and invisible characters escaped,
    cut to ``limit`` characters with ``…`` when longer."""
    cut = text if limit is None or len(text) <= limit else text[:limit]
    quoted = json.dumps(cut, ensure_ascii=False)
    escaped = "".join(char if char.isprintable() else _escape(char) for char in quoted)
    return escaped if cut is text else escaped[:-1] + '…"'


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
