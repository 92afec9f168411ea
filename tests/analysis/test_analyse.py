"""evalkit.analysis on ``RunResults`` built by the real scoring stages: CIs, paired comparisons against the
base, Holm, flips, the checkpoint recommendation, on-demand and cross-run comparisons."""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from fixtures.runs import as_json, build_results, plain, scored_run
from sklearn.metrics import accuracy_score, cohen_kappa_score, precision_recall_fscore_support
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from evalkit.analysis import (
    analyse,
    compare,
    compare_run_metrics,
    compare_runs,
    flip_counts,
    flip_scorers,
    primary_metric_of,
)
from evalkit.analysis.classification import confusions, figures, kinds_of
from evalkit.analysis.metrics import compute_metrics
from evalkit.analysis.stats import MULTINOMIAL_MAX_KINDS, bootstrap_tallies, seeded
from evalkit.errors import InputError
from evalkit.records import Case, CaseSet, Metric, Outcome, Role, Target, Usage
from evalkit.records.cases import ScorerInfo
from evalkit.records.findings import Comparison
from evalkit.records.results import RunResults
from evalkit.records.results_json import validate_results
from evalkit.scorers import UNPARSED, build_scorers
from evalkit.scorers.run import score_run
from evalkit.suite.model import scorer_entry

LABELS = ["billing", "technical", "account", "shipping"]
CLASSIFY = {"classify": {"labels": LABELS}}

TargetRow = tuple[str, Role, int | None]
"""(name, role, step)"""


def make_results(
    references: Sequence[str],
    outputs: Mapping[str, Sequence[str | None]],
    targets: Sequence[TargetRow],
    scorers: Sequence[Any] = ("exact", CLASSIFY),
) -> RunResults:
    """A run's results as ``evalkit run`` builds them before the analysis; an output of None is a failed call."""
    cases = [
        Case(id=f"c{i}", reference=ref, prompt=f"ticket {i}", line=i + 1) for i, ref in enumerate(references)
    ]
    configs = [scorer_entry(entry) for entry in scorers]
    built = build_scorers(configs)
    outcomes = {
        name: [
            Outcome(text, usage=Usage(3, 1), latency_s=0.1)
            if text is not None
            else Outcome(None, error="timeout")
            for text in texts
        ]
        for name, texts in outputs.items()
    }
    scores = asyncio.run(score_run(cases, outcomes, built))
    metrics, details = compute_metrics(cases, outcomes, scores, built)
    scored = scored_run(
        suite_name="triage",
        suite_description="Route tickets.",
        suite_file="suite.yaml",
        suite_sha256="0" * 64,
        case_set=CaseSet(cases, "1" * 64, "inline"),
        targets=[Target(name, f"model-{name}", "chat", role, step) for name, role, step in targets],
        generation={},
        completions={},
        outcomes=outcomes,
        scores=scores,
        metrics=metrics,
        details=details,
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:01:00+00:00",
        scorers=[
            {
                "kind": c.kind,
                "name": c.name,
                "options": c.options.model_dump(by_alias=True, exclude_none=True),
            }
            for c in configs
        ],
    )
    return build_results(scored)


def analysed_run(results: RunResults, **options: Any) -> RunResults:
    """``results`` with its analysis filled in, as the pipeline does (``results`` itself is left alone)."""
    return analyse(results, **options).into(results)


def noisy(references: Sequence[str], accuracy: float, rng: np.random.Generator) -> list[str | None]:
    """Answers right with probability ``accuracy``, else a wrong label, a non-label or a failed call."""
    wrong: list[str | None] = [*LABELS, "no idea", None]
    return [ref if rng.random() < accuracy else wrong[int(rng.integers(len(wrong)))] for ref in references]


JOB: list[TargetRow] = [
    ("base", "base", None),
    ("step-10", "checkpoint", 10),
    ("step-20", "checkpoint", 20),
    ("final", "final", 20),
]


@pytest.fixture(scope="module")
def triage() -> RunResults:
    """200 tickets; the base is poor, step-10 better, step-20 best, final a little worse than step-20."""
    rng = np.random.default_rng(0)
    references = [LABELS[i] for i in rng.integers(0, 4, 200)]
    outputs = {
        "base": noisy(references, 0.45, rng),
        "step-10": noisy(references, 0.75, rng),
        "step-20": noisy(references, 0.93, rng),
        "final": noisy(references, 0.82, rng),
    }
    return make_results(references, outputs, JOB)


