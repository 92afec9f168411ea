"""``evalkit compare A B``: two saved runs paired by case id — Δ per metric with CI and p, flips, regressions.

A is the baseline (the earlier or production run), B the new run; every Δ is B − A. Targets are paired
by name (every name both runs have), or, when each run has exactly one target, those two. Cases are
paired by id, over the cases both runs scored. The statistics are ``evalkit.analysis.compare_runs`` and
``flip_counts`` — the same numbers the gate uses for a ``baseline:`` rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalkit.errors import InputError
from evalkit.records.findings import Comparison, Flip
from evalkit.records.results import RunResults
from evalkit.text import number, one_line, signed

__all__ = ["PairedTargets", "RunComparison", "RunFacts", "compare_results", "regressions", "render_comparison"]

_LOWER_IS_BETTER = frozenset({"error_rate"})
_SHOWN_IDS = 200  # regressed case ids listed on the terminal; all of them are in the returned record


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
    """Per metric: (A's value, B's value), as each run reported it."""
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
    pairs: list[PairedTargets]
    """Each target pair."""


def compare_results(a: RunResults, b: RunResults, *, seed: int = 0, resamples: int = 2000) -> RunComparison:
    """Pair run ``b`` (new) with run ``a`` (baseline) by case id; ``InputError`` when the runs share no
    target or no case id."""
    from evalkit.analysis import flip_scorers

    pairs = _target_pairs(a, b)
    binary = [name for name in flip_scorers(b) if name in flip_scorers(a)]
    return RunComparison(
        a=_run_facts(a),
        b=_run_facts(b),
        warnings=_warnings(a, b),
        pairs=[_pair(a, b, ta, tb, binary, seed=seed, resamples=resamples) for ta, tb in pairs],
    )


def regressions(comparison: RunComparison) -> list[Comparison]:
    """The metrics B is significantly worse on (Δ's 95% CI entirely on the wrong side of 0)."""
    return [entry for pair in comparison.pairs for entry in pair.comparisons if _worse(entry)]


def render_comparison(comparison: RunComparison) -> str:
    """The comparison as terminal text: per target pair a table of metrics, the flips, the regressed ids."""
    a, b = comparison.a, comparison.b
    lines = [
        f"A (baseline): {one_line(a.suite)} · {one_line(a.started_at)}",
        f"B (new):      {one_line(b.suite)} · {one_line(b.started_at)}",
    ]
    lines += [f"warning: {one_line(warning)}" for warning in comparison.warnings]
    for pair in comparison.pairs:
        lines += ["", *_render_pair(pair)]
    worse = regressions(comparison)
    lines += ["", "▲/▼: B significantly better/worse (Δ's 95% CI excludes 0)"]
    if worse:
        names = ", ".join(f"{one_line(e.target)} {one_line(e.metric)}" for e in worse)
        lines.append(f"REGRESSED: B is significantly worse on {names}")
    else:
        lines.append("No significant regression (no Δ's 95% CI entirely on the worse side of 0).")
    return "\n".join(lines) + "\n"


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


def _pair(
    a: RunResults, b: RunResults, ta: str, tb: str, binary: Sequence[str], *, seed: int, resamples: int
) -> PairedTargets:
    from evalkit.analysis import compare_runs, flip_counts

    cases = _shared_ids(a, ta, b, tb)
    if not cases:
        raise InputError(
            f"target {tb!r} of B and {ta!r} of A answered no case with the same id; "
            "compare runs of the same suite data"
        )
    metrics_a, metrics_b = a.metrics.get(ta, {}), b.metrics.get(tb, {})
    shared = [name for name in metrics_b if name in metrics_a]
    comparisons = [
        compare_runs(b, a, target=tb, metric=metric, baseline_target=ta, seed=seed, resamples=resamples)
        for metric in shared
    ]
    flips = [flip_counts(b, tb, a, ta, scorer) for scorer in binary]
    return PairedTargets(
        a_target=ta,
        b_target=tb,
        cases=len(cases),
        comparisons=comparisons,
        values={metric: (metrics_a[metric].value, metrics_b[metric].value) for metric in shared},
        flips=flips,
        regressed_ids={flip.scorer: list(flip.broken_ids) for flip in flips},
        failed_ids=_failed_ids(a, ta, b, tb),
    )


def _shared_ids(a: RunResults, ta: str, b: RunResults, tb: str) -> set[str]:
    ids_a = {case_id for case_id, _ in a.answers(ta)}
    return {case_id for case_id, _ in b.answers(tb) if case_id in ids_a}


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


def _worse(entry: Comparison) -> bool:
    if entry.ci is None:
        return False
    return entry.ci[0] > 0 if entry.metric in _LOWER_IS_BETTER else entry.ci[1] < 0


def _better(entry: Comparison) -> bool:
    if entry.ci is None:
        return False
    return entry.ci[1] < 0 if entry.metric in _LOWER_IS_BETTER else entry.ci[0] > 0


# --- rendering ------------------------------------------------------------------------------------


def _render_pair(pair: PairedTargets) -> list[str]:
    ta, tb = one_line(pair.a_target), one_line(pair.b_target)
    title = f"{tb}" if ta == tb else f"{ta} (A) → {tb} (B)"
    lines = [f"{title} · {pair.cases} cases in both runs"]
    rows = [["metric", "A", "B", "Δ (B − A)", "95% CI of Δ", "p", "test"]]
    rows += [_row(entry, pair.values.get(entry.metric, (None, None))) for entry in pair.comparisons]
    lines += _columns(rows)
    for flip in pair.flips:
        lines.append(
            f"  {one_line(flip.scorer)}: {flip.fixed} fixed, {flip.broken} broken, "
            f"{flip.both_right} right in both, {flip.both_wrong} wrong in both"
        )
    for scorer, ids in pair.regressed_ids.items():
        if ids:
            lines.append(f"  regressed on {one_line(scorer)} (right in A, wrong in B): {_ids(ids)}")
    if pair.failed_ids:
        lines.append(f"  failed in B (answered in A): {_ids(pair.failed_ids)}")
    return lines


def _row(entry: Comparison, values: tuple[float | None, float | None]) -> list[str]:
    ci, p = entry.ci, entry.p_value
    marker = " ▼" if _worse(entry) else (" ▲" if _better(entry) else "")
    return [
        one_line(entry.metric),
        number(values[0]),
        number(values[1]),
        signed(entry.delta) + marker,
        "—" if ci is None else f"[{signed(ci[0])}, {signed(ci[1])}]",
        "—" if p is None else (f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"),
        one_line(entry.test or "—"),
    ]


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _ids(ids: Sequence[str]) -> str:
    shown = ", ".join(one_line(i) for i in ids[:_SHOWN_IDS])
    more = len(ids) - _SHOWN_IDS
    return f"{shown} (and {more} more)" if more > 0 else shown
