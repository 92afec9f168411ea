"""End to end: the real ``evalkit run`` command, as a subprocess, on the example suite in suites/,
against the fake OpenAI server — five targets on two endpoints, figures checked against scikit-learn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import FakeOpenAI, FakeRequest
from sklearn import metrics as skm

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "suites" / "ticket-triage.yaml"
DATA = REPO / "suites" / "data" / "ticket-triage" / "test.jsonl"
LABELS = ["billing", "technical", "account", "shipping"]
FT_CHAT = "ft:gpt-4o-mini:acme:triage:7p4lURel"
FT_LEGACY = "ft:davinci-002:acme:triage:9xk2b1"
TARGETS = {  # name -> (model, endpoint it must be called on)
    "base": ("gpt-4o-mini", "chat"),
    "candidate": (FT_CHAT, "chat"),
    "big": ("gpt-4o", "chat"),
    "legacy": ("davinci-002", "completions"),
    "legacy-ft": (FT_LEGACY, "completions"),
}
EXTRA_FLAGS = ["--model", "big=gpt-4o", "--model", "legacy=davinci-002", "--model", f"legacy-ft={FT_LEGACY}"]


def _tickets() -> list[tuple[str, str, str]]:
    """(case id, ticket text, true label) in file order."""
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    return [(r["id"], r["messages"][1]["content"], r["messages"][2]["content"]) for r in rows]


TICKETS = _tickets()


def _other(label: str) -> str:
    return LABELS[(LABELS.index(label) + 1) % len(LABELS)]


def _plan(target: str, i: int, label: str, *, candidate_good: bool = True) -> tuple[str, str]:
    """What ``target`` answers on ticket ``i``: (answer text, the label a reader would take from it)."""
    if target == "base":
        return [
            (label, label),
            (f"Probably {_other(label)}", _other(label)),
            ("I am not sure.", "unparsed"),
            (_other(label).capitalize(), _other(label)),
        ][i % 4]
    if target == "candidate":
        wrong = i in (5, 17) if candidate_good else i % 2 == 0
        return (_other(label), _other(label)) if wrong else (label, label)
    if target == "big":
        return (f"{_other(label)}.", _other(label)) if i % 10 == 3 else (f"{label.capitalize()}.", label)
    if target == "legacy":
        return (f" {_other(label)}", _other(label)) if i % 2 else (f" {label}", label)
    assert target == "legacy-ft"
    return (" ???", "unparsed") if i % 8 == 0 else (f" {label}", label)


def _script(server: FakeOpenAI, *, candidate_good: bool = True) -> None:
    for name, (model, _) in TARGETS.items():
        def answer(request: FakeRequest, name: str = name) -> str:
            for i, (_, text, label) in enumerate(TICKETS):
                if text in request.last_user:
                    return _plan(name, i, label, candidate_good=candidate_good)[0]
            raise AssertionError(f"{name} was asked about an unknown ticket: {request.last_user!r}")

        if model.startswith("ft:"):
            server.add_model(model)
        server.script(model, answer)


def _evalkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evalkit", *args], cwd=cwd, env=dict(os.environ),
        capture_output=True, text=True, timeout=240, check=False,
    )


def _expected_figures(target: str, results: dict[str, Any], *, candidate_good: bool = True) -> dict[str, float]:
    """Every figure recomputed with sklearn.metrics from the answers the test itself scripted."""
    y_true = [label for _, _, label in TICKETS]
    y_pred = [_plan(target, i, label, candidate_good=candidate_good)[1] for i, (_, _, label) in enumerate(TICKETS)]
    answers = [_plan(target, i, label, candidate_good=candidate_good)[0] for i, (_, _, label) in enumerate(TICKETS)]
    exact_pred = [a.strip().casefold().rstrip(".") for a in answers]
    p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=LABELS, zero_division=0)
    figures = {
        "exact": skm.accuracy_score(y_true, exact_pred),
        "classify": skm.accuracy_score(y_true, y_pred),
        "classify.accuracy": skm.accuracy_score(y_true, y_pred),
        "classify.macro_f1": skm.f1_score(y_true, y_pred, labels=LABELS, average="macro", zero_division=0),
        "classify.weighted_f1": skm.f1_score(
            y_true, y_pred, labels=LABELS, average="weighted", zero_division=0
        ),
        "classify.kappa": skm.cohen_kappa_score(y_true, y_pred),
        "error_rate": 0.0,
    }
    for k, label in enumerate(LABELS):
        figures.update({f"classify.precision.{label}": p[k], f"classify.recall.{label}": r[k],
                        f"classify.f1.{label}": f[k]})
    return {name: float(value) for name, value in figures.items()}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def test_run_five_targets_figures_endpoints_cache_and_verdict(fake_openai: FakeOpenAI, workdir: Path) -> None:
    _script(fake_openai)
    out = workdir / "run1"

    proc = _evalkit("run", str(SUITE), *EXTRA_FLAGS, "--out", str(out), cwd=workdir)
    assert proc.returncode == 0, proc.stderr  # the candidate clears both gate rules: go
    assert "GO" in proc.stdout and "NO-GO" not in proc.stdout

    results = json.loads((out / "results.json").read_text())
    assert [t["name"] for t in results["targets"]] == list(TARGETS)
    for target in results["targets"]:
        assert (target["model"], target["endpoint"]) == TARGETS[target["name"]]

    # Every figure equals sklearn.metrics on the same predictions.
    for name in TARGETS:
        expected = _expected_figures(name, results)
        got = {metric: results["metrics"][name][metric]["value"] for metric in expected}
        assert got == pytest.approx(expected, abs=1e-12), name
        assert results["metrics"][name]["classify.macro_f1"]["n"] == len(TICKETS)

    # Each model was called only on its own endpoint, once per case.
    path_of = {"chat": "/v1/chat/completions", "completions": "/v1/completions"}
    for name, (model, endpoint) in TARGETS.items():
        calls = [r for r in fake_openai.requests if r.model == model]
        assert len(calls) == len(TICKETS), name
        assert {r.path for r in calls} == {path_of[endpoint]}, name
    assert len([r for r in fake_openai.requests if r.endpoint]) == 5 * len(TICKETS)  # and the model records
    assert {p.name for p in out.iterdir()} >= {"results.json", "report.html", "junit.xml", "summary.md"}

    # An identical second run makes zero calls and gives the same figures.
    before = len(fake_openai.requests)
    second = _evalkit("run", str(SUITE), *EXTRA_FLAGS, "--out", str(workdir / "run2"), cwd=workdir)
    assert second.returncode == 0, second.stderr
    assert len(fake_openai.requests) == before
    again = json.loads((workdir / "run2" / "results.json").read_text())
    assert again["metrics"] == results["metrics"]

    # --no-cache makes every call again; a worse candidate now fails the gate: no-go, exit 1.
    _script(fake_openai, candidate_good=False)
    third = _evalkit("run", str(SUITE), *EXTRA_FLAGS, "--no-cache", "--out", str(workdir / "run3"), cwd=workdir)
    assert third.returncode == 1, third.stderr
    assert len(fake_openai.requests) == before + 5 * len(TICKETS)
    worse = json.loads((workdir / "run3" / "results.json").read_text())
    assert worse["gate"]["verdict"] == "no-go"
    assert worse["metrics"]["candidate"]["classify.macro_f1"]["value"] == pytest.approx(
        _expected_figures("candidate", worse, candidate_good=False)["classify.macro_f1"]
    )


def test_transient_failures_are_retried_and_lost_cases_recorded(fake_openai: FakeOpenAI, workdir: Path) -> None:
    _script(fake_openai)
    fake_openai.fault_rate(0.3, statuses=(429, 500, 503), seed=7)
    out = workdir / "faulty"
    proc = _evalkit("run", str(SUITE), "--out", str(out), "--quiet", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"]["candidate"]["error_rate"]["value"] == 0.0
    assert results["metrics"]["candidate"]["classify.macro_f1"]["value"] == pytest.approx(
        _expected_figures("candidate", results)["classify.macro_f1"]
    )

    # A model that answers 500 to everything: its cases are recorded as errors, not dropped; an outage is
    # not a verdict on the model, so the run is an error (exit 2), not a no-go.
    fake_openai.reset()
    _script(fake_openai)
    fake_openai.fail_model(FT_CHAT, status=500)
    proc = _evalkit(
        "run", str(SUITE), "--no-cache", "--max-attempts", "2", "--out", str(out), "--quiet", cwd=workdir
    )
    assert proc.returncode == 2, proc.stderr
    assert "evalkit: error: target 'candidate': no successful answer" in proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["gate"]["verdict"] == "error"
    assert len(results["cases"]) == len(TICKETS)
    assert all(c["results"]["candidate"]["error"] for c in results["cases"])
    assert results["metrics"]["candidate"]["error_rate"]["value"] == 1.0
    assert fake_openai.count(model=FT_CHAT) == 2 * len(TICKETS)  # every case tried twice


def test_the_sidecar_changes_nothing_but_where_the_analysis_runs(fake_openai: FakeOpenAI, workdir: Path) -> None:
    """The CLI (single-threaded: its analysis runs in the forked sidecar) and an in-process run (this
    process has the fake server's thread, so no fork) give the same analysis of the same answers."""
    from evalkit.cli import main

    _script(fake_openai)
    forked = _evalkit("run", str(SUITE), *EXTRA_FLAGS, "--out", str(workdir / "forked"), "--quiet", cwd=workdir)
    assert forked.returncode == 0, forked.stderr
    assert main(["run", str(SUITE), *EXTRA_FLAGS, "--out", str(workdir / "here"), "--quiet", "--no-cache"]) == 0
    a, b = (json.loads((workdir / d / "results.json").read_text()) for d in ("forked", "here"))
    for section in ("metrics", "details", "comparisons", "flips", "recommendation", "gate", "warnings"):  # usage: latencies differ
        assert a[section] == b[section], section
    assert a["gate"]["verdict"] == "go" and len(a["comparisons"]) > 0
    summaries = [(workdir / d / "summary.md").read_text() for d in ("forked", "here")]
    assert summaries[0] == summaries[1]
