"""The fake answers in OpenAI's shapes: every body checked against the official OpenAPI spec."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from fakeopenai import FAKE_API_KEY, FakeOpenAI, ToolCall
from fakeopenai.openapi import OpenAPISpec

Json = Any


def call(
    server: FakeOpenAI,
    path: str,
    body: Json = None,
    *,
    method: str = "POST",
    key: str | None = FAKE_API_KEY,
) -> tuple[int, dict[str, str], Json]:
    """One raw HTTP request → (status, lower-cased headers, parsed JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    try:
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(data)
    finally:
        conn.close()


def chat(model: str, text: str = "Where is my parcel?", **extra: Json) -> Json:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def test_chat_completion_matches_spec(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    status, headers, body = call(fake_openai, "/v1/chat/completions", chat("gpt-4o-mini", n=2))

    assert (status, headers["content-type"]) == (200, "application/json")
    openai_spec.check(body, "CreateChatCompletionResponse")
    assert body["object"] == "chat.completion"
    assert [c["message"]["content"] for c in body["choices"]] == ["Where is my parcel?"] * 2
    assert (
        body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )


def test_tool_call_answer_matches_spec(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    fake_openai.script_tool_calls("gpt-4o", [ToolCall("route_ticket", {"queue": "billing"})])

    _, _, body = call(fake_openai, "/v1/chat/completions", chat("gpt-4o"))

    openai_spec.check(body, "CreateChatCompletionResponse")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"] == {
        "name": "route_ticket",
        "arguments": '{"queue": "billing"}',
    }


def test_legacy_completion_matches_spec(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    fake_openai.script("davinci-002", "billing END trailing words")

    status, _, body = call(
        fake_openai,
        "/v1/completions",
        {"model": "davinci-002", "prompt": "Refund?\n\n###\n\n", "stop": [" END"]},
    )

    assert status == 200
    openai_spec.check(body, "CreateCompletionResponse")
    assert body["object"] == "text_completion"
    assert body["choices"][0]["text"] == "billing"


def test_model_list_and_model_match_spec(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    fake_openai.add_model("ft:gpt-4o-mini:acme::abc123")

    _, _, listing = call(fake_openai, "/v1/models", method="GET")
    _, _, one = call(fake_openai, "/v1/models/ft:gpt-4o-mini:acme::abc123", method="GET")

    openai_spec.check(listing, "ListModelsResponse")
    openai_spec.check(one, "Model")
    assert "ft:gpt-4o-mini:acme::abc123" in [m["id"] for m in listing["data"]]


def test_unknown_model_is_404_model_not_found(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    status, _, body = call(fake_openai, "/v1/chat/completions", chat("ft:gpt-4o-mini:acme::gone"))

    assert status == 404
    openai_spec.check(body, "ErrorResponse")
    assert body == {
        "error": {
            "message": "The model `ft:gpt-4o-mini:acme::gone` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }


def test_chat_model_on_completions_is_404(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    status, _, body = call(fake_openai, "/v1/completions", {"model": "gpt-4o-mini", "prompt": "hi"})

    assert status == 404
    openai_spec.check(body, "ErrorResponse")
    assert body["error"] == {
        "message": "This is a chat model and not supported in the v1/completions endpoint. "
        "Did you mean to use v1/chat/completions?",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }


def test_completions_model_on_chat_is_404(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    status, _, body = call(fake_openai, "/v1/chat/completions", chat("babbage-002"))

    assert status == 404
    openai_spec.check(body, "ErrorResponse")
    assert body["error"]["message"] == (
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?"
    )
    assert (body["error"]["param"], body["error"]["code"]) == ("model", None)


def test_missing_key_is_401(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    status, _, body = call(fake_openai, "/v1/chat/completions", chat("gpt-4o-mini"), key=None)

    assert status == 401
    openai_spec.check(body, "ErrorResponse")
    assert body["error"]["message"].startswith("You didn't provide an API key.")
    assert (body["error"]["type"], body["error"]["code"]) == ("invalid_request_error", None)


def test_rejected_key_is_401_with_the_key_masked(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    fake_openai.reject_key("sk-test-revoked-99991234")

    status, _, body = call(
        fake_openai, "/v1/chat/completions", chat("gpt-4o-mini"), key="sk-test-revoked-99991234"
    )

    assert status == 401
    openai_spec.check(body, "ErrorResponse")
    assert body["error"]["code"] == "invalid_api_key"
    assert body["error"]["message"].startswith("Incorrect API key provided: sk-te****1234.")
    assert "revoked" not in json.dumps(body)


def test_rate_limit_is_429_with_retry_after(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    fake_openai.fail_next(1, status=429, retry_after=0.5)

    status, headers, body = call(fake_openai, "/v1/chat/completions", chat("gpt-4o-mini"))

    assert (status, headers["retry-after"]) == (429, "0.5")
    openai_spec.check(body, "ErrorResponse")
    assert body["error"]["code"] == "rate_limit_exceeded"
    assert body["error"]["message"].startswith("Rate limit reached for gpt-4o-mini")


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_match_spec(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec, status: int) -> None:
    fake_openai.fail_next(1, status=status)

    got, _, body = call(fake_openai, "/v1/chat/completions", chat("gpt-4o-mini"))

    assert got == status
    openai_spec.check(body, "ErrorResponse")
    assert body["error"]["type"] == "server_error"


def test_bad_request_bodies_get_openai_400s(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    cases = [
        ({"model": "gpt-4o-mini"}, "Missing required parameter: 'messages'."),
        (chat("gpt-4o-mini", temprature=0), "Unrecognized request argument supplied: temprature"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "you must provide a model parameter"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "bot", "content": "x"}]}, "Invalid value: 'bot'."),
        (
            {"model": "gpt-4o-mini", "messages": [{"role": "assistant", "content": "x", "weight": 0}]},
            "Additional properties are not allowed ('weight' was unexpected) - 'messages.0'",
        ),
    ]
    for body, message in cases:
        status, _, answer = call(fake_openai, "/v1/chat/completions", body)
        assert status == 400, body
        openai_spec.check(answer, "ErrorResponse")
        assert answer["error"]["message"].startswith(message)


def test_unknown_path_is_404_invalid_url(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    status, _, body = call(fake_openai, "/v1/chat/complete", chat("gpt-4o-mini"))

    assert status == 404
    openai_spec.check(body, "ErrorResponse")
    assert body["error"]["message"] == "Invalid URL (POST /v1/chat/complete)"


def test_spec_check_rejects_misspelt_and_missing_fields(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    _, _, body = call(fake_openai, "/v1/chat/completions", chat("gpt-4o-mini"))
    misspelt = {**body, "choices": [{**body["choices"][0], "finsh_reason": "stop"}]}
    missing = {**body, "choices": [{k: v for k, v in body["choices"][0].items() if k != "logprobs"}]}

    with pytest.raises(AssertionError, match="finsh_reason"):
        openai_spec.check(misspelt, "CreateChatCompletionResponse")
    with pytest.raises(AssertionError, match="logprobs"):
        openai_spec.check(missing, "CreateChatCompletionResponse")
