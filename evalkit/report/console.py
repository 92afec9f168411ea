"""The run's verdict on the terminal: a table of targets × headline metrics, the paired comparisons (Δ, its
CI, the mde, p with a significance marker), the recommended checkpoint, then each rule's reason, the
gate's warnings and the verdict — GO, NO-GO, or ERROR followed by why the run cannot be judged. A figure
computed on fewer cases than the run has says ``n of N`` beside it; a partial results file says so under
the table. When a target's model has an announced shutdown date, the tables (this one and ``evalkit
targets``') say it in a "shuts down" column.

Only names and figures are printed, as plain text (never rich markup), with control characters removed and
what a terminal cannot show escaped (``report.escapes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalkit.records import Target
from evalkit.records.findings import Recommendation, RuleResult
from evalkit.records.results import RunResults
from evalkit.report.counts import comparison_note, figure_note
from evalkit.report.escapes import visible
from evalkit.report.pvalues import p_text, resamples_of
from evalkit.report.summary import (
    COMPARISONS_LEGEND,
    headline_comparisons,
    headline_metrics,
    headline_value,
)
from evalkit.report.verdict import (
    ERROR_HEADLINE,
    error_lines,
    partial_note,
    rule_state,
    rule_text,
    rules_tally,
    verdict_word,
)
from evalkit.targets.lifecycle import shutdown_text, shutdown_warnings
from evalkit.text import number, one_line, signed

if TYPE_CHECKING:
    from rich.console import Console

    from evalkit.targets.jobs import JobInfo

__all__ = ["print_job_targets", "print_summary", "significance"]

_MARKS = {"pass": ("✓", "green"), "fail": ("✗", "red"), "error": ("!", "bold magenta")}
_VERDICT_STYLES = {
    "GO": "bold green",
    "NO-GO": "bold red",
    "NOT GATED": "bold yellow",
    "ERROR": "bold magenta",
}
_LEGEND = f"  ({COMPARISONS_LEGEND}; * p < 0.05, ** < 0.01, *** < 0.001)"


def print_summary(results: RunResults, console: Console | None = None) -> None:
    """Print the headline table, the comparisons and recommendation (when analysed), each rule's reason and
    the verdict line (for ERROR, why the run cannot be judged, a line each) to ``console`` (stdout)."""
    from rich.text import Text

    console = console if console is not None else _stdout()
    console.print(_table(results))
    partial = partial_note(results)
    if partial is not None and partial not in error_lines(results):
        console.print(Text(_line(partial), style="bold yellow"))
    comparisons = _comparisons(results)
    if comparisons is not None:
        console.print(comparisons)
        console.print(Text(_LEGEND))
    if results.recommendation is not None:
        console.print(_recommendation(results.recommendation))
    for rule in results.gate.rules:
        console.print(_rule_line(rule))
    for warning in results.gate.warnings:
        console.print(Text(f"  warning: {_line(warning)}", style="yellow"), soft_wrap=True)
    console.print(_verdict(results))
    for line in error_lines(results):
        console.print(Text(f"  - {_line(line)}"))


def _line(text: object) -> str:
    """Untrusted text as one printable line: escapes for what cannot be shown, control characters as spaces."""
    return one_line(visible(str(text)))


def _table(results: RunResults) -> Any:
    from rich.table import Table
    from rich.text import Text

    count = results.suite.data.cases
    title = Text(f"{_line(results.suite.name)} · {count} case{'' if count == 1 else 's'}")
    table = Table(title=title, title_justify="left")
    table.add_column("target")
    table.add_column("model", overflow="fold")
    metrics = headline_metrics(results)
    for metric in metrics:
        table.add_column(Text(_line(metric)), justify="right")
    retiring = _add_shutdown_column(table, results.targets)
    for target in results.targets:
        figures = (_figure(results, target.name, m) for m in metrics)
        name, model = Text(_line(target.name)), Text(_line(target.model))
        table.add_row(name, model, *figures, *_shutdown(target, retiring))
    return table


def _add_shutdown_column(table: Any, targets: Sequence[Target]) -> bool:
    """A "shuts down" column when a target has an announced shutdown date; whether it was added."""
    if not any(t.shutdown_date is not None for t in targets):
        return False
    table.add_column("shuts down", overflow="fold")
    return True


def _shutdown(target: Target, shown: bool) -> list[Any]:
    """The target's shutdown cell (``2027-01-14 (its base gpt-4o-mini)``), when the column is shown."""
    from rich.text import Text

    return [Text(_line(shutdown_text(target) or "—"))] if shown else []


