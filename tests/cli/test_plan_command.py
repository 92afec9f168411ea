"""``evalkit plan``: the cases a suite needs to detect a given Δ with 80% power — from a saved run (the
real ``evalkit run`` against the fake OpenAI, whose results.json carries each comparison's mde) or from
stated rates — and bad input as one line, exit 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fakeopenai import FakeOpenAI, FakeRequest

from evalkit.analysis.power import Spread, cases_needed, independent_discordance, mde
from evalkit.cli import main

CASES = 40
SUITE = "name: plan-check\ncases:\n" + "".join(
    f'  - {{id: c{i}, input: "ticket {i}", expected: "{"yes" if i % 2 else "no"}"}}\n' for i in range(CASES)
) + """\
scorers:
  - exact
gate:
  - {target: candidate, metric: exact, versus: base, margin: 0.05}
  - {target: candidate, metric: exact, versus: base, superior: true, alpha: 0.01}
"""
BASE_WRONG = set(range(0, CASES, 3))  # 14 cases
CANDIDATE_WRONG = set(range(0, CASES, 5)) | {1}  # 9 cases: fixes 9 of the base's misses, breaks 4


def _answer(request: FakeRequest, wrong: set[int]) -> str:
    i = int(re.search(r"ticket (\d+)", request.last_user).group(1))  # type: ignore[union-attr]
    right = "yes" if i % 2 else "no"
    return ("no" if right == "yes" else "yes") if i in wrong else right


@pytest.fixture
def saved_run(fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real run of 40 cases, base against candidate, gated: its results.json."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite.yaml").write_text(SUITE)
    fake_openai.add_model("ft:gpt-4o-mini:acme::cand")
    fake_openai.script("gpt-4o-mini", lambda request: _answer(request, BASE_WRONG))
    fake_openai.script("ft:gpt-4o-mini:acme::cand", lambda request: _answer(request, CANDIDATE_WRONG))
    code = main(
        [
            "run", "suite.yaml", "--model", "base=gpt-4o-mini",
            "--model", "candidate=ft:gpt-4o-mini:acme::cand", "--quiet", "--out", "out",
        ]
    )
    assert code in (0, 1)
    return tmp_path / "out" / "results.json"


def _plan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["plan", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_run_records_each_comparisons_mde_and_warns_of_a_margin_it_cannot_resolve(
    saved_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    document = json.loads(saved_run.read_text())
    (comparison,) = [c for c in document["comparisons"] if c["metric"] == "exact"]
    disagree = len(BASE_WRONG ^ CANDIDATE_WRONG) / CASES
    # the strictest level a rule tests it at: the superiority rule's 0.01
    assert comparison["mde"] == pytest.approx(mde(Spread(CASES, discordance=disagree), alpha=0.01))
    (warning,) = document["gate"]["warnings"]
    assert warning.startswith("gate[0] (candidate exact vs base non-inferior (margin 0.05)): candidate: ")
    assert "margin 0.05 is below what 40 cases can resolve" in document["gate"]["rules"][0]["reason"]
    summary = (saved_run.parent / "summary.md").read_text()
    assert f"| {comparison['mde']:.3f} |" in summary and "- ⚠️ gate\\[0\\]" in summary


def test_plan_from_a_saved_run_prints_a_row_per_comparison(
    saved_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code, out, err = _plan(capsys, str(saved_run), "--delta", "0.1")
    assert (code, err) == (0, "")
    disagree = len(BASE_WRONG ^ CANDIDATE_WRONG) / CASES
    row = next(line for line in out.splitlines() if line.split()[:3] == ["candidate", "base", "exact"])
    expected_mde = mde(Spread(CASES, discordance=disagree), alpha=0.01)
    needed = cases_needed(0.1, discordance=disagree, alpha=0.01)
    assert row.split()[3:] == [
        "exact", "McNemar", "0.01", "40", f"{disagree:.1%}", "disagree", f"{expected_mde:.3f}", f"{needed:,}"
    ]
    assert "cases for Δ 0.1" in out and "α: two-sided, the level the run's gate tests" in out

    code, out, _ = _plan(capsys, str(saved_run), "--delta", "0.1", "--metric", "exact", "--alpha", "0.05")
    assert code == 0 and "α: 0.05 (--alpha)" in out
    assert out.splitlines()[3].endswith(f" {cases_needed(0.1, discordance=disagree):,}")
    assert len([line for line in out.splitlines() if line.startswith("candidate")]) == 1


def test_plan_from_stated_rates() -> None:
    out = _run_plan("--delta", "0.05", "--discordance", "0.15")
    assert out == (
        "To detect a true Δ of 0.05 with 80% power at two-sided α 0.05 by exact McNemar (0/1 scores), the "
        f"models disagreeing on 15.0% of cases: {cases_needed(0.05, discordance=0.15):,} cases.\n"
    )
    disagree = independent_discordance(0.80, 0.85)
    out = _run_plan("--rates", "0.80,0.85")
    assert f"disagree on {disagree:.1%} of cases" in out and "independent errors" in out
    assert out.endswith(f": {cases_needed(0.05, discordance=disagree):,} cases.\n")
    out = _run_plan("--delta", "0.1", "--sd", "0.3", "--alpha", "0.01", "--power", "0.9")
    assert "with 90% power at two-sided α 0.01" in out
    assert out.endswith(f": {cases_needed(0.1, sd=0.3, alpha=0.01, power=0.9):,} cases.\n")


def _run_plan(*argv: str) -> str:
    """``evalkit plan`` as a user runs it: its own process; stdout when it exits 0."""
    proc = _subprocess(*argv)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    return proc.stdout


def _subprocess(*argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "evalkit", "plan", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--delta", "abc", "--sd", "0.3"], "--delta: expected a number above 0, got 'abc'"),
        (["--delta", "0", "--sd", "0.3"], "--delta: expected a number above 0, got 0"),
        (["--delta", "0.05"], "give a saved run's results.json, or one of --discordance"),
        (["--sd", "0.3"], "--delta: give --delta, the true difference to detect"),
        (["--delta", "0.05", "--sd", "0.3", "--discordance", "0.1"], "got --discordance and --sd"),
        (["--delta", "0.2", "--discordance", "0.15"], "--delta: a difference of 0.2 needs the models to"),
        (["--delta", "1.5", "--discordance", "0.15"], "--delta: expected a number in (0, 1], got 1.5"),
        (["--rates", "0.8"], "--rates: expected two accuracies A,B"),
        (["--rates", "0.8,1.2"], "--rates: expected a number in [0, 1], got 1.2"),
        (["--rates", "0.8,0.8"], "--rates: the two accuracies are equal: give --delta"),
        (["--delta", "0.05", "--sd", "0.3", "--alpha", "1.5"], "--alpha: expected a number in (0, 1)"),
        (["--delta", "0.05", "--sd", "0.3", "--power", "1"], "--power: expected a number in (0, 1)"),
        (["--delta", "0.05", "--sd", "0.3", "--target", "final"], "--target: --target picks comparisons"),
        (["missing.json", "--delta", "0.05"], "missing.json: no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], fragment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _plan(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("evalkit: error: ") and fragment in err, err


def test_bad_picks_and_mixed_forms_on_a_saved_run(
    saved_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    for argv, fragment in [
        (["--delta", "0.1", "--target", "candidat"], "--target: no comparison with target 'candidat'"),
        (["--delta", "0.1", "--sd", "0.3"], "give RESULTS or stated rates, not both (--sd with a results"),
        ([], "--delta: give --delta"),
    ]:
        code, out, err = _plan(capsys, str(saved_run), *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and fragment in err, err
    (saved_run.parent / "broken.json").write_text("{not json")
    code, _, err = _plan(capsys, str(saved_run.parent / "broken.json"), "--delta", "0.1")
    assert code == 2 and err.count("\n") == 1 and "broken.json" in err


def test_help_says_both_forms() -> None:
    proc = _subprocess("--help")
    assert proc.returncode == 0
    flags = ("--delta", "--discordance", "--rates", "--sd", "--alpha", "--power")
    for fragment in ("RESULTS", *flags, "80% power"):
        assert fragment in proc.stdout