@pytest.fixture(scope="module")
def analysed(triage: RunResults) -> RunResults:
    return analysed_run(triage)


def entry(results: RunResults, target: str, versus: str, metric: str) -> Comparison:
    found = [c for c in results.comparisons if (c.target, c.versus, c.metric) == (target, versus, metric)]
    assert len(found) == 1, found
    return found[0]


def per_case(results: RunResults, target: str, scorer: str) -> dict[str, float | None]:
    return {
        case.id: case.results[target].scores[scorer]
        for case in results.cases
        if scorer in case.results[target].scores
    }


# --- classification figures ---------------------------------------------------------------------------


def _sklearn_figures(y_true: list[str], y_pred: list[str]) -> dict[str, float]:
    """The figures the classify scorer reports, computed by sklearn as classify.py does."""
    macro = precision_recall_fscore_support(y_true, y_pred, labels=LABELS, average="macro", zero_division=0)
    weighted = precision_recall_fscore_support(
        y_true, y_pred, labels=LABELS, average="weighted", zero_division=0
    )
    per_label = precision_recall_fscore_support(y_true, y_pred, labels=LABELS, average=None, zero_division=0)
    found = {
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_f1": macro[2],
        "weighted_f1": weighted[2],
        "macro_precision": macro[0],
        "macro_recall": macro[1],
        "kappa": cohen_kappa_score(y_true, y_pred, labels=[*LABELS, UNPARSED]),
        "unparsed_rate": y_pred.count(UNPARSED) / len(y_pred),
    }
    for kind, values in zip(("precision", "recall", "f1"), per_label[:3], strict=True):
        found.update({f"{kind}.{label}": float(v) for label, v in zip(LABELS, values, strict=True)})
    return {name: float(value) for name, value in found.items()}


@pytest.mark.parametrize("cases", [60, 3000])
def test_bootstrapped_figures_equal_sklearn_on_the_resampled_cases(cases: int) -> None:
    """Few cases: few kinds of (true, predicted), drawn from the multinomial; many cases with skewed
    classes still stay under the limit, so force the counted-indices path by pairing two columns."""
    rng = np.random.default_rng(1)
    true = rng.integers(0, 4, cases)
    predicted = np.where(rng.random(cases) < 0.6, true, rng.integers(0, 5, cases))  # 4 = unparsed
    columns = (true, predicted) if cases < 1000 else (true, predicted, rng.integers(0, 20, cases))
    kinds, counts = kinds_of(*columns)
    assert (len(counts) > MULTINOMIAL_MAX_KINDS) == (cases >= 1000)
    tallies = next(bootstrap_tallies(counts, resamples=4, rng=seeded(0)))[:4]
    ours = figures(confusions(tallies, kinds[:, 0], kinds[:, 1], 5), LABELS)
    names = [*LABELS, UNPARSED]
    for row, tally in enumerate(tallies):
        drawn = np.repeat(np.arange(len(kinds)), tally.astype(int))
        y_true = [names[kinds[k, 0]] for k in drawn]
        y_pred = [names[kinds[k, 1]] for k in drawn]
        for name, value in _sklearn_figures(y_true, y_pred).items():
            assert ours[name][row] == pytest.approx(value, rel=1e-12, abs=1e-12), name


def test_kappa_is_undefined_when_sklearn_says_so() -> None:
    kinds, counts = kinds_of(np.array([0, 0, 0]), np.array([0, 0, 0]))
    kappa = figures(confusions(counts[None, :].astype(float), kinds[:, 0], kinds[:, 1], 5), LABELS)["kappa"]
    assert np.isnan(kappa[0])


def test_full_sample_figures_are_the_reported_values(analysed: RunResults) -> None:
    """With no resampling, Δ of a figure between two targets scored on the same cases is the difference
    of the figures the scorer reported."""
    for comparison in analysed.comparisons:
        if comparison.test != "paired-bootstrap" or comparison.n != 200:
            continue
        metrics = analysed.metrics
        reported = metrics[comparison.target][comparison.metric].value
        base = metrics[comparison.versus][comparison.metric].value
        assert reported is not None and base is not None
        assert comparison.delta == pytest.approx(reported - base, abs=1e-12)


# --- intervals ----------------------------------------------------------------------------------------


