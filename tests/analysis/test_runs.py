"""compare: two saved runs paired by case id — Δ with CI and p, flips, and the ids of regressed cases; A and B
over the cases Δ is over; what could not be paired, listed; runs with repeated ids or impossible scores refused."""

from __future__ import annotations

import asyncio
import math
import random

import pytest
from fixtures.runs import as_json, build_results, from_json, marks, scored_run
from fixtures.runs import exact_run as run
from sklearn.metrics import f1_score

from evalkit.analysis.metrics import compute_metrics
from evalkit.analysis.runs import OneSided, PairedTargets, compare_results, regressions
from evalkit.errors import InputError
from evalkit.records import Case, CaseSet, Metric, Outcome, Score, Target, Usage, failed
from evalkit.records.cases import ScorerInfo
from evalkit.records.results import RunResults
from evalkit.report.comparison import render_comparison
from evalkit.scorers import build_scorers
from evalkit.scorers.run import score_run
from evalkit.suite.model import scorer_entry


def baseline_and_new() -> tuple[RunResults, RunResults]:
    """A: final right on c0–c29 of 40. B: right on c0–c15 and c30–c31; c16–c29 broke, c30/c31 fixed."""
    a = run({"base": marks(10, 30), "final": marks(30, 10)})
    b_final: list[bool | None] = [True] * 16 + [False] * 14 + [True, True] + [False] * 7 + [None]
    b = run({"base": marks(10, 30), "final": b_final})
    return a, b


def test_every_shared_target_is_compared_on_every_shared_metric() -> None:
    a, b = baseline_and_new()
    comparison = compare_results(a, b)
    assert [(p.a_target, p.b_target, p.cases) for p in comparison.pairs] == [
        ("base", "base", 40),
        ("final", "final", 40),
    ]
    final = comparison.pairs[1]
    exact = next(c for c in final.comparisons if c.metric == "exact")
    assert exact.target == "final" and exact.versus == "final"
    # A, B and Δ over the 39 cases both scored (c39's call failed in B): A is 30/39 there, not its 30/40
    assert final.values["exact"] == (pytest.approx(30 / 39), pytest.approx(18 / 39))
    assert exact.delta == pytest.approx((18 - 30) / 39)
    assert exact.test == "mcnemar-exact" and exact.n == 39
    assert exact.ci is not None and exact.p_value is not None
    assert exact.ci[1] < 0 and exact.p_value < 0.01
    assert comparison.warnings == []


def test_regressed_cases_are_those_right_in_a_and_wrong_in_b() -> None:
    a, b = baseline_and_new()
    final = compare_results(a, b).pairs[1]
    (flip,) = final.flips
    assert (flip.fixed, flip.broken, flip.both_right, flip.both_wrong) == (2, 14, 16, 7)
    assert final.regressed_ids == {"exact": [f"c{i}" for i in range(16, 30)]}
    assert final.failed_ids == ["c39"]  # answered (wrongly) in A, the call failed in B


def test_one_case_only_in_one_run_is_one_case() -> None:
    text = render_comparison(compare_results(run({"final": marks(3, 0)}), run({"final": marks(2, 0)})))
    assert "  1 case only in A (in no Δ): c2\n" in text


def test_the_rendered_comparison_lists_the_regressed_ids_and_flags_the_regression() -> None:
    a, b = baseline_and_new()
    comparison = compare_results(a, b)
    text = render_comparison(comparison)
    assert "regressed on exact (right in A, wrong in B): c16, c17, c18" in text
    assert "exact: 2 fixed, 14 broken, 16 right in both, 7 wrong in both" in text
    final_section = text[text.index("final · 40 cases in both runs") :]
    exact_row = next(line for line in final_section.splitlines() if line.strip().startswith("exact "))
    assert "  39  0.769  0.462  −0.308 ▼" in exact_row
    assert "mcnemar-exact" in exact_row
    assert text.rstrip().endswith("REGRESSED: B is significantly worse on final exact")
    assert [(e.target, e.metric) for e in regressions(comparison)] == [("final", "exact")]


def test_no_regression_is_said_plainly() -> None:
    a, _ = baseline_and_new()
    text = render_comparison(compare_results(a, a))
    assert "No significant regression" in text and "regressed on" not in text


def test_runs_of_one_target_each_are_paired_whatever_their_names() -> None:
    a = run({"prod": marks(8, 2)})
    b = run({"candidate": marks(10, 0)})
    comparison = compare_results(a, b)
    (pair,) = comparison.pairs
    assert (pair.a_target, pair.b_target) == ("prod", "candidate")
    assert comparison.unpaired_targets == OneSided([], [])
    assert "prod (A) → candidate (B) · 10 cases in both runs" in render_comparison(compare_results(a, b))


