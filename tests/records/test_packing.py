"""A run's records cross to the sidecar as columns of plain values, and come back equal to what was sent."""

from __future__ import annotations

import math
import pickle

from fixtures.runs import build_results, scored_run

from evalkit.records import Case, CaseSet, FailedScore, Metric, Outcome, Score, Target, Usage


def scored() -> object:
    cases = [
        Case(id="c1", reference="billing", messages=({"role": "user", "content": "charged twice"},), line=1),
        Case(id="c2", reference="account", prompt="Reset my password", line=2),
    ]
    targets = [Target("base", "gpt-4o-mini", "chat", "base"), Target("final", "ft:gpt-4o-mini:o::x", "chat", "final")]
    outcomes = {
        "base": [Outcome("billing", usage=Usage(10, 1), latency_s=0.5, finish_reason="stop"), Outcome(None, error="HTTP 500")],
        "final": [Outcome("billing", cached=True, latency_s=0.2), Outcome("account", usage=Usage(3, 4), batch=True)],
    }
    scores: dict[str, dict[str, list[Score | None]]] = {
        "base": {"exact": [Score(1.0, answer="billing"), None], "judge": [FailedScore(math.nan, error="no score"), None]},
        "final": {"exact": [Score(1.0), Score(0.0, explanation="no")], "judge": [Score(0.75, "4", "good"), Score(0.25)]},
    }
    metrics = {"base": {"exact": Metric(1.0, 1, (0.2, 1.0))}, "final": {"exact": Metric(0.5, 2)}}
    return scored_run(case_set=CaseSet(cases, "b" * 64, "inline"), targets=targets, outcomes=outcomes,
                      scores=scores, metrics=metrics)


def test_a_run_record_comes_back_with_the_same_outcomes_and_scores() -> None:
    record = scored().record  # type: ignore[attr-defined]
    again = pickle.loads(pickle.dumps(record))
    assert again.outcomes == record.outcomes
    assert [o.batch for o in again.outcomes["final"]] == [False, True]
    assert again.case_set.cases[0].messages == record.case_set.cases[0].messages
    failed = again.scores["base"]["judge"][0]
    assert isinstance(failed, FailedScore) and failed.error == "no score" and math.isnan(failed.value)
    assert again.scores["final"] == record.scores["final"] and again.scores["base"]["exact"] == record.scores["base"]["exact"]
    assert (again.suite, again.targets, again.started_at) == (record.suite, record.targets, record.started_at)


def test_run_results_come_back_equal() -> None:
    results = build_results(scored())  # type: ignore[arg-type]
    again = pickle.loads(pickle.dumps(results))
    assert again == results
    assert [case.results["final"].batch for case in again.cases] == [False, True]
    assert again.cases[1].results["base"].failed and again.cases[0].results["base"].score_errors == {"judge": "no score"}