def test_means_of_0_1_scores_and_error_rate_get_wilson_intervals(analysed: RunResults) -> None:
    for target in ("base", "final"):
        for metric in ("exact", "classify", "error_rate"):
            figure = analysed.metrics[target][metric]
            assert figure.value is not None
            successes = round(figure.value * figure.n)
            expected = proportion_confint(successes, figure.n, method="wilson")
            assert figure.ci == pytest.approx(tuple(expected), abs=1e-12), (target, metric)


def test_aggregates_get_bootstrap_intervals_around_their_value(analysed: RunResults) -> None:
    for target in ("base", "step-10", "final"):
        for metric in ("classify.macro_f1", "classify.accuracy", "classify.kappa", "classify.f1.billing"):
            figure = analysed.metrics[target][metric]
            assert figure.ci is not None and figure.value is not None, (target, metric, figure)
            low, high = figure.ci
            assert -1.0 <= low <= figure.value <= high <= 1.0, (target, metric, figure)
            assert high - low > 0.02


def test_analysed_results_are_still_valid_strict_json(analysed: RunResults) -> None:
    validate_results(analysed)
    document = as_json(analysed)
    validate_results(document)
    json.dumps(document, allow_nan=False)


# --- comparisons --------------------------------------------------------------------------------------


def test_every_fine_tuned_target_is_compared_with_the_base(analysed: RunResults) -> None:
    pairs = {(c.target, c.versus) for c in analysed.comparisons}
    assert pairs == {("step-10", "base"), ("step-20", "base"), ("final", "base")}
    metrics = [c.metric for c in analysed.comparisons if c.target == "final"]
    assert metrics[:3] == ["exact", "classify", "classify.accuracy"]
    assert {"classify.macro_f1", "classify.f1.shipping", "error_rate"} <= set(metrics)


def test_0_1_scores_are_compared_with_exact_mcnemar_over_the_cases_both_scored(
    analysed: RunResults,
) -> None:
    final, base = per_case(analysed, "final", "exact"), per_case(analysed, "base", "exact")
    both = [i for i in final if i in base]
    fixed = sum(1 for i in both if final[i] > base[i])
    broken = sum(1 for i in both if final[i] < base[i])
    comparison = entry(analysed, "final", "base", "exact")
    assert comparison.test == "mcnemar-exact"
    assert comparison.n == len(both) < 200  # failed calls are left out
    assert comparison.delta == pytest.approx(sum(final[i] - base[i] for i in both) / len(both))
    table = [[0, broken], [fixed, 0]]
    assert comparison.p_value == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)
    assert comparison.ci is not None and comparison.delta is not None and comparison.p_value is not None
    low, high = comparison.ci
    assert low < comparison.delta < high
    assert comparison.p_value < 0.001 and low > 0  # the fine-tune is clearly better


def test_error_rate_is_compared_case_by_case_with_mcnemar(analysed: RunResults) -> None:
    comparison = entry(analysed, "final", "base", "error_rate")
    assert comparison.test == "mcnemar-exact"
    assert comparison.n == 200
    final, base = analysed.metrics["final"]["error_rate"].value, analysed.metrics["base"]["error_rate"].value
    assert final is not None and base is not None
    reported = final - base
    assert comparison.delta == pytest.approx(reported)


def test_aggregates_are_compared_with_a_paired_bootstrap(analysed: RunResults) -> None:
    comparison = entry(analysed, "step-20", "base", "classify.macro_f1")
    assert comparison.test == "paired-bootstrap"
    assert comparison.ci is not None and comparison.delta is not None and comparison.p_value is not None
    low, high = comparison.ci
    assert 0 < low < comparison.delta < high
    assert comparison.p_value < 0.01


def test_holm_adjusts_within_each_versus_and_metric_family(analysed: RunResults) -> None:
    for metric in ("exact", "classify.macro_f1", "error_rate"):
        family = [c for c in analysed.comparisons if c.metric == metric and c.versus == "base"]
        assert len(family) == 3
        expected = multipletests([c.p_value for c in family], method="holm")[1]
        assert [c.p_adjusted for c in family] == pytest.approx(list(expected))


