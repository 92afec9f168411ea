"""The fake's fine-tuning API: jobs, checkpoints, events and files, as OpenAI shapes and pages them."""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any

import openai
import pytest

from fakeopenai import FAKE_API_KEY, FakeOpenAI
from fakeopenai.jobs import made_up_metrics
from fakeopenai.openapi import OpenAPISpec

Json = Any
JOB = "ftjob-qtZ5Gyk4BLq1SfLF"
RESULT_CSV = (
    "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,1.2,0.5,1.3,0.4\n2,0.8,0.7,,\n"
)


def get(server: FakeOpenAI, path: str, *, key: str | None = FAKE_API_KEY) -> tuple[int, str, bytes]:
    """One raw GET → (status, content type, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {key}"} if key else {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def get_json(server: FakeOpenAI, path: str) -> tuple[int, Json]:
    status, _, data = get(server, path)
    return status, json.loads(data)


def client(server: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=FAKE_API_KEY, max_retries=0)


# ── shapes against the official spec ─────────────────────────────────────────────────────────────


def test_succeeded_job_matches_spec(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    fake_openai.add_file("file-train", '{"messages": []}\n')
    added = fake_openai.add_job(
        JOB, model="gpt-4o-mini-2024-07-18", training_file="file-train", result_csv=RESULT_CSV
    )

    status, body = get_json(fake_openai, f"/v1/fine_tuning/jobs/{JOB}")

    assert status == 200
    openai_spec.check(body, "FineTuningJob")
    assert body == added
    assert (body["object"], body["status"], body["model"]) == ("fine_tuning.job", "succeeded", added["model"])
    assert body["fine_tuned_model"] == f"ft:gpt-4o-mini-2024-07-18:acme::{JOB[-8:]}"
    assert (body["training_file"], body["validation_file"], body["error"]) == ("file-train", None, None)
    assert len(body["result_files"]) == 1 and body["finished_at"] is not None


@pytest.mark.parametrize("status", ["validating_files", "queued", "running", "cancelled"])
def test_unfinished_and_cancelled_jobs_have_no_final_model(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec, status: str
) -> None:
    fake_openai.add_job(JOB, model="gpt-4o-mini", status=status)

    _, body = get_json(fake_openai, f"/v1/fine_tuning/jobs/{JOB}")

    openai_spec.check(body, "FineTuningJob")
    assert (body["status"], body["fine_tuned_model"], body["trained_tokens"]) == (status, None, None)
    assert (body["finished_at"] is None) == (status != "cancelled")


def test_failed_job_carries_its_error(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    error = {
        "code": "invalid_n_examples",
        "message": "Training file has 3 example(s), but must have at least 10.",
    }
    fake_openai.add_job(JOB, model="gpt-4o-mini", status="failed", error=error)
    fake_openai.add_job("ftjob-defaulterror", model="babbage-002", status="failed")

    _, given = get_json(fake_openai, f"/v1/fine_tuning/jobs/{JOB}")
    _, default = get_json(fake_openai, "/v1/fine_tuning/jobs/ftjob-defaulterror")

    openai_spec.check(given, "FineTuningJob")
    openai_spec.check(default, "FineTuningJob")
    assert given["error"] == {**error, "param": None}
    assert given["fine_tuned_model"] is None
    assert (default["error"]["code"], default["error"]["param"]) == ("invalid_training_file", "training_file")


def test_checkpoint_pages_match_spec_newest_first(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    fake_openai.add_job(JOB, model="gpt-4o-mini", checkpoint_steps=range(1, 24))

    _, first = get_json(fake_openai, f"/v1/fine_tuning/jobs/{JOB}/checkpoints")
    _, second = get_json(fake_openai, f"/v1/fine_tuning/jobs/{JOB}/checkpoints?after={first['last_id']}")
    _, last = get_json(
        fake_openai, f"/v1/fine_tuning/jobs/{JOB}/checkpoints?after={second['last_id']}&limit=5"
    )

    for page in (first, second, last):
        openai_spec.check(page, "ListFineTuningJobCheckpointsResponse")
    steps = [[c["step_number"] for c in page["data"]] for page in (first, second, last)]
    assert steps == [list(range(23, 13, -1)), list(range(13, 3, -1)), [3, 2, 1]]
    assert [page["has_more"] for page in (first, second, last)] == [True, True, False]
    assert first["first_id"] == first["data"][0]["id"] and first["last_id"] == first["data"][-1]["id"]
    assert first["data"][0]["fine_tuned_model_checkpoint"] == f"ft:gpt-4o-mini:acme::{JOB[-8:]}:ckpt-step-23"


def test_event_pages_match_spec_and_carry_metrics(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    fake_openai.add_job(JOB, model="gpt-4o-mini", checkpoint_steps=(10, 20, 30))

    _, page = get_json(fake_openai, f"/v1/fine_tuning/jobs/{JOB}/events?limit=50")
    _, checkpoints = get_json(fake_openai, f"/v1/fine_tuning/jobs/{JOB}/checkpoints")

    openai_spec.check(page, "ListFineTuningJobEventsResponse")
    events = page["data"]
    assert events[0]["message"] == "The job has successfully completed"
    assert events[-1]["message"] == f"Created fine-tuning job: {JOB}"
    assert [e["created_at"] for e in events] == sorted((e["created_at"] for e in events), reverse=True)
    metrics = [e["data"] for e in events if e["type"] == "metrics"]
    assert [m["step"] for m in metrics] == [30, 20, 10]
    for event_data, checkpoint in zip(metrics, checkpoints["data"], strict=True):
        assert {k: v for k, v in event_data.items() if k not in ("step", "total_steps")} == {
            k: v for k, v in checkpoint["metrics"].items() if k != "step"
        }


def test_result_file_metadata_matches_spec(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    job = fake_openai.add_job(JOB, model="gpt-4o-mini", result_csv=RESULT_CSV)

    status, body = get_json(fake_openai, f"/v1/files/{job['result_files'][0]}")

    assert status == 200
    openai_spec.check(body, "OpenAIFile")
    assert (body["purpose"], body["filename"]) == ("fine-tune-results", "step_metrics.csv")


def test_unknown_job_and_file_are_openai_404s(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    for path in ("/v1/fine_tuning/jobs/ftjob-nope", "/v1/fine_tuning/jobs/ftjob-nope/checkpoints"):
        status, body = get_json(fake_openai, path)
        assert status == 404
        openai_spec.check(body, "ErrorResponse")
        assert body["error"]["message"] == "Could not find fine tune job: ftjob-nope"
    status, body = get_json(fake_openai, "/v1/files/file-nope/content")

    assert status == 404
    openai_spec.check(body, "ErrorResponse")
    assert body["error"] == {
        "message": "No such File object: file-nope",
        "type": "invalid_request_error",
        "param": "id",
        "code": None,
    }


def test_job_routes_need_a_key_and_reject_a_bad_limit(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_job(JOB, model="gpt-4o-mini", checkpoint_steps=(1,))

    no_key, _, _ = get(fake_openai, f"/v1/fine_tuning/jobs/{JOB}", key=None)
    bad_limit, body = get_json(fake_openai, f"/v1/fine_tuning/jobs/{JOB}/checkpoints?limit=0")

    assert no_key == 401
    assert bad_limit == 400 and body["error"]["param"] == "limit"


# ── through the SDK ──────────────────────────────────────────────────────────────────────────────


def test_sdk_retrieves_the_job(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_job(
        JOB,
        model="babbage-002",
        fine_tuned_model="ft:babbage-002:acme:triage:7q8mpxmy",
        hyperparameters={"n_epochs": 4, "batch_size": 1, "learning_rate_multiplier": 2.0},
        trained_tokens=5768,
    )

    job = client(fake_openai).fine_tuning.jobs.retrieve(JOB)

    assert (job.model, job.fine_tuned_model, job.trained_tokens) == (
        "babbage-002",
        "ft:babbage-002:acme:triage:7q8mpxmy",
        5768,
    )
    assert job.hyperparameters.n_epochs == 4
    assert job.method is not None and job.method.type == "supervised"


def test_sdk_pages_through_every_checkpoint_once(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_job(JOB, model="gpt-4o-mini-2024-07-18", checkpoint_steps=range(5, 120, 5))  # 23 steps

    checkpoints = list(client(fake_openai).fine_tuning.jobs.checkpoints.list(JOB))

    steps = [c.step_number for c in checkpoints]
    assert steps == list(range(115, 0, -5))
    assert len({c.id for c in checkpoints}) == 23
    assert fake_openai.count(f"/v1/fine_tuning/jobs/{JOB}/checkpoints") == 3
    losses = [c.metrics.train_loss or 0.0 for c in checkpoints]
    assert losses[0] == made_up_metrics(115)["train_loss"]
    assert losses == sorted(losses)  # newest first, and the loss falls with the step


def test_given_checkpoint_metrics_are_served_as_given(fake_openai: FakeOpenAI) -> None:
    given = {"train_loss": 0.478, "valid_loss": 10.112, "full_valid_loss": 0.567}
    fake_openai.add_job(JOB, model="gpt-4o-mini", checkpoint_steps=(44, 88), checkpoint_metrics={88: given})

    newest, oldest = client(fake_openai).fine_tuning.jobs.checkpoints.list(JOB)

    assert newest.metrics.model_dump(exclude_none=True) == {"step": 88.0, **given}
    assert oldest.metrics.model_dump() == made_up_metrics(44)


def test_sdk_lists_events_with_metrics_across_pages(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_job(JOB, model="gpt-4o-mini", checkpoint_steps=range(1, 13))
    fake_openai.add_job("ftjob-nometrics", model="gpt-4o-mini", checkpoint_steps=(1, 2), metrics_events=False)
    sdk = client(fake_openai)

    events = list(sdk.fine_tuning.jobs.list_events(JOB))
    quiet = list(sdk.fine_tuning.jobs.list_events("ftjob-nometrics"))

    metrics = [e for e in events if e.type == "metrics"]
    assert [e.data["step"] for e in metrics] == list(range(12, 0, -1))  # type: ignore[index]
    assert len({e.id for e in events}) == len(events) > 20
    assert fake_openai.count(f"/v1/fine_tuning/jobs/{JOB}/events") == 2
    assert [e for e in quiet if e.type == "metrics"] == []


def test_sdk_downloads_result_and_training_files(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_file("file-train", '{"prompt": "Refund?\\n\\n###\\n\\n", "completion": " billing END"}\n')
    newer = fake_openai.add_job(JOB, model="babbage-002", training_file="file-train", result_csv=RESULT_CSV)
    older = fake_openai.add_job(
        "ftjob-older", model="babbage-002", result_csv=RESULT_CSV, result_base64=False
    )
    sdk = client(fake_openai)

    newer_csv = sdk.files.content(newer["result_files"][0]).content
    older_csv = sdk.files.content(older["result_files"][0]).content
    training = sdk.files.content("file-train").content

    assert base64.b64decode(newer_csv).decode() == RESULT_CSV
    assert older_csv.decode() == RESULT_CSV
    assert json.loads(training) == {"prompt": "Refund?\n\n###\n\n", "completion": " billing END"}
    assert get(fake_openai, "/v1/files/file-train/content")[1] == "application/octet-stream"


def test_a_job_without_a_training_file_names_one_that_is_gone(fake_openai: FakeOpenAI) -> None:
    job = fake_openai.add_job(JOB, model="gpt-4o-mini")

    with pytest.raises(openai.NotFoundError, match="No such File object"):
        client(fake_openai).files.content(job["training_file"])


def test_unknown_job_raises_not_found_in_the_sdk(fake_openai: FakeOpenAI) -> None:
    sdk = client(fake_openai)

    with pytest.raises(openai.NotFoundError) as retrieve:
        sdk.fine_tuning.jobs.retrieve("ftjob-nope")
    with pytest.raises(openai.NotFoundError):
        list(sdk.fine_tuning.jobs.checkpoints.list("ftjob-nope"))
    with pytest.raises(openai.NotFoundError):
        list(sdk.fine_tuning.jobs.list_events("ftjob-nope"))

    assert retrieve.value.status_code == 404
    assert "ftjob-nope" in retrieve.value.message


# ── the job's models are served ─────────────────────────────────────────────────────────────────


def test_chat_fine_tunes_answer_on_chat_only(fake_openai: FakeOpenAI) -> None:
    job = fake_openai.add_job(JOB, model="gpt-4o-mini-2024-07-18", checkpoint_steps=(10, 20))
    sdk = client(fake_openai)
    models = [c.fine_tuned_model_checkpoint for c in sdk.fine_tuning.jobs.checkpoints.list(JOB)]
    models.append(job["fine_tuned_model"])

    for model in models:
        answer = sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "refund"}])
        assert answer.choices[0].message.content == "refund"
        with pytest.raises(openai.NotFoundError, match="This is a chat model"):
            sdk.completions.create(model=model, prompt="refund")
    assert fake_openai.count("/v1/chat/completions", status=200) == 3


def test_legacy_fine_tunes_answer_on_completions_only(fake_openai: FakeOpenAI) -> None:
    job = fake_openai.add_job(JOB, model="babbage-002", checkpoint_steps=(7,))
    sdk = client(fake_openai)
    checkpoint = f"{job['fine_tuned_model']}:ckpt-step-7"

    for model in (checkpoint, job["fine_tuned_model"]):
        assert sdk.completions.create(model=model, prompt="refund").choices[0].text == "refund"
        with pytest.raises(openai.NotFoundError, match="This is not a chat model"):
            sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "refund"}])


def test_running_job_serves_its_checkpoints_but_no_final_model(fake_openai: FakeOpenAI) -> None:
    job = fake_openai.add_job(JOB, model="gpt-4o-mini", status="running", checkpoint_steps=(3,))
    sdk = client(fake_openai)
    (checkpoint,) = sdk.fine_tuning.jobs.checkpoints.list(JOB)

    answer = sdk.chat.completions.create(
        model=checkpoint.fine_tuned_model_checkpoint, messages=[{"role": "user", "content": "hi"}]
    )

    assert job["fine_tuned_model"] is None
    assert checkpoint.fine_tuned_model_checkpoint == f"ft:gpt-4o-mini:acme::{JOB[-8:]}:ckpt-step-3"
    assert answer.choices[0].message.content == "hi"


def test_reset_forgets_jobs_files_and_their_models(fake_openai: FakeOpenAI) -> None:
    job = fake_openai.add_job(JOB, model="gpt-4o-mini", result_csv=RESULT_CSV)
    fake_openai.add_file("file-train", "x")

    fake_openai.reset()

    assert get(fake_openai, f"/v1/fine_tuning/jobs/{JOB}")[0] == 404
    assert get(fake_openai, "/v1/files/file-train/content")[0] == 404
    assert get(fake_openai, f"/v1/files/{job['result_files'][0]}/content")[0] == 404
    assert fake_openai.models.kind(job["fine_tuned_model"]) is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"status": "done"}, "status must be one of"),
        ({"checkpoint_steps": (10, 10)}, "distinct positive integers"),
        ({"checkpoint_steps": (10,), "checkpoint_metrics": {20: {"train_loss": 1.0}}}, r"steps \[20\]"),
        ({"model": "llama-3-8b"}, r"add_model\('llama-3-8b'"),
    ],
)
def test_add_job_rejects_what_openai_never_reports(
    fake_openai: FakeOpenAI, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fake_openai.add_job(JOB, **{"model": "gpt-4o-mini", **options})

    assert get(fake_openai, f"/v1/fine_tuning/jobs/{JOB}")[0] == 404
