"""JSONL test data → cases: chat rows (OpenAI fine-tuning format) and legacy prompt/completion rows."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.data import load_cases, render_tool_calls
from evalkit.records import CaseSet
from evalkit.suite import load_suite

USER = {"role": "user", "content": "My card was charged twice."}
SYSTEM = {"role": "system", "content": "Route the ticket."}


def _load(
    tmp_path: Path,
    rows: list[Any],
    *,
    suite: str = "",
    data: str = "data: test.jsonl",
    scorers: str = "scorers: [exact]\n",
) -> CaseSet:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    (tmp_path / "test.jsonl").write_text("".join(line + "\n" for line in lines))
    (tmp_path / "suite.yaml").write_text(f"name: t\n{data}\n{scorers}{suite}")
    return load_cases(load_suite(tmp_path / "suite.yaml"))


def test_the_last_weighted_assistant_message_is_the_reference(tmp_path: Path) -> None:
    row = {
        "messages": [
            SYSTEM,
            USER,
            {"role": "assistant", "content": "billing", "weight": 1},
            {"role": "user", "content": "Thanks!"},
            {"role": "assistant", "content": "You're welcome.", "weight": 0},
        ]
    }
    (case,) = _load(tmp_path, [row]).cases
    assert case.reference == "billing"
    assert case.messages == (SYSTEM, USER)


def test_weight_keys_are_removed_from_the_input(tmp_path: Path) -> None:
    context = {"role": "assistant", "content": "Which order?", "weight": 0}
    row = {
        "messages": [
            USER,
            context,
            {"role": "user", "content": "#1234"},
            {"role": "assistant", "content": "ok"},
        ]
    }
    (case,) = _load(tmp_path, [row]).cases
    assert case.messages is not None
    assert case.messages[1] == {"role": "assistant", "content": "Which order?"}
    assert all("weight" not in message for message in case.messages)
    assert case.reference == "ok"


def test_expand_turns_makes_one_case_per_weighted_assistant_turn(tmp_path: Path) -> None:
    row = {
        "id": "conv",
        "messages": [
            USER,
            {"role": "assistant", "content": "billing", "weight": 1},
            {"role": "user", "content": "And the refund?"},
            {"role": "assistant", "content": "skip me", "weight": 0},
            {"role": "user", "content": "Hello?"},
            {"role": "assistant", "content": "refunds"},
        ],
    }
    cases = _load(tmp_path, [row], data="data: {path: test.jsonl, expand_turns: true}").cases
    assert [c.id for c in cases] == ["conv#1", "conv#2"]
    assert [c.reference for c in cases] == ["billing", "refunds"]
    assert cases[0].messages == (USER,)
    assert cases[1].messages is not None and len(cases[1].messages) == 5
    assert cases[1].messages[1] == {"role": "assistant", "content": "billing"}


def test_expanded_turns_without_ids_get_content_ids_with_the_turn(tmp_path: Path) -> None:
    turns = [USER, {"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]
    row = {"messages": [*turns, {"role": "assistant", "content": "c"}]}
    cases = _load(tmp_path, [row], data="data: {path: test.jsonl, expand_turns: true}").cases
    assert len({c.id.split("#")[0] for c in cases}) == 1
    assert [c.id.split("#")[1] for c in cases] == ["1", "2"]


def test_image_parts_tools_and_other_row_fields_pass_through_unchanged(tmp_path: Path) -> None:
    image_user = {
        "role": "user",
        "name": "alice",
        "content": [
            {"type": "text", "text": "What is broken?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/x.png", "detail": "low"}},
        ],
    }
    tools = [{"type": "function", "function": {"name": "route", "parameters": {"type": "object"}}}]
    row = {
        "messages": [image_user, {"role": "assistant", "content": "technical"}],
        "tools": tools,
        "parallel_tool_calls": False,
        "id": 7,
    }
    (case,) = _load(tmp_path, [row]).cases
    assert case.messages == (image_user,)
    assert case.extras == {"tools": tools, "parallel_tool_calls": False}
    assert case.id == "7"


def test_a_tool_call_reference_is_rendered_as_sorted_json(tmp_path: Path) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "route", "arguments": '{"queue": "billing",  "priority": 2}'},
    }
    tool_history = [
        USER,
        {"role": "assistant", "tool_calls": [{**call, "id": "call_0"}], "weight": 0},
        {"role": "tool", "tool_call_id": "call_0", "content": "queue list"},
    ]
    row = {"messages": [*tool_history, {"role": "assistant", "content": None, "tool_calls": [call]}]}
    (case,) = _load(tmp_path, [row]).cases
    assert case.reference == '[{"arguments": {"priority": 2, "queue": "billing"}, "name": "route"}]'
    assert case.messages == (
        USER,
        {"role": "assistant", "tool_calls": [{**call, "id": "call_0"}]},
        tool_history[2],
    )


def test_render_tool_calls_ignores_spacing_and_key_order_and_keeps_bad_json_as_text() -> None:
    a = render_tool_calls([{"function": {"name": "f", "arguments": '{"b": 1, "a": [1, 2]}'}}])
    b = render_tool_calls([{"type": "function", "function": {"arguments": '{"a":[1,2],"b":1}', "name": "f"}}])
    assert a == b
    assert json.loads(render_tool_calls([{"function": {"name": "f", "arguments": "{oops"}}])) == [
        {"name": "f", "arguments": "{oops"}
    ]


def test_a_text_content_list_is_joined_for_the_reference(tmp_path: Path) -> None:
    reply = {
        "role": "assistant",
        "content": [{"type": "text", "text": "bill"}, {"type": "text", "text": "ing"}],
    }
    (case,) = _load(tmp_path, [{"messages": [USER, reply]}]).cases
    assert case.reference == "billing"


def test_legacy_rows_strip_one_leading_space_and_the_stop_sequence(tmp_path: Path) -> None:
    rows = [
        {"prompt": "Ticket: charged twice\n\n###\n\n", "completion": " billing END"},
        {"prompt": "Ticket: no login\n\n###\n\n", "completion": "  account END"},
        {"prompt": "Ticket: late parcel\n\n###\n\n", "completion": " shipping\n"},
    ]
    cases = _load(tmp_path, rows, suite='completions: {stop: [" END", "\\n"]}\n').cases
    assert [c.reference for c in cases] == ["billing", " account", "shipping"]
    assert cases[0].prompt == "Ticket: charged twice\n\n###\n\n"
    assert cases[0].messages is None


def test_content_ids_are_stable_and_follow_the_content(tmp_path: Path) -> None:
    rows = [{"messages": [USER, {"role": "assistant", "content": "billing"}]}]
    first = _load(tmp_path, rows).cases[0].id
    again = _load(tmp_path, rows).cases[0].id
    other = _load(tmp_path, [{"messages": [USER, {"role": "assistant", "content": "refund"}]}]).cases[0].id
    assert first == again != other
    assert len(first) == 12 and int(first, 16) >= 0


def test_case_set_records_source_hash_and_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    good = {"messages": [USER, {"role": "assistant", "content": "billing"}]}
    other = {"messages": [USER, {"role": "assistant", "content": "account"}]}
    case_set = _load(tmp_path, [good, "", "   ", other])
    assert case_set.source == "test.jsonl"
    assert case_set.sha256 == hashlib.sha256((tmp_path / "test.jsonl").read_bytes()).hexdigest()
    assert [(c.source, c.line) for c in case_set.cases] == [("test.jsonl", 1), ("test.jsonl", 4)]


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    row = json.dumps({"messages": [USER, {"role": "assistant", "content": "billing"}]})
    (tmp_path / "test.jsonl").write_bytes(b"\xef\xbb\xbf" + row.encode() + b"\r\n")
    (tmp_path / "suite.yaml").write_text("name: t\ndata: test.jsonl\nscorers: [exact]\n")
    (case,) = load_cases(load_suite(tmp_path / "suite.yaml")).cases
    assert case.reference == "billing"


def test_references_matching_classify_labels_after_casefold_and_strip_are_accepted(tmp_path: Path) -> None:
    rows = [{"messages": [USER, {"role": "assistant", "content": " Billing "}]}]
    scorers = "scorers:\n  - classify: {labels: [billing, technical]}\n"
    (case,) = _load(tmp_path, rows, scorers=scorers).cases
    assert case.reference == " Billing "


def test_jsonl_rows_may_use_a_column_mapping(tmp_path: Path) -> None:
    rows = [{"q": "Where is my parcel?", "a": "shipping", "sys": "Route it.", "key": 12}]
    data = "data: {path: test.jsonl, columns: {input: q, expected: a, system: sys, id: key}}"
    (case,) = _load(tmp_path, rows, data=data).cases
    assert case.id == "12"
    assert case.messages == (
        {"role": "system", "content": "Route it."},
        {"role": "user", "content": "Where is my parcel?"},
    )
    assert case.reference == "shipping"
