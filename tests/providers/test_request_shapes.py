"""What is sent: request bodies for chat, completions and Responses targets, shaped by the model's lineage."""

from __future__ import annotations

from evalkit.providers.request import build_request
from evalkit.providers.responses import input_items, responses_answer, responses_extras, responses_usage
from evalkit.providers.shapes import shape
from evalkit.records import Case, Target, Usage
from evalkit.suite.model import Completions, Generation

CHAT = Target(name="prod", model="ft:gpt-4o-mini:org::abc", endpoint="chat")
LEGACY = Target(name="old", model="ft:davinci-002:org::abc", endpoint="completions")
TOOLS = [{"type": "function", "function": {"name": "route", "parameters": {"type": "object"}}}]
CHAT_CASE = Case(
    id="c1",
    reference="billing",
    messages=({"role": "system", "content": "Route."}, {"role": "user", "content": "Refund"}),
    extras={"tools": TOOLS, "parallel_tool_calls": False},
)
PROMPT_CASE = Case(id="p1", reference=" billing END", prompt="Refund\n\n###\n\n")


def test_chat_body_has_messages_extras_and_settings_without_nones() -> None:
    generation = Generation(temperature=0, max_tokens=16, stop=["\n"], params={"logprobs": True})
    request = build_request(CHAT_CASE, CHAT, generation, Completions(stop=[" END"]))
    assert request.endpoint == "chat"
    assert request.model == CHAT.model
    assert request.payload == {
        "model": "ft:gpt-4o-mini:org::abc",
        "messages": [{"role": "system", "content": "Route."}, {"role": "user", "content": "Refund"}],
        "tools": TOOLS,
        "parallel_tool_calls": False,
        "temperature": 0.0,
        "max_tokens": 16,
        "stop": ["\n"],
        "logprobs": True,
    }


def test_prompt_case_to_chat_target_is_one_user_message() -> None:
    generation = Generation(temperature=0.7, max_tokens=None, top_p=0.9, seed=7)
    request = build_request(PROMPT_CASE, CHAT, generation, Completions())
    assert request.payload == {
        "model": CHAT.model,
        "messages": [{"role": "user", "content": "Refund\n\n###\n\n"}],
        "temperature": 0.7,
        "top_p": 0.9,
        "seed": 7,
    }


def test_chat_case_to_completions_target_is_rendered_without_tools() -> None:
    generation = Generation(temperature=0, max_tokens=8, stop=["\n"])
    completions = Completions(separator="\n\n###\n\n", stop=[" END"])
    request = build_request(CHAT_CASE, LEGACY, generation, completions)
    assert request.endpoint == "completions"
    assert request.payload == {
        "model": "ft:davinci-002:org::abc",
        "prompt": "system: Route.\nuser: Refund\n\n\n###\n\n",
        "stop": [" END"],
        "temperature": 0.0,
        "max_tokens": 8,
    }


def test_prompt_case_to_completions_target_goes_as_it_is() -> None:
    request = build_request(PROMPT_CASE, LEGACY, Generation(), Completions(separator="IGNORED"))
    assert request.payload["prompt"] == "Refund\n\n###\n\n"
    assert "stop" not in request.payload


# ── reasoning models and the Responses API ───────────────────────────────────────────────────────────

REASONING = Target(name="next", model="gpt-5-mini", endpoint="chat")
PRO = Target(name="pro", model="o3-pro", endpoint="responses")
RESPONSES = Target(name="plain", model="gpt-4.1", endpoint="responses")
LABEL_TASK = Generation(temperature=0, max_tokens=5, stop=["\n"], seed=3)


def test_a_reasoning_chat_model_gets_max_completion_tokens_with_the_allowance_and_no_temperature() -> None:
    request = build_request(CHAT_CASE, REASONING, LABEL_TASK, Completions())
    assert request.payload == {
        "model": "gpt-5-mini",
        "messages": [{"role": "system", "content": "Route."}, {"role": "user", "content": "Refund"}],
        "tools": TOOLS,
        "parallel_tool_calls": False,
        "max_completion_tokens": 5 + 4096,
        "seed": 3,
    }


