"""score_run and compute_metrics: per-target scores and the metrics named in results.json and gates."""

from __future__ import annotations

import asyncio
import time

import pytest

from evalkit.metrics import compute_metrics, score_run
from evalkit.records import Case, Outcome
from evalkit.scorers import ClassifyScorer, ExactScorer, RegexScorer, Scorer

LABELS = ["billing", "technical"]


def cases(*references: str) -> list[Case]:
    return [
        Case(id=f"c{i}", reference=ref, messages=({"role": "user", "content": "..."},))
        for i, ref in enumerate(references)
    ]


def ok(output: str) -> Outcome:
    return Outcome(output=output)


ERRORED = Outcome(output=None, error="boom")


def test_score_run_gives_none_where_the_call_errored() -> None:
    run_cases = cases("billing", "technical", "billing")
    outcomes = {
        "base": [ok("billing"), ERRORED, ok("technical")],
        "final": [ok("billing"), ok("technical"), ok("billing")],
    }
    scores = asyncio.run(score_run(run_cases, outcomes, [ExactScorer(), ClassifyScorer(LABELS)]))
    assert set(scores) == {"base", "final"}
    assert set(scores["base"]) == {"exact", "classify"}
    base = scores["base"]["exact"]
    assert base[1] is None
    assert [s.value for s in base if s is not None] == [1.0, 0.0]
    assert [s.answer for s in scores["final"]["classify"] if s is not None] == LABELS + ["billing"]


def test_means_and_counts_leave_errored_cases_out() -> None:
    run_cases = cases("billing", "technical", "billing", "technical")
    outcomes = {"final": [ok("billing"), ERRORED, ok("Billing"), ok("technical")]}
    scorers: list[Scorer] = [ExactScorer(), ClassifyScorer(LABELS)]
    scores = asyncio.run(score_run(run_cases, outcomes, scorers))
    metrics, _ = compute_metrics(run_cases, outcomes, scores, scorers)
    final = metrics["final"]
    assert final["exact"].value == pytest.approx(2 / 3)
    assert final["exact"].n == 3
    assert (final["classify"].value, final["classify"].n) == (1.0, 3)
    assert (final["classify.accuracy"].value, final["classify.accuracy"].n) == (1.0, 3)
    assert (final["error_rate"].value, final["error_rate"].n) == (0.25, 4)
    assert all(metric.ci is None for metric in final.values())


def test_metric_names_are_scorer_then_aggregate() -> None:
    run_cases = cases("billing", "technical")
    outcomes = {"base": [ok("billing"), ok("billing")]}
    scorers: list[Scorer] = [RegexScorer("bill", name="mentions_bill"), ClassifyScorer(LABELS)]
    scores = asyncio.run(score_run(run_cases, outcomes, scorers))
    metrics, details = compute_metrics(run_cases, outcomes, scores, scorers)
    names = set(metrics["base"])
    assert {"mentions_bill", "classify", "classify.macro_f1", "classify.weighted_f1", "error_rate"} <= names
    assert {"classify.f1.billing", "classify.precision.technical", "classify.kappa"} <= names
    assert not any(name.startswith("mentions_bill.") for name in names)
    assert metrics["base"]["classify.macro_f1"].value == pytest.approx(1 / 3)
    assert set(details["base"]) == {"classify"}
    assert details["base"]["classify"]["confusion_matrix"] == [[1, 0], [1, 0]]


def test_values_are_plain_floats() -> None:
    run_cases = cases("billing", "technical", "technical")
    outcomes = {"t": [ok("billing"), ok("billing"), ok("technical")]}
    scorers: list[Scorer] = [ClassifyScorer(LABELS)]
    scores = asyncio.run(score_run(run_cases, outcomes, scorers))
    metrics, _ = compute_metrics(run_cases, outcomes, scores, scorers)
    for name, metric in metrics["t"].items():
        assert type(metric.value) is float, name


def test_a_target_whose_every_call_errored() -> None:
    run_cases = cases("billing", "technical")
    outcomes = {"down": [ERRORED, ERRORED]}
    scorers: list[Scorer] = [ExactScorer(), ClassifyScorer(LABELS)]
    scores = asyncio.run(score_run(run_cases, outcomes, scorers))
    metrics, details = compute_metrics(run_cases, outcomes, scores, scorers)
    down = metrics["down"]
    assert (down["exact"].value, down["exact"].n) == (None, 0)
    assert (down["classify.macro_f1"].value, down["classify.macro_f1"].n) == (None, 0)
    assert (down["error_rate"].value, down["error_rate"].n) == (1.0, 2)
    assert details["down"] == {}


def test_no_cases_at_all() -> None:
    metrics, _ = compute_metrics([], {"t": []}, {"t": {"exact": []}}, [ExactScorer()])
    assert (metrics["t"]["exact"].value, metrics["t"]["error_rate"].value) == (None, None)


def test_outcomes_must_line_up_with_cases() -> None:
    with pytest.raises(ValueError, match="target 't' has 1 outcomes for 2 cases"):
        asyncio.run(score_run(cases("a", "b"), {"t": [ok("a")]}, [ExactScorer()]))


def test_scoring_a_large_run_is_quick() -> None:
    run_cases = cases(*(LABELS[i % 2] for i in range(10_000)))
    outcomes = {
        f"t{t}": [ok(f"It is {LABELS[(i + t) % 2]}.") if i % 13 else ERRORED for i in range(10_000)]
        for t in range(5)
    }
    scorers: list[Scorer] = [ExactScorer(), ClassifyScorer(LABELS), RegexScorer("bill")]
    started = time.perf_counter()
    scores = asyncio.run(score_run(run_cases, outcomes, scorers))
    assert time.perf_counter() - started < 5.0
    assert sum(s is None for s in scores["t0"]["exact"]) == len(range(0, 10_000, 13))
