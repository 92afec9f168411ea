"""``classify``: map each output to one of a fixed set of labels, and report classification metrics.

Outputs and labels are normalised alike: whitespace runs collapsed, surrounding whitespace, quotes and
punctuation stripped (``"Billing."`` → ``Billing``), and case ignored unless ``casefold: false``.
``match: exact`` needs the normalised output to be a label; ``match: first`` takes the label mentioned
first (whole words; on a tie the longer label), so "Technical, not billing" is ``technical``. An output
naming no label is predicted as ``unparsed``, a reserved name: it counts as wrong, belongs to no class in
the per-class and macro figures, and cannot itself be a label.

Every aggregate comes from ``sklearn.metrics`` (imported only when aggregates are computed).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

from evalkit.records import Case, Score
from evalkit.scorers.base import Aggregate, Scorer, binary
from evalkit.suite.scorer_options import UNPARSED, ClassifyOptions

__all__ = ["UNPARSED", "ClassifyScorer", "build_classify"]

_OUTPUTS_REMEMBERED = 4096
"""Distinct outputs whose label is remembered (an LRU): a classifier's outputs repeat; free text does not."""


class ClassifyScorer(Scorer):
    """1.0 when the label read from the output is the case's reference label; ``answer`` is that label."""

    kind = "classify"

    def __init__(
        self,
        labels: Sequence[str],
        *,
        name: str | None = None,
        match: Literal["exact", "first"] = "first",
        casefold: bool = True,
    ) -> None:
        super().__init__(name=name)
        self.options = ClassifyOptions(labels=list(labels), name=name, match=match, casefold=casefold)
        """The options, validated (labels that cannot be told apart are refused there)."""
        self.labels: tuple[str, ...] = tuple(labels)
        """The allowed labels, as spelled in the suite."""
        self.match = match
        """``exact``: the output must be a label; ``first``: the first label mentioned in it."""
        self.casefold = casefold
        """Ignore case when matching labels."""
        self._by_key = self.options.labels_by_key
        self._mention = _mention_pattern(self._by_key)
        self._read = lru_cache(maxsize=_OUTPUTS_REMEMBERED)(self._label_in)
        self._truths: dict[str, str | None] = {}

    def normalise(self, text: str) -> str:
        """``text`` as it is compared with labels (``ClassifyOptions.label_key``)."""
        return self.options.label_key(text)

    def label_of(self, text: str) -> str | None:
        """The label ``text`` names (per ``match``), as spelled in ``labels``; None when it names none.
        Outputs repeat (a classifier answers with a few labels), so recent ones are remembered."""
        return self._read(text)

    def _label_in(self, text: str) -> str | None:
        key = self.normalise(text)
        exact = self._by_key.get(key)
        if exact is not None or self.match == "exact":
            return exact
        found = self._mention.search(key)
        return None if found is None else self._by_key[found.group(0)]

    async def score(self, output: str, case: Case) -> Score:
        predicted = self.label_of(output)
        if predicted is None:
            return binary(False, answer=UNPARSED, explanation="no label found in the output")
        return binary(predicted == self._true_label(case.reference), answer=predicted)

    def check_reference(self, reference: str) -> str | None:
        if self._true_label(reference) is not None:
            return None
        return f"reference {reference!r} is not one of the labels ({', '.join(self.labels)})"

    def aggregate(self, cases: Sequence[Case], scores: Sequence[Score | None]) -> Aggregate:
        """sklearn's classification metrics over the scored cases whose reference is a label."""
        pairs = [
            (truth, score.answer or UNPARSED)
            for case, score in zip(cases, scores, strict=True)
            if score is not None and (truth := self._true_label(case.reference)) is not None
        ]
        if not pairs:
            return Aggregate(metrics=dict.fromkeys(self.aggregate_names()), n=0)
        y_true, y_pred = [t for t, _ in pairs], [p for _, p in pairs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self._aggregate(y_true, y_pred)

    def _true_label(self, reference: str) -> str | None:
        """The label a reference names (normalised alike); None for a reference that is no label. Each
        reference is read once, however many targets answer its case."""
        if reference not in self._truths:
            self._truths[reference] = self._by_key.get(self.normalise(reference))
        return self._truths[reference]

    def aggregate_names(self) -> tuple[str, ...]:
        names = ["accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall", "kappa"]
        names += [f"{kind}.{label}" for kind in ("precision", "recall", "f1") for label in self.labels]
        return (*names, "unparsed_rate")

    def _aggregate(self, truths: list[str], answers: list[str]) -> Aggregate:
        """sklearn's figures, given the labels as their indices (``unparsed`` and any other answer as indices
        past the labels'): the same figures as for the strings, without sklearn sorting strings."""
        import numpy as np
        from sklearn.metrics import (
            accuracy_score,
            cohen_kappa_score,
            confusion_matrix,
            precision_recall_fscore_support,
        )

        labels = list(self.labels)
        index = {label: i for i, label in enumerate([*labels, UNPARSED])}
        y_true = np.array([index[label] for label in truths])
        y_pred = np.array([index.setdefault(answer, len(index)) for answer in answers])
        ids = list(range(len(labels)))
        unparsed = index[UNPARSED]
        macro = precision_recall_fscore_support(y_true, y_pred, labels=ids, average="macro", zero_division=0)
        weighted = precision_recall_fscore_support(y_true, y_pred, labels=ids, average="weighted", zero_division=0)
        per_class = precision_recall_fscore_support(y_true, y_pred, labels=ids, average=None, zero_division=0)
        metrics: dict[str, float | None] = {
            "accuracy": _number(accuracy_score(y_true, y_pred)),
            "macro_f1": _number(macro[2]),
            "weighted_f1": _number(weighted[2]),
            "macro_precision": _number(macro[0]),
            "macro_recall": _number(macro[1]),
            "kappa": _number(cohen_kappa_score(y_true, y_pred, labels=[*ids, unparsed])),
        }
        for kind, values in zip(("precision", "recall", "f1"), per_class[:3], strict=True):
            metrics.update({f"{kind}.{label}": _number(v) for label, v in zip(labels, values, strict=True)})
        found_unparsed = int((y_pred == unparsed).sum())
        metrics["unparsed_rate"] = found_unparsed / len(y_pred)
        shown = [*labels, UNPARSED] if found_unparsed else labels
        details: dict[str, Any] = {
            "labels": shown,
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=list(range(len(shown)))).tolist(),
            "support": {label: int(n) for label, n in zip(labels, per_class[3], strict=True)},
        }
        return Aggregate(metrics=metrics, details=details, n=len(y_true))


def _number(value: Any) -> float | None:
    """A plain Python float, or None for NaN (a figure sklearn finds undefined, e.g. kappa of one class)."""
    number = float(value)
    return None if math.isnan(number) else number


def _mention_pattern(by_key: dict[str, str]) -> re.Pattern[str]:
    """Finds the earliest whole-word mention of any label; at one position the longest label wins."""
    keys = sorted(by_key, key=len, reverse=True)
    alternatives = "|".join(re.escape(key) for key in keys)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def build_classify(options: ClassifyOptions) -> ClassifyScorer:
    """The ``classify`` scorer a suite entry describes."""
    return ClassifyScorer(options.labels, name=options.name, match=options.match, casefold=options.casefold)