def test_different_suite_or_data_is_warned_about() -> None:
    a = run({"final": marks(5, 5)})
    b = run({"final": marks(5, 5)}, suite_sha256="f" * 64, data_sha256="e" * 64)
    warnings = compare_results(a, b).warnings
    assert len(warnings) == 2
    assert warnings[0].startswith(
        "the runs used different suite files (sha256 aaaaaaaaaaaa… in A, ffffffffffff… in B)"
    )
    assert warnings[1].startswith("the runs used different data")
    assert "warning: the runs used different data" in render_comparison(compare_results(a, b))


def test_runs_sharing_no_target_or_no_case_are_refused() -> None:
    with pytest.raises(InputError, match="the runs share no target name"):
        compare_results(run({"x": marks(1, 1), "y": marks(1, 1)}), run({"z": marks(1, 1), "w": marks(1, 1)}))
    with pytest.raises(InputError, match="answered no case with the same id"):
        compare_results(run({"x": marks(2, 0)}), run({"x": marks(2, 0)}, ids=["other1", "other2"]))


def test_case_ids_from_the_data_cannot_drive_the_terminal() -> None:
    a = run({"final": marks(2, 0)}, ids=["ok", "bad\x1b[31mred"])
    b = run({"final": [True, False]}, ids=["ok", "bad\x1b[31mred"])
    text = render_comparison(compare_results(a, b))
    assert "\x1b" not in text and "bad [31mred" in text


# --- A, B and Δ over the same cases -----------------------------------------------------------------


def ids(first: int, end: int) -> list[str]:
    return [f"c{i}" for i in range(first, end)]


def agree(pair: PairedTargets) -> None:
    """Every Δ that is a difference of figures is B − A of the values shown beside it."""
    for entry in pair.comparisons:
        a_value, b_value = pair.values[entry.metric]
        if entry.delta is not None:
            assert a_value is not None and b_value is not None
            assert b_value - a_value == pytest.approx(entry.delta, abs=1e-12), entry.metric


def test_a_and_b_are_shown_over_the_cases_their_delta_is_over() -> None:
    """A answered c0–c9 (right on c0–c5), B c5–c14 (right on c5–c12): over their whole runs 0.6 and
    0.8, but over the five cases both answered, c5–c9, A gets 1 of 5 and B all 5 — Δ = +0.8."""
    a = run({"final": marks(6, 4)}, ids=ids(0, 10))
    b = run({"final": marks(8, 2)}, ids=ids(5, 15))
    (pair,) = compare_results(a, b).pairs
    exact = next(c for c in pair.comparisons if c.metric == "exact")
    assert (a.metrics["final"]["exact"].value, b.metrics["final"]["exact"].value) == (0.6, 0.8)
    assert pair.values["exact"] == (pytest.approx(0.2), pytest.approx(1.0))
    assert exact.delta == pytest.approx(0.8) and exact.n == 5
    assert pair.whole_run == []
    agree(pair)
    exact_row = next(line for line in render_comparison(compare_results(a, b)).splitlines() if "exact " in line)
    assert exact_row.split()[:5] == ["exact", "5", "0.200", "1.000", "+0.800"]


def test_when_the_runs_cover_the_same_cases_the_values_are_the_reported_ones() -> None:
    a, b = baseline_and_new()
    base = compare_results(a, b).pairs[0]
    assert base.values == {
        metric: (a.metrics["base"][metric].value, b.metrics["base"][metric].value) for metric in base.values
    }
    agree(base)


LABELS = ["billing", "technical", "account"]


def classify_run(references: dict[str, str], outputs: dict[str, str | None]) -> RunResults:
    """Target ``final`` scored by the real classify scorer, per case id its output (None: a failed call)."""
    cases = [Case(id=case_id, reference=references[case_id], prompt=f"ticket {case_id}") for case_id in outputs]
    configs = [scorer_entry({"classify": {"labels": LABELS}})]
    built = build_scorers(configs)
    outcomes = {
        "final": [
            Outcome(text, usage=Usage(3, 1), latency_s=0.1) if text is not None else Outcome(None, error="timeout")
            for text in outputs.values()
        ]
    }
    scores = asyncio.run(score_run(cases, outcomes, built))
    metrics, details = compute_metrics(cases, outcomes, scores, built)
    scorers = [{"kind": c.kind, "name": c.name, "options": c.options.model_dump(exclude_none=True)} for c in configs]
    scored = scored_run(
        case_set=CaseSet(cases, "1" * 64, "inline"),
        targets=[Target("final", "gpt-4o-mini", "chat", "final")],
        outcomes=outcomes,
        scores=scores,
        metrics=metrics,
        details=details,
        scorers=scorers,
    )
    return build_results(scored)


