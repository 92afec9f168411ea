"""write_outputs: the four files of a run, all rebuildable from results.json alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.outputs import write_outputs, write_reports
from evalkit.results import read_results


def test_writes_the_four_files_into_a_new_folder(results: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "reports" / "triage" / "20250101T000000Z"
    paths = write_outputs(results, out)
    assert [p.name for p in paths] == ["results.json", "report.html", "junit.xml", "summary.md"]
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "results.json", "summary.md"]
    assert read_results(paths.results) == results


def test_reports_rerendered_from_results_json_are_identical(results: dict[str, Any], tmp_path: Path) -> None:
    first = write_outputs(results, tmp_path / "run")
    again = write_reports(read_results(first.results), tmp_path / "again")
    for a, b in zip((first.report, first.junit, first.summary), again, strict=True):
        assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")
