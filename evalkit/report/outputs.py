"""The last stage: a run's ``RunResults`` → the files in its output folder.

``results.json`` first (the record everything else can be rebuilt from), then the reports rendered from it:
``report.html``, ``junit.xml`` and ``summary.md``. ``evalkit report`` re-renders the reports alone.
In a GitHub Actions job (``$GITHUB_STEP_SUMMARY`` set), the summary is also appended to the job's summary.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path

from evalkit.errors import InputError
from evalkit.records.results import RunResults

__all__ = ["OutputPaths", "append_step_summary", "check_out_dir", "write_outputs", "write_reports"]

RESULTS_FILE = "results.json"
REPORT_FILE = "report.html"
JUNIT_FILE = "junit.xml"
SUMMARY_FILE = "summary.md"
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
"""The variable GitHub Actions sets to the file whose Markdown is shown as the job's summary."""


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """The reports written for a run."""

    report: Path
    """The HTML report."""
    junit: Path
    """The JUnit XML of the gate."""
    summary: Path
    """The Markdown summary."""

    def __iter__(self) -> Iterator[Path]:
        return iter(astuple(self))


@dataclass(frozen=True, slots=True)
class OutputPaths:
    """Every file written for a run."""

    results: Path
    """results.json."""
    report: Path
    """The HTML report."""
    junit: Path
    """The JUnit XML of the gate."""
    summary: Path
    """The Markdown summary."""

    def __iter__(self) -> Iterator[Path]:
        return iter(astuple(self))


def check_out_dir(out_dir: Path) -> None:
    """``InputError`` on ``--out`` unless ``out_dir`` is a folder evalkit can write into or create; run
    before any model call, so a typo costs nothing."""
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot write the outputs into {out_dir}: {existing} is a file", field="--out")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write the outputs into {out_dir}: {existing} is not writable", field="--out")


@contextmanager
def _writing(out_dir: Path) -> Iterator[None]:
    """A failure to write (disk full, a folder where a file goes, …) as an ``InputError`` on ``--out``."""
    try:
        yield
    except OSError as exc:
        raise InputError(
            f"cannot write the outputs into {out_dir}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else ""),
            field="--out",
        ) from None


def write_outputs(results: RunResults, out_dir: str | Path) -> OutputPaths:
    """Write results.json, report.html, junit.xml and summary.md into ``out_dir`` (created if needed), and
    append the summary to ``$GITHUB_STEP_SUMMARY`` when that is set."""
    from evalkit.records.results_json import write_results

    out_dir = Path(out_dir)
    with _writing(out_dir):
        results_path = write_results(out_dir / RESULTS_FILE, results)
    reports = write_reports(results, out_dir)
    append_step_summary(reports.summary.read_text(encoding="utf-8"))
    return OutputPaths(results_path, reports.report, reports.junit, reports.summary)


def append_step_summary(markdown: str) -> Path | None:
    """Append ``markdown`` to the file ``$GITHUB_STEP_SUMMARY`` names (None when unset); a file that cannot
    be written is warned about on stderr, never fatal — the run's own outputs are already written."""
    target = os.environ.get(STEP_SUMMARY_ENV)
    if not target:
        return None
    path = Path(target)
    try:
        with path.open("a", encoding="utf-8") as summary:
            summary.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as exc:
        print(
            f"evalkit: warning: cannot append to ${STEP_SUMMARY_ENV} ({path}): {exc.strerror or exc}",
            file=sys.stderr,
        )
        return None
    return path


def write_reports(results: RunResults, out_dir: str | Path) -> ReportPaths:
    """Render report.html, junit.xml and summary.md from a run's results into ``out_dir``."""
    from evalkit.records.results_json import write_text_atomic
    from evalkit.report import render_html, render_junit, render_summary

    out_dir = Path(out_dir)
    paths = ReportPaths(out_dir / REPORT_FILE, out_dir / JUNIT_FILE, out_dir / SUMMARY_FILE)
    rendered = (render_html(results), render_junit(results), render_summary(results))
    with _writing(out_dir):
        for path, text in zip(paths, rendered, strict=True):
            write_text_atomic(path, text)
    return paths