def test_classify_figures_are_shown_over_the_paired_cases_as_their_delta_is_computed() -> None:
    """A answered t0–t19, B t10–t29: macro F1 of each over t10–t19, as sklearn computes it there."""
    rng = random.Random(3)
    references = {f"t{i}": LABELS[i % 3] for i in range(30)}
    answers = [*LABELS, "no idea"]

    def answer(case_id: str, accuracy: float) -> str:
        return references[case_id] if rng.random() < accuracy else rng.choice(answers)

    a = classify_run(references, {f"t{i}": answer(f"t{i}", 0.5) for i in range(20)})
    b = classify_run(references, {f"t{i}": answer(f"t{i}", 0.8) for i in range(10, 30)})
    (pair,) = compare_results(a, b).pairs
    paired = [f"t{i}" for i in range(10, 20)]

    def macro_f1(results: RunResults) -> float:
        found = {case.id: case.results["final"].answers["classify"] for case in results.cases}
        truth = [references[case_id] for case_id in paired]
        return float(f1_score(truth, [found[i] for i in paired], labels=LABELS, average="macro", zero_division=0))

    assert pair.values["classify.macro_f1"] == (pytest.approx(macro_f1(a)), pytest.approx(macro_f1(b)))
    assert pair.values["classify.macro_f1"][0] != a.metrics["final"]["classify.macro_f1"].value
    macro = next(c for c in pair.comparisons if c.metric == "classify.macro_f1")
    assert macro.test == "paired-bootstrap" and macro.n == 10
    assert pair.whole_run == []
    agree(pair)


def test_a_bootstrap_p_value_at_its_floor_is_printed_as_the_bound_it_is() -> None:
    """B gets all 30 right where A got a third: no bootstrap replicate of Δ macro F1 reaches 0."""
    references = {f"t{i}": LABELS[i % 3] for i in range(30)}
    a = classify_run(references, {case_id: "billing" for case_id in references})
    b = classify_run(references, dict(references))
    comparison = compare_results(a, b)
    macro = next(c for c in comparison.pairs[0].comparisons if c.metric == "classify.macro_f1")
    assert macro.p_value == pytest.approx(2 / 2001) and comparison.resamples == 2000
    row = next(line for line in render_comparison(comparison).splitlines() if "classify.macro_f1" in line)
    assert row.rstrip().endswith("  < 0.001  paired-bootstrap")


def test_an_aggregate_that_cannot_be_recomputed_on_the_paired_cases_says_so() -> None:
    custom = {"final": {"exact.custom": Metric(0.5, 10)}}
    a = run({"final": marks(6, 4)}, ids=ids(0, 10), extra_metrics=custom)
    b = run({"final": marks(8, 2)}, ids=ids(5, 15), extra_metrics={"final": {"exact.custom": Metric(0.7, 10)}})
    (pair,) = compare_results(a, b).pairs
    assert pair.whole_run == ["exact.custom"] and pair.values["exact.custom"] == (0.5, 0.7)
    text = render_comparison(compare_results(a, b))
    row = next(line for line in text.splitlines() if "exact.custom" in line)
    assert row.split()[:6] == ["exact.custom", "*", "—", "0.500", "0.700", "+0.200"]
    assert "  * whole-run figures, over different cases: they cannot be recomputed on the paired ones" in text

    same = compare_results(run({"final": marks(6, 4)}, extra_metrics=custom), a).pairs[0]
    assert same.whole_run == [] and same.values["exact.custom"] == (0.5, 0.5)
    assert "*" not in render_comparison(compare_results(a, a))


# --- what could not be paired ---------------------------------------------------------------------


def test_what_could_not_be_paired_is_listed() -> None:
    a = run(
        {"final": marks(8, 2), "old": marks(1, 9)},
        ids=ids(0, 10),
        extra_metrics={"final": {"legacy": Metric(0.1, 10)}},
    )
    b = run(
        {"final": marks(16, 2), "new": marks(18, 0), "newer": marks(18, 0)},
        ids=ids(2, 20),
        extra_metrics={"final": {"exact.fresh": Metric(0.3, 18)}},
    )
    comparison = compare_results(a, b)
    assert comparison.unpaired_targets == OneSided(only_a=["old"], only_b=["new", "newer"])
    (pair,) = comparison.pairs
    assert pair.unpaired_metrics == OneSided(only_a=["legacy"], only_b=["exact.fresh"])
    assert pair.unpaired_cases == OneSided(only_a=["c0", "c1"], only_b=ids(10, 20))
    assert pair.cases == 8
    text = render_comparison(comparison)
    assert "targets only in A (not compared): old\ntargets only in B (not compared): new, newer\n" in text
    assert (
        "final · 8 cases in both runs\n"
        "  2 cases only in A (in no Δ): c0, c1\n"
        "  10 cases only in B (in no Δ): c10, c11, c12, c13, c14 and 5 more\n"
        "  metrics only in A (not compared): legacy\n"
        "  metrics only in B (not compared): exact.fresh\n"
    ) in text


