"""A saved run stands in for a retired model, through the real CLI against the fake OpenAI server.

``--model prod=run:first/results.json#candidate`` (or ``run:`` in the suite's ``targets:``) replays the
answers a first run saved: no call is made for prod, its answers are scored afresh, and it is compared,
gated and shown like a live model. A saved run that cannot stand in is refused before any call, in one line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fakeopenai import ApiError, FakeOpenAI, FakeRequest

from evalkit.cli import main

TINY = """\
name: tiny
cases:
  - {id: a, input: "Card charged twice", expected: billing}
  - {id: b, input: "App crashes on start", expected: technical}
  - {id: c, input: "Where is my refund?", expected: billing}
  - {id: d, input: "Refused ticket", expected: billing}
scorers:
  - exact
  - classify: {labels: [billing, technical]}
"""
VERSUS_PROD = "gate:\n  - {target: new, metric: classify.accuracy, versus: prod, margin: 0.1}\n"
RETIRED = "gpt-4o-mini"
"""The model the first run called (standing for a fine-tune since shut down)."""
REPLACEMENT = "gpt-4o"


def _retired(request: FakeRequest) -> str:
    if "Refused" in request.last_user:
        raise ApiError(400, "Invalid prompt: this ticket was refused", code="invalid_prompt")
    return "billing"  # wrong on b


def _replacement(request: FakeRequest) -> str:
    return "technical" if "crashes" in request.last_user else "billing"


def _results(out: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(out, "results.json").read_text(encoding="utf-8"))
    return document


def _run(suite: str, *flags: str) -> int:
    return main(["run", suite, "--quiet", "--max-attempts", "1", *flags])


@pytest.fixture
def first(fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """A first run of the suite, its answers saved in first/results.json (target ``candidate``, which
    failed on case d)."""
    monkeypatch.chdir(tmp_path)
    Path("tiny.yaml").write_text(TINY)
    Path("gated.yaml").write_text(TINY + VERSUS_PROD)
    fake_openai.script(RETIRED, _retired)
    fake_openai.script(REPLACEMENT, _replacement)
    assert _run("tiny.yaml", "--model", f"candidate={RETIRED}", "--out", "first") == 0
    assert _results("first")["cases"][3]["results"]["candidate"]["error"] is not None
    return fake_openai


def _models_called(server: FakeOpenAI, since: int) -> list[str | None]:
    return [r.model for r in server.requests[since:] if r.endpoint is not None]


def _report_cases(out: str) -> dict[str, Any]:
    page = Path(out, "report.html").read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="evalkit-cases">(.*?)</script>', page, re.DOTALL)
    assert match is not None
    document: dict[str, Any] = json.loads(match.group(1))
    return document


def test_a_saved_run_stands_in_for_a_retired_model_with_no_call(
    first: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(first.requests)
    code = _run(
        "gated.yaml", "--model", "prod=run:first/results.json#candidate", "--model", f"new={REPLACEMENT}",
        "--out", "second", "--no-cache",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert _models_called(first, before) == [REPLACEMENT] * 4  # nothing asked of the retired model

    saved, now = _results("first"), _results("second")
    prod = next(t for t in now["targets"] if t["name"] == "prod")
    assert prod["model"] == "run:first/results.json#candidate" and prod["endpoint"] == "chat"
    assert prod["replayed_from"] == {"file": "first/results.json", "target": "candidate", "model": RETIRED}
    assert now["metrics"]["prod"] == saved["metrics"]["candidate"]  # scored afresh, to the same figures
    assert now["metrics"]["prod"]["error_rate"]["value"] == 0.25

    answers = {case["id"]: case["results"]["prod"] for case in now["cases"]}
    then = {case["id"]: case["results"]["candidate"] for case in saved["cases"]}
    assert answers["a"]["output"] == "billing" and answers["a"]["usage"] == then["a"]["usage"]
    assert answers["a"]["latency_s"] == then["a"]["latency_s"] and answers["a"]["cached"] is True
    assert (
        answers["d"]["output"] is None and answers["d"]["error"] == then["d"]["error"]
    )  # replayed as failed
    usage = now["usage"]["prod"]
    assert (usage["calls"], usage["cached"], usage["errors"], usage["cost_usd"]) == (0, 4, 1, None)

    [rule] = now["gate"]["rules"]
    assert rule["passed"] and rule["checks"][0]["versus"] == "prod" and now["gate"]["verdict"] == "go"
    flips = [f for f in now["flips"] if (f["target"], f["versus"], f["scorer"]) == ("new", "prod", "exact")]
    assert flips and flips[0]["fixed_ids"] == ["b"]

    page = _report_cases("second")
    assert page["targets"] == ["prod", "new"]
    b = next(case for case in page["cases"] if case["id"] == "b")
    assert [result["out"] for result in b["res"]] == ["billing", "technical"]  # side by side
    assert (
        "(the answers of <code><bdi>gpt-4o-mini</bdi></code>, replayed)"
        in Path("second/report.html").read_text()
    )


def test_a_replayed_target_named_base_is_the_base_of_the_comparisons(first: FakeOpenAI) -> None:
    code = _run("tiny.yaml", "--model", "base=run:first/results.json#candidate", "--model", f"new={REPLACEMENT}",
                "--out", "second")  # fmt: skip
    assert code == 0
    now = _results("second")
    assert next(t for t in now["targets"] if t["name"] == "base")["role"] == "base"
    assert {(c["target"], c["versus"]) for c in now["comparisons"]} == {("new", "base")}


def test_a_run_of_replayed_targets_alone_needs_no_service(
    first: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    before = len(first.requests)
    assert _run("tiny.yaml", "--model", "prod=run:first/results.json#candidate", "--out", "second") == 0
    assert len(first.requests) == before


def test_the_suite_names_a_saved_run_relative_to_itself(
    first: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("suites").mkdir()
    Path("suites/gated.yaml").write_text(
        TINY + "targets:\n  prod: run:../first/results.json#candidate\n  new: gpt-4o\n" + VERSUS_PROD
    )
    assert main(["validate", "suites/gated.yaml"]) == 0
    assert "targets: prod=run:../first/results.json#candidate, new=gpt-4o" in capsys.readouterr().out
    before = len(first.requests)
    assert _run("suites/gated.yaml", "--out", "second") == 0
    assert _models_called(first, before) == [REPLACEMENT] * 4
    assert _results("second")["targets"][0]["replayed_from"]["file"] == "first/results.json"


def test_allow_changed_replays_answers_made_with_other_settings_and_says_so(
    first: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    warm = TINY + "generation: {temperature: 0.5}\n"
    Path("warm.yaml").write_text(
        warm + "targets:\n  prod: {run: first/results.json#candidate, allow_changed: true}\n"
    )
    assert _run("warm.yaml", "--out", "second") == 0
    warning = (
        "evalkit: warning: target prod replays run:first/results.json#candidate although the saved run was made "
        "with other generation settings (temperature 0.0 there, 0.5 here) (allowed by allow_changed)\n"
    )
    assert warning in capsys.readouterr().err
    assert (
        _run("warm.yaml", "--model", "prod=run:first/results.json#candidate?allow_changed", "--out", "third")
        == 0
    )


REFUSALS = {
    "missing cases": (
        TINY.replace("scorers:", '  - {id: e, input: "New ticket", expected: billing}\nscorers:'),
        "run:first/results.json#candidate",
        (
            "evalkit: error: --model: run:first/results.json#candidate: the saved run lacks 1 of this run's 5 cases "
            "(ids e); it cannot stand in for a model on cases it never answered"
        ),
    ),
    "changed input": (
        TINY.replace("App crashes on start", "App freezes on start"),
        "run:first/results.json#candidate",
        (
            "evalkit: error: --model: run:first/results.json#candidate: 1 of this run's 4 cases were asked differently "
            "there (ids b): its answers may not be comparable — add ?allow_changed to replay them anyway"
        ),
    ),
    "changed generation settings": (
        TINY + "generation: {temperature: 0.5, max_tokens: 16}\n",
        "run:first/results.json#candidate",
        (
            "evalkit: error: --model: run:first/results.json#candidate: the saved run was made with other generation "
            "settings (max_tokens 256 there, 16 here; temperature 0.0 there, 0.5 here): its answers may not be "
            "comparable — add ?allow_changed to replay them anyway"
        ),
    ),
    "unknown target": (
        TINY,
        "run:first/results.json#final",
        (
            "evalkit: error: --model: run:first/results.json#final: the saved run first/results.json has no target "
            "'final' (its targets: candidate)"
        ),
    ),
    "not a results.json": (
        TINY,
        "run:tiny.yaml#candidate",
        "evalkit: error: --model: run:tiny.yaml#candidate: tiny.yaml:1: not valid JSON: Expecting value (column 1)",
    ),
    "a JSON file of something else": (
        TINY,
        "run:notes.json#candidate",
        "evalkit: error: --model: run:notes.json#candidate: notes.json: 'evalkit_version' is a required property",
    ),
    "no such file": (
        TINY,
        "run:gone/results.json#candidate",
        (
            "evalkit: error: --model: run:gone/results.json#candidate: gone/results.json: no such file; expected the "
            "results.json of an evalkit run"
        ),
    ),
}


@pytest.mark.parametrize(("suite", "ref", "line"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_saved_run_that_cannot_stand_in_is_refused_before_any_call(
    first: FakeOpenAI, capsys: pytest.CaptureFixture[str], suite: str, ref: str, line: str
) -> None:
    Path("now.yaml").write_text(suite)
    Path("notes.json").write_text('{"notes": []}\n')
    capsys.readouterr()
    before = len(first.requests)
    assert _run("now.yaml", "--model", f"prod={ref}", "--model", f"new={REPLACEMENT}", "--out", "second") == 2
    assert capsys.readouterr().err == line + "\n"
    assert len(first.requests) == before
    assert not Path("second").exists()


def test_a_suite_target_that_cannot_stand_in_is_located_in_the_suite(
    first: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("now.yaml").write_text(TINY + "targets:\n  new: gpt-4o\n  prod: {run: first/results.json#cand}\n")
    capsys.readouterr()
    for command in (["validate", "now.yaml"], ["run", "now.yaml", "--quiet", "--out", "second"]):
        assert main(command) == 2
        assert capsys.readouterr().err == (
            "evalkit: error: now.yaml:12: targets.prod: run:first/results.json#cand: the saved run "
            "first/results.json has no target 'cand' (its targets: candidate)\n"
        )
