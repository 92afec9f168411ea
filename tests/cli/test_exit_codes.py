"""The exit code a CI job can trust, through the real CLI against the fake OpenAI server.

0 go and 1 no-go only when the run could judge the model: odd characters in answers never crash a run, a
bug is one line with a crash file (exit 2, answers kept), and a run whose calls or scoring failed so that
a target or a rule has nothing to judge is an error (exit 2), never a verdict.
"""

from __future__ import annotations

import json
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
  - {id: d, input: "Refund please", expected: billing}
scorers:
  - exact
  - classify: {labels: [billing, technical]}
"""
GATE = "gate:\n  - {target: m, metric: classify.macro_f1, min: 0.5}\n"
ODD = "billing \ud800 x\x00y \u202eevil\u202c done"
"""An answer with a lone surrogate (valid JSON from a server, not UTF-8), a NUL and a right-to-left override."""


def _label(request: FakeRequest) -> str:
    return "technical" if "crashes" in request.last_user else "billing"


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY + GATE)
    return path


def _run(suite: Path, *flags: str) -> int:
    return main(["run", str(suite), "--model", "m=gpt-4o-mini", "--quiet", "--out", "out", *flags])


def _results() -> dict[str, Any]:
    results: dict[str, Any] = json.loads(Path("out/results.json").read_text(encoding="utf-8"))
    return results


def _generations(server: FakeOpenAI) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/completions"))


@pytest.mark.parametrize("flags", [(), ("--no-cache",)], ids=["cached", "no-cache"])
def test_an_answer_with_a_lone_surrogate_nul_and_bidi_override_is_recorded_and_the_gate_decides(
    fake_openai: FakeOpenAI, suite: Path, flags: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.script("gpt-4o-mini", lambda r: ODD if r.last_user.startswith("Refund") else _label(r))
    assert _run(suite, *flags) == 0  # 3 of 4 right: macro F1 above 0.5, go
    err = capsys.readouterr().err
    assert "1 answer(s) held lone surrogates" in err and "Traceback" not in err
    recorded = {case["id"]: case["results"]["m"]["output"] for case in _results()["cases"]}
    assert recorded["d"] == ODD.replace("\ud800", "\\ud800")  # NUL and U+202E exactly as sent
    assert recorded["a"] == "billing"
    for name in ("report.html", "summary.md", "junit.xml"):
        assert Path("out", name).stat().st_size > 0
    if not flags:  # the re-run reads the same answer back from the cache, with no call
        before = _generations(fake_openai)
        assert _run(suite, "--out", "again") == 0
        assert _generations(fake_openai) == before
        again = json.loads(Path("again/results.json").read_text(encoding="utf-8"))
        assert {c["id"]: c["results"]["m"]["output"] for c in again["cases"]} == recorded


def test_a_bug_in_the_analysis_is_one_line_exit_2_a_crash_file_and_the_answers_kept(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import evalkit.analysis

    real = evalkit.analysis.analyse

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected analysis bug")

    fake_openai.script("gpt-4o-mini", _label)
    monkeypatch.setattr(evalkit.analysis, "analyse", broken)
    assert _run(suite) == 2
    err = capsys.readouterr().err
    assert err == "evalkit: internal error: RuntimeError: injected analysis bug; details in out/crash.txt\n"
    text = Path("out/crash.txt").read_text()
    assert "Traceback" in text and "injected analysis bug" in text and "analyse" in text
    partial = _results()
    assert partial["incomplete"].startswith("evalkit stopped on an internal error (RuntimeError")
    assert partial["gate"]["verdict"] == "error"
    assert [c["results"]["m"]["output"] for c in partial["cases"]] == ["billing", "technical", "billing", "billing"]
    assert main(["gate", "out/results.json"]) == 2  # a partial run is never gated
    calls = _generations(fake_openai)
    monkeypatch.setattr(evalkit.analysis, "analyse", real)
    assert _run(suite, "--out", "fixed") == 0  # the answers were kept: the re-run makes no call
    assert _generations(fake_openai) == calls


def test_every_call_failing_with_no_gate_is_an_error_not_go(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite.write_text(TINY)
    fake_openai.fail_model("gpt-4o-mini", status=500)
    assert _run(suite, "--max-attempts", "1") == 2
    err = capsys.readouterr().err
    assert "evalkit: error: target 'm': no successful answer (4 of 4 calls failed; first: HTTP 500" in err
    assert _results()["gate"]["verdict"] == "error"


def test_every_call_timing_out_with_a_gate_is_an_error_not_no_go(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.hang_next(1000)
    assert _run(suite, "--max-attempts", "1", "--timeout", "0.5") == 2
    err = capsys.readouterr().err
    assert "evalkit: error: target 'm': no successful answer (4 of 4 calls failed; first: no answer from" in err
    assert "evalkit: error: gate[0] (m classify.macro_f1 ≥ 0.5): cannot be evaluated: target 'm'" in err
    gate = _results()["gate"]
    assert gate["verdict"] == "error" and gate["rules"][0]["error"].startswith("target 'm': 4 of 4 calls failed")


def test_a_rule_on_a_judge_whose_verdicts_are_all_unreadable_is_an_error(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite.write_text(
        TINY.replace("scorers:\n", "scorers:\n  - judge: {model: gpt-4o, rubric: 'Right queue?', scale: [1, 5]}\n")
        + "gate:\n  - {target: m, metric: judge, min: 0.5}\n"
    )
    fake_openai.script("gpt-4o-mini", _label)
    fake_openai.script("gpt-4o", "I would rather not say.")
    assert _run(suite) == 2
    err = capsys.readouterr().err
    assert "evalkit: error: target 'm': scorer 'judge' could not score any of its 4 answers (first:" in err
    assert "evalkit: error: gate[0] (m judge ≥ 0.5): cannot be evaluated: target 'm': scorer 'judge' could" in err
    assert _results()["gate"]["verdict"] == "error"


def test_max_error_rate_bounds_the_failed_calls_a_verdict_may_rest_on(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.script("gpt-4o-mini", _label)
    fake_openai.fail_next(1, status=500)  # the first case's only attempt fails: 1 of 4
    suite.write_text(TINY + GATE + "max_error_rate: 0.2\n")
    assert _run(suite, "--max-attempts", "1", "--no-cache") == 2
    err = capsys.readouterr().err
    assert "evalkit: error: target 'm': 1 of 4 calls failed (25.0%), more than max_error_rate 0.2 allows" in err
    fake_openai.fail_next(1, status=500)
    suite.write_text(TINY + GATE + "max_error_rate: 0.25\n")
    assert _run(suite, "--max-attempts", "1", "--no-cache") == 0  # within the bound: the gate decides
    results = _results()
    assert results["metrics"]["m"]["exact"]["n"] == 3 and len(results["cases"]) == 4
    assert results["gate"] == {**results["gate"], "verdict": "go", "errors": [], "max_error_rate": 0.25}
    assert main(["gate", "out/results.json"]) == 0


def test_a_bug_in_scoring_keeps_every_answer_in_a_partial_results_json(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import evalkit.scorers.run

    async def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("injected scoring bug")

    fake_openai.script("gpt-4o-mini", _label)
    monkeypatch.setattr(evalkit.scorers.run, "score_run", broken)
    assert _run(suite) == 2
    assert capsys.readouterr().err == (
        "evalkit: internal error: KeyError: 'injected scoring bug'; details in out/crash.txt\n"
    )
    partial = _results()
    assert partial["incomplete"] and partial["gate"]["verdict"] == "error"
    assert [c["results"]["m"]["output"] for c in partial["cases"]] == ["billing", "technical", "billing", "billing"]
    assert all(c["results"]["m"]["scores"] == {} for c in partial["cases"])


def test_a_data_file_with_a_lone_surrogate_is_sent_escaped_and_recorded(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"messages": [{"role": "user", "content": "Card charged twice \ud800"}, {"role": "assistant", "content": "billing"}]},
        {"messages": [{"role": "user", "content": "App crashes"}, {"role": "assistant", "content": "technical"}]},
    ]
    Path("data.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))  # "\ud800" as JSON escapes it
    suite.write_text(TINY.split("cases:")[0] + "data: data.jsonl\nscorers:\n  - exact\n")
    fake_openai.script("gpt-4o-mini", _label)
    assert _run(suite) == 0
    sent = [r.body["messages"][0]["content"] for r in fake_openai.requests if r.path.endswith("/completions")]
    assert "Card charged twice \\ud800" in sent  # escaped: UTF-8 cannot carry it to the server
    cases = _results()["cases"]
    assert cases[0]["input"]["messages"][0]["content"] == "Card charged twice \\ud800"
    assert [c["results"]["m"]["scores"]["exact"] for c in cases] == [1.0, 1.0]
