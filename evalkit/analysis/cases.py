"""Per-case figures read back from a results dict: what each metric is made of, case by case.

Every statistic of the analysis is computed from these vectors, keyed by case id so that two targets
(of one run or of two runs) can be paired:

    error_rate            1.0 where the target's call failed, else 0.0           (every case)
    <scorer>              the scorer's score                                     (scored cases)
    <classify>.<figure>   (true label index, predicted label index)              (scored cases whose
                                                                                  reference is a label)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from evalkit.errors import InputError
from evalkit.records import ERROR_RATE
from evalkit.scorers.classify import UNPARSED, ClassifyScorer

CLASSIFY_FIGURES = ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall", "kappa")
"""The classify scorer's suite-level figures that are bootstrapped (besides per-label ones)."""

PER_LABEL = ("precision", "recall", "f1")
"""Per-label figure kinds of the classify scorer (``classify.f1.billing``)."""

Kind = Literal["error_rate", "mean", "classify"]
"""How a metric's statistics are computed (see ``MetricSpec.kind``)."""

Results = Mapping[str, Any]
"""A results.json document (see ``evalkit/results.schema.json``)."""


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
    """A results dict with its scorers looked up once: the run a statistic is read from."""

    def __init__(self, results: Results) -> None:
        self.results = results
        """The results.json document."""
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
        return [str(t["name"]) for t in self.results.get("targets", [])]

    def errors(self, target: str) -> dict[str, float]:
        """Per case id: 1.0 when the target's call failed, 0.0 when it answered."""
        if target not in self._errors:
            found: dict[str, float] = {}
            for case_id, result in self._results_of(target):
                failed = result.get("error") is not None or result.get("output") is None
                found[case_id] = 1.0 if failed else 0.0
            self._errors[target] = found
        return self._errors[target]

    def scores(self, target: str, scorer: str) -> dict[str, float]:
        """Per case id: the scorer's score, for the cases it scored (not errored, not unscorable)."""
        if (target, scorer) not in self._scores:
            found: dict[str, float] = {}
            for case_id, result in self._results_of(target):
                value = result.get("scores", {}).get(scorer)
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
            for case_id, result in self._results_of(target):
                true = truth.get(case_id)
                if true is not None and result.get("scores", {}).get(scorer) is not None:
                    answer = result.get("answers", {}).get(scorer, UNPARSED)
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
            for case in self.results["cases"]:
                true = index.get(classify.normalise(str(case["reference"])))
                if true is not None:
                    found[str(case["id"])] = true
            self._truths[scorer] = found
        return self._truths[scorer]

    def _results_of(self, target: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for case in self.results["cases"]:
            result = case["results"].get(target)
            if result is not None:
                yield str(case["id"]), result

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


def scorer_kinds(results: Results) -> dict[str, str]:
    """Each scorer's name and kind, as recorded in the results."""
    return {str(entry["name"]): str(entry["kind"]) for entry in results.get("scorers", [])}


def classify_scorers(results: Results) -> dict[str, ClassifyScorer]:
    """The run's classify scorers, rebuilt from their recorded options, by name."""
    from pydantic import ValidationError

    from evalkit.scorers.classify import build_classify
    from evalkit.suite.scorer_options import ClassifyOptions

    built: dict[str, ClassifyScorer] = {}
    for index, entry in enumerate(results.get("scorers", [])):
        if entry.get("kind") != "classify":
            continue
        try:
            options = ClassifyOptions.model_validate({**entry.get("options", {}), "name": entry["name"]})
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise InputError(
                f"the classify scorer's options cannot be read ({where}: {problem['msg']}); "
                "was the file written by another evalkit version?",
                field=f"scorers[{index}].options",
            ) from None
        built[str(entry["name"])] = build_classify(options)
    return built


def is_binary(values: Mapping[str, float]) -> bool:
    """True when every value is 0 or 1 (and there is at least one)."""
    return bool(values) and all(value in (0.0, 1.0) for value in values.values())


def paired_ids(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    """The case ids present in both, in the first's order."""
    return [case_id for case_id in first if case_id in second]
