"""What is sent: request bodies for chat and completions targets."""

from __future__ import annotations

from evalkit.providers.request import build_request
from evalkit.records import Case, Target
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
