"""The API key stays secret: it reaches no result, report, JUnit file, summary, cache byte or log line —
not even when the service echoes it back in an error, and not when the service rejects it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakeopenai import ApiError, FakeOpenAI, FakeRequest

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "suites" / "ticket-triage.yaml"
CANDIDATE = "ft:gpt-4o-mini:acme:triage:7p4lURel"
KEY = "sk-proj-CANARY7q9Zx3LmVt5Rw8Kp2Hn6Jd4Fs1Gb0Yc"
SECRET_PART = KEY[8:-4]
"""What OpenAI's own masking (``sk-proj-****1Gb0Yc``) hides: it must never show either."""


def _evalkit(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evalkit", *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )


def _env(**extra: str) -> dict[str, str]:
    """The test's environment with the canary key, and the SDK's own debug logging on."""
    return {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_LOG": "debug", **extra}


def _leaks(tmp_path: Path, *texts: str) -> list[str]:
    """Every file under tmp_path (outputs, cache, its WAL) and every text that holds the key."""
    found = [str(p) for p in tmp_path.rglob("*") if p.is_file() and SECRET_PART.encode() in p.read_bytes()]
    return found + [text[:200] for text in texts if SECRET_PART in text]


def _echo_key(request: FakeRequest) -> str:
    """A careless server: some requests are refused with the caller's key in the message."""
    if "crash" in request.last_user or "password" in request.last_user:
        raise ApiError(400, f"Request rejected for key {KEY} (Bearer {KEY})", code="invalid_request")
    return "billing"


def test_the_key_reaches_no_output_cache_or_log(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.add_model(CANDIDATE)
    fake_openai.script("*", _echo_key)
    fake_openai.fail_next(3, status=500)
    out = tmp_path / "out"

    run = _evalkit("run", str(SUITE), "--out", str(out), cwd=tmp_path, env=_env())
    report = _evalkit("report", str(out / "results.json"), cwd=tmp_path, env=_env())
    gate = _evalkit("gate", str(out / "results.json"), cwd=tmp_path, env=_env())

    assert run.returncode in (0, 1), run.stderr
    assert {p.name for p in out.iterdir()} >= {"results.json", "report.html", "junit.xml", "summary.md"}
    results = json.loads((out / "results.json").read_text())
    errors = [r["error"] for case in results["cases"] for r in case["results"].values() if r["error"]]
    assert errors and all("Request rejected for key" in e for e in errors)  # the message is kept, redacted
    assert any((Path(os.environ["EVALKIT_CACHE_DIR"])).rglob("responses.sqlite*"))
    assert "HTTP Request" in run.stderr or "Request options" in run.stderr  # the SDK did log
    texts = (run.stdout, run.stderr, report.stdout, report.stderr, gate.stdout, gate.stderr)
    assert _leaks(tmp_path, *texts) == []


def test_a_rejected_key_is_not_echoed(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.add_model(CANDIDATE)
    fake_openai.reject_key(KEY)

    run = _evalkit("run", str(SUITE), "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path, env=_env())

    assert run.returncode == 2
    assert "401" in run.stderr or "API key" in run.stderr
    assert "Traceback" not in run.stderr
    assert _leaks(tmp_path, run.stdout, run.stderr) == []


@pytest.mark.parametrize("where", ["OPENAI_BASE_URL", "OPENAI_ORG_ID"])
def test_a_key_pasted_into_another_variable_is_not_echoed_either(
    fake_openai: FakeOpenAI, tmp_path: Path, where: str
) -> None:
    """A key pasted into the wrong variable makes the run fail with a message that does not show it."""
    fake_openai.add_model(CANDIDATE)
    value = f"{fake_openai.url}{KEY}" if where == "OPENAI_BASE_URL" else KEY
    env = _env(**{where: value})
    env.pop("OPENAI_LOG")

    run = _evalkit("run", str(SUITE), "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path, env=env)

    assert "Traceback" not in run.stderr
    assert _leaks(tmp_path, run.stdout, run.stderr) == []


def test_a_crash_whose_message_holds_the_key_writes_a_crash_file_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from evalkit.errors import write_crash

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    try:
        raise RuntimeError(f"request failed with Authorization: Bearer {KEY}")
    except RuntimeError as exc:
        crash = write_crash(exc, tmp_path / "out")
    text = crash.crash_file.read_text()
    assert "Traceback" in text and "Bearer ***" in text
    assert crash.summary == "RuntimeError: request failed with Authorization: Bearer ***"
    assert _leaks(tmp_path, str(crash)) == []
