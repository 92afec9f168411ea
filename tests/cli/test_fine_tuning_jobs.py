"""End to end from a fine-tuning job id: the real ``evalkit`` command against the fake OpenAI server.

A gpt-4o-mini job whose checkpoints span two pages, a babbage-002 job trained on prompt/completion data,
a running job and a failed job — targets, roles, steps, endpoints, training curves, the inferred
separator and stop, and the parity and contamination warnings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import FakeOpenAI, FakeRequest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "suites" / "data" / "ticket-triage" / "test.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
SUITE_SYSTEM = ROWS[0]["messages"][0]["content"]
TICKETS = [(r["id"], r["messages"][1]["content"], r["messages"][2]["content"]) for r in ROWS]
LABELS = ["billing", "technical", "account", "shipping"]

CHAT_JOB, LEGACY_JOB = "ftjob-chat0001", "ftjob-legacy01"
CHAT_BASE, LEGACY_BASE = "gpt-4o-mini-2024-07-18", "babbage-002"
CHAT_FINAL = f"ft:{CHAT_BASE}:acme:triage:chat0001"
LEGACY_FINAL = f"ft:{LEGACY_BASE}:acme::legacy01"
CHAT_STEPS = list(range(10, 111, 10))  # 11 checkpoints: two pages of OpenAI's default 10
LEGACY_STEPS = [5, 10, 15]
TRAIN_SYSTEM = "Classify the ticket into a queue."

SUITE = f"""\
name: jobs
data: {DATA}
generation: {{temperature: 0, max_tokens: 8}}
scorers:
  - exact
  - classify: {{labels: [billing, technical, account, shipping]}}
