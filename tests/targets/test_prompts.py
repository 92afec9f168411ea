"""Conversation → completions prompt."""

from __future__ import annotations

from typing import Any

from evalkit.providers.prompts import to_prompt
from evalkit.suite.model import Completions


def test_lone_user_message_is_its_content_plus_separator() -> None:
    messages = [{"role": "user", "content": "My card was charged twice"}]
    assert to_prompt(messages, Completions(separator="\n\n###\n\n")) == "My card was charged twice\n\n###\n\n"


def test_no_separator_means_nothing_appended() -> None:
    assert to_prompt([{"role": "user", "content": "hi"}], Completions()) == "hi"


def test_multi_turn_default_rendering() -> None:
    messages = [
        {"role": "system", "content": "Route tickets."},
        {"role": "user", "content": "Refund please"},
        {"role": "assistant", "content": "billing"},
        {"role": "user", "content": "And my login fails"},
    ]
    assert to_prompt(messages, Completions(separator="\n###\n")) == (
        "system: Route tickets.\nuser: Refund please\nassistant: billing\nuser: And my login fails\n\n###\n"
    )


def test_template_applies_to_every_message_even_a_lone_one() -> None:
    completions = Completions(template="<{role}>{content}</{role}>", separator=" ->")
    assert to_prompt([{"role": "user", "content": "a {b}"}], completions) == "<user>a {b}</user> ->"


def test_content_parts_reduced_to_their_text() -> None:
    messages: list[dict[str, Any]] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "text", "text": "this picture?"},
            ],
        }
    ]
    assert to_prompt(messages, Completions()) == "What is in\nthis picture?"


def test_assistant_tool_call_without_content_renders_empty() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
    ]
    assert to_prompt(messages, Completions()) == "user: weather?\nassistant: \n"
