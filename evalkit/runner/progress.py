"""The progress bars evalkit shows on stderr — calls per target, batches, fine-tuning steps — in one look:
label, bar, done/total, a status column, and the time left (or, for work of unknown length, spent).
rich is imported only when a bar is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress


def progress_bars(status: str, *, elapsed: bool = False) -> Progress:
    """A rich ``Progress`` on stderr; ``status`` is the template of its status column (``"{task.fields[errors]}
    errors"``), ``elapsed`` shows the time spent instead of the time left."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(status),
        TimeElapsedColumn() if elapsed else TimeRemainingColumn(),
        console=Console(stderr=True),
    )
