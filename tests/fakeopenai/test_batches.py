"""The fake's Batch API answers in OpenAI's shapes and fails invalid input files like OpenAI."""

from __future__ import annotations

import json

import openai
import pytest

from fakeopenai import FAKE_API_KEY, FakeOpenAI
from fakeopenai.openapi import OpenAPISpec


def line(custom_id: str, *, model: str = "gpt-4o-mini", url: str = "/v1/chat/completions") -> str:
    body = {"model": model, "messages": [{"role": "user", "content": custom_id}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}) + "\n"


def submit(fake: FakeOpenAI, text: str) -> tuple[openai.OpenAI, str]:
    client = openai.OpenAI(base_url=fake.url, api_key=FAKE_API_KEY, max_retries=0)
    upload = client.files.create(file=("input.jsonl", text.encode()), purpose="batch")
    created = client.batches.create(
        input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    return client, created.id


def test_batch_and_file_bodies_follow_the_spec(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    client, batch_id = submit(fake_openai, line("a") + line("b"))

    raw = client.with_raw_response.batches.retrieve(batch_id).http_response.json()
    upload = client.with_raw_response.files.retrieve(raw["input_file_id"]).http_response.json()

    openai_spec.check(raw, "Batch")
    openai_spec.check(upload, "OpenAIFile")
    assert raw["request_counts"] == {"total": 2, "completed": 2, "failed": 0}
    assert upload["purpose"] == "batch"


def test_a_batch_stays_in_progress_for_the_polls_a_test_sets(fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.complete_after = 2
    client, batch_id = submit(fake_openai, line("a"))

    statuses = [client.batches.retrieve(batch_id).status for _ in range(3)]

    assert statuses == ["in_progress", "in_progress", "completed"]


def test_output_lines_answer_with_the_scripts_and_errors_go_to_the_error_file(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script("gpt-4o-mini", lambda request: f"re: {request.last_user}")
    client, batch_id = submit(
        fake_openai,
        line("a")
        + json.dumps(
            {
                "custom_id": "b",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "gpt-4o-mini", "messages": []},
            }
        )
        + "\n",
    )

    batch = client.batches.retrieve(batch_id)
    output = [json.loads(x) for x in client.files.content(batch.output_file_id or "").text.splitlines()]
    errors = [json.loads(x) for x in client.files.content(batch.error_file_id or "").text.splitlines()]

    assert [(o["custom_id"], o["response"]["body"]["choices"][0]["message"]["content"]) for o in output] == [
        ("a", "re: a")
    ]
    assert [
        (e["custom_id"], e["response"]["status_code"], e["response"]["body"]["error"]["code"]) for e in errors
    ] == [("b", 400, "empty_array")]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (line("a") + line("a"), "duplicate_custom_id"),
        (line("a") + line("b", model="gpt-4o"), "mismatched_model"),
        (line("a", url="/v1/completions"), "mismatched_endpoint"),
        ("{not json\n", "invalid_json_line"),
    ],
)
def test_an_invalid_input_file_fails_the_batch_and_runs_no_line(
    fake_openai: FakeOpenAI, text: str, code: str
) -> None:
    client, batch_id = submit(fake_openai, text)

    batch = client.batches.retrieve(batch_id)

    assert batch.status == "failed"
    assert batch.errors is not None and [e.code for e in batch.errors.data or []][-1] == code
    assert batch.output_file_id is None


def test_a_batch_file_must_be_jsonl_and_a_batch_needs_a_batch_file(fake_openai: FakeOpenAI) -> None:
    client = openai.OpenAI(base_url=fake_openai.url, api_key=FAKE_API_KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError, match="Must be .jsonl"):
        client.files.create(file=("input.txt", b"x"), purpose="batch")
    tuning = client.files.create(file=("train.jsonl", line("a").encode()), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError, match="purpose 'batch'"):
        client.batches.create(
            input_file_id=tuning.id, endpoint="/v1/chat/completions", completion_window="24h"
        )


def test_responses_lines_are_answered_with_response_bodies(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    fake_openai.script("o3-pro", lambda request: f"re: {request.last_user}")
    lines = "".join(
        json.dumps({"custom_id": c, "method": "POST", "url": "/v1/responses", "body": body}) + "\n"
        for c, body in [
            ("a", {"model": "o3-pro", "input": "a", "max_output_tokens": 100}),
            ("b", {"model": "o3-pro", "input": "b", "temperature": 0}),
        ]
    )
    client = openai.OpenAI(base_url=fake_openai.url, api_key=FAKE_API_KEY, max_retries=0)
    upload = client.files.create(file=("input.jsonl", lines.encode()), purpose="batch")

    created = client.batches.create(
        input_file_id=upload.id, endpoint="/v1/responses", completion_window="24h"
    )
    batch = client.batches.retrieve(created.id)
    output = [json.loads(x) for x in client.files.content(batch.output_file_id or "").text.splitlines()]
    errors = [json.loads(x) for x in client.files.content(batch.error_file_id or "").text.splitlines()]

    assert (batch.status, batch.endpoint, batch.model) == ("completed", "/v1/responses", "o3-pro")
    assert [o["custom_id"] for o in output] == ["a"]
    openai_spec.check(output[0]["response"]["body"], "Response")
    assert output[0]["response"]["body"]["output"][-1]["content"][0]["text"] == "re: a"
    assert [
        (e["custom_id"], e["response"]["status_code"], e["response"]["body"]["error"]["code"]) for e in errors
    ] == [("b", 400, "unsupported_value")]
    assert fake_openai.count("/v1/responses") == 0  # batch lines are not live requests