def test_runs_of_the_same_cases_and_targets_list_nothing_unpaired() -> None:
    a, b = baseline_and_new()
    comparison = compare_results(a, b)
    assert comparison.unpaired_targets == OneSided([], [])
    assert all(p.unpaired_cases == OneSided([], []) == p.unpaired_metrics for p in comparison.pairs)
    assert " only in " not in render_comparison(comparison)


# --- refused: repeated case ids, impossible scores ----------------------------------------------------


def test_a_repeated_case_id_is_refused_naming_the_file_and_the_field() -> None:
    ok = run({"final": marks(2, 1)})
    repeated = run({"final": marks(2, 1)}, ids=["c0", "c1", "c0"])
    with pytest.raises(InputError) as refused:
        compare_results(repeated, ok, a_file="runs/a/results.json")
    assert str(refused.value) == (
        "runs/a/results.json: cases[2].id: case id 'c0' appears twice: cases[0] and cases[2]; "
        "ids must be unique to pair runs"
    )
    with pytest.raises(InputError, match=r"^B: cases\[2\]\.id: case id 'c0' appears twice"):
        compare_results(ok, repeated)


def with_score(kind: str, value: float) -> RunResults:
    """A run whose scorer ``exact`` is of ``kind``, with ``value`` as case c1's score."""
    results = run({"final": marks(2, 1)})
    results.scorers = [ScorerInfo(kind, "exact", {})]
    results.cases[1].results["final"].scores["exact"] = value
    return results


@pytest.mark.parametrize(
    ("kind", "value", "allowed"),
    [
        ("exact", 7.0, "0 or 1"),
        ("exact", 0.5, "0 or 1"),
        ("classify", -1.0, "0 or 1"),
        ("judge", 1.5, "from 0 to 1"),
        ("judge", math.nan, "from 0 to 1"),
        ("from-a-later-evalkit", math.inf, "a finite number"),
        ("from-a-later-evalkit", math.nan, "a finite number"),
    ],
)
def test_an_impossible_score_is_refused_naming_the_file_the_field_and_the_range(
    kind: str, value: float, allowed: str
) -> None:
    with pytest.raises(InputError) as refused:
        compare_results(run({"final": marks(2, 1)}), with_score(kind, value), b_file="b.json")
    assert str(refused.value) == (
        f"b.json: cases[1].results.final.scores.exact: score {value:g} is impossible for a scorer of kind "
        f"{kind!r} (allowed: {allowed}; null where there is no score)"
    )


@pytest.mark.parametrize(("kind", "value"), [("judge", 0.75), ("judge", 0.0), ("from-a-later-evalkit", 7.0)])
def test_a_score_within_its_scorers_range_is_compared(kind: str, value: float) -> None:
    assert compare_results(run({"final": marks(2, 1)}), with_score(kind, value)).pairs


def test_cases_with_no_score_as_evalkit_writes_them_are_compared() -> None:
    """A failed call (no score), a judge verdict that did not parse (score error) and a NaN score (null)."""
    cases = [Case(id=f"c{i}", reference="yes", prompt=f"question {i}") for i in range(4)]
    judged = [Score(0.75), failed("the verdict did not parse"), Score(math.nan), None]
    scored = scored_run(
        case_set=CaseSet(cases, "b" * 64, "inline"),
        targets=[Target("final", "gpt-4o-mini", "chat", "final")],
        outcomes={"final": [Outcome("yes"), Outcome("yes"), Outcome("yes"), Outcome(None, error="500 boom")]},
        scores={"final": {"judge": judged}},
        metrics={"final": {"judge": Metric(0.75, 1)}},
        scorers=[{"kind": "judge", "name": "judge", "options": {"model": "gpt-4o", "rubric": "Is it right?"}}],
    )
    document = as_json(build_results(scored))
    stored = [case["results"]["final"] for case in document["cases"]]
    assert [r["scores"] for r in stored] == [{"judge": 0.75}, {}, {"judge": None}, {}]
    assert stored[1]["score_errors"] == {"judge": "the verdict did not parse"}
    saved = from_json(document)
    (pair,) = compare_results(saved, saved).pairs
    assert pair.values["judge"] == (0.75, 0.75)
