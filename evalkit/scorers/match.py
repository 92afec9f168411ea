"""``includes`` and ``regex``: the output contains a text, or matches a regular expression."""

from __future__ import annotations

import re

from evalkit.records import Case, Score
from evalkit.scorers.base import Scorer, binary
from evalkit.suite.scorer_options import IncludesOptions, RegexOptions


class IncludesScorer(Scorer):
    """1.0 when the output contains the reference (or the fixed ``text``)."""

    kind = "includes"

    def __init__(self, *, name: str | None = None, text: str | None = None, casefold: bool = False) -> None:
        super().__init__(name=name)
        self.text = text
        """Text to look for instead of each case's reference."""
        self.casefold = casefold
        """Ignore case."""

    async def score(self, output: str, case: Case) -> Score:
        needle = self.text if self.text is not None else case.reference
        if self.casefold:
            needle, output = needle.casefold(), output.casefold()
        what = "text" if self.text is not None else "reference"
        return binary(needle in output, explanation=f"{what} not found in the output")

    def check_reference(self, reference: str) -> str | None:
        if self.text is None and not reference.strip():
            return "reference is empty, so 'includes' would find it in every output"
        return None


class RegexScorer(Scorer):
    """1.0 when the pattern is found in the output (or matches all of it, stripped, with ``fullmatch``)."""

    kind = "regex"

    def __init__(
        self,
        pattern: str,
        *,
        name: str | None = None,
        ignorecase: bool = False,
        fullmatch: bool = False,
    ) -> None:
        super().__init__(name=name)
        self.pattern = re.compile(pattern, re.IGNORECASE if ignorecase else 0)
        """The compiled pattern."""
        self.fullmatch = fullmatch
        """The whole stripped output must match, not just a part of it."""

    async def score(self, output: str, case: Case) -> Score:
        if self.fullmatch:
            found = self.pattern.fullmatch(output.strip())
        else:
            found = self.pattern.search(output)
        if found is None:
            how = "does not match" if self.fullmatch else "not found in"
            return binary(False, explanation=f"pattern {how} the output")
        return binary(True, answer=found.group(0))


def build_includes(options: IncludesOptions) -> IncludesScorer:
    """The ``includes`` scorer a suite entry describes."""
    return IncludesScorer(name=options.name, text=options.text, casefold=options.casefold)


def build_regex(options: RegexOptions) -> RegexScorer:
    """The ``regex`` scorer a suite entry describes."""
    return RegexScorer(
        options.pattern, name=options.name, ignorecase=options.ignorecase, fullmatch=options.fullmatch
    )
