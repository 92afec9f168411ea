"""A job's result file, checkpoint metrics and events → per-step training records; JSONL → examples."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from evalkit.records import TrainingExample
from evalkit.targets.training import (
    METRICS,
    ResultFileError,
    merge_training,
    metrics_record,
    parse_examples,
    parse_result_file,
)

OPENAI_CSV = (
    "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
    "1,2.5,0.40,2.7,0.38\n"
    "2,1.75,0.55,,\n"
    "3,0.9,0.8,1.1,0.72\n"
)


def _row(step: int, **values: float | None) -> dict[str, object]:
    return {"step": step, **dict.fromkeys(METRICS), **values}


def test_plain_csv_is_read_by_header_with_openai_names() -> None:
    rows = parse_result_file(OPENAI_CSV.encode())
    assert rows[0] == _row(
        1, train_loss=2.5, train_mean_token_accuracy=0.40, valid_loss=2.7, valid_mean_token_accuracy=0.38
    )
    assert rows[1] == _row(2, train_loss=1.75, train_mean_token_accuracy=0.55)  # empty cells → None
    assert [r["step"] for r in rows] == [1, 2, 3]


def test_base64_csv_is_decoded_like_newer_jobs_store_it() -> None:
    encoded = base64.b64encode(OPENAI_CSV.encode())
    assert parse_result_file(encoded) == parse_result_file(OPENAI_CSV.encode())


def test_base64_wrapped_over_lines_is_decoded() -> None:
    encoded = base64.encodebytes(OPENAI_CSV.encode() * 3)  # newline every 76 characters
    assert [r["step"] for r in parse_result_file(encoded)] == [1, 2, 3]


def test_azure_column_names_map_to_openai_names() -> None:
    csv_text = (
        "step,train_loss,train_mean_token_accuracy,valid_loss,validation_mean_token_accuracy,"
        "full_valid_loss,full_valid_mean_token_accuracy\n"
        "10,0.5,0.9,0.6,0.85,0.62,0.84\n"
    )
    assert parse_result_file(csv_text) == [
        _row(
            10,
            train_loss=0.5,
            train_mean_token_accuracy=0.9,
            valid_loss=0.6,
            valid_mean_token_accuracy=0.85,
            full_valid_loss=0.62,
            full_valid_mean_token_accuracy=0.84,
        )
    ]


def test_missing_extra_and_reordered_columns_are_tolerated() -> None:
    csv_text = "elapsed_tokens,Train_Loss , step,learning_rate\n1000,1.5,4,0.0001\n2000,1.25,8\n"
    assert parse_result_file(csv_text) == [_row(4, train_loss=1.5), _row(8, train_loss=1.25)]


def test_byte_order_mark_does_not_hide_the_step_column() -> None:
    data = "\ufeffstep,train_loss\n1,0.5\n".encode()
    assert parse_result_file(data) == [_row(1, train_loss=0.5)]
    assert parse_result_file(base64.b64encode(data)) == [_row(1, train_loss=0.5)]


def test_rows_without_a_whole_step_and_non_numbers_are_dropped_or_nulled() -> None:
    csv_text = "step,train_loss,valid_loss\n,1.0,1.0\nabc,1.0,1.0\n2.0,nan,x\n3,inf,0.5\n"
    assert parse_result_file(csv_text) == [_row(2), _row(3, valid_loss=0.5)]


def test_a_file_that_is_not_a_result_csv_is_refused() -> None:
    with pytest.raises(ResultFileError, match="step"):
        parse_result_file(b"loss,accuracy\n1,2\n")
    with pytest.raises(ResultFileError):
        parse_result_file(base64.b64encode(b"no header here"))
    with pytest.raises(ResultFileError):
        parse_result_file(b"")


def test_plain_csv_that_happens_to_be_valid_base64_is_still_read_as_csv() -> None:
    # "step\n1020\n3040" without its newlines is valid base64 of garbage: it must not be decoded
    assert [r["step"] for r in parse_result_file("step\n1020\n3040\n")] == [1020, 3040]


def test_metrics_record_takes_event_data_with_openai_names() -> None:
    data = {"step": 7, "train_loss": 0.25, "total_steps": 30, "train_mean_token_accuracy": "0.5"}
    assert metrics_record(data) == _row(7, train_loss=0.25, train_mean_token_accuracy=0.5)
    assert metrics_record({"train_loss": 1.0}) is None
    assert metrics_record({"train_loss": 1.0}, step=3) == _row(3, train_loss=1.0)


def test_merge_takes_the_first_non_null_value_in_source_order() -> None:
    checkpoints = [{"step": 10, "train_loss": 0.5, "full_valid_loss": 0.7}]
    events = [{"step": 10, "train_loss": 0.6, "valid_loss": 0.65}, {"step": 5, "train_loss": 0.9}]
    results = [
        {"step": 10, "train_loss": 0.61, "valid_loss": 0.66, "train_accuracy": 0.8},
        {"step": 1, "train_loss": 2.0},
    ]
    assert merge_training(checkpoints, events, results) == [
        _row(1, train_loss=2.0),
        _row(5, train_loss=0.9),
        _row(10, train_loss=0.5, full_valid_loss=0.7, valid_loss=0.65, train_mean_token_accuracy=0.8),
    ]


def test_merge_of_nothing_is_empty() -> None:
    assert merge_training() == []
    assert merge_training([], [{"no": "step"}]) == []


CHAT_MESSAGES: list[dict[str, Any]] = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Yo", "weight": 1},
]
CHAT = {"messages": CHAT_MESSAGES}
LEGACY = {"prompt": "Ticket: refund\n\n###\n\n", "completion": " billing END"}
DPO = {
    "input": {"messages": [{"role": "user", "content": "Q"}]},
    "preferred_output": [{"role": "assistant", "content": "good"}],
    "non_preferred_output": [{"role": "assistant", "content": "bad"}],
}


def test_jsonl_chat_legacy_and_dpo_rows_become_examples() -> None:
    text = "\n".join(json.dumps(row) for row in (CHAT, LEGACY, DPO)) + "\n"
    parsed = parse_examples(text.encode())
    assert parsed.skipped == 0
    assert parsed.examples == [
        TrainingExample(messages=tuple(CHAT_MESSAGES)),
        TrainingExample(prompt=LEGACY["prompt"], completion=LEGACY["completion"]),
        TrainingExample(
            messages=({"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"})
        ),
    ]
    assert parsed.examples[0].messages is not None
    assert parsed.examples[0].messages[1]["weight"] == 1  # kept: it says what was trained on


def test_unreadable_lines_are_skipped_and_counted_blank_lines_ignored() -> None:
    lines = [
        json.dumps(CHAT),
        "{not json",
        "",
        "   ",
        json.dumps([1, 2]),
        json.dumps({"messages": []}),
        json.dumps({"messages": ["hello"]}),
        json.dumps({"prompt": "only a prompt"}),
        json.dumps(LEGACY),
    ]
    parsed = parse_examples("\ufeff" + "\r\n".join(lines))
    assert len(parsed.examples) == 2
    assert parsed.skipped == 5


def test_invalid_utf8_does_not_stop_the_file() -> None:
    data = json.dumps(LEGACY).encode() + b"\n\xff\xfe{broken\n" + json.dumps(CHAT).encode()
    parsed = parse_examples(data)
    assert (len(parsed.examples), parsed.skipped) == (2, 1)
