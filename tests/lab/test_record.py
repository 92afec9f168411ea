"""A local run's job record has OpenAI's shapes: the code that reads OpenAI jobs reads it as it is."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from fakeopenai.openapi import OpenAPISpec
from openai.types.fine_tuning import FineTuningJob
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint

from evalkit.errors import InputError
from evalkit.lab.record import JobFacts, write_record
from evalkit.targets.jobs import JobInfo, fetch_job, job_targets
from evalkit.targets.local_jobs import fetch_local_job, local_job_targets
from evalkit.targets.training import parse_result_file

HISTORY = [
    {"step": 1, "epoch": 0.5, "loss": 2.5, "mean_token_accuracy": 0.4, "learning_rate": 0.002},
    {"step": 2, "epoch": 1.0, "loss": 1.5, "mean_token_accuracy": 0.6},
    {"step": 2, "epoch": 1.0, "eval_loss": 1.7, "eval_mean_token_accuracy": 0.55},
    {"step": 3, "epoch": 1.5, "loss": 0.5, "mean_token_accuracy": 0.9},
    {"step": 4, "epoch": 2.0, "loss": 0.25, "mean_token_accuracy": 1.0},
    {"step": 4, "epoch": 2.0, "eval_loss": 0.8, "eval_mean_token_accuracy": 0.75},
    {"step": 4, "epoch": 2.0, "train_runtime": 9.1, "train_loss": 1.2},
]
TRAINING_ROW = {
    "messages": [
        {"role": "user", "content": "My parcel is lost."},
        {"role": "assistant", "content": "shipping"},
    ]
}


def facts(**changes: Any) -> JobFacts:
    values: dict[str, Any] = {
        "id": "ftjob-local-0123456789ab",
        "base": "local:smollm2-135m-instruct",
        "created_at": 1_750_000_000,
        "hyperparameters": {"n_epochs": 2, "batch_size": 4},
        "seed": 0,
        "metadata": {"evalkit_config": "abc"},
        "validation": True,
        "status": "succeeded",
        "finished_at": 1_750_000_100,
        "trained_tokens": 1234,
    }
    values.update(changes)
    return JobFacts(**values)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A finished local run: record, data and two checkpoint adapters (empty weights: never loaded)."""
    run = tmp_path / "runs" / "triage"
    for step in (2, 4):
        (run / f"checkpoint-{step}").mkdir(parents=True)
        config = {"peft_type": "LORA", "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct"}
        (run / f"checkpoint-{step}" / "adapter_config.json").write_text(json.dumps(config))
    (run / "training.jsonl").write_text(json.dumps(TRAINING_ROW) + "\n")
    (run / "validation.jsonl").write_text(json.dumps(TRAINING_ROW) + "\n")
    write_record(run, facts(), log_history=HISTORY, checkpoints=[(2, 1_750_000_050), (4, 1_750_000_090)])
    return run


