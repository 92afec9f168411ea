"""score_run and compute_metrics: per-target scores and the metrics named in results.json and gates."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from evalkit.analysis.metrics import compute_metrics
from evalkit.errors import InputError
from evalkit.records import Case, Outcome, Score, Target
from evalkit.scorers import (
    Aggregate,
    ClassifyScorer,
    ExactScorer,
    FailedScore,
    RegexScorer,
    Scorer,
    ScoringError,
)
from evalkit.scorers.run import base_targets, check_pairwise, score_run, score_warnings

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


def test_a_large_run_is_scored_case_by_case_for_every_target() -> None:
    """10,000 cases × 5 targets (how fast is a speed goal, measured in bench/throughput.py, not here)."""
    run_cases = cases(*(LABELS[i % 2] for i in range(10_000)))
    outcomes = {
        f"t{t}": [ok(f"It is {LABELS[(i + t) % 2]}.") if i % 13 else ERRORED for i in range(10_000)]
        for t in range(5)
    }
    scorers: list[Scorer] = [ExactScorer(), ClassifyScorer(LABELS), RegexScorer("bill")]
    scores = asyncio.run(score_run(run_cases, outcomes, scorers))
    assert sum(s is None for s in scores["t0"]["exact"]) == len(range(0, 10_000, 13))
    for t in range(5):
        for name in ("exact", "classify", "regex"):
            per_case = scores[f"t{t}"][name]
            assert len(per_case) == 10_000
            assert [i for i, s in enumerate(per_case) if s is None] == list(range(0, 10_000, 13)), (t, name)
        answered = [i for i in range(10_000) if i % 13]
        values = {name: [s.value for s in found if s is not None] for name, found in scores[f"t{t}"].items()}
        assert values["exact"] == [0.0] * len(answered)  # "It is billing." is not "billing"
        assert values["classify"] == [float(t % 2 == 0)] * len(answered)  # the label named is right or not
        assert values["regex"] == [float((i + t) % 2 == 0) for i in answered]  # "bill" in "It is billing."


class Picky(Scorer):
    """Scores 1.0 for "yes", 0.0 for "no", and cannot score anything else; counts what its aggregate saw."""

    kind = "picky"

    async def score(self, output: str, case: Case) -> Score:
        if output not in ("yes", "no"):
            raise ScoringError(f"cannot read {output!r}")
        return Score(1.0 if output == "yes" else 0.0)

    def aggregate(self, cases: Sequence[Case], scores: Sequence[Score | None]) -> Aggregate:
        return Aggregate(metrics={"seen": float(sum(s is not None for s in scores))})


def test_an_output_a_scorer_cannot_score_is_left_out_of_its_metrics() -> None:
    run_cases = cases("a", "b", "c", "d")
    outcomes = {"t": [ok("yes"), ok("maybe"), ok("no"), ERRORED]}
    scorers: list[Scorer] = [Picky()]
    scores = asyncio.run(score_run(run_cases, outcomes, scorers))
    per_case = scores["t"]["picky"]
    assert isinstance(per_case[1], FailedScore) and per_case[1].error == "cannot read 'maybe'"
    assert per_case[3] is None
    metrics, _ = compute_metrics(run_cases, outcomes, scores, scorers)
    assert (metrics["t"]["picky"].value, metrics["t"]["picky"].n) == (0.5, 2)
    assert metrics["t"]["picky.seen"].value == 2.0  # the aggregate never sees the failed case
    assert metrics["t"]["error_rate"].value == 0.25  # a scoring failure is not a call error
    assert score_warnings(scores) == [
        "scorer picky: 1 output(s) of target t could not be scored (first: cannot read 'maybe')"
    ]


class Longer(Scorer):
    """Pairwise: 1.0 when the target's output is longer than its base's."""

    kind = "longer"
    pairwise = True

    async def score(self, output: str, case: Case) -> Score:
        raise AssertionError("a pairwise scorer is only asked about pairs")

    async def score_pair(self, output: str, other: str, case: Case) -> Score:
        return Score(1.0 if len(output) > len(other) else 0.0, answer=f"{output} vs {other}")


def test_pairwise_scorers_compare_each_target_with_its_base() -> None:
    run_cases = cases("x", "y")
    targets = [
        Target("ftjob-a.base", "gpt-4o-mini", "chat", role="base"),
        Target("ftjob-a.final", "ft:gpt-4o-mini:o::a", "chat", role="final"),
        Target("ftjob-b.base", "gpt-4.1-mini", "chat", role="base"),
        Target("ftjob-b.step-10", "ft:gpt-4.1-mini:o::b:ckpt-step-10", "chat", role="checkpoint"),
    ]
    outcomes = {
        "ftjob-a.base": [ok("aa"), ERRORED],
        "ftjob-a.final": [ok("aaa"), ok("a")],
        "ftjob-b.base": [ok("bbbb"), ok("b")],
        "ftjob-b.step-10": [ok("bb"), ERRORED],
    }
    scores = asyncio.run(score_run(run_cases, outcomes, [Longer()], targets=targets))
    final = scores["ftjob-a.final"]["longer"]
    assert final[0] == Score(1.0, answer="aaa vs aa")
    assert isinstance(final[1], FailedScore) and final[1].error == (
        "the base target ftjob-a.base has no answer to this case to compare with"
    )
    assert scores["ftjob-b.step-10"]["longer"] == [Score(0.0, answer="bb vs bbbb"), None]
    assert scores["ftjob-a.base"]["longer"] == scores["ftjob-b.base"]["longer"] == [None, None]


def test_without_targets_the_one_named_base_is_the_base() -> None:
    outcomes = {"base": [ok("a")], "new": [ok("ab")]}
    scores = asyncio.run(score_run(cases("x"), outcomes, [Longer()]))
    assert scores == {"base": {"longer": [None]}, "new": {"longer": [Score(1.0, answer="ab vs a")]}}


def test_bases_come_from_the_job_group_else_from_the_only_base() -> None:
    def target(name: str, role: str = "model") -> Target:
        return Target(name, "m", "chat", role=role)  # type: ignore[arg-type]

    grouped = [
        target("j1.base", "base"),
        target("j1.final", "final"),
        target("j2.base", "base"),
        target("j2.step-3", "checkpoint"),
        target("prod"),
    ]
    assert base_targets(grouped) == {"j1.final": "j1.base", "j2.step-3": "j2.base"}
    single = [target("base", "base"), target("step-3", "checkpoint"), target("prod"), target("v1.2")]
    assert base_targets(single) == {"step-3": "base", "prod": "base", "v1.2": "base"}
    assert base_targets([target("a"), target("b")]) == {}


class Slow(Scorer):
    """Calls a "model": sleeps, and records how many of its calls overlap."""

    kind = "slow"
    calls_model = True

    def __init__(self, *, fail_on: str | None = None) -> None:
        super().__init__()
        self.in_flight = 0
        self.most_in_flight = 0
        self.finished = 0
        self.fail_on = fail_on

    async def score(self, output: str, case: Case) -> Score:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if output == self.fail_on:
                raise RuntimeError("scorer bug")
            await asyncio.sleep(0.05)
        finally:
            self.in_flight -= 1
        self.finished += 1
        return Score(1.0)


def test_scorers_that_call_a_model_score_every_case_at_once() -> None:
    run_cases = cases(*"abcdef")
    outcomes = {"t1": [ok(c) for c in "abcdef"], "t2": [ok(c) for c in "abcde"] + [ERRORED]}
    slow = Slow()
    scores = asyncio.run(score_run(run_cases, outcomes, [slow]))
    assert slow.most_in_flight == 11  # every answered case in flight at once, not one after another
    assert slow.finished == 11
    assert scores["t2"]["slow"][5] is None


def test_a_scorer_bug_stops_concurrent_scoring_with_the_original_error() -> None:
    slow = Slow(fail_on="c")
    with pytest.raises(RuntimeError, match="scorer bug"):
        asyncio.run(score_run(cases(*"abcdef"), {"t": [ok(c) for c in "abcdef"]}, [slow]))
    assert slow.finished == 0  # the others were cancelled


def test_a_pairwise_scorer_needs_a_base_before_anything_is_called() -> None:
    targets = [Target("prod", "gpt-4o-mini", "chat"), Target("next", "gpt-4.1-mini", "chat")]
    with pytest.raises(
        InputError, match=r"^scorers: scorer 'longer' compares each target with its base, but no "
    ):
        check_pairwise([ExactScorer(), Longer()], targets)
    check_pairwise([ExactScorer()], targets)
    check_pairwise([Longer()], [*targets, Target("base", "gpt-4o", "chat", role="base")])
