"""summary.md: the verdict (and, when the run cannot be judged, why), each gate rule's reason (and the
gate's warnings), the recommendation, a table of targets × headline metrics (and cost, when known; ``n of
N`` beside a figure computed on fewer cases than the run has; the shutdown date of a model that has one
announced), the paired comparisons of those metrics (Δ, its CI, the mde, p, n), and the flips against
each target's base. A partial results file says so under the verdict.

Meant for places that render Markdown (a CI job summary, a pull-request comment), so it carries only
names and figures — never a model output or test data — and escapes even those.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from evalkit.records import ERROR_RATE
from evalkit.records.findings import Comparison, Flip, Recommendation
from evalkit.records.results import RunResults
from evalkit.report.counts import figure_note
from evalkit.report.escapes import visible
from evalkit.report.pvalues import p_text, resamples_of
from evalkit.report.verdict import (
    ERROR_HEADLINE,
    error_lines,
    partial_note,
    rule_state,
    rule_text,
    rules_tally,
    verdict_word,
)
from evalkit.targets.lifecycle import shutdown_text
from evalkit.text import number, one_line, signed

__all__ = [
    "COMPARISONS_LEGEND",
    "format_cost",
    "headline_comparisons",
    "headline_metrics",
    "headline_value",
    "markdown_text",
    "render_summary",
]

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&$])")
_AGGREGATES = ("macro_f1",)  # "<scorer>.accuracy" equals the mean "<scorer>" already shown
_VERDICT_MARKS = {"GO": "✅", "NO-GO": "❌", "NOT GATED": "⚪", "ERROR": "⛔"}
_RULE_MARKS = {"pass": "✅", "fail": "❌", "error": "⚠️"}
COMPARISONS_LEGEND = (
    "95% CI of Δ; p Holm-adjusted per reference and metric; mde: the smallest true Δ the test detects "
    "with 80% power on these cases"
)
"""How to read a table of paired comparisons (here and on the terminal)."""


def render_summary(results: RunResults) -> str:
    """The Markdown summary of a run."""
    lines = [_verdict_line(results), ""]
    errors = error_lines(results)
    if errors:
        lines += [f"> **{ERROR_HEADLINE.capitalize()}:**", *(f"> - {markdown_text(e)}" for e in errors), ""]
    partial = partial_note(results)
    if partial is not None and partial not in errors:
        lines += [f"> ⚠️ {markdown_text(partial)}", ""]
    rules = results.gate.rules
    lines += [f"- {_RULE_MARKS[rule_state(rule)]} {markdown_text(rule_text(rule))}" for rule in rules]
    if results.gate.verdict == "not-gated":  # the verdict line says so, and no rule follows it
        lines.pop()
    elif not rules:
        lines.append("- No gate rules" + (": the verdict is go." if results.gate.verdict == "go" else "."))
    lines += [f"- ⚠️ {markdown_text(warning)}" for warning in results.gate.warnings]
    if results.recommendation is not None:
        lines += ["", _recommendation_line(results.recommendation)]
    lines += ["", *_table(results)]
    compared = headline_comparisons(results)
    if compared:
        lines += ["", *_comparisons_table(compared, resamples=resamples_of(results))]
    if results.flips:
        lines += ["", *_flips_table(results.flips)]
    if results.warnings:
        count = len(results.warnings)
        lines += ["", f"⚠️ {count} warning{'s' if count != 1 else ''}: see report.html."]
    return "\n".join(lines) + "\n"


def headline_metrics(results: RunResults) -> list[str]:
    """The metrics worth a column: every scorer's mean, ``<scorer>.macro_f1``, error_rate."""
    means: list[str] = []
    aggregates: list[str] = []
    for metrics in results.metrics.values():
        for name in metrics:
            _, _, aggregate = name.partition(".")
            if name == ERROR_RATE:
                continue
            if not aggregate and name not in means:
                means.append(name)
            if aggregate in _AGGREGATES and name not in aggregates:
                aggregates.append(name)
    return [*means, *aggregates, ERROR_RATE]


def headline_comparisons(results: RunResults) -> list[Comparison]:
    """The run's comparisons on its headline metrics (error_rate left out), in their order."""
    shown = [m for m in headline_metrics(results) if m != ERROR_RATE]
    return [c for c in results.comparisons if c.metric in shown]