def served_by_openai(run: Path) -> JobInfo:
    """``fetch_job`` — the code that reads OpenAI jobs — reading the run's record over OpenAI's API."""
    job = json.loads((run / "job.json").read_text())

    async def handle(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == f"/v1/fine_tuning/jobs/{job['id']}":
            return httpx2.Response(200, content=(run / "job.json").read_bytes())
        if path.endswith("/checkpoints"):
            return httpx2.Response(200, content=(run / "checkpoints.json").read_bytes())
        if path.endswith("/events"):
            return httpx2.Response(200, json={"object": "list", "data": [], "has_more": False})
        file = re.fullmatch(r"/v1/files/([^/]+)/content", path)
        if file:
            return httpx2.Response(200, content=(run / file.group(1)).read_bytes())
        return httpx2.Response(
            404, json={"error": {"message": f"no route {path}", "type": "invalid_request_error"}}
        )

    async def fetch() -> JobInfo:
        http = httpx2.AsyncClient(transport=httpx2.MockTransport(handle))
        client = openai.AsyncOpenAI(api_key="sk-test", base_url="http://openai.test/v1", http_client=http)
        async with client:
            return await fetch_job(client, job["id"])

    return asyncio.run(fetch())


def test_the_openai_job_reader_reads_a_local_run_like_fetch_local_job(run_dir: Path) -> None:
    remote = served_by_openai(run_dir)
    local = fetch_local_job(f"local:{run_dir}")

    assert remote.training == local.training
    assert remote.training_examples == local.training_examples
    assert remote.validation_examples == local.validation_examples
    assert (remote.id, remote.status, remote.hyperparameters) == (
        local.id,
        local.status,
        local.hyperparameters,
    )
    as_read = [(t.name, t.role, t.step, t.model) for t in job_targets(remote)]
    resolved = [(t.name, t.role, t.step, t.model) for t in local_job_targets(local)]
    absolute = f"local:{run_dir.resolve()}/"
    assert [
        (n, r, s, m.replace("local:", absolute) if "checkpoint" in m else m) for n, r, s, m in as_read
    ] == resolved
    assert [t[0] for t in resolved] == ["base", "step-2", "step-4", "final"]
    assert resolved[-1][3] == f"{absolute}checkpoint-4"


def test_the_record_validates_as_the_sdk_types(run_dir: Path) -> None:
    job = FineTuningJob.model_validate(json.loads((run_dir / "job.json").read_text()))
    page = json.loads((run_dir / "checkpoints.json").read_text())
    checkpoints = [FineTuningJobCheckpoint.model_validate(item) for item in page["data"]]

    assert (job.status, job.model, job.fine_tuned_model) == (
        "succeeded",
        "local:smollm2-135m-instruct",
        "local:checkpoint-4",
    )
    assert job.result_files == ["results.csv"] and job.training_file == "training.jsonl"
    assert [c.step_number for c in checkpoints] == [4, 2]  # newest first, as OpenAI lists them
    assert checkpoints[0].metrics.train_loss == 0.25
    assert checkpoints[0].metrics.full_valid_loss == 0.8


def test_the_record_follows_openais_api_spec(run_dir: Path, openai_spec: OpenAPISpec) -> None:
    openai_spec.check(json.loads((run_dir / "job.json").read_text()), "FineTuningJob")
    for item in json.loads((run_dir / "checkpoints.json").read_text())["data"]:
        openai_spec.check(item, "FineTuningJobCheckpoint")


def test_the_result_file_has_openais_columns(run_dir: Path) -> None:
    text = (run_dir / "results.csv").read_text()

    assert text.splitlines()[0].startswith(
        "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    )
    steps = parse_result_file(text)
    assert [(s["step"], s["train_loss"], s["train_mean_token_accuracy"]) for s in steps] == [
        (1, 2.5, 0.4),
        (2, 1.5, 0.6),
        (3, 0.5, 0.9),
        (4, 0.25, 1.0),
    ]
    assert steps[1]["full_valid_loss"] == 1.7


def test_a_run_is_relocatable(run_dir: Path, tmp_path: Path) -> None:
    moved = run_dir.rename(tmp_path / "elsewhere")

    job = fetch_local_job(f"local:{moved}")

    assert job.fine_tuned_model == f"local:{moved.resolve() / 'checkpoint-4'}"
    assert [c.model for c in job.checkpoints] == [
        f"local:{moved.resolve() / f'checkpoint-{s}'}" for s in (2, 4)
    ]


def test_an_interrupted_run_offers_the_checkpoints_it_saved(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoint-2").mkdir(parents=True)
    (run / "checkpoint-2" / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "smollm2-135m-instruct"})
    )
    write_record(run, facts(status="running", finished_at=None))

    job = fetch_local_job(f"local:{run}")

    assert [t.name for t in local_job_targets(job)] == ["base", "step-2"]
    assert any("the final model is not there yet" in w for w in job.warnings)


def test_a_failed_run_is_refused_with_its_error(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    write_record(run, facts(status="failed", error="RuntimeError: out of memory"))

    with pytest.raises(InputError, match="failed: RuntimeError: out of memory"):
        fetch_local_job(f"local:{run}")


def test_a_legacy_run_is_evaluated_on_the_completions_endpoint(run_dir: Path) -> None:
    (run_dir / "training.jsonl").write_text(
        json.dumps({"prompt": "Ticket: lost parcel\n\n###\n\n", "completion": " shipping END"}) + "\n"
    )

    targets = local_job_targets(fetch_local_job(f"local:{run_dir}"))

    assert {t.endpoint for t in targets} == {"completions"}
