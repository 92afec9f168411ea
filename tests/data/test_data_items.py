"""A row's ``item``: the fields graders read (``{{item.X}}``), kept with the case and never sent to a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.data import load_cases
from evalkit.errors import DataError
from evalkit.providers.request import build_request
from evalkit.records import CaseSet, Target
from evalkit.suite import load_suite
from evalkit.suite.settings import Completions, Generation

USER = {"role": "user", "content": "Is 17 prime?"}


def _load(tmp_path: Path, rows: list[Any], *, data: str = "data: test.jsonl") -> CaseSet:
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (tmp_path / "suite.yaml").write_text(f"name: t\n{data}\nscorers: [exact]\n")
    return load_cases(load_suite(tmp_path / "suite.yaml"))


def test_a_row_item_is_kept_with_the_case_and_not_sent(tmp_path: Path) -> None:
    row = {
        "messages": [USER, {"role": "assistant", "content": "yes"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "item": {"answer": "yes", "difficulty": 2},
    }
    (case,) = _load(tmp_path, [row]).cases
    assert case.item == {"answer": "yes", "difficulty": 2}
    assert case.reference == "yes"
    target = Target(name="m", model="gpt-4o-mini", endpoint="chat")
    body = build_request(case, target, Generation(), Completions()).payload
    assert "item" not in body
    assert "tools" in body


def test_a_row_with_an_item_and_no_answer_sends_the_whole_conversation(tmp_path: Path) -> None:
    rows = [{"messages": [USER], "item": {"reference": "yes"}}, {"messages": [USER], "item": {"x": 1}}]
    first, second = _load(tmp_path, rows).cases
    assert first.messages == (USER,)
    assert first.reference == "yes"
    assert second.reference == ""
    assert first.id != second.id  # the item is part of what makes a case distinct


def test_a_row_without_an_item_still_needs_an_answer(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no assistant message to use as the reference"):
        _load(tmp_path, [{"messages": [USER]}])


def test_an_item_that_is_not_an_object_is_refused_with_its_line(tmp_path: Path) -> None:
    rows = [{"messages": [USER, {"role": "assistant", "content": "yes"}], "item": ["yes"]}]
    with pytest.raises(DataError) as caught:
        _load(tmp_path, rows)
    assert caught.value.line == 1
    assert caught.value.field == "item"


def test_a_tables_other_columns_are_item_fields_and_do_not_change_case_ids(tmp_path: Path) -> None:
    data = "data: {path: test.csv, columns: {input: question, expected: answer}}"
    (tmp_path / "test.csv").write_text("question,answer\nIs 17 prime?,yes\n")
    (tmp_path / "suite.yaml").write_text(f"name: t\n{data}\nscorers: [exact]\n")
    (before,) = load_cases(load_suite(tmp_path / "suite.yaml")).cases
    (tmp_path / "test.csv").write_text("question,answer,topic\nIs 17 prime?,yes,maths\n")
    (after,) = load_cases(load_suite(tmp_path / "suite.yaml")).cases
    assert after.item == {"topic": "maths"}
    assert after.id == before.id
