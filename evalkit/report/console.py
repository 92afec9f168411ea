"""The run's verdict on the terminal: a table of targets × headline metrics, the paired comparisons (Δ with
a significance marker), the recommended checkpoint, then each rule's reason and the verdict.

Only names and figures are printed, as plain text (never rich markup), with control characters removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalkit.records import ERROR_RATE
from evalkit.records.findings import Recommendation, RuleResult
from evalkit.records.results import RunResults
from evalkit.report.summary import headline_metrics, headline_value
from evalkit.text import number, one_line, signed

if TYPE_CHECKING:
    from rich.console import Console

    from evalkit.records import Target
    from evalkit.targets.jobs import JobInfo

__all__ = ["print_job_targets", "print_summary", "significance"]

_LEGEND = "  (95% CI of Δ; p Holm-adjusted per reference and metric: * < 0.05, ** < 0.01, *** < 0.001)"


def print_summary(results: RunResults, console: Console | None = None) -> None:
    """Print the headline table, the comparisons and recommendation (when analysed), each rule's reason and
    the verdict line to ``console`` (stdout)."""
    from rich.text import Text

    console = console if console is not None else _stdout()
    console.print(_table(results))
    comparisons = _comparisons(results)
    if comparisons is not None:
        console.print(comparisons)
        console.print(Text(_LEGEND))
    if results.recommendation is not None:
        console.print(_recommendation(results.recommendation))
    for rule in results.gate.rules:
        console.print(_rule_line(rule))
    console.print(_verdict(results))


def _table(results: RunResults) -> Any:
    from rich.table import Table
    from rich.text import Text

    count = results.suite.data.cases
    title = Text(f"{one_line(results.suite.name)} · {count} case{'' if count == 1 else 's'}")
    table = Table(title=title, title_justify="left")
    table.add_column("target")
    table.add_column("model", overflow="fold")
    metrics = headline_metrics(results)
    for metric in metrics:
        table.add_column(Text(one_line(metric)), justify="right")
    for target in results.targets:
        figures = (Text(number(headline_value(results, target.name, m))) for m in metrics)
        table.add_row(Text(one_line(target.name)), Text(one_line(target.model)), *figures)
    return table


def significance(p: float | None) -> str:
    """``***`` p < 0.001, ``**`` p < 0.01, ``*`` p < 0.05, else nothing."""
    if p is None:
        return ""
    return next((mark for bar, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*")) if p < bar), "")


def _comparisons(results: RunResults) -> Any:
    """Δ of each headline metric against each target's reference, or None when nothing was compared."""
    from rich.table import Table
    from rich.text import Text

    shown = [m for m in headline_metrics(results) if m != ERROR_RATE]
    entries = [c for c in results.comparisons if c.metric in shown]
    if not entries:
        return None
    table = Table(title=Text("Paired Δ against the reference"), title_justify="left", box=None)
    for column in ("target", "versus", "metric"):
        table.add_column(column)
    for column in ("Δ", "95% CI", "p"):
        table.add_column(column, justify="right")
    table.add_column("")
    for entry in entries:
        p = entry.p_adjusted
        ci = entry.ci
        table.add_row(
            Text(one_line(entry.target)),
            Text(one_line(entry.versus)),
            Text(one_line(entry.metric)),
            signed(entry.delta),
            "—" if ci is None else f"[{signed(ci[0])}, {signed(ci[1])}]",
            "—" if p is None else (f"{p:.3f}" if p >= 0.001 else "< 0.001"),
            significance(p),
        )
    return table


def _recommendation(recommendation: Recommendation) -> Any:
    from rich.text import Text

    line = Text("Recommendation: ", style="bold")
    line.append(one_line(recommendation.best), style="bold")
    if recommendation.overfitting:
        line.append(" ⚠ possible overfitting", style="yellow")
    line.append(f" — {one_line(recommendation.reason)}")
    return line


def _rule_line(rule: RuleResult) -> Any:
    from rich.text import Text

    mark, style = ("✓", "green") if rule.passed else ("✗", "red")
    line = Text(f"  {mark} ", style=style)
    line.append(one_line(rule.reason))
    return line


def _verdict(results: RunResults) -> Any:
    from rich.text import Text

    gate = results.gate
    go = gate.verdict == "go"
    failed = sum(1 for rule in gate.rules if not rule.passed)
    line = Text("GO" if go else "NO-GO", style="bold green" if go else "bold red")
    if not gate.rules:
        line.append(" (no gate rules)")
    else:
        line.append(f" ({len(gate.rules) - failed} of {len(gate.rules)} rules passed)")
    return line


def _stdout() -> Console:
    """The terminal, or a wide console when stdout is a file or CI log (no wrapping at 80 columns)."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


def print_job_targets(job: JobInfo, targets: Sequence[Target], console: Console | None = None) -> None:
    """``evalkit targets``: one row per target with its endpoint, step and the losses at that step."""
    from rich.table import Table
    from rich.text import Text

    console = console if console is not None else _stdout()
    losses = {record["step"]: record for record in job.training}
    last_step = max(losses, default=None)
    title = f"{job.id} · {job.status} · base {job.base_model}"
    table = Table(title=Text(one_line(title)), title_justify="left")
    for column in ("target", "model", "endpoint", "step"):
        table.add_column(column, overflow="fold")
    table.add_column("train loss", justify="right")
    table.add_column("valid loss", justify="right")
    for target in targets:
        step = target.step if target.role != "final" else (target.step or last_step)
        record = losses.get(step, {}) if step is not None else {}
        table.add_row(
            Text(one_line(target.name)),
            Text(one_line(target.model)),
            target.endpoint,
            "" if target.step is None else str(target.step),
            number(record.get("train_loss")),
            number(record.get("valid_loss")),
        )
    console.print(table)
    for warning in job.warnings:
        console.print(Text(f"warning: {one_line(warning)}", style="yellow"))
