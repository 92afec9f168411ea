"""write_outputs: the four files of a run, all rebuildable from results.json alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.records.results import RunResults
from evalkit.records.results_json import read_results
from evalkit.report.outputs import write_outputs, write_reports


def test_writes_the_four_files_into_a_new_folder(results: RunResults, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "triage" / "20250101T000000Z"
    paths = write_outputs(results, out)
    assert [p.name for p in paths] == ["results.json", "report.html", "junit.xml", "summary.md"]
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "results.json", "summary.md"]
    assert read_results(paths.results) == results


def test_reports_rerendered_from_results_json_are_identical(results: RunResults, tmp_path: Path) -> None:
    first = write_outputs(results, tmp_path / "run")
    again = write_reports(read_results(first.results), tmp_path / "again")
    for a, b in zip((first.report, first.junit, first.summary), again, strict=True):
        assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")


def test_the_summary_is_appended_to_the_github_step_summary(
    results: RunResults, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("## earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    paths = write_outputs(results, tmp_path / "run")
    text = step_summary.read_text(encoding="utf-8")
    assert text == "## earlier step\n" + paths.summary.read_text(encoding="utf-8")
    write_reports(results, tmp_path / "again")  # re-rendering reports does not append again
    assert step_summary.read_text(encoding="utf-8") == text


def test_an_unwritable_step_summary_is_a_warning_not_a_failure(
    results: RunResults,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing-dir" / "summary.md"))
    paths = write_outputs(results, tmp_path / "run")
    assert paths.summary.is_file()
    assert "evalkit: warning: cannot append to $GITHUB_STEP_SUMMARY" in capsys.readouterr().err


def test_without_github_nothing_else_is_written(results: RunResults, tmp_path: Path) -> None:
    write_outputs(results, tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
