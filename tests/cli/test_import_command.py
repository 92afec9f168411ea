"""The import round trip through the real CLI: ``evalkit import openai-eval`` on an eval, its items, a run
and its output items as OpenAI's API returned them → ``evalkit validate`` → ``evalkit run`` against the fake
OpenAI server, where the new model answers and the run's model, since gone with the platform, is
replayed from its output items with no call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakeopenai import FakeOpenAI, FakeRequest
from fixtures.openai_evals import (
    ANSWERS,
    ITEMS,
    LOCAL_CRITERIA,
    MODEL,
    RUN_ID,
    eval_object,
    output_page,
    run_object,
    write_items,
    write_json,
)

from evalkit.cli import main

NEW = "gpt-4o-mini"
IMPORT = [
    "import", "openai-eval", "eval.json", "--data", "items.jsonl", "--run", "run.json",
    "--output-items", "out.json", "--out", "suites/triage.yaml",
]  # fmt: skip


def _new_model(request: FakeRequest) -> str:
    """The replacement: right on every ticket."""
    ticket = request.last_user
    return next(item["label"] for item in ITEMS if item["ticket"] == ticket)


@pytest.fixture
def imported(fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """The eval imported into suites/triage.yaml (criteria scored without a model call)."""
    monkeypatch.chdir(tmp_path)
    write_json(Path("eval.json"), eval_object(LOCAL_CRITERIA))
    write_json(Path("run.json"), run_object())
    write_json(Path("out.json"), output_page(LOCAL_CRITERIA))
    write_items(Path("items.jsonl"))
    assert main(IMPORT) == 0
    fake_openai.script(NEW, _new_model)
    return fake_openai


def _run_new_and_replayed(
    server: FakeOpenAI, suite: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    """Validate ``suite``, run it with ``new`` beside its replayed target; results.json, checked for what
    both must show: the new model asked every case, the replayed one none."""
    assert main(["validate", suite]) == 0, capsys.readouterr().err
    assert f"targets: {MODEL}=run:runs/" in capsys.readouterr().out
    before = len(server.requests)
    code = main(["run", suite, "--model", f"new={NEW}", "--out", "report", "--quiet", "--max-attempts", "1"])
    assert code == 0, capsys.readouterr().err
    assert [r.model for r in server.requests[before:] if r.endpoint is not None] == [NEW] * len(ITEMS)
    results: dict[str, Any] = json.loads(Path("report/results.json").read_text(encoding="utf-8"))
    assert [t["name"] for t in results["targets"]] == [MODEL, "new"]
    replayed = results["targets"][0]
    assert replayed["replayed_from"]["model"] == MODEL
    assert results["usage"][MODEL]["calls"] == 0 and results["usage"][MODEL]["cached"] == len(ITEMS)
    assert [case["results"][MODEL]["output"] for case in results["cases"]] == ANSWERS
    assert results["metrics"][MODEL]["error_rate"]["value"] == 0.25  # the answer the platform failed to get
    return results


def test_an_imported_eval_runs_its_criteria_beside_the_replayed_run(
    imported: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _run_new_and_replayed(imported, "suites/triage.yaml", capsys)
    assert [(s["kind"], s["name"]) for s in results["scorers"]] == [
        ("grader", "right_queue"),
        ("grader", "close_to_the_queue"),
    ]
    replayed, new = results["metrics"][MODEL], results["metrics"]["new"]
    assert new["right_queue"]["value"] == 1.0 and new["close_to_the_queue.pass_rate"]["value"] == 1.0
    # The same numbers before and after the move: evalkit's graders on the replayed answers, OpenAI's then.
    then = json.loads(Path(f"suites/runs/triage-{RUN_ID}/results.json").read_text(encoding="utf-8"))
    for metric in ("right_queue", "close_to_the_queue.pass_rate"):
        assert replayed[metric]["value"] == then["metrics"][MODEL][metric]["value"] == pytest.approx(2 / 3)

    gated = Path("suites/triage.yaml").read_text(encoding="utf-8") + (
        f"gate:\n  - {{target: new, metric: right_queue, versus: {MODEL}, margin: 0.02}}\n"
    )  # the README's rule
    Path("suites/gated.yaml").write_text(gated, encoding="utf-8")
    code = main(["run", "suites/gated.yaml", "--model", f"new={NEW}", "--out", "gated", "--quiet"])
    assert code == 0, capsys.readouterr().err


def test_the_imported_data_and_replayed_run_work_with_evalkits_own_scorers(
    imported: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    document = yaml.safe_load(Path("suites/triage.yaml").read_text(encoding="utf-8"))
    document["scorers"] = ["exact"]  # the items' label is each case's reference
    document["gate"] = [{"target": "new", "metric": "exact", "versus": MODEL, "margin": 0.0}]
    Path("suites/triage-exact.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    results = _run_new_and_replayed(imported, "suites/triage-exact.yaml", capsys)
    assert results["metrics"]["new"]["exact"]["value"] == 1.0
    assert results["metrics"][MODEL]["exact"]["value"] == pytest.approx(2 / 3)  # OpenAI's own: 2 of 3 passed
    [flip] = [
        f for f in results["flips"] if (f["target"], f["versus"], f["scorer"]) == ("new", MODEL, "exact")
    ]
    assert flip["fixed_ids"] == ["2"] and results["gate"]["verdict"] == "go"


def test_the_import_says_what_it_wrote_and_what_to_run_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_json(Path("eval.json"), eval_object(LOCAL_CRITERIA))
    write_json(Path("run.json"), run_object())
    write_json(Path("out.json"), output_page(LOCAL_CRITERIA))
    write_items(Path("items.jsonl"))
    assert main(IMPORT) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "wrote suites/triage.yaml: the suite 'ticket-triage'",
        "wrote suites/data/triage.jsonl: 4 cases",
        (
            f"wrote suites/runs/triage-{RUN_ID}/results.json: OpenAI's answers and scores, replayed "
            f"as target {MODEL}"
        ),
    ]
    assert "'Right queue' (right_queue) passed 2 of 3 (67%)" in out[3]
    assert (
        out[4]
        == "next: evalkit validate suites/triage.yaml && evalkit run suites/triage.yaml --model new=MODEL_ID"
    )

    assert main(IMPORT) == 2  # a second import: nothing overwritten
    err = capsys.readouterr().err
    assert err == (
        "evalkit: error: --out: suites/triage.yaml exists; give --force to overwrite it (or another --out)\n"
    )
    assert main([*IMPORT, "--force"]) == 0


def test_an_eval_it_cannot_import_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    document = eval_object(LOCAL_CRITERIA)
    document["data_source_config"]["type"] = "responses"
    write_json(Path("eval.json"), document)
    write_items(Path("items.jsonl"))
    assert main(["import", "openai-eval", "eval.json", "--data", "items.jsonl"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("evalkit: error: eval.json: data_source_config.type:")
    assert not Path("suites").exists()
