"""The CLI in-process: what a user sees from validate, run (service problems), gate and report."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from fakeopenai import FAKE_API_KEY, FakeOpenAI, FakeRequest

from evalkit.cli import main

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "suites" / "ticket-triage.yaml"
TINY = """\
name: tiny
cases:
  - {id: a, input: "Card charged twice", expected: billing}
  - {id: b, input: "App crashes on start", expected: technical}
  - {id: c, input: "Where is my parcel?", expected: billing}
scorers:
  - classify: {labels: [billing, technical]}
"""


def _first_word(request: FakeRequest) -> str:
    return "billing" if "charged" in request.last_user else "technical"


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def test_validate_prints_count_labels_and_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SUITE)]) == 0
    out = capsys.readouterr().out
    assert "cases: 40" in out
    for label in ("billing", "technical", "account", "shipping"):
        assert f"{label} " in out and "10   25.0%" in out
    assert "problems: none" in out


def test_validate_lists_problems(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny.write_text(TINY.replace("labels: [billing, technical]", "labels: [billing, technical, account]"))
    assert main(["validate", str(tiny)]) == 0
    out = capsys.readouterr().out
    assert "no case has the label(s) account" in out
    assert "no targets: name them at run time with --model NAME=ID or --job ID" in out


def test_run_writes_outputs_and_default_out_dir(
    fake_openai: FakeOpenAI, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.script("gpt-4o-mini", _first_word)
    assert main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--quiet"]) == 0
    runs = list((tiny.parent / "reports" / "tiny").iterdir())
    assert len(runs) == 1
    results = json.loads((runs[0] / "results.json").read_text())
    assert results["metrics"]["m"]["classify.accuracy"]["value"] == pytest.approx(2 / 3)
    assert {p.name for p in runs[0].iterdir()} == {"results.json", "report.html", "junit.xml", "summary.md"}
    assert "GO" in capsys.readouterr().out


def test_concurrency_bound(fake_openai: FakeOpenAI, tiny: Path) -> None:
    fake_openai.script("gpt-4o-mini", _first_word)
    fake_openai.delay = 0.05
    code = main(
        [
            "run",
            str(tiny),
            "--model",
            "m=gpt-4o-mini",
            "--model",
            "n=gpt-4o",
            "--concurrency",
            "2",
            "--quiet",
            "--out",
            "out",
        ]
    )
    assert code == 0
    assert fake_openai.max_in_flight == 2


def test_a_call_that_times_out_is_retried(fake_openai: FakeOpenAI, tiny: Path) -> None:
    fake_openai.script("gpt-4o-mini", _first_word)
    fake_openai.hang_next(1)
    code = main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--timeout", "0.5", "--quiet", "--out", "out"])
    assert code == 0
    results = json.loads(Path("out/results.json").read_text())
    assert all(c["results"]["m"]["error"] is None for c in results["cases"])
    assert fake_openai.count(model="gpt-4o-mini") == 4  # three cases, one of them asked twice


def test_unreachable_service_is_exit_2_with_one_line(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_API_KEY)
    assert main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--quiet", "--max-attempts", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach" in err[0] and "OPENAI_BASE_URL" in err[0]


def test_rejected_key_is_exit_2_and_never_echoed(
    fake_openai: FakeOpenAI, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.reject_key(FAKE_API_KEY)
    assert main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "rejected" in captured.err and "OPENAI_API_KEY" in captured.err
    assert FAKE_API_KEY not in captured.err + captured.out
    assert FAKE_API_KEY[-4:] not in captured.err  # not even OpenAI's masked form


def test_missing_key_is_exit_2(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--quiet"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err


def test_wrong_endpoint_override_errors_the_target_with_the_fix(
    fake_openai: FakeOpenAI, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.script("gpt-4o-mini", _first_word)
    code = main(
        [
            "run",
            str(tiny),
            "--model",
            "good=gpt-4o-mini",
            "--model",
            "old=davinci-002@chat",
            "--quiet",
            "--out",
            "out",
        ]
    )
    assert code == 2  # no gate rules, but a target that never answered: the run cannot be judged
    err = capsys.readouterr().err
    assert "target old: 3 of 3 cases failed" in err and "@completions" in err
    assert "evalkit: error: target 'old': no successful answer (3 of 3 calls failed; first: model" in err
    results = json.loads(Path("out/results.json").read_text())
    assert results["gate"]["verdict"] == "error"
    assert results["metrics"]["old"]["error_rate"]["value"] == 1.0
    assert fake_openai.count(model="davinci-002") == 1  # one 404, then the target is given up


def test_azure_deployments(fake_openai: FakeOpenAI, tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake_openai.azure_endpoint)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    fake_openai.script("gpt-4o-mini", _first_word)
    assert main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--quiet", "--out", "out"]) == 0
    assert {r.auth for r in fake_openai.requests} == {"api-key"}
    assert all("/openai/deployments/gpt-4o-mini/" in r.path for r in fake_openai.requests)


def test_gate_and_report_reuse_a_run_without_calls(
    fake_openai: FakeOpenAI, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.script("gpt-4o-mini", _first_word)
    assert main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--quiet", "--out", "out"]) == 0
    calls = len(fake_openai.requests)
    strict = tiny.parent / "strict.yaml"
    strict.write_text(TINY + "gate:\n  - {target: m, metric: classify.accuracy, min: 0.9}\n")

    assert main(["gate", "out/results.json"]) == 0  # the run's own (empty) gate
    assert main(["gate", "out/results.json", "--suite", str(strict)]) == 1
    assert "m classify.accuracy = 0.667 < 0.900 (min)" in capsys.readouterr().out

    Path("out/report.html").unlink()
    assert main(["report", "out/results.json"]) == 0
    assert "<html" in Path("out/report.html").read_text()
    assert len(fake_openai.requests) == calls


def test_batch_run_answers_from_the_batch_api_then_calls_nothing_live(
    fake_openai: FakeOpenAI, tiny: Path
) -> None:
    fake_openai.script("gpt-4o-mini", _first_word)  # the fake's batches complete at the first poll
    assert main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--batch", "--quiet", "--out", "out"]) == 0
    assert len(fake_openai.batch_ids()) == 1
    assert fake_openai.count(path="/v1/chat/completions") == 0  # every answer came from the batch
    results = json.loads(Path("out/results.json").read_text())
    assert results["metrics"]["m"]["classify.accuracy"]["value"] == pytest.approx(2 / 3)


def test_batch_needs_the_cache(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--batch", "--no-cache", "--quiet"]) == 2
    assert "--batch" in capsys.readouterr().err


def test_a_judged_run_reports_the_judge_apart_from_the_targets(
    fake_openai: FakeOpenAI, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def verdict(request: FakeRequest) -> str:
        data = request.messages[-1]["content"]
        return json.dumps({"reasoning": "checked", "score": 5 if "billing" in data.split("ANSWER")[-2] else 2})

    tiny.write_text(
        TINY.replace("scorers:\n", "scorers:\n  - judge: {model: gpt-4o, rubric: 'Right queue?', scale: [1, 5]}\n")
        + "prices: {gpt-4o: {input: 2.5, output: 10}}\n"
    )
    fake_openai.script("gpt-4o-mini", _first_word)
    fake_openai.script("gpt-4o", verdict)
    assert main(["run", str(tiny), "--model", "m=gpt-4o-mini", "--quiet", "--out", "out"]) == 0, (
        capsys.readouterr().err
    )
    results = json.loads(Path("out/results.json").read_text())
    judge = results["metrics"]["m"]["judge"]
    assert judge["n"] == 3 and 0.0 < judge["value"] < 1.0
    usage = results["judge_usage"]["judge"]
    assert usage["model"] == "gpt-4o" and usage["calls"] == 3 and usage["cost_usd"] > 0
    assert fake_openai.count(model="gpt-4o") == 3
    assert "judge" not in results["usage"]["m"]  # the targets' usage holds only the targets' calls
