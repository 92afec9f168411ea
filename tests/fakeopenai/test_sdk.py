"""The official openai SDK talks to the fake as to OpenAI: answers parse, errors map to its exceptions."""

from __future__ import annotations

import json
import time

import openai
import pytest

from fakeopenai import FAKE_API_KEY, FakeOpenAI, FakeRequest, Reply, ToolCall


def client(server: FakeOpenAI, *, api_key: str = FAKE_API_KEY, max_retries: int = 2) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=api_key, max_retries=max_retries)


def ask(sdk: openai.OpenAI, model: str, text: str = "My card was charged twice") -> str | None:
    answer = sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    return answer.choices[0].message.content


def test_default_answer_echoes_the_last_user_message(fake_openai: FakeOpenAI) -> None:
    answer = client(fake_openai).chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Route the ticket."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "second"}]},
        ],
    )

    assert answer.choices[0].message.content == "second"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens == 1


def test_scripts_see_the_request_and_choose_the_answer(fake_openai: FakeOpenAI) -> None:
    seen: list[FakeRequest] = []

    def triage(request: FakeRequest) -> str:
        seen.append(request)
        return "billing" if "charged" in request.last_user else "technical"

    fake_openai.script("gpt-4o-mini", triage)
    sdk = client(fake_openai)

    assert ask(sdk, "gpt-4o-mini") == "billing"
    assert ask(sdk, "gpt-4o-mini", "The app crashes") == "technical"
    assert ask(sdk, "gpt-4o", "The app crashes") == "The app crashes"  # other models keep the default
    assert [r.endpoint for r in seen] == ["chat", "chat"]
    assert seen[0].body["messages"] == [{"role": "user", "content": "My card was charged twice"}]


def test_legacy_completion_uses_prompt_stop_and_default_max_tokens(fake_openai: FakeOpenAI) -> None:
    seen: list[str] = []

    def long_answer(request: FakeRequest) -> str:
        seen.append(request.prompt)
        return " billing END" + " word" * 40

    fake_openai.script("babbage-002", long_answer)
    sdk = client(fake_openai)

    stopped = sdk.completions.create(model="babbage-002", prompt="Refund?\n\n###\n\n", stop=[" END"])
    capped = sdk.completions.create(model="babbage-002", prompt="Refund?\n\n###\n\n")

    assert seen == ["Refund?\n\n###\n\n"] * 2
    assert (stopped.choices[0].text, stopped.choices[0].finish_reason) == (" billing", "stop")
    assert capped.choices[0].finish_reason == "length"  # OpenAI's default max_tokens is 16 here
    assert capped.choices[0].text == " billing END" + " word" * 14


def test_max_tokens_cuts_chat_answers(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("gpt-4o-mini", "one two three four")

    answer = client(fake_openai).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], max_tokens=2
    )

    assert (answer.choices[0].message.content, answer.choices[0].finish_reason) == ("one two", "length")


def test_tool_calls_parse_in_the_sdk(fake_openai: FakeOpenAI) -> None:
    fake_openai.script_tool_calls("gpt-4o", [ToolCall("lookup_order", {"order_id": "A17"}, id="call_1")])

    answer = client(fake_openai).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Where is A17?"}]
    )

    call = answer.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert answer.choices[0].finish_reason == "tool_calls"
    assert (call.id, call.function.name) == ("call_1", "lookup_order")  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"order_id": "A17"}  # type: ignore[union-attr]


def test_fine_tunes_and_checkpoints_answer_where_their_base_does(fake_openai: FakeOpenAI) -> None:
    chat_ft = "ft:gpt-4o-mini-2024-07-18:acme::7p4lURel:ckpt-step-20"
    legacy_ft = "ft:babbage-002:acme:triage:9xYz"
    fake_openai.add_model(chat_ft)
    fake_openai.add_model(legacy_ft)
    sdk = client(fake_openai)

    assert ask(sdk, chat_ft, "hello") == "hello"
    assert sdk.completions.create(model=legacy_ft, prompt="hi").choices[0].text == "hi"
    with pytest.raises(openai.NotFoundError) as wrong:
        sdk.completions.create(model=chat_ft, prompt="hi")
    assert "This is a chat model" in wrong.value.message


