"""The go/no-go gate through the real command: exit codes, junit.xml, summary.md, compare and gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fakeopenai import FakeOpenAI, FakeRequest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "suites" / "data" / "ticket-triage" / "test.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
TICKETS = [(r["id"], r["messages"][1]["content"], r["messages"][2]["content"]) for r in ROWS]
LABELS = ["billing", "technical", "account", "shipping"]
CANDIDATE = "ft:gpt-4o-mini:acme:triage:cand01"
SUITE = f"""\
name: gate-check
data: {DATA}
scorers:
  - exact
  - classify: {{labels: [billing, technical, account, shipping]}}
targets:
  base: gpt-4o-mini
  candidate: {CANDIDATE}
gate:
  - {{target: candidate, metric: exact, versus: base, margin: 0.05}}
  - {{target: candidate, metric: exact, versus: base, superior: true, alpha: 0.05}}
  - {{target: candidate, metric: classify.macro_f1, min: 0.7, on: ci_low}}
  - {{target: candidate, max_error_rate: 0.0}}
"""


def _script(server: FakeOpenAI, *, right: set[int], base_right: set[int]) -> None:
    def answer(request: FakeRequest, right: set[int]) -> str:
        for i, (_, text, label) in enumerate(TICKETS):
            if text in request.last_user:
                return label if i in right else LABELS[(LABELS.index(label) + 1) % 4]
        raise AssertionError(request.last_user)

    server.add_model(CANDIDATE)
    server.script("gpt-4o-mini", lambda request: answer(request, base_right))
    server.script(CANDIDATE, lambda request: answer(request, right))


def _evalkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evalkit", *args], cwd=cwd, env=dict(os.environ),
        capture_output=True, text=True, timeout=240, check=False,
    )


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "gate.yaml"
    path.write_text(SUITE)
    return path


BASE_RIGHT = set(range(0, 40, 2))  # the base gets half the tickets
GOOD = set(range(40)) - {3}  # the candidate fixes all but one, breaks none
BAD = set(range(0, 40, 4))  # the candidate breaks half of what the base got right


def test_go_then_no_go_with_junit_summary_compare_and_gate(
    fake_openai: FakeOpenAI, suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))

    _script(fake_openai, right=GOOD, base_right=BASE_RIGHT)
    good = _evalkit("run", str(suite), "--out", "good", "--quiet", cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    junit = ET.parse(tmp_path / "good" / "junit.xml").getroot()
    assert len(junit.findall(".//testcase")) == 4 and not junit.findall(".//failure")
    results = json.loads((tmp_path / "good" / "results.json").read_text())
    comparison = next(
        c for c in results["comparisons"]
        if (c["target"], c["versus"], c["metric"]) == ("candidate", "base", "exact")
    )
    assert comparison["delta"] == pytest.approx((len(GOOD) - len(BASE_RIGHT)) / 40)
    assert comparison["test"] == "mcnemar-exact" and comparison["p_value"] < 0.001
    assert results["metrics"]["candidate"]["exact"]["ci"][0] < 39 / 40 < results["metrics"]["candidate"]["exact"]["ci"][1]

    _script(fake_openai, right=BAD, base_right=BASE_RIGHT)
    bad = _evalkit("run", str(suite), "--out", "bad", "--quiet", "--no-cache", cwd=tmp_path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    failures = ET.parse(tmp_path / "bad" / "junit.xml").getroot().findall(".//failure")
    messages = [f.get("message") or "" for f in failures]
    assert len(failures) >= 3
    assert any("candidate exact vs base" in m and "-0.050" in m.replace("−", "-") for m in messages), messages
    summary = (tmp_path / "bad" / "summary.md").read_text()
    assert "NO-GO" in summary
    assert all(m.split(":")[0] in summary or m[:20] in summary for m in messages)
    assert "NO-GO" in step_summary.read_text() and "GO" in step_summary.read_text()

    # compare pairs the two runs by case id and names every case the candidate broke.
    compared = _evalkit("compare", "good/results.json", "bad/results.json", cwd=tmp_path)
    assert compared.returncode == 1, compared.stdout + compared.stderr
    broken = sorted(TICKETS[i][0] for i in GOOD - BAD)
    for case_id in broken:
        assert case_id in compared.stdout
    assert TICKETS[0][0] not in compared.stdout.split("regress", 1)[-1]  # right in both runs

    # gate re-applies rules to the saved run with no calls: its own rules, then a lenient suite's.
    calls = len(fake_openai.requests)
    assert _evalkit("gate", "bad/results.json", cwd=tmp_path).returncode == 1
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(SUITE.split("gate:")[0] + "gate:\n  - {target: base, metric: exact, min: 0.4}\n")
    regated = _evalkit("gate", "bad/results.json", "--suite", str(lenient), cwd=tmp_path)
    assert regated.returncode == 0, regated.stdout + regated.stderr
    assert len(fake_openai.requests) == calls


def test_a_rule_against_a_missing_target_is_exit_2_before_any_call(
    fake_openai: FakeOpenAI, suite: Path, tmp_path: Path
) -> None:
    suite.write_text(SUITE.replace("versus: base, margin", "versus: prod, margin"))
    proc = _evalkit("run", str(suite), "--quiet", cwd=tmp_path)
    assert proc.returncode == 2
    assert "gate[0]" in proc.stderr and "prod" in proc.stderr and proc.stderr.count("\n") == 1
    assert not [r for r in fake_openai.requests if r.endpoint]
