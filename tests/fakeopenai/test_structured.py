"""Structured output on the fake: a strict schema OpenAI would refuse is refused; graders' replies scripted."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from fakeopenai import FAKE_API_KEY, FakeOpenAI
from fakeopenai.structured import requested_schema, verdict

OPEN_STEP = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
"""An object without ``additionalProperties: false``: strict mode refuses it anywhere in a schema."""

STRICT = {
    "type": "object",
    "properties": {"steps": {"type": "array", "items": {"type": "string"}}, "result": {"type": "number"}},
    "required": ["steps", "result"],
    "additionalProperties": False,
}


def ask(server: FakeOpenAI, schema: dict[str, Any], *, strict: bool = True) -> str | None:
    sdk = openai.OpenAI(base_url=server.url, api_key=FAKE_API_KEY, max_retries=0)
    answer = sdk.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "grade it"}],
        response_format={"type": "json_schema", "json_schema": {"name": "grade", "schema": schema, "strict": strict}},
    )
    return answer.choices[0].message.content


def test_a_strict_schema_is_taken_and_scripts_see_it(fake_openai: FakeOpenAI) -> None:
    seen: list[Any] = []
    fake_openai.script("gpt-4o", lambda request: seen.append(requested_schema(request)) or verdict(0.5))

    assert json.loads(ask(fake_openai, STRICT) or "") == {
        "steps": [{"description": "the answer", "conclusion": "checked"}],
        "result": 0.5,
    }
    assert seen == [STRICT]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {**STRICT, "additionalProperties": True},
            "In context=(), 'additionalProperties' is required to be supplied and to be false.",
        ),
        (
            {**STRICT, "required": ["result"]},
            (
                "In context=(), 'required' is required to be supplied and to be an array including every key "
                "in properties. Missing 'steps'."
            ),
        ),
        (
            {**STRICT, "properties": {**STRICT["properties"], "steps": {"type": "array", "items": OPEN_STEP}}},
            "In context=('properties', 'steps', 'items'), 'additionalProperties' is required",
        ),
        ({"type": "array", "items": {"type": "number"}}, "schema must be a JSON Schema of 'type: \"object\"'"),
    ],
    ids=["open-object", "not-all-required", "nested-open-object", "array-root"],
)
def test_a_strict_schema_structured_output_cannot_follow_is_a_400(
    fake_openai: FakeOpenAI, schema: dict[str, Any], message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        ask(fake_openai, schema)

    assert caught.value.param == "response_format"
    assert "Invalid schema for response_format 'grade'" in caught.value.message
    assert message in caught.value.message


def test_a_schema_that_is_not_strict_is_not_checked(fake_openai: FakeOpenAI) -> None:
    assert ask(fake_openai, {**STRICT, "additionalProperties": True}, strict=False) == "grade it"
