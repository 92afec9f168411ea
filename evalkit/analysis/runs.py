"""``evalkit compare A B``: two saved runs paired by case id — Δ per metric with CI and p, flips, regressions.

A is the baseline (the earlier or production run), B the new run; every Δ is B − A. Each run is checked
first (``saved_runs``: unique case ids, scores within their scorer's range). Targets are paired by name
(every name both runs have), or, when each run has exactly one target, those two. Cases are paired by
id, over the cases both runs scored; A and B are shown over those same cases (``paired_values``), so
that B − A is Δ. What could not be paired is listed, never dropped silently: targets of one run only,
metrics of one target only, case ids one target answered and the other did not. The statistics are
``evalkit.analysis.paired``'s: the numbers ``compare_runs`` and ``flip_counts`` give, which the gate uses
for a ``baseline:`` rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.analysis.floors import RESAMPLES
from evalkit.errors import InputError
from evalkit.records.findings import Comparison, Flip
from evalkit.records.results import RunResults

if TYPE_CHECKING:
    from evalkit.analysis.cases import Side

__all__ = [
    "OneSided",
    "PairedTargets",
    "RunComparison",
    "RunFacts",
    "better",
    "compare_results",
    "regressions",
    "worse",
]

_LOWER_IS_BETTER = frozenset({"error_rate"})


@dataclass(frozen=True, slots=True)
class RunFacts:
    """Which run a side of the comparison is."""

    suite: str
    """Its suite's name."""
    started_at: str
    """When it started."""
    targets: list[str]
    """Its targets."""


@dataclass(frozen=True, slots=True)
class OneSided:
    """Names (of targets, metrics or case ids) only one of the two runs has: left out of the comparison."""

    only_a: list[str]
    """Only in A (the baseline), in A's order."""
    only_b: list[str]
    """Only in B (the new run), in B's order."""


@dataclass(frozen=True, slots=True)
class PairedTargets:
    """One target of B against its counterpart in A."""

    a_target: str
    """The target in A."""
    b_target: str
    """The target in B."""
    cases: int
    """Case ids both answered."""
    comparisons: list[Comparison]
    """Per metric both report: B − A, paired by case id (``versus`` names A's target)."""
    values: dict[str, tuple[float | None, float | None]]
    """Per metric: (A's value, B's value) over the cases its Δ is over — except the ``whole_run`` ones."""
    whole_run: list[str]
    """Metrics whose values are each run's reported figure, over cases that differ between the runs: an
    aggregate that cannot be recomputed on the paired cases; its Δ is the difference of those figures."""
    unpaired_metrics: OneSided
    """Metrics only one of the two targets reports: not compared."""
    unpaired_cases: OneSided
    """Case ids only one of the two targets answered (or failed): in no Δ."""
    flips: list[Flip]
    """Per 0/1 scorer: cases fixed, broken, right or wrong in both."""
    regressed_ids: dict[str, list[str]]
    """Per 0/1 scorer: the cases right in A and wrong in B."""
    failed_ids: list[str]
    """Cases answered in A whose call failed in B."""


@dataclass(frozen=True, slots=True)
class RunComparison:
    """Run B (new) against run A (baseline)."""

    a: RunFacts
    """The baseline run."""
    b: RunFacts
    """The new run."""
    warnings: list[str]
    """Different suite file or data."""
    unpaired_targets: OneSided
    """Targets only one run has: not compared."""
    pairs: list[PairedTargets]
    """Each target pair."""
    resamples: int = RESAMPLES
    """How many resamples the bootstrap and random permutation tests drew (where their p-values bottom out)."""


