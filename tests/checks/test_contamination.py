"""Contamination: test cases whose input the fine-tune already saw in its training or validation file."""

from __future__ import annotations

import json
from typing import Any

from fixtures.runs import plain

from evalkit.checks.contamination import Contamination, Overlap, find_contamination, normalise
from evalkit.records import Case, Message, TrainingExample
from evalkit.records.jobs import JobChecks

SYSTEM: Message = {"role": "system", "content": "Route the ticket."}


def overlaps(found: Contamination) -> dict[str, Any]:
    """The overlap per file, as results.json holds it."""
    document: dict[str, Any] = plain(JobChecks(contamination=found.record()))["contamination"]
    return document


def user(text: str) -> Message:
    return {"role": "user", "content": text}


def assistant(text: str, weight: int = 1) -> Message:
    return {"role": "assistant", "content": text, "weight": weight}


def chat_case(case_id: str, *messages: Message) -> Case:
    return Case(id=case_id, reference="billing", messages=messages)


def trained(*messages: Message) -> TrainingExample:
    return TrainingExample(messages=messages)


def test_exact_and_near_duplicates_are_found_separately() -> None:
    training = [
        trained(SYSTEM, user("My card was charged twice"), assistant("billing")),
        trained(SYSTEM, user("The app crashes on start"), assistant("technical")),
    ]
    cases = [
        chat_case("t001", SYSTEM, user("My card was charged twice")),
        chat_case("t002", SYSTEM, user("Where is my parcel?")),
        chat_case("t003", SYSTEM, user("  the APP crashes on start!! ")),
    ]
    found = find_contamination(cases, training, [])
    assert overlaps(found) == {
        "training": {"exact": ["t001"], "near": ["t003"]},
        "validation": {"exact": [], "near": []},
    }


def test_validation_file_is_checked_on_its_own() -> None:
    validation = [trained(user("Refund please"), assistant("billing"))]
    found = find_contamination([chat_case("v1", user("Refund please"))], [], validation)
    assert found.training == Overlap()
    assert found.validation == Overlap(exact=["v1"])


def test_a_test_conversation_opening_a_longer_training_conversation_counts() -> None:
    training = [
        trained(
            SYSTEM,
            user("Refund please"),
            assistant("billing", weight=0),
            user("Also my password fails"),
            assistant("account"),
        )
    ]
    first_turn = chat_case("turn1", SYSTEM, user("Refund please"))
    second_turn = chat_case(
        "turn2",
        SYSTEM,
        user("Refund please"),
        {"role": "assistant", "content": "billing"},
        user("Also my password fails"),
    )
    whole = chat_case(
        "whole",
        SYSTEM,
        user("Refund please"),
        assistant("billing"),
        user("Also my password fails"),
        assistant("account"),
    )
    found = find_contamination([first_turn, second_turn, whole], training, None)
    assert found.training.exact == ["turn1", "turn2"]
    assert found.training.near == []


def test_roles_are_part_of_the_input() -> None:
    training = [trained({"role": "system", "content": "Refund please"}, user("x"), assistant("billing"))]
    found = find_contamination([chat_case("t1", user("Refund please"))], training)
    assert found.training == Overlap()


def test_system_prompt_is_part_of_the_input() -> None:
    training = [trained(SYSTEM, user("Refund please"), assistant("billing"))]
    found = find_contamination([chat_case("t1", user("Refund please"))], training)
    assert found.training == Overlap()


def test_legacy_prompts_exact_and_near() -> None:
    training = [
        TrainingExample(prompt="Refund please\n\n###\n\n", completion=" billing END"),
        TrainingExample(prompt="App crashes\n\n###\n\n", completion=" technical END"),
    ]
    cases = [
        Case(id="p1", reference="billing", prompt="Refund please\n\n###\n\n"),
        Case(id="p2", reference="technical", prompt="app crashes\n\n###\n"),
        Case(id="p3", reference="shipping", prompt="Lost parcel\n\n###\n\n"),
    ]
    assert find_contamination(cases, training).training == Overlap(exact=["p1"], near=["p2"])


def test_chat_case_nearly_matches_the_legacy_prompt_it_became() -> None:
    training = [TrainingExample(prompt="My card was charged twice\n\n###\n\n", completion=" billing END")]
    found = find_contamination([chat_case("t1", user("My card was charged twice"))], training)
    assert found.training == Overlap(near=["t1"])


