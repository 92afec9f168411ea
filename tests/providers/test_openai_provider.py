"""The OpenAI provider: client set-up from the environment, answers, and what failures mean."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import httpx2
import pytest

from evalkit.errors import ServiceError
from evalkit.providers.base import CallError, Reply
from evalkit.providers.openai import OpenAIProvider, service_identity
from evalkit.providers.request import Request
from evalkit.records import Usage

SECRET = "sk-test-provider-0000000000abcd"
CHAT = Request(target="prod", model="ft:davinci-002:org::abc", endpoint="chat", payload={"model": "m"})
LEGACY = Request(
    target="old", model="davinci-002", endpoint="completions", payload={"model": "m", "prompt": "p"}
)
Handler = Callable[[httpx2.Request], Coroutine[None, None, httpx2.Response]]


@pytest.fixture(autouse=True)
def openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION", "OPENAI_ORG_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://fake.test/v1")


def replying(body: Any, *, status: int = 200, seen: list[httpx2.Request] | None = None) -> Handler:
    async def handle(request: httpx2.Request) -> httpx2.Response:
        if seen is not None:
            seen.append(request)
        return httpx2.Response(status, json=body)

    return handle


def call(handler: Handler, request: Request = CHAT, *, max_attempts: int = 1) -> Reply:
    async def go() -> Reply:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
        async with OpenAIProvider.from_env(max_attempts=max_attempts, http_client=client) as provider:
            return await provider.call(request)

    return asyncio.run(go())


def chat_body(message: dict[str, Any], finish_reason: str = "stop") -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish_reason}]}


def test_identity_is_the_base_url_without_credentials_or_query() -> None:
    assert service_identity("https://user:pw@Example.com:8443/v1/?key=abc#x") == "https://example.com:8443/v1"
    assert service_identity("http://[::1]:8000/v1/") == "http://[::1]:8000/v1"


def test_identity_follows_openai_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    assert OpenAIProvider.from_env().identity == "http://localhost:8000/v1"


def test_missing_key_says_which_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ServiceError, match=r"^no OpenAI API key: set OPENAI_API_KEY"):
        OpenAIProvider.from_env()


def test_azure_calls_the_deployment_and_is_identified_by_its_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://myres.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    seen: list[httpx2.Request] = []
    request = Request(target="t", model="triage-ft", endpoint="chat", payload={"model": "triage-ft"})
    reply = call(replying(chat_body({"role": "assistant", "content": "billing"}), seen=seen), request)
    assert reply.output == "billing"
    assert seen[0].url.path == "/openai/deployments/triage-ft/chat/completions"
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(replying({})))
    assert OpenAIProvider.from_env(http_client=client).identity == "https://myres.openai.azure.com/openai"


def test_azure_without_api_version_says_which_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://myres.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "0123456789abcdef0123456789abcdef")
    with pytest.raises(ServiceError, match="set OPENAI_API_VERSION"):
        OpenAIProvider.from_env()


def test_body_is_sent_as_given_with_unknown_fields() -> None:
    seen: list[httpx2.Request] = []
    payload = {"model": "m", "messages": [], "top_k": 5, "repetition_penalty": 1.1}
    request = Request(target="t", model="m", endpoint="chat", payload=payload)
    call(replying(chat_body({"role": "assistant", "content": "ok"}), seen=seen), request)
    assert json.loads(seen[0].content) == payload
    assert seen[0].url.path == "/v1/chat/completions"


def test_chat_answer_with_usage() -> None:
    body = chat_body({"role": "assistant", "content": "billing"}, "length")
    body["usage"] = {"prompt_tokens": 11, "completion_tokens": 1, "total_tokens": 12}
    assert call(replying(body)) == Reply("billing", Usage(11, 1), "length")


def test_tool_calls_without_content_are_rendered_as_json() -> None:
    calls = [
        {"id": "1", "type": "function", "function": {"name": "route", "arguments": '{"queue": "billing"}'}},
        {"id": "2", "type": "function", "function": {"name": "note", "arguments": "not json"}},
    ]
    reply = call(
        replying(chat_body({"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls"))
    )
    assert json.loads(reply.output) == [
        {"name": "route", "arguments": {"queue": "billing"}},
        {"name": "note", "arguments": "not json"},
    ]
    assert reply.output == json.dumps(json.loads(reply.output), sort_keys=True)
    assert reply.finish_reason == "tool_calls" and reply.usage == Usage()


def test_tool_calls_beside_empty_content_are_the_answer() -> None:
    calls = [{"id": "1", "type": "function", "function": {"name": "route", "arguments": "{}"}}]
    reply = call(replying(chat_body({"role": "assistant", "content": "", "tool_calls": calls}, "tool_calls")))
    assert json.loads(reply.output) == [{"name": "route", "arguments": {}}]


def test_refusal_is_the_output_when_there_is_no_content() -> None:
    reply = call(replying(chat_body({"role": "assistant", "content": None, "refusal": "I can't help"})))
    assert reply.output == "I can't help"


def test_completions_answer_is_the_first_choice_text() -> None:
    seen: list[httpx2.Request] = []
    body = {"choices": [{"index": 0, "text": " billing", "finish_reason": "stop"}]}
    assert call(replying(body, seen=seen), LEGACY).output == " billing"
    assert seen[0].url.path == "/v1/completions"


def test_unexpected_answer_shape_is_a_case_error() -> None:
    with pytest.raises(CallError, match="answered in an unexpected shape") as caught:
        call(replying({"choices": []}))
    assert not caught.value.whole_target


def test_not_a_chat_model_names_the_completions_fix() -> None:
    text = (
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?"
    )
    body = {"error": {"message": text, "type": "invalid_request_error", "code": None}}
    with pytest.raises(CallError) as caught:
        call(replying(body, status=404))
    assert caught.value.whole_target
    assert "--model prod=ft:davinci-002:org::abc@completions" in caught.value.message


def test_other_404_is_a_case_error() -> None:
    body = {"error": {"message": "Not found", "type": "invalid_request_error", "code": None}}
    with pytest.raises(CallError) as caught:
        call(replying(body, status=404))
    assert not caught.value.whole_target
    assert caught.value.message == "HTTP 404 from http://fake.test/v1: Not found"


def test_forbidden_stops_with_a_key_message_only() -> None:
    body = {"error": {"message": f"key {SECRET} may not use this", "code": "forbidden"}}
    with pytest.raises(ServiceError) as caught:
        call(replying(body, status=403))
    assert "(403)" in str(caught.value) and SECRET not in str(caught.value)


def test_closed_port_on_loopback_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")

    async def go() -> None:
        async with OpenAIProvider.from_env(max_attempts=1) as provider:
            await provider.call(CHAT)

    with pytest.raises(
        ServiceError, match=rf"^cannot reach http://127.0.0.1:{port}/v1 .*check OPENAI_BASE_URL$"
    ):
        asyncio.run(go())


def test_server_that_never_answers_times_out_as_a_case_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async def go() -> None:
        async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(5)

        server = await asyncio.start_server(hang, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
        try:
            async with OpenAIProvider.from_env(max_attempts=1, timeout_s=0.1) as provider:
                await provider.call(CHAT)
        finally:
            server.close()

    with pytest.raises(CallError, match="no answer from http://127.0.0.1:.* in time"):
        asyncio.run(go())


def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_attempts must be at least 1"):
        OpenAIProvider.from_env(max_attempts=0)


# ── a fine-tune that is still loading; models served elsewhere ──────────────────────────────────────

FINE_TUNE = Request(
    target="final",
    model="ft:gpt-4o-mini:org::abc",
    endpoint="chat",
    payload={"model": "ft:gpt-4o-mini:org::abc"},
)
NOT_FOUND = {
    "error": {
        "message": "The model `ft:gpt-4o-mini:org::abc` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }
}
NOT_CHAT = {
    "error": {
        "message": "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }
}


def loading(not_found_times: int, seen: list[httpx2.Request]) -> Handler:
    """Answers model_not_found ``not_found_times`` times, then answers."""

    async def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if len(seen) <= not_found_times:
            return httpx2.Response(404, json=NOT_FOUND)
        return httpx2.Response(200, json=chat_body({"role": "assistant", "content": "billing"}))

    return handle


def call_waiting(
    handler: Handler,
    request: Request = FINE_TUNE,
    *,
    probe: bool = True,
    model_wait_s: float = 0.05,
    wait_schedule: tuple[float, ...] = (0.01,),
    waits: list[Any] | None = None,
) -> Reply:
    async def go() -> Reply:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
        async with OpenAIProvider.from_env(
            max_attempts=1,
            model_wait_s=model_wait_s,
            wait_schedule=wait_schedule,
            on_model_wait=None if waits is None else waits.append,
            http_client=client,
        ) as provider:
            return await provider.call(request, probe=probe)

    return asyncio.run(go())


def test_probe_waits_for_a_loading_fine_tune_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx2.Request] = []
    waits: list[Any] = []
    with caplog.at_level(logging.INFO, logger="evalkit.providers.openai"):
        reply = call_waiting(loading(2, seen), wait_schedule=(0.01, 0.02), waits=waits)
    assert reply.output == "billing"
    assert len(seen) == 3
    assert reply.load_wait_s >= 0.03
    assert [(w.model, w.waited_s, w.next_wait_s) for w in waits] == [
        ("ft:gpt-4o-mini:org::abc", 0.0, 0.01),
        ("ft:gpt-4o-mini:org::abc", 0.01, 0.02),
    ]
    assert waits[1].describe() == "waiting for ft:gpt-4o-mini:org::abc to load (0.01 s so far, up to 0.05 s)"
    assert [r.getMessage() for r in caplog.records] == [w.describe() for w in waits]


def test_answer_without_waiting_reports_no_load_wait() -> None:
    seen: list[httpx2.Request] = []
    assert call_waiting(loading(0, seen)).load_wait_s == 0.0


def test_fine_tune_still_missing_after_the_budget_names_access_as_the_cause() -> None:
    seen: list[httpx2.Request] = []
    waits: list[Any] = []
    with pytest.raises(CallError) as caught:
        call_waiting(loading(1000, seen), model_wait_s=0.05, wait_schedule=(0.01, 0.02), waits=waits)
    assert [w.next_wait_s for w in waits] == [0.01, 0.02, 0.02]  # the last one cut to the budget
    assert len(seen) == 4
    error = caught.value
    assert error.whole_target
    assert error.message.startswith(
        "model 'ft:gpt-4o-mini:org::abc' was still not found by http://fake.test/v1 after waiting 0.05 s"
    )
    assert "may lack access" in error.message
    assert "OPENAI_ORG_ID" in error.message and "OPENAI_PROJECT_ID" in error.message


def test_default_schedule_backs_off_to_30_s_and_stops_at_300_s(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def instant(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr(asyncio, "sleep", instant)
    seen: list[httpx2.Request] = []

    async def go() -> None:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(loading(1000, seen)))
        async with OpenAIProvider.from_env(max_attempts=1, http_client=client) as provider:
            await provider.call(FINE_TUNE, probe=True)

    with pytest.raises(CallError, match="after waiting 300 s"):
        asyncio.run(go())
    assert slept[:5] == [5.0, 10.0, 20.0, 30.0, 30.0]
    assert sum(slept) == 300.0 and max(slept) == 30.0
    assert len(seen) == len(slept) + 1


def test_only_the_probe_waits() -> None:
    seen: list[httpx2.Request] = []
    with pytest.raises(CallError) as caught:
        call_waiting(loading(1000, seen), probe=False)
    assert len(seen) == 1 and caught.value.whole_target
    assert "a fine-tune that just finished can take a few minutes to load" in caught.value.message
    assert "OPENAI_ORG_ID" in caught.value.message


def test_unknown_base_model_fails_at_once_even_on_the_probe() -> None:
    seen: list[httpx2.Request] = []
    request = Request(target="t", model="gpt-4o-minii", endpoint="chat", payload={"model": "gpt-4o-minii"})
    with pytest.raises(CallError) as caught:
        call_waiting(loading(1000, seen), request)
    assert len(seen) == 1 and caught.value.whole_target
    assert caught.value.message.startswith("model 'gpt-4o-minii' was not found by http://fake.test/v1")
    assert "fine-tune" not in caught.value.message


def test_no_wait_budget_means_no_waiting() -> None:
    seen: list[httpx2.Request] = []
    with pytest.raises(CallError, match="was not found"):
        call_waiting(loading(1000, seen), model_wait_s=0)
    assert len(seen) == 1


def test_wait_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="model_wait_s must be at least 0"):
        OpenAIProvider.from_env(model_wait_s=-1)
    with pytest.raises(ValueError, match="wait_schedule must be positive seconds"):
        OpenAIProvider.from_env(wait_schedule=())


def test_not_a_chat_model_from_a_chat_lineage_model_may_be_responses_only() -> None:
    request = Request(target="pro", model="o1-pro", endpoint="chat", payload={"model": "o1-pro"})
    with pytest.raises(CallError) as caught:
        call(replying(NOT_CHAT, status=404), request)
    message = caught.value.message
    assert caught.value.whole_target and caught.value.move_to is None
    assert "served only on the Responses API" in message and "--model pro=o1-pro@responses" in message
    assert "use @completions" in message
    assert "is served on the completions endpoint" not in message


RESPONSES_ONLY = {
    "error": {
        "message": "This model is only supported in v1/responses and not in v1/chat/completions.",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }
}


def test_a_responses_only_model_called_on_chat_moves_to_responses() -> None:
    request = Request(target="pro", model="o3-pro", endpoint="chat", payload={"model": "o3-pro"})
    with pytest.raises(CallError) as caught:
        call(replying(RESPONSES_ONLY, status=404), request)
    assert caught.value.move_to == "responses" and caught.value.whole_target
    assert "served only on the Responses API" in caught.value.message


def test_a_refused_setting_names_it_and_the_per_target_override() -> None:
    body = {
        "error": {
            "message": "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "unsupported_value",
        }
    }
    request = Request(target="next", model="gpt-7", endpoint="chat", payload={"model": "gpt-7", "temperature": 0})
    with pytest.raises(CallError) as caught:
        call(replying(body, status=400), request)
    message = caught.value.message
    assert caught.value.whole_target
    assert message.startswith("model 'gpt-7' refuses 'temperature' (unsupported_value: Unsupported value:")
    assert "targets: {next: {model: gpt-7, generation: {...}}}" in message


def test_client_is_shared_for_other_api_calls() -> None:
    seen: list[httpx2.Request] = []
    job = {"id": "ftjob-abc", "object": "fine_tuning.job", "model": "gpt-4o-mini", "status": "running"}

    async def go() -> str:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(replying(job, seen=seen)))
        async with OpenAIProvider.from_env(http_client=client) as provider:
            retrieved = await provider.client.fine_tuning.jobs.retrieve("ftjob-abc")
            return retrieved.model

    assert asyncio.run(go()) == "gpt-4o-mini"
    assert seen[0].url.path == "/v1/fine_tuning/jobs/ftjob-abc"
    assert seen[0].headers["authorization"] == f"Bearer {SECRET}"


def test_an_answer_left_empty_by_its_token_budget_is_an_error_for_that_case() -> None:
    body = {
        **chat_body({"role": "assistant", "content": ""}, finish_reason="length"),
        "usage": {"prompt_tokens": 9, "completion_tokens": 21, "completion_tokens_details": {"reasoning_tokens": 21}},
    }
    with pytest.raises(CallError) as caught:
        call(replying(body))
    assert not caught.value.whole_target  # another case may fit its budget
    assert caught.value.message.startswith(
        "the answer is empty: its token budget ran out (21 tokens, 21 of them reasoning) before any visible text"
    )
    response = {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": []}
    request = Request(target="pro", model="o3-pro", endpoint="responses", payload={"model": "o3-pro", "input": "q"})
    with pytest.raises(CallError, match="the answer is empty: its token budget ran out"):
        call(replying(response), request)


def test_a_reasoning_answer_records_its_reasoning_tokens() -> None:
    body = {
        **chat_body({"role": "assistant", "content": "billing"}),
        "usage": {"prompt_tokens": 9, "completion_tokens": 30, "completion_tokens_details": {"reasoning_tokens": 29}},
    }
    assert call(replying(body)).usage == Usage(9, 30, 29)
