"""Bad test data → one DataError naming the file, the line and the field, and saying what is allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.data import load_cases
from evalkit.errors import DataError
from evalkit.suite import load_suite

USER = {"role": "user", "content": "hi"}
GOOD = {"messages": [USER, {"role": "assistant", "content": "billing"}]}
SUITE = "name: t\ndata: data/test.jsonl\nscorers:\n  - exact\n"
LABELS = SUITE + "  - classify: {labels: [billing, technical], casefold: false}\n"


def _row(*messages: dict[str, Any], **fields: Any) -> str:
    return json.dumps({"messages": list(messages), **fields})


def _chat(reply: dict[str, Any]) -> str:
    return _row(USER, reply)


G = json.dumps(GOOD)

BAD: dict[str, tuple[str, list[str], str]] = {
    "not JSON": (
        SUITE,
        [G, '{"messages": [{"role": "user" "content": "x"}]}'],
        "data/test.jsonl:2: not valid JSON (Expecting ',' delimiter at column 31)",
    ),
    "not an object": (
        SUITE,
        [G, "[1, 2]"],
        "data/test.jsonl:2: expected a JSON object on each line, got a list",
    ),
    "line without messages": (
        SUITE,
        [G, G.replace("billing", "x"), json.dumps({"conversation": []})],
        (
            'data/test.jsonl:3: messages: required (a chat row has "messages"; '
            'a legacy row has "prompt" and "completion")'
        ),
    ),
    "no assistant reference": (
        SUITE,
        [_chat({"role": "assistant", "content": "billing", "weight": 0})],
        (
            "data/test.jsonl:1: messages: no assistant message to use as the reference (messages with "
            '"weight": 0 '
            "are context only)"
        ),
    ),
    "message without role": (
        SUITE,
        [_row({"content": "hi"}, {"role": "assistant", "content": "x"})],
        (
            "data/test.jsonl:1: messages[0].role: required (one of system, developer, user, assistant, tool, "
            "function)"
        ),
    ),
    "unknown role": (
        SUITE,
        [_row({"role": "bot", "content": "hi"}, {"role": "assistant", "content": "x"})],
        (
            "data/test.jsonl:1: messages[0].role: 'bot' is not one of system, developer, user, assistant, "
            "tool, function"
        ),
    ),
    "bad weight": (
        SUITE,
        [_chat({"role": "assistant", "content": "x", "weight": 2})],
        "data/test.jsonl:1: messages[1].weight: expected 0 or 1, got 2",
    ),
    "reference with nothing before it": (
        SUITE,
        [_row({"role": "assistant", "content": "x"})],
        "data/test.jsonl:1: messages[0]: the reference assistant message has nothing before it to send",
    ),
    "reference without text or tool calls": (
        SUITE,
        [_chat({"role": "assistant", "content": ""})],
        "data/test.jsonl:1: messages[1]: the reference message has no text content and no tool_calls",
    ),
    "tool call arguments that are not JSON": (
        SUITE,
        [
            _chat(
                {
                    "role": "assistant",
                    "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{x"}}],
                }
            )
        ],
        (
            "data/test.jsonl:1: messages[1].tool_calls[0].function.arguments: not valid JSON "
            "(Expecting property name enclosed in double quotes at column 2)"
        ),
    ),
    "empty file": (SUITE, [], "data/test.jsonl: no cases (the file is empty)"),
    "only blank lines": (SUITE, ["", "  "], "data/test.jsonl: no cases (the file is empty)"),
    "duplicate ids": (
        SUITE,
        [
            _row(USER, {"role": "assistant", "content": "a"}, id="x"),
            G,
            _row(USER, {"role": "assistant", "content": "b"}, id="x"),
        ],
        "data/test.jsonl:3: id: id 'x' is used twice (first at line 1)",
    ),
    "identical rows without ids": (
        SUITE,
        [G, _chat({"role": "assistant", "content": "technical"}), G],
        "data/test.jsonl:3: line 3 repeats line 1 (a duplicated case counts twice; delete one)",
    ),
    "id of the wrong type": (
        SUITE,
        [_row(USER, {"role": "assistant", "content": "a"}, id=[1])],
        "data/test.jsonl:1: id: expected a string or an integer, got a list",
    ),
    "reference not a label": (
        LABELS,
        [G, _chat({"role": "assistant", "content": "Billing "})],
        (
            "data/test.jsonl:2: messages[1].content: reference 'Billing ' is not one of the classify labels "
            "(billing, technical)"
        ),
    ),
    "legacy completion not a label": (
        LABELS,
        [json.dumps({"prompt": "p", "completion": " refund"})],
        (
            "data/test.jsonl:1: completion: reference 'refund' is not one of the classify labels (billing, "
            "technical)"
        ),
    ),
    "legacy row without completion": (
        SUITE,
        [json.dumps({"prompt": "p"})],
        (
            'data/test.jsonl:1: completion: required (a chat row has "messages"; a legacy row has "prompt" '
            "and "
            '"completion")'
        ),
    ),
    "chat and legacy rows mixed": (
        SUITE,
        [G, json.dumps({"prompt": "p", "completion": " c"})],
        (
            "data/test.jsonl:2: this is a prompt/completion row but line 1 is a chat row; use one kind "
            "throughout"
        ),
    ),
    "missing data file": (
        SUITE.replace("data/test.jsonl", "data/nowhere.jsonl"),
        [G],
        "suite.yaml:2: data: file not found: {tmp}/data/nowhere.jsonl",
    ),
    "missing data file in a mapping": (
        "name: t\ndata:\n  path: data/nowhere.jsonl\nscorers: [exact]\n",
        [G],
        "suite.yaml:3: data.path: file not found: {tmp}/data/nowhere.jsonl",
    ),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_data_gives_one_located_line(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite, lines, expected = BAD[kind]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "test.jsonl").write_text("".join(line + "\n" for line in lines))
    (tmp_path / "suite.yaml").write_text(suite)
    monkeypatch.chdir(tmp_path)
    loaded = load_suite("suite.yaml")
    with pytest.raises(DataError) as caught:
        load_cases(loaded)
    assert str(caught.value) == expected.replace("{tmp}", str(tmp_path))


def test_the_error_carries_file_line_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "test.jsonl").write_text(G + "\n" + _row({"role": "bot"}) + "\n")
    (tmp_path / "suite.yaml").write_text(SUITE)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as caught:
        load_cases(load_suite("suite.yaml"))
    assert (caught.value.file, caught.value.line, caught.value.field) == (
        "data/test.jsonl",
        2,
        "messages[0].role",
    )


def test_text_that_is_not_utf8_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "test.jsonl").write_bytes(G.encode() + b"\n" + b'{"x": "\xff"}\n')
    (tmp_path / "suite.yaml").write_text("name: t\ndata: test.jsonl\nscorers: [exact]\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as caught:
        load_cases(load_suite("suite.yaml"))
    assert str(caught.value) == "test.jsonl:2: not UTF-8 text (byte 0xff)"