def headline_value(results: RunResults, target: str, metric: str) -> float | None:
    """A target's metric value; error_rate is counted from the cases when the run did not report it."""
    found = results.metric(target, metric)
    if found is not None:
        return None if found.value is None else float(found.value)
    if metric != ERROR_RATE:
        return None
    answered = [result for _, result in results.answers(target)]
    if not answered:
        return None
    return sum(1 for r in answered if r.error is not None) / len(answered)


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown inline text: one line, every special character backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(visible(text))).strip()


def _verdict_line(results: RunResults) -> str:
    gate = results.gate
    word = verdict_word(gate)
    cases = results.suite.data.cases
    return (
        f"## {_VERDICT_MARKS[word]} {word} — {markdown_text(results.suite.name)}\n\n"
        f"{rules_tally(gate)} · {cases} cases · "
        f"{len(results.targets)} targets · evalkit {markdown_text(results.evalkit_version)}"
    )


def _table(results: RunResults) -> list[str]:
    metrics = headline_metrics(results)
    costs = {name: usage.cost_usd for name, usage in results.usage.items()}
    with_cost = any(cost is not None for cost in costs.values())
    retiring = any(target.shutdown_date is not None for target in results.targets)
    figures = [*metrics, *(["cost (USD)"] if with_cost else [])]
    header = ["target", "model", *figures, *(["shuts down"] if retiring else [])]
    rows = [
        [
            markdown_text(target.name),
            markdown_text(target.model),
            *(_figure(results, target.name, m) for m in metrics),
            *([format_cost(costs.get(target.name))] if with_cost else []),
            *([markdown_text(shutdown_text(target) or "—")] if retiring else []),
        ]
        for target in results.targets
    ]
    return [
        "| " + " | ".join(markdown_text(h) for h in header) + " |",
        "| --- | --- |" + " ---: |" * len(figures) + (" --- |" if retiring else ""),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _figure(results: RunResults, target: str, metric: str) -> str:
    """The figure, with ``(19 of 48)`` (and a pairwise judge's ties) beside it when it has a note."""
    figure = number(headline_value(results, target, metric))
    note = figure_note(results, target, metric)
    return figure if note is None else f"{figure} ({markdown_text(note)})"


def format_cost(value: float | None) -> str:
    """Dollars with cents (more digits under a dollar), or ``—`` when the price is unknown."""
    if value is None:
        return "—"
    return f"{value:.2f}" if value >= 1 else f"{value:.4f}"


def _recommendation_line(recommendation: Recommendation) -> str:
    warning = " ⚠️ possible overfitting:" if recommendation.overfitting else ""
    shipped = recommendation.recommended
    advice = recommendation.best if shipped is None else f"ship {shipped}"
    return f"**Recommendation:** {markdown_text(advice)} —{warning} {markdown_text(recommendation.reason)}"


def _comparisons_table(comparisons: Sequence[Comparison], *, resamples: int) -> list[str]:
    rows = [
        "| "
        + " | ".join(
            [
                markdown_text(c.target),
                markdown_text(c.versus),
                markdown_text(c.metric),
                signed(c.delta),
                "—" if c.ci is None else markdown_text(f"[{signed(c.ci[0])}, {signed(c.ci[1])}]"),
                number(c.mde),
                markdown_text(p_text(c, resamples=resamples, adjusted=True)),
                str(c.n),
            ]
        )
        + " |"
        for c in comparisons
    ]
    return [
        f"Paired Δ against the reference ({COMPARISONS_LEGEND})",
        "",
        "| target | versus | metric | Δ | 95% CI | mde | p | n |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]


def _flips_table(flips: Sequence[Flip]) -> list[str]:
    header = "| target | versus | scorer | fixed | broken | both right | both wrong |"
    rows = [
        "| "
        + " | ".join(
            [
                markdown_text(flip.target),
                markdown_text(flip.versus),
                markdown_text(flip.scorer),
                *(str(count) for count in (flip.fixed, flip.broken, flip.both_right, flip.both_wrong)),
            ]
        )
        + " |"
        for flip in flips
    ]
    return [
        "Flips (fixed: wrong → right against the reference; broken: right → wrong)",
        "",
        header,
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
        *rows,
    ]
