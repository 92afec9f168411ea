"""The Responses API: SDK calls parse, bodies follow the spec, reasoning budgets, Responses-only models."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from fakeopenai import DEFAULT_REASONING_TOKENS, FAKE_API_KEY, FakeOpenAI, FakeRequest, Reply, ToolCall
from fakeopenai.openapi import OpenAPISpec
from fakeopenai.responses import RESPONSES_PARAMS
from fakeopenai.test_shapes import call, chat

Json = Any


def client(server: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=FAKE_API_KEY, max_retries=0)


def respond(model: str, given: Json = "Where is my parcel?", **extra: Json) -> Json:
    return {"model": model, "input": given, **extra}


def test_a_string_input_is_answered_and_output_text_joins_the_message(fake_openai: FakeOpenAI) -> None:
    response = client(fake_openai).responses.create(model="gpt-4o-mini", input="My card was charged twice")

    assert response.output_text == "My card was charged twice"
    assert (response.object, response.status, response.incomplete_details) == ("response", "completed", None)
    assert [item.type for item in response.output] == ["message"]
    assert response.usage is not None and response.usage.output_tokens == 5


def test_scripts_see_responses_requests(fake_openai: FakeOpenAI) -> None:
    seen: list[FakeRequest] = []

    def triage(request: FakeRequest) -> str:
        seen.append(request)
        return "billing" if "charged" in request.last_user else "technical"

    fake_openai.script("gpt-5", triage)
    response = client(fake_openai).responses.create(
        model="gpt-5",
        instructions="Route the ticket.",
        input=[
            {"role": "user", "content": "The app crashes"},
            {"role": "assistant", "content": "technical"},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "I was charged"}]},
        ],
    )

    assert response.output_text == "billing"
    assert (seen[0].endpoint, seen[0].model, seen[0].last_user) == ("responses", "gpt-5", "I was charged")
    assert [m["role"] for m in seen[0].messages] == ["developer", "user", "assistant", "user"]
    assert seen[0].messages[0]["content"] == "Route the ticket."


def test_the_response_body_follows_the_spec(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    request = respond(
        "o3", [{"role": "user", "content": "hello there"}], instructions="Be brief.", store=False
    )
    openai_spec.check(request, "CreateResponse")

    status, headers, body = call(fake_openai, "/v1/responses", request)

    assert (status, headers["content-type"]) == (200, "application/json")
    openai_spec.check(body, "Response")
    assert [item["type"] for item in body["output"]] == ["reasoning", "message"]
    message = body["output"][1]
    assert (message["role"], message["status"]) == ("assistant", "completed")
    assert message["content"] == [
        {"type": "output_text", "text": "hello there", "annotations": [], "logprobs": []}
    ]
    assert body["usage"] == {
        "input_tokens": 6,  # one per word and one per message: "Be brief." and "hello there"
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": DEFAULT_REASONING_TOKENS + 2,
        "output_tokens_details": {"reasoning_tokens": DEFAULT_REASONING_TOKENS},
        "total_tokens": DEFAULT_REASONING_TOKENS + 8,
    }
    assert (body["reasoning"]["effort"], body["instructions"]) == ("medium", "Be brief.")


def test_the_answer_gets_what_reasoning_leaves_of_max_output_tokens(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    fake_openai.script("o4-mini", "one two three four")

    _, _, body = call(
        fake_openai, "/v1/responses", respond("o4-mini", max_output_tokens=DEFAULT_REASONING_TOKENS + 2)
    )

    openai_spec.check(body, "Response")
    assert (body["status"], body["incomplete_details"]) == ("incomplete", {"reason": "max_output_tokens"})
    assert body["output"][1]["status"] == "incomplete"
    assert body["output"][1]["content"][0]["text"] == "one two"
    assert body["usage"]["output_tokens"] == DEFAULT_REASONING_TOKENS + 2


def test_a_budget_reasoning_uses_up_leaves_no_message(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    fake_openai.set_reasoning_tokens("gpt-5-mini", 100)

    response = client(fake_openai).responses.create(model="gpt-5-mini", input="hi", max_output_tokens=16)
    raw = client(fake_openai).with_raw_response.responses.create(
        model="gpt-5-mini", input="hi", max_output_tokens=16
    )

    openai_spec.check(raw.http_response.json(), "Response")
    assert (response.status, response.output_text) == ("incomplete", "")
    assert (
        response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"
    )
    assert [item.type for item in response.output] == ["reasoning"]
    assert response.usage is not None and response.usage.output_tokens_details.reasoning_tokens == 16


def test_reasoning_effort_scales_the_reasoning_tokens(fake_openai: FakeOpenAI) -> None:
    fake_openai.set_reasoning_tokens("o3", 80)

    low = client(fake_openai).responses.create(model="o3", input="ok", reasoning={"effort": "low"})

    assert low.usage is not None and low.usage.output_tokens_details.reasoning_tokens == 40
    assert low.reasoning is not None and low.reasoning.effort == "low"


@pytest.mark.parametrize(("param", "value"), [("temperature", 0), ("top_p", 0.5)])
def test_reasoning_models_refuse_sampling_parameters_on_responses_too(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec, param: str, value: float
) -> None:
    status, _, body = call(fake_openai, "/v1/responses", respond("gpt-5.2", **{param: value}))

    assert status == 400
    openai_spec.check(body, "ErrorResponse")
    assert body["error"] == {
        "message": f"Unsupported value: '{param}' does not support {value} with this model. "
        "Only the default (1) value is supported.",
        "type": "invalid_request_error",
        "param": param,
        "code": "unsupported_value",
    }


def test_older_models_take_temperature_but_not_reasoning_effort(fake_openai: FakeOpenAI) -> None:
    sdk = client(fake_openai)

    answer = sdk.responses.create(model="gpt-4o", input="a b c", temperature=0, max_output_tokens=16)
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.responses.create(model="gpt-4o", input="x", reasoning={"effort": "low"})

    assert (answer.output_text, answer.temperature) == ("a b c", 0)
    assert answer.usage is not None and answer.usage.output_tokens_details.reasoning_tokens == 0
    assert (refused.value.code, refused.value.param) == ("unsupported_parameter", "reasoning.effort")


@pytest.mark.parametrize(
    ("body", "message", "param", "code"),
    [
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]},
            "Unsupported parameter: 'messages'. In the Responses API, this parameter has moved to 'input'.",
            "messages",
            "unsupported_parameter",
        ),
        (
            respond("gpt-4o", max_tokens=5),
            "Unknown parameter: 'max_tokens'.",
            "max_tokens",
            "unknown_parameter",
        ),
        ({"input": "x"}, "Missing required parameter: 'model'.", "model", "missing_required_parameter"),
        ({"model": "gpt-4o"}, "Missing required parameter: 'input'.", "input", "missing_required_parameter"),
        (
            respond("gpt-4o", [{"role": "user", "content": "x", "weight": 1}]),
            "Unknown parameter: 'input[0].weight'.",
            "input[0].weight",
            "unknown_parameter",
        ),
        (
            respond("gpt-4o", [{"role": "bot", "content": "x"}]),
            "Invalid value: 'bot'. Supported values are: 'user', 'assistant', 'system', and 'developer'.",
            "input[0].role",
            "invalid_value",
        ),
        (
            respond("gpt-4o", [{"role": "user", "content": [{"type": "text", "text": "x"}]}]),
            "Invalid value: 'text'. Supported values are: 'input_text', 'input_image', 'output_text',",
            "input[0].content[0].type",
            "invalid_value",
        ),
        (
            respond("gpt-4o", max_output_tokens=8),
            "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 8 instead.",
            "max_output_tokens",
            "integer_below_min_value",
        ),
        (
            respond("gpt-4o", text={"format": {"type": "xml"}}),
            "Invalid 'text.format':",
            "text.format",
            "invalid_value",
        ),
        (
            respond("o3", reasoning={"effort": "huge"}),
            "Invalid value: 'huge'.",
            "reasoning.effort",
            "invalid_value",
        ),
        (respond("gpt-4o", stream=True), "The fake OpenAI server does not stream", "stream", None),
        (
            respond("gpt-4o", previous_response_id="resp_123"),
            "Previous response with id 'resp_123' not found.",
            "previous_response_id",
            "previous_response_not_found",
        ),
    ],
)
def test_bad_bodies_get_openai_400s(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec, body: Json, message: str, param: str, code: str | None
) -> None:
    status, _, answer = call(fake_openai, "/v1/responses", body)

    assert status == 400, answer
    openai_spec.check(answer, "ErrorResponse")
    assert answer["error"]["message"].startswith(message)
    assert (answer["error"]["param"], answer["error"]["code"]) == (param, code)


@pytest.mark.parametrize(
    "model",
    [
        "o1-pro",
        "o3-pro",
        "gpt-5-pro",
        "gpt-5.2-pro",
        "codex-mini-latest",
        "gpt-5-codex",
        "o3-deep-research",
        "o4-mini-deep-research",
        "o3-pro-2025-06-10",
    ],
)
def test_responses_only_models_answer_404_on_chat_and_are_served_on_responses(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec, model: str
) -> None:
    status, _, body = call(fake_openai, "/v1/chat/completions", chat(model))
    response = client(fake_openai).responses.create(model=model, input="deep thought")

    assert status == 404
    openai_spec.check(body, "ErrorResponse")
    assert body == {
        "error": {
            "message": "This model is only supported in v1/responses and not in v1/chat/completions.",
            "type": "invalid_request_error",
            "param": "model",
            "code": None,
        }
    }
    assert response.output_text == "deep thought"
    assert [item.type for item in response.output] == ["reasoning", "message"]


def test_other_endpoints_keep_their_rules(fake_openai: FakeOpenAI) -> None:
    sdk = client(fake_openai)

    with pytest.raises(
        openai.NotFoundError, match="only supported in v1/responses and not in v1/completions"
    ):
        sdk.completions.create(model="o3-pro", prompt="x")
    with pytest.raises(openai.NotFoundError, match="This is a chat model"):
        sdk.completions.create(model="o3", prompt="x")
    with pytest.raises(openai.NotFoundError, match="not supported in the v1/responses endpoint"):
        sdk.responses.create(model="davinci-002", input="x")
    with pytest.raises(openai.NotFoundError) as unknown:
        sdk.responses.create(model="gpt-5-nano", input="x")

    assert unknown.value.code == "model_not_found"


def test_the_log_shows_a_target_went_only_to_responses_with_no_refused_parameter(
    fake_openai: FakeOpenAI,
) -> None:
    sdk = client(fake_openai)
    sdk.responses.create(model="o3-pro", input="a", max_output_tokens=200, reasoning={"effort": "high"})
    sdk.responses.create(model="o3-pro", input="b")
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(model="o3", input="c", temperature=0)

    ours = [r for r in fake_openai.requests if r.model == "o3-pro"]
    assert {(r.method, r.path, r.endpoint, r.status) for r in ours} == {
        ("POST", "/v1/responses", "responses", 200)
    }
    assert fake_openai.count("/v1/responses", model="o3-pro") == 2
    assert fake_openai.count(model="o3-pro", endpoint="chat") == 0
    assert all(not {"temperature", "top_p", "max_tokens"} & set(r.body or {}) for r in ours)
    assert fake_openai.count("/v1/responses", status=400) == 1
    assert fake_openai.requests[-1].body == {"model": "o3", "input": "c", "temperature": 0}


def test_scripted_replies_become_output_items(fake_openai: FakeOpenAI, openai_spec: OpenAPISpec) -> None:
    fake_openai.script_tool_calls("gpt-4o", [ToolCall("route_ticket", {"queue": "billing"}, id="call_7")])
    fake_openai.script("gpt-4o-mini", Reply(refusal="I can't help with that."))

    _, _, calls = call(fake_openai, "/v1/responses", respond("gpt-4o"))
    _, _, refusal = call(fake_openai, "/v1/responses", respond("gpt-4o-mini"))

    openai_spec.check(calls, "Response")
    openai_spec.check(refusal, "Response")
    assert [(i["type"], i["call_id"], i["name"], json.loads(i["arguments"])) for i in calls["output"]] == [
        ("function_call", "call_7", "route_ticket", {"queue": "billing"})
    ]
    assert refusal["output"][0]["content"] == [{"type": "refusal", "refusal": "I can't help with that."}]


def test_faults_and_errors_apply_to_responses(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(1, status=429, model="gpt-5")
    sdk = client(fake_openai)

    with pytest.raises(openai.RateLimitError):
        sdk.responses.create(model="gpt-5", input="x")
    assert sdk.responses.create(model="gpt-5", input="again").output_text == "again"


def test_azure_responses_reach_deployments(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_model("reasoner-prod", "chat", reasoning=True)
    azure = openai.AzureOpenAI(
        azure_endpoint=fake_openai.azure_endpoint,
        api_key="azure-secret-key-5678",
        api_version="2025-04-01-preview",
        max_retries=0,
    )

    answer = azure.responses.create(model="reasoner-prod", input="hey")
    with pytest.raises(openai.NotFoundError, match="API deployment for this resource does not exist"):
        azure.responses.create(model="nope", input="x")

    first = fake_openai.requests[0]
    assert answer.output_text == "hey"
    assert (first.path, first.model, first.endpoint, first.auth) == (
        "/openai/responses",
        "reasoner-prod",
        "responses",
        "api-key",
    )
    assert fake_openai.count(endpoint="responses") == 2


def test_the_fake_knows_every_createresponse_parameter(openai_spec: OpenAPISpec) -> None:
    assert RESPONSES_PARAMS == openai_spec.properties("CreateResponse")