def test_continuous_scores_get_a_bootstrap_interval_and_a_sign_flip_test(triage: RunResults) -> None:
    """A scorer with scores between 0 and 1 (as a judge's normalised rating): bootstrap CI, sign-flip p."""
    results = copy.deepcopy(triage)
    rng = np.random.default_rng(5)
    results.scorers.append(ScorerInfo("judge", "judge", {}))
    for case in results.cases:
        for target, result in case.results.items():
            if result.output is not None:
                bonus = 0.15 if target != "base" else 0.0
                result.scores["judge"] = float(np.clip(rng.normal(0.5 + bonus, 0.2), 0, 1))
    for target in results.metrics:
        values = list(per_case(results, target, "judge").values())
        results.metrics[target]["judge"] = Metric(float(np.mean(values)), len(values), None)
    results = analysed_run(results)
    figure = results.metrics["final"]["judge"]
    assert figure.ci is not None and figure.value is not None
    assert figure.ci[0] < figure.value < figure.ci[1]
    assert figure.ci[1] - figure.ci[0] < 0.2
    comparison = entry(results, "final", "base", "judge")
    assert comparison.test == "sign-flip-permutation"
    assert comparison.p_value is not None and comparison.ci is not None
    assert comparison.p_value < 0.01 and comparison.ci[0] > 0
    assert "judge" not in flip_scorers(results)
    assert {f.scorer for f in results.flips} == {"exact", "classify"}
    with pytest.raises(ValueError, match="other than 0 and 1"):
        flip_counts(results, "final", results, "base", "judge")


def test_figures_that_cannot_be_resampled_keep_no_interval_and_are_not_compared(
    triage: RunResults,
) -> None:
    results = copy.deepcopy(triage)
    for metrics in results.metrics.values():
        metrics["classify.mystery"] = Metric(0.5, 10, None)
    results = analysed_run(results)
    assert results.metrics["final"]["classify.mystery"].ci is None
    assert not [c for c in results.comparisons if c.metric == "classify.mystery"]
    unpaired = compare(results, "final", "base", "classify.mystery")
    assert unpaired.delta == 0.0 and unpaired.ci is None and unpaired.p_value is None


# --- flips --------------------------------------------------------------------------------------------


def test_flips_count_fixed_and_broken_cases_by_id() -> None:
    references = ["billing", "technical", "account", "shipping", "billing", "account"]
    base = ["billing", "billing", "account", "nope", "technical", None]
    final = ["billing", "technical", "shipping", "shipping", "technical", "account"]
    results = make_results(
        references, {"base": base, "final": final}, [("base", "base", None), ("final", "final", 3)]
    )
    results = analysed_run(results)
    (flips,) = [f for f in results.flips if f.scorer == "classify"]
    assert plain(flips) == {
        "target": "final",
        "versus": "base",
        "scorer": "classify",
        "fixed": 2,
        "broken": 1,
        "both_right": 1,
        "both_wrong": 1,
        "fixed_ids": ["c1", "c3"],
        "broken_ids": ["c2"],
    }
    assert flip_counts(results, "final", results, "base", "classify") == flips


# --- pairs, groups, errors ----------------------------------------------------------------------------


def test_extra_pairs_are_compared_and_share_the_holm_family(triage: RunResults) -> None:
    results = analysed_run(triage, pairs=[("final", "step-20"), ("final", "base")])
    versus_step = entry(results, "final", "step-20", "exact")
    assert versus_step.delta is not None and versus_step.delta < 0
    assert versus_step.p_adjusted == versus_step.p_value  # the only comparison against step-20
    assert len([c for c in results.comparisons if c.metric == "exact"]) == 4  # (final, base) once


def test_a_pair_naming_an_unknown_target_is_an_input_error(triage: RunResults) -> None:
    with pytest.raises(InputError, match="'finale' is not in this run .*base, step-10, step-20, final"):
        analyse(triage, pairs=[("finale", "base")])


def test_each_job_is_compared_with_its_own_base() -> None:
    references = ["billing", "technical"] * 10
    rng = np.random.default_rng(4)
    names = ["ftjob-a.base", "ftjob-a.step-5", "ftjob-a.final", "ftjob-b.base", "ftjob-b.final", "gpt-4.1"]
    targets: list[TargetRow] = [
        ("ftjob-a.base", "base", None),
        ("ftjob-a.step-5", "checkpoint", 5),
        ("ftjob-a.final", "final", 10),
        ("ftjob-b.base", "base", None),
        ("ftjob-b.final", "final", 8),
        ("gpt-4.1", "model", None),
    ]
    results = analysed_run(make_results(references, {n: noisy(references, 0.7, rng) for n in names}, targets))
    pairs = {(c.target, c.versus) for c in results.comparisons}
    assert pairs == {
        ("ftjob-a.step-5", "ftjob-a.base"),
        ("ftjob-a.final", "ftjob-a.base"),
        ("ftjob-b.final", "ftjob-b.base"),
    }