def compare_results(
    a: RunResults,
    b: RunResults,
    *,
    a_file: str | Path = "A",
    b_file: str | Path = "B",
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> RunComparison:
    """Pair run ``b`` (new) with run ``a`` (baseline) by case id.

    ``a_file``/``b_file``: where each run was read from, named by the errors. ``InputError`` when a run
    repeats a case id or holds an impossible score, or when the runs share no target or no case id."""
    from evalkit.analysis import flip_scorers
    from evalkit.analysis.cases import Run, Side
    from evalkit.analysis.saved_runs import check_saved_run

    check_saved_run(a, file=a_file)
    check_saved_run(b, file=b_file)
    pairs = _target_pairs(a, b)
    paired = [ta for ta, _ in pairs], [tb for _, tb in pairs]
    run_a, run_b = Run(a), Run(b)
    binary = [name for name in flip_scorers(b) if name in flip_scorers(a)]
    return RunComparison(
        a=_run_facts(a),
        b=_run_facts(b),
        warnings=_warnings(a, b),
        unpaired_targets=_one_sided(a.target_names, b.target_names, paired=paired),
        pairs=[
            _pair(Side(run_a, ta), Side(run_b, tb), binary, seed=seed, resamples=resamples)
            for ta, tb in pairs
        ],
        resamples=resamples,
    )


def regressions(comparison: RunComparison) -> list[Comparison]:
    """The metrics B is significantly worse on (Δ's 95% CI entirely on the wrong side of 0)."""
    return [entry for pair in comparison.pairs for entry in pair.comparisons if worse(entry)]


# --- pairing --------------------------------------------------------------------------------------


def _target_pairs(a: RunResults, b: RunResults) -> list[tuple[str, str]]:
    names_a, names_b = a.target_names, b.target_names
    shared = [(name, name) for name in names_b if name in names_a]
    if shared:
        return shared
    if len(names_a) == 1 and len(names_b) == 1:
        return [(names_a[0], names_b[0])]
    raise InputError(
        f"the runs share no target name (A: {', '.join(names_a) or 'none'}; B: {', '.join(names_b) or 'none'}); "
        "compare runs of the same targets, or runs of one target each"
    )


def _pair(a: Side, b: Side, binary: Sequence[str], *, seed: int, resamples: int) -> PairedTargets:
    from evalkit.analysis.paired import compare_many, flips_between

    answered = _answered(a), _answered(b)
    cases = [case_id for case_id in answered[1] if case_id in answered[0]]
    if not cases:
        raise InputError(
            f"target {b.target!r} of B and {a.target!r} of A answered no case with the same id; "
            "compare runs of the same suite data"
        )
    metrics_a, metrics_b = a.run.results.metrics.get(a.target, {}), b.run.results.metrics.get(b.target, {})
    shared = [name for name in metrics_b if name in metrics_a]
    values, whole_run = _values(a, b, shared)
    flips = [flips_between(b, a, scorer) for scorer in binary]
    return PairedTargets(
        a_target=a.target,
        b_target=b.target,
        cases=len(cases),
        comparisons=compare_many(b, a, shared, seed=seed, resamples=resamples),
        values=values,
        whole_run=whole_run,
        unpaired_metrics=_one_sided(list(metrics_a), list(metrics_b), paired=(shared, shared)),
        unpaired_cases=_one_sided(*answered, paired=(cases, cases)),
        flips=flips,
        regressed_ids={flip.scorer: list(flip.broken_ids) for flip in flips},
        failed_ids=_failed_ids(a.run.results, a.target, b.run.results, b.target),
    )


def _values(
    a: Side, b: Side, metrics: Sequence[str]
) -> tuple[dict[str, tuple[float | None, float | None]], list[str]]:
    """Per metric, (A, B) over the cases its Δ is over; the metrics whose values are whole-run figures
    over cases that differ between the runs."""
    from evalkit.analysis.paired_values import covers_same_cases, values_on_pairs

    values: dict[str, tuple[float | None, float | None]] = {}
    whole_run: list[str] = []
    for metric in metrics:
        found = values_on_pairs(a, b, metric)
        if found is None:
            reported = a.run.results.metrics[a.target][metric], b.run.results.metrics[b.target][metric]
            found = reported[0].value, reported[1].value
            if not covers_same_cases(a, b, metric):
                whole_run.append(metric)
        values[metric] = found
    return values, whole_run


def _answered(side: Side) -> list[str]:
    return [case_id for case_id, _ in side.run.results.answers(side.target)]


def _one_sided(a: Sequence[str], b: Sequence[str], *, paired: tuple[Sequence[str], ...]) -> OneSided:
    """What ``a`` and ``b`` have beyond their ``paired`` names."""
    in_a, in_b = set(paired[0]), set(paired[1])
    return OneSided([name for name in a if name not in in_a], [name for name in b if name not in in_b])


def _failed_ids(a: RunResults, ta: str, b: RunResults, tb: str) -> list[str]:
    answered = {case_id for case_id, result in a.answers(ta) if result.error is None}
    return [case_id for case_id, result in b.answers(tb) if case_id in answered and result.error is not None]


def _run_facts(results: RunResults) -> RunFacts:
    return RunFacts(suite=results.suite.name, started_at=results.started_at, targets=results.target_names)


def _warnings(a: RunResults, b: RunResults) -> list[str]:
    warnings = []
    if a.suite.sha256 != b.suite.sha256:
        warnings.append(
            f"the runs used different suite files (sha256 {a.suite.sha256[:12]}… in A, "
            f"{b.suite.sha256[:12]}… in B): scorers or settings may differ"
        )
    if a.suite.data.sha256 != b.suite.data.sha256:
        warnings.append(
            f"the runs used different data (sha256 {a.suite.data.sha256[:12]}… in A, "
            f"{b.suite.data.sha256[:12]}… in B): only cases with the same id are paired"
        )
    return warnings


def worse(entry: Comparison) -> bool:
    """B is significantly worse on this metric (Δ's 95% CI entirely on the worse side of 0)."""
    if entry.ci is None:
        return False
    return entry.ci[0] > 0 if entry.metric in _LOWER_IS_BETTER else entry.ci[1] < 0


def better(entry: Comparison) -> bool:
    """B is significantly better on this metric (Δ's 95% CI entirely on the better side of 0)."""
    if entry.ci is None:
        return False
    return entry.ci[1] < 0 if entry.metric in _LOWER_IS_BETTER else entry.ci[0] > 0
