"""docs/github-actions.yml: the documented CI workflow runs evalkit with the key from secrets, keeps the
reports whatever the verdict, and fails the job on exit 1 (no-go) and 2 (error)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / "docs" / "github-actions.yml"


def _steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def _step(name: str) -> dict[str, Any]:
    return next(step for step in _steps() if step.get("name") == name)


def test_the_workflow_installs_runs_with_the_secret_key_and_uploads_the_reports() -> None:
    assert any("pip install" in str(step.get("run", "")) for step in _steps())
    run = _step("Run the suite and apply its gate")
    assert run["env"] == {"OPENAI_API_KEY": "${{ secrets.OPENAI_API_KEY }}"}
    assert 'evalkit run suites/ticket-triage-job.yaml --job "${{ vars.FT_JOB }}" --out reports/ci' in run["run"]
    upload = _step("Upload the reports")
    assert upload["if"] == "always()"  # the reports of a no-go are the ones worth reading
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["path"] == "reports/ci/"


@pytest.mark.parametrize(
    ("code", "annotation"),
    [(0, "evalkit: GO"), (1, "::error title=evalkit no-go::"), (2, "::error title=evalkit error::")],
)
def test_the_run_step_passes_the_verdict_on_as_the_steps_exit_code(
    tmp_path: Path, code: int, annotation: str
) -> None:
    bash = shutil.which("bash")
    if bash is None:  # pragma: no cover - every CI image and dev machine here has bash
        pytest.fail("bash is needed to run the workflow's step")
    stub = tmp_path / "bin" / "evalkit"
    stub.parent.mkdir()
    stub.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/args"\nexit {code}\n')
    stub.chmod(0o755)
    script = _step("Run the suite and apply its gate")["run"].replace("${{ vars.FT_JOB }}", "ftjob-abc123")
    env = {**os.environ, "PATH": f"{stub.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [bash, "-e", "-c", script], check=False, capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == code
    assert annotation in done.stdout
    assert (tmp_path / "args").read_text().split() == [
        "run",
        "suites/ticket-triage-job.yaml",
        "--job",
        "ftjob-abc123",
        "--out",
        "reports/ci",
        "--quiet",
    ]
