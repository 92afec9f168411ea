"""``--job ID`` → base, every checkpoint and final targets, training metrics and training data."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import openai
import pytest
from fakeopenai import FAKE_API_KEY, FakeOpenAI
from fixtures.runs import plain

from evalkit.errors import InputError, ServiceError
from evalkit.records import TrainingExample
from evalkit.targets.jobs import Checkpoint, JobInfo, fetch_job, job_targets

JOB = "ftjob-abc123def456"
BASE = "gpt-4o-mini-2024-07-18"
CHAT_ROW = {"messages": [{"role": "user", "content": "refund?"}, {"role": "assistant", "content": "billing"}]}
LEGACY_ROW = {"prompt": "Ticket: refund\n\n###\n\n", "completion": " billing END"}


def _job(**overrides: object) -> JobInfo:
    fields: dict[str, object] = {
        "id": JOB,
        "status": "succeeded",
        "base_model": BASE,
        "fine_tuned_model": f"ft:{BASE}:acme::abc",
        "checkpoints": [
            Checkpoint(step=20, model=f"ft:{BASE}:acme::abc:ckpt-step-20"),
            Checkpoint(step=10, model=f"ft:{BASE}:acme::abc:ckpt-step-10"),
        ],
    }
    fields.update(overrides)
    return JobInfo(**fields)  # type: ignore[arg-type]


# ── job → targets (pure) ─────────────────────────────────────────────────────────────────────────


def test_targets_are_base_checkpoints_by_step_and_final() -> None:
    targets = job_targets(_job())
    assert [(t.name, t.role, t.step) for t in targets] == [
        ("base", "base", None),
        ("step-10", "checkpoint", 10),
        ("step-20", "checkpoint", 20),
        ("final", "final", 20),
    ]
    assert [t.model for t in targets] == [
        BASE,
        f"ft:{BASE}:acme::abc:ckpt-step-10",
        f"ft:{BASE}:acme::abc:ckpt-step-20",
        f"ft:{BASE}:acme::abc",
    ]
    assert {t.endpoint for t in targets} == {"chat"}


def test_a_babbage_job_is_evaluated_on_completions_everywhere() -> None:
    job = _job(
        base_model="babbage-002",
        fine_tuned_model="ft:babbage-002:acme::xyz",
        checkpoints=[Checkpoint(step=5, model="ft:babbage-002:acme::xyz:ckpt-step-5")],
    )
    assert {t.endpoint for t in job_targets(job)} == {"completions"}


def test_no_final_target_until_the_job_has_a_final_model() -> None:
    targets = job_targets(_job(status="running", fine_tuned_model=None))
    assert [t.name for t in targets] == ["base", "step-10", "step-20"]


def test_a_job_without_checkpoints_has_a_final_without_step() -> None:
    targets = job_targets(_job(checkpoints=[]))
    assert [(t.name, t.step) for t in targets] == [("base", None), ("final", None)]


def test_prefix_tells_two_jobs_apart() -> None:
    names = [t.name for t in job_targets(_job(), prefix="candidate")]
    assert names == ["candidate.base", "candidate.step-10", "candidate.step-20", "candidate.final"]


def test_the_record_holds_the_plain_facts_and_no_examples() -> None:
    job = _job(
        training_file="file-train",
        hyperparameters={"n_epochs": 3},
        training_examples=[TrainingExample(prompt="TRAINING-PROMPT-TEXT", completion="c")],
    )
    facts = plain(job.record())
    assert facts["id"] == JOB
    assert facts["base_model"] == BASE
    assert facts["hyperparameters"] == {"n_epochs": 3}
    assert facts["checkpoints"] == [
        {"step": 10, "model": f"ft:{BASE}:acme::abc:ckpt-step-10"},
        {"step": 20, "model": f"ft:{BASE}:acme::abc:ckpt-step-20"},
    ]
    assert "training_examples" not in facts and "TRAINING-PROMPT-TEXT" not in json.dumps(facts)


# ── against the fake OpenAI ──────────────────────────────────────────────────────────────────────


@pytest.fixture
def client(fake_openai: FakeOpenAI) -> Iterator[openai.AsyncOpenAI]:
    yield openai.AsyncOpenAI(base_url=fake_openai.url, api_key=FAKE_API_KEY, max_retries=0)


def _fetch(client: openai.AsyncOpenAI, job_id: str = JOB, *, with_files: bool = True) -> JobInfo:
    async def go() -> JobInfo:
        async with client:
            return await fetch_job(client, job_id, with_files=with_files)

    return asyncio.run(go())


def _jsonl(*rows: object) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def test_every_checkpoint_across_pages_becomes_a_step_target(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    steps = list(range(10, 240, 10))  # 23 checkpoints: three pages of 10
    fake_openai.add_file("file-train", _jsonl(CHAT_ROW))
    fake_openai.add_job(JOB, model=BASE, training_file="file-train", checkpoint_steps=steps)
    job = _fetch(client)
    targets = job_targets(job)
    assert [t.step for t in targets if t.role == "checkpoint"] == steps
    assert [t.name for t in targets][:3] == ["base", "step-10", "step-20"]
    assert (targets[0].role, targets[0].model) == ("base", BASE)
    assert (targets[-1].name, targets[-1].role, targets[-1].step) == ("final", "final", 230)
    assert targets[-1].model == job.fine_tuned_model == f"ft:{BASE}:acme::{JOB[-8:]}"
    assert all(t.model.endswith(f":ckpt-step-{t.step}") for t in targets if t.role == "checkpoint")
    assert fake_openai.count(f"/v1/fine_tuning/jobs/{JOB}/checkpoints") == 3
    assert [r["step"] for r in job.training if r["train_loss"] is not None][: len(steps)] == steps
    assert job.warnings == []


def test_a_babbage_job_reads_its_prompt_completion_training_file(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.add_file("file-train", _jsonl(LEGACY_ROW, LEGACY_ROW))
    fake_openai.add_job(JOB, model="babbage-002", training_file="file-train", checkpoint_steps=[4, 8])
    job = _fetch(client)
    assert {t.endpoint for t in job_targets(job)} == {"completions"}
    assert (
        job.training_examples == [TrainingExample(prompt=LEGACY_ROW["prompt"], completion=" billing END")] * 2
    )
    assert job.validation_examples == []


def test_a_running_job_has_no_final_target_and_says_so(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.add_job(JOB, model=BASE, status="running", checkpoint_steps=[10, 20])
    job = _fetch(client)
    assert job.fine_tuned_model is None
    assert [t.name for t in job_targets(job)] == ["base", "step-10", "step-20"]
    assert any(
        f"job {JOB} is running" in w and "2 checkpoints" in w and "final model is not there yet" in w
        for w in job.warnings
    )


def test_a_queued_job_is_evaluated_on_its_base_alone(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.add_job(JOB, model=BASE, status="queued")
    job = _fetch(client)
    assert [t.name for t in job_targets(job)] == ["base"]
    assert any(f"job {JOB} is queued: no checkpoint exists yet" in w for w in job.warnings)


def test_a_failed_job_is_refused_with_its_own_error(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.add_job(
        JOB,
        model=BASE,
        status="failed",
        error={"code": "invalid_training_file", "message": "Line 3 has no assistant message", "param": None},
    )
    with pytest.raises(InputError) as raised:
        _fetch(client)
    assert raised.value.field == "--job"
    assert f"fine-tuning job {JOB} failed: Line 3 has no assistant message (invalid_training_file)" in str(
        raised.value
    )


def test_a_cancelled_job_is_refused(fake_openai: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    fake_openai.add_job(JOB, model=BASE, status="cancelled")
    with pytest.raises(InputError, match=f"{JOB} was cancelled"):
        _fetch(client)


def test_an_unknown_job_is_an_input_error_naming_it(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(InputError) as raised:
        _fetch(client, "ftjob-nope")
    assert raised.value.field == "--job"
    assert "no fine-tuning job 'ftjob-nope' is visible to this key" in str(raised.value)


def test_a_rejected_key_is_a_service_error_without_the_key(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.add_job(JOB, model=BASE)
    fake_openai.reject_key(FAKE_API_KEY)
    with pytest.raises(ServiceError) as raised:
        _fetch(client)
    assert "401" in str(raised.value) and "OPENAI_API_KEY" in str(raised.value)
    assert FAKE_API_KEY not in str(raised.value) and FAKE_API_KEY[-8:] not in str(raised.value)


def test_a_deleted_training_file_is_a_warning_not_an_error(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.add_file("file-valid", _jsonl(CHAT_ROW, "not a row", CHAT_ROW) + "{broken\n")
    fake_openai.add_job(
        JOB, model=BASE, training_file="file-gone", validation_file="file-valid", checkpoint_steps=[3]
    )
    job = _fetch(client)
    assert [t.name for t in job_targets(job)] == ["base", "step-3", "final"]
    assert job.training_examples == []
    assert any("training file file-gone" in w and "404" in w for w in job.warnings)
    assert job.validation_examples == [TrainingExample(messages=tuple(CHAT_ROW["messages"]))] * 2
    assert any("validation file file-valid" in w and "skipped 2 unreadable lines" in w for w in job.warnings)


@pytest.mark.parametrize("encoded", [True, False], ids=["base64", "plain"])
def test_training_metrics_merge_checkpoints_events_and_result_file(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI, encoded: bool
) -> None:
    result_csv = (
        "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
        "1,3.0,0.2,3.1,0.1\n"
        "2,2.0,0.4,,\n"
        "4,9.9,0.9,9.9,0.9\n"
    )
    fake_openai.add_job(
        JOB,
        model=BASE,
        checkpoint_steps=[4],
        checkpoint_metrics={4: {"train_loss": 0.5, "full_valid_loss": 0.75}},
        metrics_events=False,
        result_csv=result_csv,
        result_base64=encoded,
    )
    job = _fetch(client)
    by_step = {r["step"]: r for r in job.training}
    assert sorted(by_step) == [1, 2, 4]
    assert by_step[1]["train_loss"] == 3.0 and by_step[1]["train_mean_token_accuracy"] == 0.2
    assert by_step[2]["valid_loss"] is None
    assert by_step[4]["train_loss"] == 0.5  # the checkpoint's own figure comes first
    assert by_step[4]["full_valid_loss"] == 0.75
    assert by_step[4]["valid_loss"] == 9.9  # the result file fills what the checkpoint lacks
    assert job.checkpoints[0].metrics["train_loss"] == 0.5


def test_checkpoint_losses_reach_the_training_records(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.add_job(JOB, model=BASE, checkpoint_steps=[30, 10, 20])
    job = _fetch(client)
    losses = [(r["step"], r["train_loss"]) for r in job.training]
    assert [step for step, _ in losses] == [10, 20, 30]
    assert all(isinstance(loss, float) for _, loss in losses)
    assert losses[0][1] > losses[-1][1]  # the fake's made-up loss decreases, and the order is kept


def test_without_files_nothing_is_downloaded_but_the_result_file(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.add_file("file-train", _jsonl(CHAT_ROW))
    fake_openai.add_job(JOB, model=BASE, training_file="file-train", result_csv="step,train_loss\n1,2.0\n")
    job = _fetch(client, with_files=False)
    assert job.training_examples == []
    assert fake_openai.count("/v1/files/file-train/content") == 0
    assert job.training[0]["train_loss"] == 2.0
    assert job.training_file == "file-train"


def test_an_unreachable_service_is_a_service_error() -> None:
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=FAKE_API_KEY, max_retries=0)
    with pytest.raises(ServiceError, match="cannot reach http://127.0.0.1:.*OPENAI_BASE_URL"):
        _fetch(client)
