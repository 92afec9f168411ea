"""Retiring models, through the real CLI in-process against the fake OpenAI: each target's shutdown date (a
fine-tune's from its base) in results.json and on every display, a warning within 60 days of it or after it,
one read of each model record a day, a model past its date called "shut down", never "not found".

Today is 2026-12-03 (``evalkit.targets.lifecycle.today`` fixed); the fake's model records announce the
dates (``fixtures.lifecycle.announce``, its ``set_shutdown``).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import FakeOpenAI, FakeRequest
from fixtures.lifecycle import announce, model_reads

from evalkit.cli import main
from evalkit.providers import lifecycle as records
from evalkit.targets import lifecycle

TODAY = date(2026, 12, 3)
FT = "ft:gpt-4o-mini:acme:triage:7p4lURel"
GONE = "ft:gpt-3.5-turbo:acme::old1"
JOB, JOB_BASE = "ftjob-retiring1", "gpt-4o-mini-2024-07-18"
ADVICE = "(see README: Migrating off a retiring fine-tune)"
SUITE = """\
name: retiring
cases:
  - {id: a, input: "Card charged twice", expected: billing}
  - {id: b, input: "App crashes on start", expected: technical}
scorers:
  - classify: {labels: [billing, technical]}
"""
TARGETS = ["--model", "base=gpt-4o-mini", "--model", f"final={FT}", "--model", "big=gpt-4o"]


def _first_word(request: FakeRequest) -> str:
    return "billing" if "charged" in request.last_user else "technical"


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lifecycle, "today", lambda: TODAY)
    fake_openai.script("*", _first_word)
    path = tmp_path / "retiring.yaml"
    path.write_text(SUITE)
    return path


def _run(suite: Path, *flags: str, out: str = "out") -> tuple[int, dict[str, Any]]:
    code = main(["run", str(suite), *flags, "--quiet", "--out", out])
    return code, json.loads((suite.parent / out / "results.json").read_text())


def _retiring(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    """gpt-4o-mini (and so its fine-tune) in 42 days; gpt-4o in 61, past the warning's 60."""
    fake.add_model(FT)
    announce(fake, {"gpt-4o-mini": "2027-01-14", "gpt-4o": "2027-02-02"})


def test_dates_recorded_and_warned_about_within_60_days(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _retiring(fake_openai, monkeypatch)

    code, results = _run(suite, *TARGETS)

    assert code == 0
    dates = {t["name"]: (t.get("shutdown_date"), t.get("shutdown_from")) for t in results["targets"]}
    assert dates == {
        "base": ("2027-01-14", None),
        "final": ("2027-01-14", "gpt-4o-mini"),  # a fine-tune dies with its base
        "big": ("2027-02-02", None),
    }
    expected = [
        f"target 'base' (gpt-4o-mini) shuts down on 2027-01-14, in 42 days: snapshot its answers now {ADVICE}",
        (
            f"target 'final' ({FT}) shuts down on 2027-01-14, in 42 days, with its base gpt-4o-mini: snapshot "
            f"its answers now {ADVICE}"
        ),
    ]  # none for 'big': 61 days away
    assert [w for w in results["warnings"] if "shut" in w] == expected
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "shut" in line] == [f"evalkit: warning: {w}" for w in expected]