def test_adding_a_fine_tune_of_an_unknown_base_needs_a_kind(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(ValueError, match="pass kind="):
        fake_openai.add_model("ft:llama-3:acme::x")
    fake_openai.add_model("ft:llama-3:acme::x", "completions")

    assert (
        client(fake_openai).completions.create(model="ft:llama-3:acme::x", prompt="ok").choices[0].text
        == "ok"
    )


def test_errors_surface_as_the_sdk_exceptions(fake_openai: FakeOpenAI) -> None:
    sdk = client(fake_openai, max_retries=0)
    fake_openai.reject_key("sk-test-revoked-99991234")

    with pytest.raises(openai.NotFoundError) as missing:
        ask(sdk, "gpt-5-nano")
    with pytest.raises(openai.NotFoundError) as legacy_on_chat:
        ask(sdk, "davinci-002")
    with pytest.raises(openai.AuthenticationError) as revoked:
        ask(client(fake_openai, api_key="sk-test-revoked-99991234"), "gpt-4o-mini")
    fake_openai.fail_next(1, status=429)
    with pytest.raises(openai.RateLimitError) as limited:
        ask(sdk, "gpt-4o-mini")

    assert missing.value.code == "model_not_found"
    assert missing.value.message.endswith(
        "The model `gpt-5-nano` does not exist or you do not have access to it."
    )
    assert "This is not a chat model" in legacy_on_chat.value.message
    assert revoked.value.code == "invalid_api_key"
    assert "sk-te****1234" in revoked.value.message
    assert limited.value.code == "rate_limit_exceeded"


def test_sdk_retries_honour_retry_after_and_then_succeed(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(2, status=429, retry_after=0.25)

    started = time.monotonic()
    answer = ask(client(fake_openai, max_retries=2), "gpt-4o-mini", "hi")
    elapsed = time.monotonic() - started

    assert answer == "hi"
    assert 0.5 <= elapsed < 2.0  # two waits of Retry-After: 0.25 s, not the SDK's own back-off
    assert [r.status for r in fake_openai.requests] == [429, 429, 200]


def test_retries_run_out_after_persistent_server_errors(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_model("gpt-4o", status=503)
    sdk = client(fake_openai, max_retries=2)

    with pytest.raises(openai.InternalServerError):
        ask(sdk, "gpt-4o")
    assert ask(sdk, "gpt-4o-mini", "fine") == "fine"  # only the one model fails
    assert fake_openai.count("/v1/chat/completions", model="gpt-4o", status=503) == 3


def test_script_can_answer_with_an_error_and_a_crashing_script_is_a_500(fake_openai: FakeOpenAI) -> None:
    def content_filter(request: FakeRequest) -> str:
        from fakeopenai import ApiError

        raise ApiError(400, "Your request was rejected by the content filter.", code="content_filter")

    fake_openai.script("gpt-4o", content_filter)
    fake_openai.script("gpt-4o-mini", lambda r: str(1 / 0))
    sdk = client(fake_openai, max_retries=0)

    with pytest.raises(openai.BadRequestError, match="content filter"):
        ask(sdk, "gpt-4o")
    with pytest.raises(openai.InternalServerError, match="ZeroDivisionError"):
        ask(sdk, "gpt-4o-mini")
    assert isinstance(fake_openai.script_errors[0], ZeroDivisionError)


def test_refusal_reply(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("gpt-4o-mini", Reply(refusal="I can't help with that."))

    message = client(fake_openai).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
    )

    assert (message.choices[0].message.content, message.choices[0].message.refusal) == (
        None,
        "I can't help with that.",
    )


def test_azure_client_reaches_deployments(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_model("triage-prod", "chat")
    azure = openai.AzureOpenAI(
        azure_endpoint=fake_openai.azure_endpoint, api_key="azure-secret-key-5678", api_version="2024-10-21"
    )

    answer = azure.chat.completions.create(model="triage-prod", messages=[{"role": "user", "content": "hey"}])
    with pytest.raises(openai.NotFoundError, match="API deployment for this resource does not exist"):
        azure.with_options(max_retries=0).chat.completions.create(
            model="nope", messages=[{"role": "user", "content": "x"}]
        )

    first = fake_openai.requests[0]
    assert answer.choices[0].message.content == "hey"
    assert (first.path, first.model, first.auth) == (
        "/openai/deployments/triage-prod/chat/completions",
        "triage-prod",
        "api-key",
    )
    assert "api-version=2024-10-21" in first.query
    assert "azure-secret-key-5678" not in repr(fake_openai.requests)


def test_the_log_never_holds_a_key(fake_openai: FakeOpenAI) -> None:
    fake_openai.reject_key("sk-test-revoked-99991234")
    ask(client(fake_openai), "gpt-4o-mini")
    with pytest.raises(openai.AuthenticationError):
        ask(client(fake_openai, api_key="sk-test-revoked-99991234", max_retries=0), "gpt-4o-mini")

    records = fake_openai.requests
    dumped = repr(records) + json.dumps([[r.headers, r.body] for r in records])

    assert len(records) == 2 and records[0].auth == "bearer"
    assert all("authorization" not in r.headers for r in records)
    assert FAKE_API_KEY not in dumped and "revoked" not in dumped
    assert records[0].headers["content-type"] == "application/json"  # other headers are kept
