"""Contamination: which test cases the fine-tune has already seen in its training or validation file.

A case's input is the conversation before its reference (chat) or its prompt (legacy). A training
example contributes its conversation before *each* assistant turn (so a test conversation that opens a
longer training conversation counts) or its prompt. Inputs are compared as text — messages rendered with
role markers as a completions prompt would be (``"user: …\\n"``; a lone user message as its content):

- **exact**: the same text;
- **near**: the same text once normalised (Unicode NFKC, casefolded, punctuation and symbols removed,
  whitespace collapsed), but not exact.

Each training side is indexed once as a set of fixed-size digests, so 100,000 training rows against
10,000 cases take seconds and little memory.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from evalkit.checks.infer import shown
from evalkit.providers.prompts import to_prompt
from evalkit.records import Case, Message, TrainingExample
from evalkit.records.jobs import Overlap
from evalkit.suite.model import Completions

FILES = ("training", "validation")
"""The job's files a suite is checked against, in the order they are reported."""

IDS_SHOWN = 10
"""How many case ids a warning lists before it says how many more there are."""

_RENDERING = Completions()
_ASCII_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]+")
_NOT_WORD_OR_SPACE = re.compile(r"[^\w\s]")


@dataclass(frozen=True, slots=True)
class Contamination:
    """How a suite's cases overlap the job's training and validation files."""

    cases: int
    """How many test cases were checked."""
    training: Overlap = field(default_factory=Overlap)
    """Cases also in the training file."""
    validation: Overlap = field(default_factory=Overlap)
    """Cases also in the validation file."""

    def record(self) -> dict[str, Overlap]:
        """Per file, the overlapping case ids, as results.json keeps them."""
        return {"training": self.training, "validation": self.validation}

    def warnings(self) -> list[str]:
        """One line per file the cases overlap; [] when they are clean."""
        overlaps = (("training", self.training), ("validation", self.validation))
        return [self._warning(name, overlap) for name, overlap in overlaps if overlap]

    def _warning(self, name: str, overlap: Overlap) -> str:
        kinds = (("exact", overlap.exact), ("near-duplicate", overlap.near))
        listed = "; ".join(f"{label}: {_id_list(ids)}" for label, ids in kinds if ids)
        verb = "appears" if len(overlap) == 1 else "appear"
        noun = "test case" if self.cases == 1 else "test cases"
        return (
            f"{len(overlap)} of {self.cases} {noun} also {verb} in the job's {name} file ({listed}) — "
            "their scores say little about generalisation"
        )


def find_contamination(
    cases: Sequence[Case],
    training: Sequence[TrainingExample],
    validation: Sequence[TrainingExample] | None = None,
) -> Contamination:
    """The cases whose input also appears, exactly or nearly, in the training and validation examples."""
    inputs = [(case.id, case_input(case)) for case in cases]
    keys = [(case_id, _digest(text), _near_key(text)) for case_id, text in inputs if text is not None]
    return Contamination(
        cases=len(cases),
        training=_overlap(keys, _Index.of(training)),
        validation=_overlap(keys, _Index.of(validation or ())),
    )


def case_input(case: Case) -> str | None:
    """The case's input as text: its prompt, or its conversation rendered; None if it has neither."""
    if case.prompt is not None:
        return case.prompt
    if case.messages is not None:
        return render(case.messages)
    return None


def training_inputs(example: TrainingExample) -> Iterator[str]:
    """Every input a training example teaches an answer to: its prompt, or its conversation before each
    assistant turn."""
    if example.prompt is not None:
        yield example.prompt
    if example.messages is not None:
        for index, message in enumerate(example.messages):
            if message.get("role") == "assistant" and index:
                yield render(example.messages[:index])


def render(messages: Sequence[Message]) -> str:
    """A conversation as one text, with role markers (``"user: …\\n"``; a lone user message as it is)."""
    return to_prompt(messages, _RENDERING)


def normalise(text: str) -> str:
    """``text`` for near-duplicate matching: NFKC, casefolded, punctuation and symbols removed (combining
    marks kept), whitespace collapsed to single spaces."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    stripped = _ASCII_PUNCTUATION.sub("", folded)
    if not stripped.isascii():
        stripped = _NOT_WORD_OR_SPACE.sub(_drop_punctuation, stripped)
    return " ".join(stripped.split())


def _drop_punctuation(match: re.Match[str]) -> str:
    char = match.group()
    return "" if unicodedata.category(char)[0] in "PS" else char


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _near_key(text: str) -> bytes | None:
    """The digest of the normalised text; None when nothing is left (punctuation alone matches nothing)."""
    normal = normalise(text)
    return _digest(normal) if normal else None


@dataclass(frozen=True, slots=True)
class _Index:
    exact: frozenset[bytes]
    near: frozenset[bytes]

    @classmethod
    def of(cls, examples: Sequence[TrainingExample]) -> _Index:
        exact: set[bytes] = set()
        near: set[bytes] = set()
        for example in examples:
            for text in training_inputs(example):
                exact.add(_digest(text))
                if (key := _near_key(text)) is not None:
                    near.add(key)
        return cls(exact=frozenset(exact), near=frozenset(near))


def _overlap(keys: Sequence[tuple[str, bytes, bytes | None]], index: _Index) -> Overlap:
    exact_ids = [case_id for case_id, exact, _ in keys if exact in index.exact]
    near_ids = [
        case_id
        for case_id, exact, near in keys
        if exact not in index.exact and near is not None and near in index.near
    ]
    return Overlap(exact=exact_ids, near=near_ids)


def _id_list(ids: Sequence[str]) -> str:
    listed = ", ".join(_show_id(case_id) for case_id in ids[:IDS_SHOWN])
    more = len(ids) - IDS_SHOWN
    return f"{listed} and {more} more" if more > 0 else listed


def _show_id(case_id: str) -> str:
    """A case id as it is when it is plain, else quoted with its invisible characters escaped."""
    plain = case_id.isprintable() and "," not in case_id and ";" not in case_id and case_id.strip() == case_id
    return case_id if plain and case_id else shown(case_id)