def test_dates_shown_on_the_terminal_summary_md_and_report_manifest(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _retiring(fake_openai, monkeypatch)

    _run(suite, *TARGETS)

    out = capsys.readouterr().out
    assert "shuts down" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert "2027-01-14 (its base gpt-4o-mini)" in rows["final"]
    assert rows["base"].rstrip(" │").endswith("2027-01-14") and rows["big"].rstrip(" │").endswith("2027-02-02")

    summary = (suite.parent / "out" / "summary.md").read_text()
    header = next(line for line in summary.splitlines() if line.startswith("| target |"))
    assert header.endswith("| shuts down |")
    assert any(line.startswith("| final |") and line.endswith("| 2027-01-14 (its base gpt-4o-mini) |")
               for line in summary.splitlines())

    html = (suite.parent / "out" / "report.html").read_text()
    manifest = html[html.index('<section id="manifest">'):]
    manifest = manifest[: manifest.index("</section>")]
    assert "<th>shuts down</th>" in manifest
    cells = re.findall(r'<td class="shutdown"><bdi>(.*?)</bdi></td>', manifest)
    assert cells == ["2027-01-14", "2027-01-14 (its base gpt-4o-mini)", "2027-02-02"]


def test_no_date_announced_no_column_no_warning(
    fake_openai: FakeOpenAI, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, results = _run(suite, "--model", "base=gpt-4o-mini")

    assert code == 0
    assert "shutdown_date" not in results["targets"][0] and results["warnings"] == []
    assert model_reads(fake_openai) == ["gpt-4o-mini"]  # asked, and nothing was announced
    assert "shuts down" not in capsys.readouterr().out
    assert "shuts down" not in (suite.parent / "out" / "summary.md").read_text()


def test_each_model_record_is_read_once_a_day(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _retiring(fake_openai, monkeypatch)
    _run(suite, *TARGETS, out="first")
    assert sorted(model_reads(fake_openai)) == sorted(["gpt-4o-mini", FT, "gpt-4o"])  # the base once

    _run(suite, *TARGETS, "--no-cache", out="second")  # calls again, but the records are a day's

    assert sorted(model_reads(fake_openai)) == sorted(["gpt-4o-mini", FT, "gpt-4o"])
    second = json.loads((suite.parent / "second" / "results.json").read_text())
    assert second["targets"][1]["shutdown_from"] == "gpt-4o-mini"


def test_a_model_past_its_date_was_shut_down_not_missing(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GONE is not served: its calls and its own record answer 404 model_not_found; its base had a date.
    announce(fake_openai, {"gpt-3.5-turbo": "2026-10-23"})

    code, results = _run(suite, "--model", "base=gpt-4o-mini", "--model", f"old={GONE}", "--wait-for-model", "0")

    assert code == 2  # a target with no answer: the run cannot be judged
    old = results["targets"][1]
    assert (old["shutdown_date"], old["shutdown_from"]) == ("2026-10-23", "gpt-3.5-turbo")
    (error,) = {case["results"]["old"]["error"] for case in results["cases"]}
    assert error == (
        f"model '{GONE}' was shut down on 2026-10-23 (its base gpt-3.5-turbo) and is no longer served by "
        f"{fake_openai.url} {ADVICE}"
    )
    warning = (
        f"target 'old' ({GONE}) was shut down on 2026-10-23, 41 days ago, with its base gpt-3.5-turbo: only "
        f"answers cached before then can be evaluated {ADVICE}"
    )
    assert results["warnings"][0] == warning
    err = capsys.readouterr().err
    assert f"evalkit: warning: {warning}" in err
    assert "does not exist" not in err and "was not found" not in err


def test_a_model_before_its_date_that_is_missing_is_not_found(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    announce(fake_openai, {"gpt-3.5-turbo": "2027-01-20"})

    _, results = _run(suite, "--model", "base=gpt-4o-mini", "--model", f"old={GONE}", "--wait-for-model", "0")

    (error,) = {case["results"]["old"]["error"] for case in results["cases"]}
    assert error.startswith(f"model '{GONE}' was not found by") and "shut down" not in error


def test_records_that_cannot_be_read_leave_the_run_alone(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(client: object, model_id: str) -> date | None:
        raise ValueError(f"shutdown_date of {model_id} is 'soon'")

    monkeypatch.setattr(records, "read_shutdown_date", broken)
    caplog.set_level("DEBUG", logger=records.__name__)

    code, results = _run(suite, *TARGETS[:2])

    assert code == 0 and results["warnings"] == []
    assert all("shutdown_date" not in t for t in results["targets"])
    assert len([r for r in caplog.records if r.name == records.__name__]) == 1


def test_targets_command_shows_each_targets_date_and_warns(
    fake_openai: FakeOpenAI, suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.add_job(JOB, model=JOB_BASE, checkpoint_steps=(10, 20))
    final = f"ft:{JOB_BASE}:acme::{JOB[-8:]}"
    announce(fake_openai, {JOB_BASE: "2027-01-14"})

    assert main(["targets", "--job", JOB]) == 0

    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert "shuts down" in out and set(rows) == {"base", "step-10", "step-20", "final"}
    assert rows["base"].rstrip(" │").endswith("2027-01-14")
    for name in ("step-10", "step-20", "final"):
        assert rows[name].rstrip(" │").endswith(f"2027-01-14 (its base {JOB_BASE})")
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 4
    assert warnings[-1] == (
        f"warning: target 'final' ({final}) shuts down on 2027-01-14, in 42 days, with its base {JOB_BASE}: "
        f"snapshot its answers now {ADVICE}"
    )
