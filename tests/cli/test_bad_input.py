"""Bad input of every kind ends in one line naming file, line and field, exit code 2, and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakeopenai import FakeOpenAI

from evalkit.cli import main

CHAT_ROW = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "billing"}]}
GOOD_SUITE = """\
name: bad-input
data: test.jsonl
scorers:
  - exact
  - classify: {labels: [billing, technical]}
"""


def _jsonl(*rows: object) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


@dataclass
class Bad:
    """One kind of bad input: the files to write, and what the error line must say."""

    suite: str = GOOD_SUITE
    files: dict[str, str] = field(default_factory=lambda: {"test.jsonl": _jsonl(CHAT_ROW)})
    where: str = "suite.yaml:1"
    """``file:line`` (file name relative to the temp dir) the message must start with."""
    mentions: tuple[str, ...] = ()
    """Fragments (field names, allowed values) the message must contain."""


CASES: dict[str, Bad] = {
    "missing data file": Bad(
        suite=GOOD_SUITE.replace("test.jsonl", "nowhere.jsonl"),
        where="suite.yaml:2", mentions=("data", "not found", "nowhere.jsonl"),
    ),
    "YAML syntax error": Bad(
        suite="name: x\ndata: test.jsonl\nscorers: [exact\n", where="suite.yaml:", mentions=("YAML",),
    ),
    "unknown key": Bad(
        suite=GOOD_SUITE + "generation: {temperatur: 0}\n",
        where="suite.yaml:6", mentions=("generation.temperatur", "unknown key", "temperature"),
    ),
    "unknown scorer": Bad(
        suite=GOOD_SUITE.replace("  - exact\n", "  - exactt\n"),
        where="suite.yaml:4", mentions=("scorers[0]", "'exactt'", "known: exact, includes"),
    ),
    "option of the wrong type": Bad(
        suite=GOOD_SUITE.replace("{labels: [billing, technical]}", "{labels: billing}"),
        where="suite.yaml:5", mentions=("scorers[1].classify.labels", "list"),
    ),
    "label list with duplicates": Bad(
        suite=GOOD_SUITE.replace("[billing, technical]", "[billing, technical, billing]"),
        where="suite.yaml:5", mentions=("labels", "'billing'", "twice"),
    ),
    "JSONL line that is not JSON": Bad(
        files={"test.jsonl": _jsonl(CHAT_ROW, '{"messages": [}')},
        where="test.jsonl:2", mentions=("JSON",),
    ),
    "line without messages": Bad(
        files={"test.jsonl": _jsonl(CHAT_ROW, {"conversation": []})},
        where="test.jsonl:2", mentions=("messages",),
    ),
    "conversation with no assistant reference": Bad(
        files={"test.jsonl": _jsonl(
            CHAT_ROW,
            {"messages": [{"role": "user", "content": "hi"},
                          {"role": "assistant", "content": "billing", "weight": 0}]},
        )},
        where="test.jsonl:2", mentions=("messages", "assistant"),
    ),
    "empty data": Bad(files={"test.jsonl": "\n"}, where="test.jsonl", mentions=("no cases",)),
    "duplicate ids": Bad(
        files={"test.jsonl": _jsonl({**CHAT_ROW, "id": "a"}, {**CHAT_ROW, "id": "a"})},
        where="test.jsonl:2", mentions=("id", "'a'", "line 1"),
    ),
    "CSV mapping naming a missing column": Bad(
        suite=GOOD_SUITE.replace(
            "data: test.jsonl", "data: {path: test.csv, columns: {input: question, expected: label}}"
        ),
        files={"test.csv": "question,answer\nhi,billing\n"},
        where="suite.yaml:2", mentions=("label", "question, answer"),
    ),
    "reference that is not a label": Bad(
        files={"test.jsonl": _jsonl(
            CHAT_ROW,
            {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "refund"}]},
        )},
        where="test.jsonl:2", mentions=("'refund'", "billing, technical"),
    ),
    "gate rule on a misspelt aggregate": Bad(
        suite=GOOD_SUITE + "gate:\n  - {target: m, metric: classify.macro_f11, min: 0.5}\n",
        where="suite.yaml:7", mentions=("gate[0].metric", "did you mean 'classify.macro_f1'?"),
    ),
    "gate rule on a scorer the suite does not have": Bad(
        suite=GOOD_SUITE + "gate:\n  - target: m\n    metric: judge.pass_rate\n    min: 0.5\n",
        where="suite.yaml:8", mentions=("gate[0].metric", "names no scorer", "known: classify, error_rate, exact"),
    ),
    "missing suite file": Bad(suite="", files={}, where="suite.yaml", mentions=("not found",)),
    "suite that is not a mapping": Bad(suite="- just\n- a list\n", where="suite.yaml", mentions=("mapping",)),
}


def _write(tmp_path: Path, bad: Bad) -> Path:
    suite = tmp_path / "suite.yaml"
    if bad.suite:
        suite.write_text(bad.suite)
    for name, text in bad.files.items():
        (tmp_path / name).write_text(text)
    return suite


@pytest.mark.parametrize("kind", list(CASES))
def test_bad_input_gives_one_located_line_and_exit_2(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = CASES[kind]
    suite = _write(tmp_path, bad)
    monkeypatch.chdir(tmp_path)

    for command in (["validate", suite.name], ["run", suite.name, "--model", "m=gpt-4o-mini", "--quiet"]):
        code = main(command)
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert code == 2, f"{command}: {captured.err}"
        assert len(lines) == 1, captured.err
        message = lines[0].removeprefix("evalkit: error: ")
        assert message.startswith(bad.where), message
        for fragment in bad.mentions:
            assert fragment in message, f"{fragment!r} not in {message!r}"
        assert "Traceback" not in captured.err + captured.out


def test_bad_input_through_the_installed_command(tmp_path: Path) -> None:
    """The console script itself exits 2 with one line (no traceback) — what a CI job sees."""
    suite = _write(tmp_path, CASES["unknown scorer"])
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit", "validate", str(suite)], check=False, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "scorer 'exactt' is unknown" in proc.stderr


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "s.yaml", "--model", "no-equals-sign"], "NAME="),
        (["run", "s.yaml", "--concurrency", "0"], "--concurrency"),
        (["run", "s.yaml", "--model", "x=gpt-4o@assistants"], "@chat"),
    ],
)
def test_bad_flags_exit_2(
    argv: list[str], fragment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(GOOD_SUITE)
    (tmp_path / "test.jsonl").write_text(_jsonl(CHAT_ROW))
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_a_misspelt_gate_metric_stops_the_run_before_any_call(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = CASES["gate rule on a misspelt aggregate"]
    suite = _write(tmp_path, bad)
    code = main(["run", suite.name, "--model", "m=gpt-4o-mini", "--model", "base=gpt-4o", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "did you mean 'classify.macro_f1'?" in err
    assert fake_openai.requests == []  # not one model call was made (nor paid for)


def test_an_out_folder_that_cannot_be_written_stops_before_any_call(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    suite = _write(tmp_path, Bad())
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    code = main(["run", suite.name, "--model", "m=gpt-4o-mini", "--quiet", "--out", "notes.txt/run1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.strip() == "evalkit: error: --out: cannot write the outputs into notes.txt/run1: notes.txt is a file"
    assert fake_openai.requests == []


def test_outputs_that_fail_to_write_after_the_calls_lose_nothing(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    """Through the installed command (its analysis runs in the sidecar): one line, exit 2, and the answers
    are in the cache, so the run again into a good folder makes no call."""
    suite = _write(tmp_path, Bad())
    (tmp_path / "out" / "report.html").mkdir(parents=True)  # a folder where the report must go
    command = [sys.executable, "-m", "evalkit", "run", str(suite), "--model", "m=gpt-4o-mini", "--quiet"]
    failed = subprocess.run([*command, "--out", str(tmp_path / "out")], capture_output=True, text=True,
                            timeout=120, check=False)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr, failed.stderr
    assert failed.stderr.startswith(f"evalkit: error: --out: cannot write the outputs into {tmp_path / 'out'}: ")
    assert failed.stderr.count("\n") == 1
    calls = len(fake_openai.requests)
    assert fake_openai.count(endpoint="chat") == 1  # beside it, gpt-4o-mini's model record
    again = subprocess.run([*command, "--out", str(tmp_path / "good")], capture_output=True, text=True,
                           timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert len(fake_openai.requests) == calls and (tmp_path / "good" / "results.json").is_file()