def test_a_named_model_is_compared_with_the_only_base() -> None:
    references = ["billing", "technical"] * 5
    results = make_results(
        references,
        {"base": references, "candidate": references},
        [("base", "base", None), ("candidate", "model", None)],
    )
    results = analysed_run(results)
    assert {(c.target, c.versus) for c in results.comparisons} == {("candidate", "base")}
    assert results.recommendation is None  # no checkpoints to choose from


def test_compare_names_what_exists_when_asked_for_what_does_not(triage: RunResults) -> None:
    with pytest.raises(
        InputError,
        match=r"metric 'classify.macro_f2' is not reported for target 'final' \(metrics: .*classify.macro_f1",
    ):
        compare(triage, "final", "base", "classify.macro_f2")
    with pytest.raises(InputError, match="versus target 'bsae' is not in this run"):
        compare(triage, "final", "bsae", "exact")


def test_a_saved_run_with_unreadable_classify_options_is_an_input_error(triage: RunResults) -> None:
    results = copy.deepcopy(triage)
    results.scorers[1] = replace(
        results.scorers[1], options={**results.scorers[1].options, "labels": "billing"}
    )
    with pytest.raises(InputError, match=r"scorers\[1\]\.options: .*labels: Input should be a valid list"):
        analyse(results)


# --- on demand, across runs, determinism --------------------------------------------------------------


def test_on_demand_comparisons_equal_those_of_analyse(analysed: RunResults, triage: RunResults) -> None:
    for metric in ("exact", "classify.macro_f1", "classify.recall.account", "error_rate"):
        expected = replace(entry(analysed, "step-10", "base", metric), p_adjusted=None)
        found = replace(compare(triage, "step-10", "base", metric), p_adjusted=None)
        assert found == expected


def test_analyse_is_deterministic_for_a_seed(triage: RunResults) -> None:
    before = as_json(triage)
    first, second, other = (
        analysed_run(triage, seed=7),
        analysed_run(triage, seed=7),
        analysed_run(triage, seed=8),
    )
    assert json.dumps(as_json(first)) == json.dumps(as_json(second))
    assert first.metrics["final"]["classify.macro_f1"].ci != other.metrics["final"]["classify.macro_f1"].ci
    assert as_json(triage) == before  # the analysis is returned, the results it read are left alone


def test_compare_runs_pairs_cases_by_id_across_runs() -> None:
    rng = np.random.default_rng(6)
    references = [LABELS[i] for i in rng.integers(0, 4, 120)]
    current = make_results(references, {"final": noisy(references, 0.9, rng)}, [("final", "final", None)])
    old_answers = noisy(references, 0.6, rng)
    baseline = make_results(references, {"prod": old_answers}, [("prod", "model", None)])
    baseline.cases = baseline.cases[::-1][:100]  # another order, and 20 cases fewer
    old = {c.id: c.results["prod"].scores.get("exact") for c in baseline.cases}
    new = {c.id: c.results["final"].scores.get("exact") for c in current.cases}
    both = [i for i in new if new[i] is not None and old.get(i) is not None]
    for metric in ("exact", "classify.macro_f1"):
        found = compare_runs(current, baseline, target="final", baseline_target="prod", metric=metric)
        assert found.target == "final" and found.versus == "prod"
        assert found.n == len(both) < 100
        assert found.delta is not None and found.ci is not None and found.p_value is not None
        assert found.delta > 0.15 and found.ci[0] > 0 and found.p_value < 0.01
    exact = compare_runs(current, baseline, target="final", baseline_target="prod", metric="exact")
    assert exact.delta == pytest.approx(sum(new[i] - old[i] for i in both) / len(both))
    metrics = ["exact", "classify.macro_f1", "classify.kappa", "classify.mystery", "error_rate"]
    for metrics_entry in current.metrics.values():
        metrics_entry["classify.mystery"] = Metric(0.25, 100, None)
    baseline.metrics["prod"]["classify.mystery"] = Metric(0.5, 100, None)
    together = compare_run_metrics(current, baseline, target="final", baseline_target="prod", metrics=metrics)
    one_by_one = [
        compare_runs(current, baseline, target="final", baseline_target="prod", metric=metric)
        for metric in metrics
    ]
    assert together == one_by_one
    assert together[3].delta == -0.25 and together[3].test is None
    flips = flip_counts(current, "final", baseline, "prod", "exact")
    assert flips.fixed + flips.broken + flips.both_right + flips.both_wrong == len(both)
    with pytest.raises(InputError, match="baseline target 'final' is not in this run"):
        compare_runs(current, baseline, target="final", metric="exact")


