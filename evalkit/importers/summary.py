"""What an import tells the user: the files written, OpenAI's own numbers on the imported run (to set
beside evalkit's once the suite has run), what was not carried over, and the command to run next."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from evalkit.importers.items import Item
from evalkit.importers.output_items import OutputItem, OutputItems
from evalkit.importers.saved_run import PASS_RATE
from evalkit.records.results import RunResults
from evalkit.text import display_path

__all__ = ["Written", "next_command", "openai_summary", "run_notes"]


@dataclass(frozen=True, slots=True)
class Written:
    """One file an import wrote."""

    path: Path
    """The file."""
    what: str
    """What it holds, in a few words."""


def openai_summary(saved: RunResults, *, target: str, run_id: str, model: str | None) -> str:
    """OpenAI's pass rate and mean score per criterion on the imported run, in one paragraph."""
    metrics = saved.metrics.get(target, {})
    parts = []
    for scorer in saved.scorers:
        mean, rate = metrics.get(scorer.name), metrics.get(f"{scorer.name}.{PASS_RATE}")
        said = f"{scorer.options['name']!r} ({scorer.name})" if "name" in scorer.options else scorer.name
        if rate is not None and rate.value is not None:
            said += f" passed {round(rate.value * rate.n)} of {rate.n} ({rate.value:.0%})"
        if mean is not None and mean.value is not None:
            said += f", mean score {mean.value:.3g}"
        parts.append(said)
    errors = saved.usage[target].errors if target in saved.usage else 0
    failed = f"; {errors} of {len(saved.cases)} items had no answer" if errors else ""
    return (
        f"OpenAI's own results on run {run_id} ({model or 'model not recorded'}, {len(saved.cases)} items): "
        f"{'; '.join(parts) or 'no grader results'}{failed}. The replayed target {target} is scored afresh "
        "by the suite's graders: compare these with its numbers after `evalkit run`."
    )


def run_notes(outputs: OutputItems, items: Sequence[Item], matched: Mapping[int, OutputItem]) -> list[str]:
    """What the user should know about the output items: pages missing, items with no answer."""
    notes = []
    if outputs.more:
        notes.append(
            "the output items' last page says has_more: true: the run's later output items are not in the file "
            "(save every page: GET .../output_items?after=LAST_ID)"
        )
    unanswered = [item.id for item in items if item.id not in matched]
    if unanswered:
        shown = ", ".join(map(str, unanswered[:5])) + (", …" if len(unanswered) > 5 else "")
        notes.append(
            f"{len(unanswered)} item(s) have no output item (datasource_item_id {shown}): the saved run "
            "records them as failed calls"
        )
    return notes


def next_command(suite: Path) -> str:
    """The commands that check the suite and run it against a model of the user's choosing."""
    path = display_path(suite)
    return f"evalkit validate {path} && evalkit run {path} --model new=MODEL_ID"
