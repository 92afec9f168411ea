"""``exact``: the output equals the reference, after the same normalisation of both.

Normalisation, in this order, each step only when its option is on: casefold, remove Unicode punctuation
(category ``P*``), collapse whitespace runs to one space, strip the ends (on by default).
"""

from __future__ import annotations

from evalkit.records import Case, Score
from evalkit.scorers.base import Scorer, binary
from evalkit.suite.scorer_options import ExactOptions
from evalkit.text import collapse_whitespace, remove_punctuation


class ExactScorer(Scorer):
    """1.0 when the normalised output equals the normalised reference; ``answer`` is the normalised output."""

    kind = "exact"

    def __init__(
        self,
        *,
        name: str | None = None,
        strip: bool = True,
        casefold: bool = False,
        whitespace: bool = False,
        punctuation: bool = False,
    ) -> None:
        super().__init__(name=name)
        self.strip = strip
        """Ignore leading and trailing whitespace."""
        self.casefold = casefold
        """Ignore case."""
        self.whitespace = whitespace
        """Collapse every run of whitespace to one space."""
        self.punctuation = punctuation
        """Ignore punctuation characters."""

    def normalise(self, text: str) -> str:
        """``text`` as it is compared: the enabled normalisations applied in a fixed order."""
        if self.casefold:
            text = text.casefold()
        if self.punctuation:
            text = remove_punctuation(text)
        if self.whitespace:
            text = collapse_whitespace(text)
        if self.strip:
            text = text.strip()
        return text

    async def score(self, output: str, case: Case) -> Score:
        answer = self.normalise(output)
        return binary(answer == self.normalise(case.reference), answer=answer, explanation="not equal")


def build_exact(options: ExactOptions) -> ExactScorer:
    """The ``exact`` scorer a suite entry describes."""
    return ExactScorer(
        name=options.name,
        strip=options.strip,
        casefold=options.casefold,
        whitespace=options.whitespace,
        punctuation=options.punctuation,
    )
