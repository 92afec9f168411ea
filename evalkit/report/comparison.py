"""``evalkit compare A B`` on the terminal: per target pair a table of metrics (n, A, B, Δ with its CI, p,
test), what could not be paired, the flips and the regressed case ids. The comparison itself is
``evalkit.analysis.runs``'s."""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.analysis.floors import at_floor
from evalkit.analysis.runs import OneSided, PairedTargets, RunComparison, better, regressions, worse
from evalkit.records.findings import Comparison
from evalkit.text import number, one_line, p_figure, signed

__all__ = ["render_comparison"]

_SHOWN_IDS = 200  # regressed case ids listed on the terminal; all of them are in the returned record
_SHOWN_UNPAIRED = 5  # case ids shown of those only one run answered; all of them are in the record


def render_comparison(comparison: RunComparison) -> str:
    """The comparison as terminal text: per target pair a table of metrics, the flips, the regressed ids."""
    a, b = comparison.a, comparison.b
    lines = [
        f"A (baseline): {one_line(a.suite)} · {one_line(a.started_at)}",
        f"B (new):      {one_line(b.suite)} · {one_line(b.started_at)}",
    ]
    lines += [f"warning: {one_line(warning)}" for warning in comparison.warnings]
    lines += _render_one_sided(comparison.unpaired_targets, "targets", "not compared")
    for pair in comparison.pairs:
        lines += ["", *_render_pair(pair, comparison.resamples)]
    worse = regressions(comparison)
    lines += [
        "",
        "A, B: each run's figure over the n cases its Δ is over (paired by case id)",
        "▲/▼: B significantly better/worse (Δ's 95% CI excludes 0)",
    ]
    if worse:
        names = ", ".join(f"{one_line(e.target)} {one_line(e.metric)}" for e in worse)
        lines.append(f"REGRESSED: B is significantly worse on {names}")
    else:
        lines.append("No significant regression (no Δ's 95% CI entirely on the worse side of 0).")
    return "\n".join(lines) + "\n"


def _render_pair(pair: PairedTargets, resamples: int) -> list[str]:
    ta, tb = one_line(pair.a_target), one_line(pair.b_target)
    title = f"{tb}" if ta == tb else f"{ta} (A) → {tb} (B)"
    lines = [f"{title} · {pair.cases} cases in both runs"]
    lines += [f"  {line}" for line in _render_one_sided(pair.unpaired_cases, "cases", "in no Δ", count=True)]
    lines += [f"  {line}" for line in _render_one_sided(pair.unpaired_metrics, "metrics", "not compared")]
    rows = [["metric", "n", "A", "B", "Δ (B − A)", "95% CI of Δ", "p", "test"]]
    rows += [
        _row(entry, pair.values.get(entry.metric, (None, None)), whole_run=entry.metric in pair.whole_run,
             resamples=resamples)
        for entry in pair.comparisons
    ]  # fmt: skip
    lines += _columns(rows)
    if pair.whole_run:
        lines.append(
            "  * whole-run figures, over different cases: they cannot be recomputed on the paired ones; "
            "Δ is their difference"
        )
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


def _render_one_sided(found: OneSided, what: str, fate: str, *, count: bool = False) -> list[str]:
    """``targets only in A (not compared): x, y`` — with ``count``, how many first and a few of them."""
    lines = []
    for side, names in (("A", found.only_a), ("B", found.only_b)):
        if not names:
            continue
        if count:
            shown = ", ".join(one_line(name) for name in names[:_SHOWN_UNPAIRED])
            more = len(names) - _SHOWN_UNPAIRED
            shown += f" and {more} more" if more > 0 else ""
            noun = what.removesuffix("s") if len(names) == 1 else what
            lines.append(f"{len(names)} {noun} only in {side} ({fate}): {shown}")
        else:
            lines.append(f"{what} only in {side} ({fate}): {', '.join(one_line(name) for name in names)}")
    return lines


def _row(
    entry: Comparison, values: tuple[float | None, float | None], *, whole_run: bool, resamples: int
) -> list[str]:
    ci = entry.ci
    marker = " ▼" if worse(entry) else (" ▲" if better(entry) else "")
    return [
        one_line(entry.metric) + (" *" if whole_run else ""),
        "—" if whole_run else str(entry.n),
        number(values[0]),
        number(values[1]),
        signed(entry.delta) + marker,
        "—" if ci is None else f"[{signed(ci[0])}, {signed(ci[1])}]",
        _p(entry, resamples),
        one_line(entry.test or "—"),
    ]


def _p(entry: Comparison, resamples: int) -> str:
    """``0.034``, ``2.3e-05`` (an exact test's), ``< 0.001`` (at the floor of the resampling), or ``—``."""
    p = entry.p_value
    if p is None:
        return "—"
    if at_floor(p, entry.test, resamples=resamples):
        return p_figure(p, bound=True)
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


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
