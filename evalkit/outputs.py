"""The last stage: a run's results dict → the files in its output folder.

``results.json`` first (the record everything else can be rebuilt from), then the reports rendered from it:
``report.html``, ``junit.xml`` and ``summary.md``. ``evalkit report`` re-renders the reports alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from evalkit.results import write_results, write_text_atomic

__all__ = ["OutputPaths", "write_outputs", "write_reports"]

RESULTS_FILE = "results.json"
REPORT_FILE = "report.html"
JUNIT_FILE = "junit.xml"
SUMMARY_FILE = "summary.md"


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


def write_outputs(results: Mapping[str, Any], out_dir: str | Path) -> OutputPaths:
    """Write results.json, report.html, junit.xml and summary.md into ``out_dir`` (created if needed)."""
    out_dir = Path(out_dir)
    results_path = write_results(out_dir / RESULTS_FILE, results)
    reports = write_reports(results, out_dir)
    return OutputPaths(results_path, reports.report, reports.junit, reports.summary)


def write_reports(results: Mapping[str, Any], out_dir: str | Path) -> ReportPaths:
    """Render report.html, junit.xml and summary.md from a results dict into ``out_dir``."""
    from evalkit.report import render_html, render_junit, render_summary

    out_dir = Path(out_dir)
    paths = ReportPaths(out_dir / REPORT_FILE, out_dir / JUNIT_FILE, out_dir / SUMMARY_FILE)
    write_text_atomic(paths.report, render_html(results))
    write_text_atomic(paths.junit, render_junit(results))
    write_text_atomic(paths.summary, render_summary(results))
    return paths
