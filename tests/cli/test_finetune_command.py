"""Through the CLI: ``evalkit finetune`` then ``evalkit run --job local:DIR`` and ``evalkit targets``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.local_data import write_suite

from evalkit.cli import main


def test_finetune_then_run_the_job_through_the_cli(
    local_models: Path, tiny_chat_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "runs" / "tiny"
    flags = ["--epochs", "2", "--batch-size", "4", "--learning-rate", "3e-3", "--quiet"]
    assert main(["finetune", str(tiny_chat_file), "--out", str(run), *flags]) == 0
    assert f"--job local:{run}" in capsys.readouterr().out

    assert main(["targets", "--job", f"local:{run}"]) == 0
    listed = capsys.readouterr().out
    assert "step-2" in listed and "step-4" in listed and "final" in listed

    out = tmp_path / "report"
    code = main(["run", str(write_suite(tmp_path)), "--job", f"local:{run}", "--out", str(out), "--quiet"])

    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert [(t["name"], t["role"]) for t in results["targets"]] == [
        ("base", "base"), ("step-2", "checkpoint"), ("step-4", "checkpoint"), ("final", "final")
    ]
    assert [r["step"] for r in results["training"]] == [1, 2, 3, 4]
    assert results["metrics"]["base"]["exact"]["value"] == 0.0
    assert (out / "report.html").is_file()