def test_unicode_normalisation() -> None:
    training = [
        trained(user("Ｃａｆé ﬁle — STRASSE"), assistant("x")),  # fullwidth letters, ligature, em dash
        trained(user("我要退款。"), assistant("billing")),
    ]
    cases = [
        chat_case("nfkc", user("cafe\u0301 file strasse")),  # decomposed é, plain letters
        chat_case("sharp-s", user("café file straße")),  # ß casefolds to ss
        chat_case("cjk", user("我要退款")),
        chat_case("other", user("我要换货")),
    ]
    assert find_contamination(cases, training).training == Overlap(near=["nfkc", "sharp-s", "cjk"])


def test_combining_marks_are_not_punctuation() -> None:
    assert normalise("हिंदी") != normalise("हद")
    assert normalise("  Hello,\tWORLD!\n") == "hello world"
    assert normalise("snake_case") == "snakecase"


def test_punctuation_only_inputs_never_nearly_match() -> None:
    training = [trained(user("???"), assistant("x"))]
    found = find_contamination([chat_case("t1", user("!!!")), chat_case("t2", user("???"))], training)
    assert found.training == Overlap(exact=["t2"])


def test_content_parts_and_tool_calls() -> None:
    parts: Message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:,"}},
        ],
    }
    call: Message = {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]}
    training = [
        trained(parts, call, {"role": "tool", "tool_call_id": "1", "content": "42"}, assistant("It is 42"))
    ]
    cases = [
        chat_case("first", parts),
        chat_case("after-tool", parts, call, {"role": "tool", "tool_call_id": "1", "content": "42"}),
    ]
    assert find_contamination(cases, training).training.exact == ["first", "after-tool"]


def test_clean_suite_and_empty_inputs() -> None:
    training = [trained(user("Refund please"), assistant("billing"))]
    clean = find_contamination([chat_case("t1", user("Something new"))], training, training)
    assert overlaps(clean) == {"training": {"exact": [], "near": []}, "validation": {"exact": [], "near": []}}
    assert clean.warnings() == []
    assert find_contamination([], training).warnings() == []
    assert overlaps(find_contamination([chat_case("t1", user("x"))], [], None))["training"] == {
        "exact": [],
        "near": [],
    }
    assert find_contamination(
        [chat_case("t1", user(""))], [trained(user(""), assistant("x"))]
    ).training.exact == ["t1"]


def test_warning_text() -> None:
    found = Contamination(cases=40, training=Overlap(exact=["t001", "t017"], near=["t020"]))
    assert found.warnings() == [
        (
            "3 of 40 test cases also appear in the job's training file (exact: t001, t017; near-duplicate: t020) "
            "— their scores say little about generalisation"
        )
    ]


def test_warning_per_file_and_long_id_lists_shortened() -> None:
    ids = [f"t{i:03d}" for i in range(25)]
    found = Contamination(cases=30, training=Overlap(near=ids), validation=Overlap(exact=["v1"]))
    training_line, validation_line = found.warnings()
    assert (
        "25 of 30 test cases also appear in the job's training file (near-duplicate: t000, t001,"
        in training_line
    )
    assert "t009 and 15 more)" in training_line
    assert "t010" not in training_line
    assert validation_line.startswith(
        "1 of 30 test cases also appears in the job's validation file (exact: v1)"
    )


def test_odd_case_ids_are_quoted_in_warnings() -> None:
    found = Contamination(cases=2, training=Overlap(exact=["a, b", "\x1b[31mred"]))
    (warning,) = found.warnings()
    assert '(exact: "a, b", "\\u001b[31mred")' in warning
    assert warning.isprintable()


def test_the_record_is_what_results_json_holds() -> None:
    found = find_contamination([chat_case("t1", user("hi"))], [trained(user("hi"), assistant("x"))])
    assert json.loads(json.dumps(overlaps(found))) == {
        "training": {"exact": ["t1"], "near": []},
        "validation": {"exact": [], "near": []},
    }


def test_many_training_rows() -> None:
    # A scaled-down version of 100,000 training rows × 10,000 cases; a set lookup per case keeps it fast.
    training = [
        trained(SYSTEM, user(f"Ticket number {i}: my order {i * 7} is late"), assistant("shipping"))
        for i in range(20_000)
    ]
    cases = [
        chat_case(f"c{i}", SYSTEM, user(f"ticket number {i * 10}: my order {i * 70} is late."))
        for i in range(2_000)
    ]
    found = find_contamination(cases, training, training[:100])
    assert len(found.training.near) == 2_000
    assert found.validation.near == [f"c{i}" for i in range(10)]
