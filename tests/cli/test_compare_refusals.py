"""``evalkit compare A B`` through the real command: runs it cannot pair honestly are refused (exit 2, one
line naming the run and the field); runs it can are shown with A, B and Δ over the same cases and
everything left unpaired listed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures.runs import as_json, marks
from fixtures.runs import exact_run as run

from evalkit.cli import main


def save(folder: Path, document: dict[str, Any]) -> Path:
    """``folder/results.json`` holding ``document`` (NaN written as JSON's ``NaN``, as a careless tool would)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def runs(tmp_path: Path, b: dict[str, Any]) -> tuple[Path, Path]:
    """A: a run of c0–c9, right on c0–c7; B: ``b``."""
    return save(tmp_path / "a", as_json(run({"final": marks(8, 2)}))), save(tmp_path / "b", b)


def refused(a: Path, b: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The one line ``evalkit compare A B`` says on stderr, having exited with 2 and printed nothing else."""
    assert main(["compare", str(a), str(b)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    return err.rstrip("\n")


@pytest.mark.writes_invalid_results
def test_a_repeated_case_id_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = as_json(run({"final": marks(8, 2)}))
    document["cases"][7]["id"] = "c2"
    a, b = runs(tmp_path, document)
    assert refused(a, b, capsys) == (
        f"evalkit: error: {b}: cases[7].id: case id 'c2' appears twice: cases[2] and cases[7]; "
        "ids must be unique to pair runs"
    )


@pytest.mark.writes_invalid_results
@pytest.mark.parametrize(
    ("kind", "score", "shown", "allowed"),
    [
        ("exact", 7, "7", "0 or 1"),
        ("judge", 1.25, "1.25", "from 0 to 1"),
        ("exact", float("nan"), "nan", "0 or 1"),
        ("from-a-later-evalkit", float("-inf"), "-inf", "a finite number"),
    ],
)
def test_an_impossible_score_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, score: float, shown: str, allowed: str
) -> None:
    document = as_json(run({"final": marks(8, 2)}))
    document["scorers"][0]["kind"] = kind
    document["cases"][3]["results"]["final"]["scores"]["exact"] = score
    a, b = runs(tmp_path, document)
    assert refused(a, b, capsys) == (
        f"evalkit: error: {b}: cases[3].results.final.scores.exact: score {shown} is impossible for a scorer of "
        f"kind {kind!r} (allowed: {allowed}; null where there is no score)"
    )


@pytest.mark.writes_invalid_results
def test_a_case_id_cannot_drive_the_terminal_through_the_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = as_json(run({"final": marks(8, 2)}, ids=[f"c{i}" for i in range(9)] + ["c0\x1b[2J\nc0"]))
    document["cases"][9]["id"] = document["cases"][0]["id"] = "c0\x1b[2J\nc0"
    a, b = runs(tmp_path, document)
    line = refused(a, b, capsys)
    assert "\x1b" not in line and line.endswith("ids must be unique to pair runs")


@pytest.mark.writes_invalid_results
def test_the_refusal_names_the_file_given_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = as_json(run({"final": marks(8, 2)}))
    document["cases"][3]["results"]["final"]["scores"]["exact"] = 7
    a, b = runs(tmp_path, document)
    assert refused(a, b, capsys).startswith(f"evalkit: error: {b}: cases[3].results.final.scores.exact: ")


def test_runs_of_different_cases_show_a_b_and_delta_over_the_same_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A answered c0–c9 (right on c0–c7); B c4–c23 (right on c4–c7, wrong on c8–c23): over the whole runs
    0.800 and 0.200, but over the six cases both answered A has 4/6 and B 4/6 — no change at all."""
    b = as_json(run({"final": marks(4, 16), "new": marks(20, 0)}, ids=[f"c{i}" for i in range(4, 24)]))
    a, b_path = runs(tmp_path, b)
    assert main(["compare", str(a), str(b_path)]) == 0
    out = capsys.readouterr().out
    assert "targets only in B (not compared): new\n" in out
    assert (
        "final · 6 cases in both runs\n"
        "  4 cases only in A (in no Δ): c0, c1, c2, c3\n"
        "  14 cases only in B (in no Δ): c10, c11, c12, c13, c14 and 9 more\n"
    ) in out
    exact = next(line for line in out.splitlines() if line.lstrip().startswith("exact "))
    assert exact.split()[:5] == ["exact", "6", "0.667", "0.667", "+0.000"]
    assert "0.800" not in out and "0.200" not in out
    assert "A, B: each run's figure over the n cases its Δ is over (paired by case id)" in out
