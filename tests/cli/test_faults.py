"""Runs that survive a bad service: 429/500/503 storms and hung requests, a SIGKILL mid-run, re-runs.

Whatever the service does, every case ends scored or explicitly errored; a stormy run that gets through
gives exactly the figures of a clean one; a killed run's re-run pays only for what it had not received;
a re-run of a run with errors asks again only for the errored cases.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import FakeOpenAI, FakeRequest

from evalkit.cli import main

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "suites" / "ticket-triage.yaml"
DATA = REPO / "suites" / "data" / "ticket-triage" / "test.jsonl"
LABELS = ("billing", "technical", "account", "shipping")
CANDIDATE = "ft:gpt-4o-mini:acme:triage:7p4lURel"
TARGETS = {"base": "gpt-4o-mini", "candidate": CANDIDATE}
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
CASES = len(ROWS)
GENERATE = ("/v1/chat/completions", "/v1/completions")


def _answer(model: str, request: FakeRequest) -> str:
    """The candidate routes every ticket right; the base gets every third one wrong."""
    for i, row in enumerate(ROWS):
        if row["messages"][1]["content"] in request.last_user:
            label: str = row["messages"][2]["content"]
            wrong = model == "gpt-4o-mini" and i % 3 == 0
            return LABELS[(LABELS.index(label) + 1) % 4] if wrong else label
    raise AssertionError(f"unknown ticket: {request.last_user!r}")


def _serve(server: FakeOpenAI) -> None:
    server.add_model(CANDIDATE)
    for model in TARGETS.values():
        server.script(model, lambda request, model=model: _answer(model, request))


def _run(out: Path, *flags: str) -> dict[str, Any]:
    code = main(["run", str(SUITE), "--out", str(out), "--quiet", "--concurrency", "8", *flags])
    assert code in (0, 1), f"evalkit run exited {code}"
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def _generations(server: FakeOpenAI) -> list[str]:
    """Every generation request's body, canonical JSON, in arrival order."""
    return [json.dumps(r.body, sort_keys=True) for r in server.requests if r.path in GENERATE]


def _answers(results: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(case id, target) → (output, scores): everything a case shows except timing."""
    return {
        (case["id"], name): (per["output"], per["scores"], per["error"])
        for case in results["cases"]
        for name, per in case["results"].items()
    }


def _figures(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The metrics without the ones about time, which no two runs share."""
    return {
        target: {name: value for name, value in metrics.items() if "latency" not in name}
        for target, metrics in results["metrics"].items()
    }


def _assert_every_case_settled(results: dict[str, Any]) -> None:
    assert len(results["cases"]) == CASES
    for case in results["cases"]:
        assert set(case["results"]) == set(TARGETS)
        for per in case["results"].values():
            assert (per["output"] is None) != (per["error"] is None), case["id"]


@pytest.fixture
def clean(fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The results of an undisturbed run (its own cache, so later runs start cold)."""
    _serve(fake_openai)
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "clean-cache"))
    results = _run(tmp_path / "clean")
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    fake_openai.reset()
    _serve(fake_openai)
    return results


def test_a_storm_of_429_500_503_and_hangs_gives_the_clean_figures(
    fake_openai: FakeOpenAI, clean: dict[str, Any], tmp_path: Path
) -> None:
    fake_openai.fault_rate(0.3, statuses=(429, 500, 503), seed=7)
    fake_openai.hang_next(3)

    stormy = _run(tmp_path / "stormy", "--timeout", "0.5")

    statuses = Counter(r.status for r in fake_openai.requests if r.path in GENERATE)
    assert statuses[429] + statuses[500] + statuses[503] >= 0.2 * len(TARGETS) * CASES  # it did storm
    assert statuses[None] == 3  # the hung requests timed out and were retried
    _assert_every_case_settled(stormy)
    assert _answers(stormy) == _answers(clean)
    assert _figures(stormy) == _figures(clean)
    assert stormy["gate"] == clean["gate"]


def test_cases_that_run_out_of_attempts_are_errors_and_a_rerun_retries_only_them(
    fake_openai: FakeOpenAI, clean: dict[str, Any], tmp_path: Path
) -> None:
    fake_openai.fault_rate(0.3, statuses=(429, 500, 503), seed=3)
    first = _run(tmp_path / "first", "--max-attempts", "1")

    _assert_every_case_settled(first)
    errored = {key for key, (_, _, error) in _answers(first).items() if error is not None}
    assert 0 < len(errored) < len(TARGETS) * CASES
    assert all(first["metrics"][t]["error_rate"]["value"] > 0 for t in TARGETS)

    fake_openai.reset()
    _serve(fake_openai)
    second = _run(tmp_path / "second", "--max-attempts", "1")

    assert len(_generations(fake_openai)) == len(errored)  # no settled case is asked again
    asked = {(r.model, r.body["messages"][1]["content"]) for r in fake_openai.requests if r.body}
    texts = {row["id"]: row["messages"][1]["content"] for row in ROWS}
    assert asked == {(TARGETS[target], texts[case_id]) for case_id, target in errored}
    assert _answers(second) == _answers(clean)
    assert _figures(second) == _figures(clean)


def _evalkit_run(out: Path, concurrency: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "evalkit", "run", str(SUITE), "--out", str(out), "--quiet",
         "--concurrency", str(concurrency)],
        env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_a_run_killed_midway_resumes_without_repeating_answered_calls(
    fake_openai: FakeOpenAI, clean: dict[str, Any], tmp_path: Path
) -> None:
    concurrency = 4
    fake_openai.delay = 0.05
    killed = _evalkit_run(tmp_path / "killed", concurrency)
    deadline = time.monotonic() + 60
    while len(_generations(fake_openai)) < 30 and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    assert killed.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    sent_before_kill = len(_generations(fake_openai))
    assert 30 <= sent_before_kill < len(TARGETS) * CASES

    resumed = _evalkit_run(tmp_path / "resumed", concurrency)
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr

    bodies = _generations(fake_openai)
    repeated = sum(n - 1 for n in Counter(bodies).values())
    assert len(set(bodies)) == len(TARGETS) * CASES
    assert repeated <= concurrency  # only the calls in flight at the kill are made twice
    assert len(bodies) <= len(TARGETS) * CASES + concurrency
    results = json.loads((tmp_path / "resumed" / "results.json").read_text())
    assert _answers(results) == _answers(clean)
    assert _figures(results) == _figures(clean)
    assert results["gate"] == clean["gate"]