"""
GATE = "gate:\n  - {target: final, metric: classify.macro_f1, min: 0.9}\n"

# Training conversations: other tickets under the job's own system prompt, plus two test cases verbatim
# and one near-duplicate under the suite's prompt (contamination), and one test case in validation.
OTHER_TICKETS = [(f"Other ticket number {i} about {label}", label) for i, label in enumerate(LABELS * 5)]


def _chat_row(system: str, text: str, label: str) -> dict[str, Any]:
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": text},
                         {"role": "assistant", "content": label}]}


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def _loss(step: int) -> float:
    return round(2.0 - step / 100, 4)


def _chat_job(server: FakeOpenAI, *, status: str = "succeeded", steps: list[int] = CHAT_STEPS) -> None:
    training = [_chat_row(TRAIN_SYSTEM, text, label) for text, label in OTHER_TICKETS]
    training += [_chat_row(SUITE_SYSTEM, text, label) for _, text, label in TICKETS[:2]]
    training.append(_chat_row(SUITE_SYSTEM, TICKETS[3][1].upper().replace(".", "!"), TICKETS[3][2]))
    server.add_file("file-chat-train", _jsonl(training))
    server.add_file("file-chat-valid", _jsonl([_chat_row(SUITE_SYSTEM, TICKETS[2][1], TICKETS[2][2])]))
    last = steps[-1] if steps else 0
    csv = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n" + "".join(
        f"{s},{_loss(s)},0.5,{_loss(s) + 0.1 if s % 10 == 0 else ''},\n" for s in range(1, last + 1)
    )
    server.add_job(
        CHAT_JOB, model=CHAT_BASE, status=status,
        fine_tuned_model=CHAT_FINAL if status == "succeeded" else None,
        training_file="file-chat-train", validation_file="file-chat-valid",
        checkpoint_steps=steps,
        checkpoint_metrics={s: {"step": s, "train_loss": _loss(s), "valid_loss": _loss(s) + 0.1,
                                "full_valid_loss": _loss(s) + 0.05} for s in steps},
        result_csv=csv,
    )


def _legacy_job(server: FakeOpenAI) -> None:
    rows = [{"prompt": f"{text}\n\n###\n\n", "completion": f" {label} END"} for text, label in OTHER_TICKETS]
    server.add_file("file-legacy-train", _jsonl(rows))
    csv = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n" + "".join(
        f"{s},{_loss(s)},0.5,,\n" for s in range(1, LEGACY_STEPS[-1] + 1)
    )
    server.add_job(
        LEGACY_JOB, model=LEGACY_BASE, fine_tuned_model=LEGACY_FINAL, training_file="file-legacy-train",
        checkpoint_steps=LEGACY_STEPS, result_csv=csv, result_base64=False,  # an older job: plain CSV
    )


def _skill(model: str) -> float:
    """How many of the tickets a model gets right: none for the base, more with every step."""
    if ":ckpt-step-" in model:
        step = int(model.rsplit("-", 1)[1])
        return step / (CHAT_STEPS[-1] if model.startswith(CHAT_FINAL) else LEGACY_STEPS[-1] * 1.2)
    return 1.0 if model in (CHAT_FINAL, LEGACY_FINAL) else 0.0


def _answer(request: FakeRequest) -> str:
    for i, (_, text, label) in enumerate(TICKETS):
        if text in request.last_user:
            good = i < _skill(request.model) * len(TICKETS)
            answer = label if good else LABELS[(LABELS.index(label) + 1) % 4]
            return f" {answer} END" if request.endpoint == "completions" else answer
    raise AssertionError(f"unknown ticket: {request.last_user!r}")


def _evalkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evalkit", *args], cwd=cwd, env=dict(os.environ),
        capture_output=True, text=True, timeout=240, check=False,
    )


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "jobs.yaml"
    path.write_text(SUITE + GATE)
    return path


def test_chat_job_every_checkpoint_on_chat_with_curves_parity_and_contamination(
    fake_openai: FakeOpenAI, suite: Path, tmp_path: Path
) -> None:
    _chat_job(fake_openai)
    fake_openai.script("*", _answer)

    proc = _evalkit("run", str(suite), "--job", CHAT_JOB, "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())

    expected = [("base", CHAT_BASE, "base", None)]
    expected += [(f"step-{s}", f"{CHAT_FINAL}:ckpt-step-{s}", "checkpoint", s) for s in CHAT_STEPS]
    expected += [("final", CHAT_FINAL, "final", CHAT_STEPS[-1])]
    assert [(t["name"], t["model"], t["role"], t["step"]) for t in results["targets"]] == expected
    assert {t["endpoint"] for t in results["targets"]} == {"chat"}

    calls = [r for r in fake_openai.requests if r.endpoint in ("chat", "completions")]
    assert {r.path for r in calls} == {"/v1/chat/completions"}
    assert len(calls) == len(expected) * len(TICKETS)
    assert fake_openai.count(path=f"/v1/fine_tuning/jobs/{CHAT_JOB}/checkpoints") == 2  # both pages read

    accuracy = [results["metrics"][name]["classify.accuracy"]["value"] for name, *_ in expected]
    assert accuracy[0] == 0.0 and accuracy[-1] == 1.0 and accuracy == sorted(accuracy)

    by_step = {r["step"]: r for r in results["training"]}
    assert set(by_step) == set(range(1, CHAT_STEPS[-1] + 1))
    assert by_step[7]["train_loss"] == pytest.approx(_loss(7))  # from the result file
    assert by_step[30]["full_valid_loss"] == pytest.approx(_loss(30) + 0.05)  # from the checkpoint
    assert all(r["job"] == CHAT_JOB for r in results["training"])
    assert results["jobs"][0]["id"] == CHAT_JOB and results["jobs"][0]["base_model"] == CHAT_BASE

    checks = results["checks"][CHAT_JOB]
    assert checks["contamination"]["training"] == {"exact": ["t001", "t002"], "near": ["t004"]}
    assert checks["contamination"]["validation"]["exact"] == ["t003"]
    assert any(TRAIN_SYSTEM[:20] in w for w in checks["parity"])
    for text in (TRAIN_SYSTEM[:20], "t001", "t004"):
        assert any(text in w for w in results["warnings"]), text
        assert text in proc.stderr


def test_babbage_job_goes_to_completions_with_inferred_separator_and_stop(
    fake_openai: FakeOpenAI, suite: Path, tmp_path: Path
) -> None:
    _legacy_job(fake_openai)
    fake_openai.script("*", _answer)

    proc = _evalkit("run", str(suite), "--job", LEGACY_JOB, "--out", "out", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())

    assert [t["name"] for t in results["targets"]] == ["base", "step-5", "step-10", "step-15", "final"]
    assert {t["endpoint"] for t in results["targets"]} == {"completions"}
    calls = [r for r in fake_openai.requests if r.endpoint in ("chat", "completions")]
    assert {r.path for r in calls} == {"/v1/completions"}
    assert all(r.body["prompt"].endswith("\n\n###\n\n") and r.body["stop"] == [" END"] for r in calls)

    inferred = results["completions"]["inferred"][LEGACY_JOB]
    assert (inferred["separator"], inferred["stop"]) == ("\n\n###\n\n", [" END"])
    assert "inferred from 20 training prompts" in proc.stderr
    assert results["metrics"]["final"]["exact"]["value"] == 1.0  # " billing END" cut at the stop
    assert [r["step"] for r in results["training"]] == list(range(1, 16))
    assert results["training"][0]["train_loss"] == pytest.approx(_loss(1))


def test_running_job_evaluates_the_checkpoints_that_exist(
    fake_openai: FakeOpenAI, suite: Path, tmp_path: Path
) -> None:
    _chat_job(fake_openai, status="running", steps=[10, 20])
    fake_openai.script("*", _answer)
    suite.write_text(SUITE)  # no gate on 'final': there is none yet

    proc = _evalkit("run", str(suite), "--job", CHAT_JOB, "--out", "out", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [(t["name"], t["role"]) for t in results["targets"]] == [
        ("base", "base"), ("step-10", "checkpoint"), ("step-20", "checkpoint")
    ]
    assert "running" in proc.stderr and "final model" in proc.stderr

    # The gate that names 'final' cannot be applied to a job without one: exit 2 before any call.
    suite.write_text(SUITE + GATE)
    fake_openai.reset()
    _chat_job(fake_openai, status="running", steps=[10, 20])
    proc = _evalkit("run", str(suite), "--job", CHAT_JOB, "--quiet", cwd=tmp_path)
    assert proc.returncode == 2
    assert "target 'final' is not in this run" in proc.stderr
    assert not [r for r in fake_openai.requests if r.endpoint in ("chat", "completions")]


def test_failed_job_is_an_error_with_the_jobs_reason(fake_openai: FakeOpenAI, suite: Path, tmp_path: Path) -> None:
    message = "The job failed due to an invalid training file: line 12 has no assistant message."
    fake_openai.add_job("ftjob-broken1", model=CHAT_BASE, status="failed",
                        error={"code": "invalid_training_file", "message": message, "param": "training_file"})
    proc = _evalkit("run", str(suite), "--job", "ftjob-broken1", "--quiet", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "ftjob-broken1" in proc.stderr and message in proc.stderr


def test_unknown_job_is_an_error(fake_openai: FakeOpenAI, suite: Path, tmp_path: Path) -> None:
    proc = _evalkit("run", str(suite), "--job", "ftjob-nosuchjob", "--quiet", cwd=tmp_path)
    assert proc.returncode == 2
    assert "ftjob-nosuchjob" in proc.stderr and proc.stderr.count("\n") == 1


def test_two_jobs_get_prefixed_names_and_a_model_beside_them(
    fake_openai: FakeOpenAI, suite: Path, tmp_path: Path
) -> None:
    _chat_job(fake_openai, steps=[10])
    _legacy_job(fake_openai)
    fake_openai.script("*", _answer)
    suite.write_text(SUITE)
    proc = _evalkit("run", str(suite), "--job", CHAT_JOB, "--job", LEGACY_JOB, "--model", "prod=gpt-4o",
                    "--out", "out", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    names = {t["name"]: t["endpoint"] for t in results["targets"]}
    assert names == {
        f"{CHAT_JOB}.base": "chat", f"{CHAT_JOB}.step-10": "chat", f"{CHAT_JOB}.final": "chat",
        f"{LEGACY_JOB}.base": "completions", f"{LEGACY_JOB}.step-5": "completions",
        f"{LEGACY_JOB}.step-10": "completions", f"{LEGACY_JOB}.step-15": "completions",
        f"{LEGACY_JOB}.final": "completions", "prod": "chat",
    }
    assert {r["job"] for r in results["training"]} == {CHAT_JOB, LEGACY_JOB}


def test_targets_command_lists_endpoints_steps_and_losses(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    _chat_job(fake_openai)
    proc = _evalkit("targets", "--job", CHAT_JOB, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    step_30 = next(line for line in lines if "step-30 " in line)
    assert f"{CHAT_FINAL}:ckpt-step-30" in step_30 and "chat" in step_30
    assert f"{_loss(30):.3f}" in step_30 and f"{_loss(30) + 0.1:.3f}" in step_30
    assert any(line.split()[1:2] == ["final"] or " final " in line for line in lines)
    assert not [r for r in fake_openai.requests if r.endpoint in ("chat", "completions")]
