"""``evalkit plan RESULTS``: for each paired comparison of a saved run, the cases needed to detect a Δ.

One row per comparison — of the headline metrics (each scorer's mean, ``macro_f1``: ``report.summary``'s)
unless ``--metric`` names another: its test, the level it is tested at (``gate.rule_levels`` of the run's saved gate,
unless ``--alpha`` says otherwise), n, the spread the run observed (the share of cases the two sides
disagree on for 0/1 scores, the standard deviation of the per-case difference otherwise, recomputed from
the cases as the run computed it: ``analysis.spread_of``), the mde at that n, and the cases needed. A
comparison that cannot be planned says why in a numbered note under the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.errors import InputError

if TYPE_CHECKING:
    from evalkit.analysis.power import Spread
    from evalkit.records.findings import Comparison
    from evalkit.records.results import RunResults

__all__ = ["plan_saved_run"]

_TESTS = {
    "mcnemar-exact": "exact McNemar",
    "sign-flip-permutation": "sign-flip",
    "paired-bootstrap": "bootstrap",
}


def plan_saved_run(
    path: Path,
    delta: float,
    *,
    alpha: float | None,
    power: float,
    picks: tuple[str | None, str | None, str | None] = (None, None, None),
) -> str:
    """The table for the run saved at ``path``: its comparisons (those ``picks`` — target, versus, metric —
    choose), with the cases each needs to detect ``delta`` with ``power`` at ``alpha`` (None: the level the
    run's gate tests it at, else 0.05). ``InputError`` for a file that is not a results.json or picks that
    match no comparison."""
    from evalkit.analysis import spread_of
    from evalkit.analysis.power import ALPHA
    from evalkit.gate import rule_levels, rules_from_results
    from evalkit.records.results_json import read_results

    results = read_results(path)
    chosen = _chosen(results, path, picks)
    levels = rule_levels(rules_from_results(results.gate, file=path), results.target_names)
    rows = [["target", "versus", "metric", "test", "α", "n", "spread", "mde", f"cases for Δ {delta:g}"]]
    notes: list[str] = []
    for comparison in chosen:
        key = (comparison.target, comparison.versus, comparison.metric)
        level = alpha if alpha is not None else levels.get(key, ALPHA)
        spread = spread_of(results, *key)
        rows.append(_row(comparison, spread, delta, level, power, notes))
    header = (
        f"Cases needed to detect a true Δ of {delta:g} with {power:.0%} power, from the disagreement (0/1 "
        f"scores) or spread each comparison shows in {path}:"
    )
    legend = (
        "α: two-sided, the level the run's gate tests the comparison at (a superiority rule's alpha, "
        "divided by the targets it covers), else 0.05"
        if alpha is None
        else f"α: {alpha:g} (--alpha), two-sided"
    )
    if picks[2] is None:
        legend += "\nmetrics: the headline ones (each scorer's mean, macro_f1); --metric names another"
    return "\n".join([header, "", *_aligned(rows), "", legend, *notes])


def _row(
    comparison: Comparison, spread: Spread | None, delta: float, alpha: float, power: float, notes: list[str]
) -> list[str]:
    from evalkit.analysis.power import cases_needed, mde

    test = _TESTS.get(comparison.test or "", "—")
    cells = [comparison.target, comparison.versus, comparison.metric, test, f"{alpha:g}", str(comparison.n)]
    if spread is None:
        return [*cells, "—", "—", "—"]
    if spread.discordance is not None:
        shown = f"{spread.discordance:.1%} disagree"
    else:
        shown = f"sd {spread.sd:.3f}"
    now = mde(spread, alpha=alpha, power=power)
    try:
        if spread.discordance == 0.0:
            raise ValueError("the two never disagreed on a case: no spread to plan from")
        if spread.sd == 0.0:
            raise ValueError("the difference never varied (over cases or resamples): no spread to plan from")
        found = cases_needed(delta, discordance=spread.discordance, sd=spread.sd, alpha=alpha, power=power)
        needed = f"{found:,}"
    except ValueError as exc:
        where = f"{comparison.target} vs {comparison.versus} {comparison.metric}"
        notes.append(f"({len(notes) + 1}) {where}: {exc}")
        needed = f"— ({len(notes)})"
    return [*cells, shown, "—" if now is None else f"{now:.3f}", needed]


def _chosen(
    results: RunResults, path: Path, picks: tuple[str | None, str | None, str | None]
) -> list[Comparison]:
    """The run's comparisons that --target, --versus and --metric pick (without --metric, those of its
    headline metrics, if any); ``InputError`` when none."""
    from evalkit.report.summary import headline_comparisons

    found = list(results.comparisons)
    if not found:
        raise InputError(
            "this run has no paired comparison (no target has a base, and no gate rule compares two)",
            file=path,
        )
    if picks[2] is None:
        found = headline_comparisons(results) or found
    for flag, wanted in zip(("target", "versus", "metric"), picks, strict=True):
        if wanted is None:
            continue
        known = list(dict.fromkeys(getattr(c, flag) for c in found))
        if wanted not in known:
            raise InputError(
                f"no comparison with {flag} {wanted!r} (there are: {', '.join(known)})", field=f"--{flag}"
            )
        found = [c for c in found if getattr(c, flag) == wanted]
    return found


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; the figures (from ``α`` on) right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        paired = enumerate(zip(row, widths, strict=True))
        cells = [cell.ljust(width) if i < 4 else cell.rjust(width) for i, (cell, width) in paired]
        lines.append("  ".join(cells).rstrip())
    return lines
