"""Reasoning models on chat: OpenAI's refusals of old parameters, and reasoning tokens spent from the budget."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from fakeopenai import DEFAULT_REASONING_TOKENS, FAKE_API_KEY, FakeOpenAI, FakeRequest
from fakeopenai.openapi import OpenAPISpec
from fakeopenai.test_shapes import call, chat

Json = Any


def client(server: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=FAKE_API_KEY, max_retries=0)


def ask(server: FakeOpenAI, model: str, text: str = "Where is my parcel?", **params: Any) -> Any:
    return client(server).chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}], **params
    )


@pytest.mark.parametrize(
    "model", ["o1", "o3", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.2", "gpt-6", "gpt-5-2025-08-07"]
)
def test_reasoning_models_refuse_max_tokens_with_openais_body(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec, model: str
) -> None:
    status, _, body = call(fake_openai, "/v1/chat/completions", chat(model, max_tokens=16))

    assert status == 400
    openai_spec.check(body, "ErrorResponse")
    assert body == {
        "error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "unsupported_parameter",
        }
    }


@pytest.mark.parametrize(
    ("param", "value", "shown"), [("temperature", 0, "0"), ("temperature", 0.7, "0.7"), ("top_p", 0.9, "0.9")]
)
def test_reasoning_models_take_only_the_default_temperature_and_top_p(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec, param: str, value: float, shown: str
) -> None:
    status, _, body = call(fake_openai, "/v1/chat/completions", {**chat("o3"), param: value})

    assert status == 400
    openai_spec.check(body, "ErrorResponse")
    assert body["error"] == {
        "message": f"Unsupported value: '{param}' does not support {shown} with this model. "
        "Only the default (1) value is supported.",
        "type": "invalid_request_error",
        "param": param,
        "code": "unsupported_value",
    }


def test_the_sdk_raises_bad_request_naming_the_parameter(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        ask(fake_openai, "gpt-5-mini", temperature=0)

    assert (refused.value.code, refused.value.param) == ("unsupported_value", "temperature")
    assert fake_openai.count("/v1/chat/completions", model="gpt-5-mini", status=400) == 1


def test_the_default_temperature_and_the_new_parameters_are_accepted(fake_openai: FakeOpenAI) -> None:
    answer = ask(
        fake_openai, "o4-mini", temperature=1, top_p=1, max_completion_tokens=500, reasoning_effort="high"
    )

    assert answer.choices[0].message.content == "Where is my parcel?"


def test_older_models_keep_taking_max_tokens_and_temperature(fake_openai: FakeOpenAI) -> None:
    answer = ask(fake_openai, "gpt-4o-mini", "one two three", max_tokens=2, temperature=0)

    assert (answer.choices[0].message.content, answer.choices[0].finish_reason) == ("one two", "length")
    assert answer.usage is not None and answer.usage.completion_tokens_details is not None
    assert answer.usage.completion_tokens_details.reasoning_tokens == 0


def test_reasoning_tokens_are_spent_first_and_counted_in_usage(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    fake_openai.script("o3", "billing queue please")

    status, _, body = call(fake_openai, "/v1/chat/completions", chat("o3", max_completion_tokens=1000))

    assert status == 200
    openai_spec.check(body, "CreateChatCompletionResponse")
    assert body["choices"][0]["message"]["content"] == "billing queue please"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens"] == DEFAULT_REASONING_TOKENS + 3
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == DEFAULT_REASONING_TOKENS


def test_the_answer_gets_what_reasoning_leaves_of_max_completion_tokens(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("gpt-5", "one two three four")

    cut = ask(fake_openai, "gpt-5", max_completion_tokens=DEFAULT_REASONING_TOKENS + 2)

    assert (cut.choices[0].message.content, cut.choices[0].finish_reason) == ("one two", "length")
    assert cut.usage is not None and cut.usage.completion_tokens == DEFAULT_REASONING_TOKENS + 2


def test_a_budget_reasoning_uses_up_leaves_empty_content_cut_for_length(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    fake_openai.set_reasoning_tokens("gpt-5-mini", 64)

    status, _, body = call(fake_openai, "/v1/chat/completions", chat("gpt-5-mini", max_completion_tokens=16))

    assert status == 200
    openai_spec.check(body, "CreateChatCompletionResponse")
    choice = body["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == ("", "length")
    assert body["usage"]["completion_tokens"] == 16
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 16


@pytest.mark.parametrize(
    ("effort", "spent"), [("none", 0), ("minimal", 25), ("low", 50), ("medium", 100), ("high", 200)]
)
def test_lower_effort_spends_fewer_reasoning_tokens(fake_openai: FakeOpenAI, effort: str, spent: int) -> None:
    fake_openai.set_reasoning_tokens("*", 100)

    answer = ask(fake_openai, "gpt-5.2", "ok", reasoning_effort=effort)

    assert answer.usage is not None and answer.usage.completion_tokens_details is not None
    assert answer.usage.completion_tokens_details.reasoning_tokens == spent
    assert answer.usage.completion_tokens == spent + 1


def test_an_unknown_effort_is_an_invalid_value(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    status, _, body = call(fake_openai, "/v1/chat/completions", chat("o3", reasoning_effort="extreme"))

    assert status == 400
    openai_spec.check(body, "ErrorResponse")
    assert body["error"]["message"] == (
        "Invalid value: 'extreme'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high', "
        "'xhigh', and 'max'."
    )
    assert (body["error"]["param"], body["error"]["code"]) == ("reasoning_effort", "invalid_value")


def test_fine_tunes_and_checkpoints_of_a_reasoning_model_reason_too(fake_openai: FakeOpenAI) -> None:
    checkpoint = "ft:o4-mini-2025-04-16:acme:graders:9xYz:ckpt-step-8"
    fake_openai.add_model(checkpoint)

    with pytest.raises(openai.BadRequestError, match="max_completion_tokens"):
        ask(fake_openai, checkpoint, max_tokens=10)
    answer = ask(fake_openai, checkpoint, "fine")

    assert answer.choices[0].message.content == "fine"
    assert answer.usage is not None and answer.usage.completion_tokens == DEFAULT_REASONING_TOKENS + 1


def test_new_reasoning_ids_are_recognised_by_name_and_deployments_by_flag(fake_openai: FakeOpenAI) -> None:
    assert fake_openai.add_model("gpt-5.4") == "chat"
    assert fake_openai.add_model("gpt-5.1-codex-max") == "responses"
    fake_openai.add_model("triage-reasoner", "chat", reasoning=True)
    fake_openai.add_model("ft:gpt-4.1-mini:acme::plain")

    for model in ("gpt-5.4", "triage-reasoner"):
        with pytest.raises(openai.BadRequestError, match="Unsupported parameter: 'max_tokens'"):
            ask(fake_openai, model, max_tokens=5)
    assert (
        ask(fake_openai, "ft:gpt-4.1-mini:acme::plain", "a b c", max_tokens=1).choices[0].message.content
        == "a"
    )


def test_scripts_answer_reasoning_models_as_any_other(fake_openai: FakeOpenAI) -> None:
    seen: list[FakeRequest] = []

    def triage(request: FakeRequest) -> str:
        seen.append(request)
        return "billing" if "charged" in request.last_user else "technical"

    fake_openai.script("gpt-6", triage)

    assert ask(fake_openai, "gpt-6", "I was charged twice").choices[0].message.content == "billing"
    assert [(r.endpoint, r.model) for r in seen] == [("chat", "gpt-6")]


def test_reset_forgets_reasoning_token_settings(fake_openai: FakeOpenAI) -> None:
    fake_openai.set_reasoning_tokens("o3", 7)
    fake_openai.reset()

    answer = ask(fake_openai, "o3", "x")

    assert answer.usage is not None and answer.usage.completion_tokens == DEFAULT_REASONING_TOKENS + 1
    with pytest.raises(ValueError, match="integer >= 0"):
        fake_openai.set_reasoning_tokens("o3", -1)
