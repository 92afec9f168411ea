"""``evalkit run --no-gate``: a suite run against any models, its gate neither checked nor applied.

The verdict is "not gated" — in results.json, the terminal, summary.md, report.html and junit.xml — and the
exit code 0, unless the run cannot be judged (every call of a target failed, …): then it is an error, exit 2.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import FakeOpenAI, FakeRequest

from evalkit.cli import main

TINY = """\
name: tiny
cases:
  - {id: a, input: "Card charged twice", expected: billing}
  - {id: b, input: "App crashes on start", expected: technical}
  - {id: c, input: "Where is my parcel?", expected: billing}
scorers:
  - classify: {labels: [billing, technical]}
gate:
  - {target: final, metric: classify.macro_f1, min: 0.9}
  - {target: final, metric: exact, versus: base, margin: 0.0}
"""
"""A suite gated on targets (``final``, ``base``) and a metric (``exact``) the runs below do not have."""


def _label(request: FakeRequest) -> str:
    return "technical" if "crashes" in request.last_user else "billing"


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def _run(suite: Path, *flags: str) -> int:
    return main(["run", str(suite), "--model", "m=gpt-4o-mini", "--quiet", "--out", "out", *flags])


def _results() -> dict[str, Any]:
    results: dict[str, Any] = json.loads(Path("out/results.json").read_text(encoding="utf-8"))
    return results


def test_without_the_flag_a_gate_naming_other_targets_stops_the_run_before_any_call(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(suite) == 2
    assert "gate[0].target: target 'final' is not in this run" in capsys.readouterr().err
    assert fake_openai.requests == []


def test_no_gate_runs_any_models_and_the_verdict_is_not_gated_everywhere(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.script("gpt-4o-mini", _label)
    assert _run(suite, "--no-gate") == 0
    out = capsys.readouterr().out
    assert "NOT GATED — the gate was not applied (--no-gate): no rule was checked" in out
    gate = _results()["gate"]
    assert (gate["verdict"], gate["rules"], gate["errors"]) == ("not-gated", [], [])
    assert _results()["metrics"]["m"]["classify.macro_f1"]["value"] == 1.0

    summary = Path("out/summary.md").read_text(encoding="utf-8")
    assert summary.startswith(
        "## ⚪ NOT GATED — tiny\n\nthe gate was not applied (--no-gate): no rule was checked ·"
    )
    page = Path("out/report.html").read_text(encoding="utf-8")
    assert '<section class="verdict not-gated" id="verdict">' in page
    assert '<div class="word">NOT GATED</div>' in page
    junit = ET.parse("out/junit.xml").getroot()
    [testsuite] = junit
    assert (testsuite.get("skipped"), testsuite.get("failures"), testsuite.get("errors")) == ("1", "0", "0")
    first = testsuite[0]
    assert first.get("name") == "evalkit gate"
    skipped = first.find("skipped")
    assert skipped is not None and skipped.get("message", "").startswith("NOT GATED: ")

    capsys.readouterr()
    assert main(["report", "out/results.json"]) == 0  # re-rendered, still not gated
    assert "NOT GATED" in Path("out/summary.md").read_text(encoding="utf-8")


def test_no_gate_still_errors_when_every_call_failed(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.fail_model("gpt-4o-mini", status=500)
    assert _run(suite, "--no-gate", "--max-attempts", "1") == 2
    assert "evalkit: error: target 'm': no successful answer (3 of 3 calls failed" in capsys.readouterr().err
    assert _results()["gate"]["verdict"] == "error"
    assert "ERROR" in Path("out/summary.md").read_text(encoding="utf-8")


def test_no_gate_still_applies_the_suites_error_bound(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fakeopenai import ApiError

    def flaky(request: FakeRequest) -> str:
        if "parcel" in request.last_user:
            raise ApiError(400, "Invalid prompt", code="invalid_prompt")
        return _label(request)

    suite.write_text(TINY + "max_error_rate: 0.2\n")
    fake_openai.script("gpt-4o-mini", flaky)
    assert _run(suite, "--no-gate", "--max-attempts", "1") == 2
    assert "more than max_error_rate 0.2 allows" in capsys.readouterr().err


def test_re_gating_a_run_made_with_no_gate_keeps_it_ungated_unless_a_suite_is_given(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.script("gpt-4o-mini", _label)
    assert _run(suite, "--no-gate") == 0
    capsys.readouterr()
    assert main(["gate", "out/results.json"]) == 0
    assert "NOT GATED" in capsys.readouterr().out  # not "GO (no gate rules)": nothing was checked