def test_a_fine_tune_of_a_reasoning_model_is_shaped_like_its_base() -> None:
    target = Target(name="ft", model="ft:o4-mini-2025-04-16:acme::x:ckpt-step-3", endpoint="chat")
    generation = Generation(temperature=1, max_tokens=5, reasoning_effort="low", reasoning_allowance=64)
    payload = build_request(PROMPT_CASE, target, generation, Completions()).payload
    assert payload["max_completion_tokens"] == 69 and payload["temperature"] == 1  # 1 is the one it takes
    assert payload["reasoning_effort"] == "low" and "max_tokens" not in payload


def test_a_responses_target_gets_input_items_max_output_tokens_and_reasoning_effort() -> None:
    generation = Generation(temperature=0, max_tokens=5, reasoning_effort="high")
    request = build_request(CHAT_CASE, PRO, generation, Completions())
    assert request.endpoint == "responses"
    assert request.payload == {
        "model": "o3-pro",
        "input": [{"role": "system", "content": "Route."}, {"role": "user", "content": "Refund"}],
        "tools": [{"type": "function", "name": "route", "parameters": {"type": "object"}}],
        "parallel_tool_calls": False,
        "store": False,
        "max_output_tokens": 5 + 4096,
        "reasoning": {"effort": "high"},
    }


def test_a_non_reasoning_responses_target_keeps_its_sampling_but_not_stop_or_seed() -> None:
    payload = build_request(PROMPT_CASE, RESPONSES, LABEL_TASK, Completions()).payload
    assert payload == {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "Refund\n\n###\n\n"}],
        "store": False,
        "temperature": 0.0,
        "max_output_tokens": 16,  # the fewest the Responses API takes
    }


def test_what_a_shape_changes_is_said_in_one_line_each() -> None:
    assert shape("gpt-4o-mini", "chat", LABEL_TASK).adjusted == ()
    assert shape("gpt-5", "chat", LABEL_TASK).adjusted == (
        (
            "max_tokens 5 sent as max_completion_tokens 4101 (5 for the answer + reasoning_allowance 4096: a "
            "reasoning model's thinking counts against it)"
        ),
        "temperature 0 not sent: reasoning models take only the default (1)",
        "stop not sent: reasoning models take none",
    )
    assert shape("gpt-4.1", "responses", LABEL_TASK).adjusted == (
        "max_tokens 5 sent as max_output_tokens 16: the Responses API takes no fewer",
        "seed not sent: the Responses API takes none",
        "stop not sent: the Responses API takes none",
    )
    assert shape("gpt-4o", "chat", Generation(reasoning_effort="low")).adjusted == (
        "reasoning_effort low not sent: not a reasoning model",
    )


def test_a_conversation_with_tool_calls_and_images_becomes_responses_items() -> None:
    messages = (
        {"role": "user", "content": [{"type": "text", "text": "Where?"}, {"type": "image_url", "image_url": {"url": "data:x"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "find", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "Paris"},
        {"role": "assistant", "content": [{"type": "text", "text": "In Paris."}]},
    )  # fmt: skip
    assert input_items(messages) == [
        {"role": "user", "content": [{"type": "input_text", "text": "Where?"}, {"type": "input_image", "image_url": "data:x"}]},
        {"type": "function_call", "call_id": "c1", "name": "find", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "Paris"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "In Paris."}]},
    ]  # fmt: skip
    assert responses_extras({"response_format": {"type": "json_schema", "json_schema": {"name": "v", "schema": {}}}}) == {
        "text": {"format": {"type": "json_schema", "name": "v", "schema": {}}}
    }  # fmt: skip


def test_a_response_is_read_as_its_output_text_finish_reason_and_usage() -> None:
    message = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "bill"}, {"type": "output_text", "text": "ing"}]}
    body = {
        "status": "completed",
        "output": [{"type": "reasoning", "summary": []}, message],
        "usage": {"input_tokens": 12, "output_tokens": 70, "output_tokens_details": {"reasoning_tokens": 64}},
    }  # fmt: skip
    assert responses_answer(body) == ("billing", "stop")
    assert responses_usage(body) == Usage(12, 70, 64)
    incomplete = {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": [{"type": "reasoning"}]}
    assert responses_answer(incomplete) == ("", "length")
    calls = {"status": "completed", "output": [{"type": "function_call", "name": "route", "arguments": '{"q": "b"}'}]}
    assert responses_answer(calls) == ('[{"arguments": {"q": "b"}, "name": "route"}]', "tool_calls")