def _figure(results: RunResults, target: str, metric: str) -> Any:
    """The figure, with ``(19 of 48)`` (and a pairwise judge's ties) beside it when it has a note."""
    from rich.text import Text

    figure = Text(number(headline_value(results, target, metric)))
    note = figure_note(results, target, metric)
    if note is not None:
        figure.append(f" ({note})", style="dim")
    return figure


def significance(p: float | None) -> str:
    """``***`` p < 0.001, ``**`` p < 0.01, ``*`` p < 0.05, else nothing."""
    if p is None:
        return ""
    return next((mark for bar, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*")) if p < bar), "")


def _comparisons(results: RunResults) -> Any:
    """Δ of each headline metric against each target's reference, or None when nothing was compared."""
    from rich.table import Table
    from rich.text import Text

    entries = headline_comparisons(results)
    if not entries:
        return None
    table = Table(title=Text("Paired Δ against the reference"), title_justify="left", box=None)
    for column in ("target", "versus", "metric"):
        table.add_column(column)
    for column in ("Δ", "95% CI", "mde", "p"):
        table.add_column(column, justify="right")
    table.add_column("")
    notes = [comparison_note(results, entry) for entry in entries]
    if any(notes):
        table.add_column("n", justify="right")
    for entry, note in zip(entries, notes, strict=True):
        p = entry.p_adjusted
        ci = entry.ci
        table.add_row(
            Text(_line(entry.target)),
            Text(_line(entry.versus)),
            Text(_line(entry.metric)),
            signed(entry.delta),
            "—" if ci is None else f"[{signed(ci[0])}, {signed(ci[1])}]",
            number(entry.mde),
            p_text(entry, resamples=resamples_of(results), adjusted=True),
            significance(p),
            *([note or ""] if any(notes) else []),
        )
    return table


def _recommendation(recommendation: Recommendation) -> Any:
    from rich.text import Text

    line = Text("Recommendation: ", style="bold")
    shipped = recommendation.recommended
    line.append(_line(recommendation.best if shipped is None else f"ship {shipped}"), style="bold")
    if recommendation.overfitting:
        line.append(" ⚠ possible overfitting", style="yellow")
    line.append(f" — {_line(recommendation.reason)}")
    return line


def _rule_line(rule: RuleResult) -> Any:
    from rich.text import Text

    mark, style = _MARKS[rule_state(rule)]
    line = Text(f"  {mark} ", style=style)
    line.append(_line(rule_text(rule)))
    return line


def _verdict(results: RunResults) -> Any:
    """``GO (2 of 2 rules passed)``, ``NO-GO (…)``, ``NOT GATED — the gate was not applied …``, or ``ERROR —
    the run cannot be judged:`` (its lines follow)."""
    from rich.text import Text

    gate = results.gate
    word = verdict_word(gate)
    line = Text(word, style=_VERDICT_STYLES[word])
    if word == "ERROR":
        line.append(f" — {ERROR_HEADLINE}:")
    elif gate.verdict == "not-gated":
        line.append(f" — {rules_tally(gate)}")
    elif not gate.rules:
        line.append(" (no gate rules)")
    else:
        line.append(f" ({rules_tally(gate, noun='rules')})")
    return line


def _stdout() -> Console:
    """The terminal, or a wide console when stdout is a file or CI log (no wrapping at 80 columns)."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


def print_job_targets(job: JobInfo, targets: Sequence[Target], console: Console | None = None) -> None:
    """``evalkit targets``: one row per target with its endpoint, step, the losses at that step and its
    shutdown date when one is announced; then the job's warnings and one per target shutting down soon."""
    from rich.table import Table
    from rich.text import Text

    console = console if console is not None else _stdout()
    losses = {record["step"]: record for record in job.training}
    last_step = max(losses, default=None)
    title = f"{job.id} · {job.status} · base {job.base_model}"
    table = Table(title=Text(_line(title)), title_justify="left")
    for column in ("target", "model", "endpoint", "step"):
        table.add_column(column, overflow="fold")
    table.add_column("train loss", justify="right")
    table.add_column("valid loss", justify="right")
    retiring = _add_shutdown_column(table, targets)
    for target in targets:
        step = target.step if target.role != "final" else (target.step or last_step)
        record = losses.get(step, {}) if step is not None else {}
        table.add_row(
            Text(_line(target.name)),
            Text(_line(target.model)),
            target.endpoint,
            "" if target.step is None else str(target.step),
            number(record.get("train_loss")),
            number(record.get("valid_loss")),
            *_shutdown(target, retiring),
        )
    console.print(table)
    for warning in [*job.warnings, *shutdown_warnings(targets)]:  # a line each, however long
        console.print(Text(f"warning: {_line(warning)}", style="yellow"), soft_wrap=True)
