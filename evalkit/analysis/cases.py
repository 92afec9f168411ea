"""Per-case figures read back from a run's results: what each metric is made of, case by case.

Every statistic of the analysis is computed from these vectors, keyed by case id so that two targets
(of one run or of two runs) can be paired:

    error_rate            1.0 where the target's call failed, else 0.0           (every case)
    <scorer>              the scorer's score                                     (scored cases)
    <classify>.<figure>   (true label index, predicted label index)              (scored cases whose
                                                                                  reference is a label)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from evalkit.errors import InputError
from evalkit.records import ERROR_RATE
from evalkit.records.results import RunResults
from evalkit.scorers.classify import UNPARSED, ClassifyScorer

CLASSIFY_FIGURES = ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall", "kappa")
"""The classify scorer's suite-level figures that are bootstrapped (besides per-label ones)."""

PER_LABEL = ("precision", "recall", "f1")
"""Per-label figure kinds of the classify scorer (``classify.f1.billing``)."""

Kind = Literal["error_rate", "mean", "classify"]
"""How a metric's statistics are computed (see ``MetricSpec.kind``)."""

@dataclass(frozen=True, slots=True)
class MetricSpec:
    """What a metric name means, for the purpose of computing its statistics."""

    name: str
    """The metric name as in results.json (``exact``, ``classify.macro_f1``, ``error_rate``)."""
    kind: Kind
    """``error_rate``, ``mean`` (of a scorer's per-case scores) or ``classify`` (a bootstrapped figure)."""
    scorer: str = ""
    """The scorer the metric belongs to (empty for ``error_rate``)."""
    figure: str = ""
    """For ``classify``: the figure after the scorer's name (``macro_f1``, ``f1.billing``)."""


class Run:
    """A run's results with its scorers looked up once: the run a statistic is read from."""

    def __init__(self, results: RunResults) -> None:
        self.results = results
        """The run's results."""
        self.scorer_kinds = scorer_kinds(results)
        """Each scorer's name and kind."""
        self.classify = classify_scorers(results)
        """The classify scorers, rebuilt, by name."""
        self._errors: dict[str, dict[str, float]] = {}
        self._scores: dict[tuple[str, str], dict[str, float]] = {}
        self._labels: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
        self._truths: dict[str, dict[str, int]] = {}

    def spec(self, metric: str) -> MetricSpec | None:
        """How ``metric`` is computed from per-case data; None for figures that cannot be resampled."""
        if metric == ERROR_RATE:
            return MetricSpec(metric, "error_rate")
        scorer, _, figure = metric.partition(".")
        if scorer not in self.scorer_kinds:
            return None
        if not figure:
            return MetricSpec(metric, "mean", scorer)
        classify = self.classify.get(scorer)
        if classify is not None and figure in figure_names(classify.labels):
            return MetricSpec(metric, "classify", scorer, figure)
        return None

    def target_names(self) -> list[str]:
        """The run's targets, in their order."""
        return self.results.target_names

    def errors(self, target: str) -> dict[str, float]:
        """Per case id: 1.0 when the target's call failed, 0.0 when it answered."""
        if target not in self._errors:
            self._errors[target] = {
                case_id: 1.0 if result.failed else 0.0 for case_id, result in self.results.answers(target)
            }
        return self._errors[target]

    def scores(self, target: str, scorer: str) -> dict[str, float]:
        """Per case id: the scorer's score, for the cases it scored (not errored, not unscorable)."""
        if (target, scorer) not in self._scores:
            found: dict[str, float] = {}
            for case_id, result in self.results.answers(target):
                value = result.scores.get(scorer)
                if value is not None and math.isfinite(value):
                    found[case_id] = float(value)
            self._scores[target, scorer] = found
        return self._scores[target, scorer]

    def labels(self, target: str, scorer: str) -> dict[str, tuple[int, int]]:
        """Per case id: (true, predicted) indices into the classify scorer's labels, for the scored cases
        whose reference is a label (the cases its own aggregate counts). An output naming no label, or
        an answer that is no label, is ``len(labels)`` (``unparsed``)."""
        if (target, scorer) not in self._labels:
            truth = self._truth(scorer)
            labels = self.classify[scorer].labels
            predicted = {label: i for i, label in enumerate(labels)}
            found: dict[str, tuple[int, int]] = {}
            for case_id, result in self.results.answers(target):
                true = truth.get(case_id)
                if true is not None and result.scores.get(scorer) is not None:
                    answer = result.answers.get(scorer, UNPARSED)
                    found[case_id] = (true, predicted.get(answer, len(labels)))
            self._labels[target, scorer] = found
        return self._labels[target, scorer]

    def _truth(self, scorer: str) -> dict[str, int]:
        """Per case id, the index of the label its reference names (cases whose reference is no label
        are left out), normalised as the scorer normalises."""
        if scorer not in self._truths:
            classify = self.classify[scorer]
            index = {classify.normalise(label): i for i, label in enumerate(classify.labels)}
            found: dict[str, int] = {}
            for case in self.results.cases:
                true = index.get(classify.normalise(case.reference))
                if true is not None:
                    found[case.id] = true
            self._truths[scorer] = found
        return self._truths[scorer]

    def check_target(self, target: str, *, what: str = "target") -> None:
        """``InputError`` when the run has no target of that name, listing the ones it has."""
        names = self.target_names()
        if target not in names:
            raise InputError(f"{what} {target!r} is not in this run (targets: {', '.join(names) or 'none'})")


@dataclass(frozen=True, slots=True)
class Side:
    """One target of one run: one side of a paired comparison."""

    run: Run
    """The run."""
    target: str
    """The target's name in that run."""


def figure_names(labels: tuple[str, ...]) -> list[str]:
    """Every classify figure that can be bootstrapped, for these labels."""
    per_label = [f"{kind}.{label}" for kind in PER_LABEL for label in labels]
    return [*CLASSIFY_FIGURES, *per_label, "unparsed_rate"]


def scorer_kinds(results: RunResults) -> dict[str, str]:
    """Each scorer's name and kind, as recorded in the results."""
    return {entry.name: entry.kind for entry in results.scorers}


def classify_scorers(results: RunResults) -> dict[str, ClassifyScorer]:
    """The run's classify scorers, rebuilt from their recorded options, by name."""
    from pydantic import ValidationError

    from evalkit.scorers.classify import build_classify
    from evalkit.suite.scorer_options import ClassifyOptions

    built: dict[str, ClassifyScorer] = {}
    for index, entry in enumerate(results.scorers):
        if entry.kind != "classify":
            continue
        try:
            options = ClassifyOptions.model_validate({**entry.options, "name": entry.name})
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise InputError(
                f"the classify scorer's options cannot be read ({where}: {problem['msg']}); "
                "was the file written by another evalkit version?",
                field=f"scorers[{index}].options",
            ) from None
        built[entry.name] = build_classify(options)
    return built


def is_binary(values: Mapping[str, float]) -> bool:
    """True when every value is 0 or 1 (and there is at least one)."""
    return bool(values) and all(value in (0.0, 1.0) for value in values.values())


def paired_ids(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    """The case ids present in both, in the first's order."""
    return [case_id for case_id in first if case_id in second]