# --- recommendation -----------------------------------------------------------------------------------


def test_an_earlier_checkpoint_beating_final_is_flagged_as_possible_overfitting(
    analysed: RunResults,
) -> None:
    recommendation = analysed.recommendation
    assert recommendation is not None
    metrics = analysed.metrics
    step_20, final = (
        metrics["step-20"]["classify.macro_f1"].value,
        metrics["final"]["classify.macro_f1"].value,
    )
    assert step_20 is not None and final is not None and step_20 > final
    # step-20 is at the final's own step: not "earlier", so not overfitting, but it is the best.
    assert recommendation.best == "step-20" and recommendation.overfitting is False
    assert recommendation.metric == "classify.macro_f1" == primary_metric_of(analysed)


def test_overfitting_reason_names_the_checkpoint_the_figures_and_the_step() -> None:
    references = [LABELS[i % 4] for i in range(80)]
    wrong = [LABELS[(i + 1) % 4] for i in range(80)]
    outputs = {
        "base": wrong,
        "step-30": references[:70] + wrong[70:],  # 70/80 right
        "step-60": references[:76] + wrong[76:],  # 76/80 right: the best
        "final": references[:66] + wrong[66:],  # 66/80: worse than step-60
    }
    targets: list[TargetRow] = [
        ("base", "base", None),
        ("step-30", "checkpoint", 30),
        ("step-60", "checkpoint", 60),
        ("final", "final", 90),
    ]
    results = analysed_run(make_results(references, outputs, targets))
    recommendation = results.recommendation
    assert recommendation is not None
    assert recommendation.best == "step-60" and recommendation.best_step == 60
    assert recommendation.final == "final" and recommendation.overfitting is True
    assert recommendation.value == results.metrics["step-60"]["classify.macro_f1"].value
    assert recommendation.value is not None and recommendation.final_value is not None
    assert recommendation.recommended == "step-60"
    assert recommendation.reason.startswith(
        f"step-60 is significantly better than final (classify.macro_f1 {recommendation.value:.3f} vs "
        f"{recommendation.final_value:.3f}, Δ +"
    )
    assert recommendation.reason.endswith("training past step 60 may have overfitted")


def test_ties_go_to_the_later_step_and_the_first_scorer_is_primary_without_classify() -> None:
    references = ["a", "b", "c", "d"]
    outputs = {
        "base": ["x"] * 4,
        "step-1": ["a", "b", "x", "x"],
        "step-2": ["a", "b", "c", "x"],
        "final": ["a", "b", "c", "x"],
    }
    targets: list[TargetRow] = [
        ("base", "base", None),
        ("step-1", "checkpoint", 1),
        ("step-2", "checkpoint", 2),
        ("final", "final", 3),
    ]
    results = analysed_run(make_results(references, outputs, targets, scorers=["exact"]))
    recommendation = results.recommendation
    assert recommendation is not None
    assert recommendation.metric == "exact"
    assert recommendation.best == "final" and recommendation.overfitting is False
    assert recommendation.reason == "final scores 0.750 exact, the best of 3 fine-tuned models"


# --- many targets -------------------------------------------------------------------------------------


def test_ten_targets_of_200_cases_are_each_compared_with_their_base_on_every_metric() -> None:
    """(How fast this is analysed is a speed goal, measured in bench/, not asserted here.)"""
    rng = np.random.default_rng(8)
    references = [LABELS[i] for i in rng.integers(0, 4, 200)]
    targets: list[TargetRow] = [("base", "base", None)]
    targets += [(f"step-{i}", "checkpoint", i) for i in range(1, 9)]
    targets.append(("final", "final", 9))
    outputs = {name: noisy(references, 0.5 + 0.04 * i, rng) for i, (name, _, _) in enumerate(targets)}
    results = make_results(
        references, outputs, targets, scorers=["exact", CLASSIFY, {"includes": {"name": "mentions"}}]
    )
    comparisons = analyse(results, resamples=2000).comparisons
    assert len(comparisons) == 9 * 23  # exact, classify, 19 classify figures, mentions, error_rate
    per_pair = Counter((c.target, c.versus) for c in comparisons)
    assert per_pair == {(name, "base"): 23 for name, _, _ in targets[1:]}
    assert len({(c.target, c.metric) for c in comparisons}) == 9 * 23  # each metric once per target
