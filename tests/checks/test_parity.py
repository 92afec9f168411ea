"""Parity: warnings when the suite prompts a fine-tune differently from how it was trained."""

from __future__ import annotations

from evalkit.checks.parity import check_parity, system_prompt
from evalkit.records import Case, Message, TrainingExample
from evalkit.suite.model import Completions

ROUTER = "You route support tickets to one of four queues: billing, technical, account, shipping."


def chat_example(system: str | None, user: str = "My card was charged twice") -> TrainingExample:
    messages: list[Message] = [{"role": "system", "content": system}] if system is not None else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": "billing", "weight": 1}]
    return TrainingExample(messages=tuple(messages))


def chat_case(system: str | None, user: str = "The app crashes", case_id: str = "t1") -> Case:
    messages: list[Message] = [{"role": "system", "content": system}] if system is not None else []
    messages.append({"role": "user", "content": user})
    return Case(id=case_id, reference="technical", messages=tuple(messages))


def legacy(*pairs: tuple[str, str]) -> list[TrainingExample]:
    return [TrainingExample(prompt=prompt, completion=completion) for prompt, completion in pairs]


LEGACY = legacy(
    ("I want a refund\n\n###\n\n", " billing END"),
    ("The app crashes\n\n###\n\n", " technical END"),
    ("Where is my parcel\n\n###\n\n", " shipping END"),
)


def prompt_case(prompt: str, case_id: str = "p1") -> Case:
    return Case(id=case_id, reference="billing", prompt=prompt)


# chat: the system prompt


def test_same_system_prompt_is_consistent() -> None:
    examples = [chat_example(ROUTER) for _ in range(5)]
    assert check_parity([chat_case(ROUTER)], examples, completions=Completions()) == []


def test_different_system_prompt_warns_with_both_and_the_share() -> None:
    examples = [chat_example(ROUTER)] * 9 + [chat_example("Be terse.")]
    (warning,) = check_parity([chat_case("Classify the ticket.")], examples, completions=Completions())
    assert '"Classify the ticket."' in warning
    assert f'"{ROUTER[:60]}…"' in warning  # the first 60 characters
    assert "9 of 10 training examples" in warning
    assert "never trained on" in warning


def test_suite_system_prompt_that_training_used_rarely_says_so() -> None:
    examples = [chat_example(ROUTER)] * 8 + [chat_example("Be terse.")] * 2
    (warning,) = check_parity([chat_case("Be terse.")], examples, completions=Completions())
    assert "8 of 10 training examples; the suite's appears in 2 of them" in warning


def test_prompts_differing_past_the_quote_are_quoted_where_they_differ() -> None:
    trained = ROUTER + " Answer with the queue name only."
    used = ROUTER + " Answer with one word."
    (warning,) = check_parity([chat_case(used)], [chat_example(trained)], completions=Completions())
    assert "Answer with the queue" in warning
    assert "Answer with one word." in warning
    assert '"…' in warning


def test_training_used_a_system_prompt_the_cases_lack() -> None:
    examples = [chat_example(ROUTER)] * 3
    (warning,) = check_parity([chat_case(None)], examples, completions=Completions())
    assert "trained with the system prompt" in warning
    assert "3 of 3 training examples" in warning
    assert "the suite's cases have no system prompt" in warning


def test_cases_have_a_system_prompt_training_lacked() -> None:
    examples = [chat_example(None)] * 4 + [chat_example(ROUTER)]
    (warning,) = check_parity([chat_case(ROUTER)], examples, completions=Completions())
    assert "4 of 5 training examples have none" in warning
    assert ROUTER[:40] in warning


def test_neither_side_has_a_system_prompt() -> None:
    assert check_parity([chat_case(None)], [chat_example(None)], completions=Completions()) == []


def test_dominant_system_prompt_of_the_cases_is_compared() -> None:
    cases = [chat_case(ROUTER, case_id=f"t{i}") for i in range(5)] + [chat_case("Other.", case_id="t9")]
    assert check_parity(cases, [chat_example(ROUTER)] * 3, completions=Completions()) == []


def test_developer_message_and_content_parts_count_as_system_prompt() -> None:
    messages: tuple[Message, ...] = (
        {"role": "developer", "content": [{"type": "text", "text": "Route tickets."}]},
        {"role": "user", "content": "hi"},
    )
    assert system_prompt(messages) == "Route tickets."
    case = Case(id="t1", reference="x", messages=({"role": "system", "content": "Route tickets."},))
    example = TrainingExample(messages=(*messages, {"role": "assistant", "content": "x"}))
    assert check_parity([case], [example], completions=Completions()) == []


def test_system_prompt_quote_is_escaped() -> None:
    (warning,) = check_parity(
        [chat_case("Line one\nline two\x1b[2J")], [chat_example(ROUTER)], completions=Completions()
    )
    assert '"Line one\\nline two\\u001b[2J"' in warning
    assert warning.isprintable()


def test_unicode_system_prompts_compare_as_text() -> None:
    examples = [chat_example("Réponds en français.")]
    assert check_parity([chat_case("Réponds en français.")], examples, completions=Completions()) == []
    (warning,) = check_parity([chat_case("回答请用中文。")], examples, completions=Completions())
    assert '"回答请用中文。"' in warning


# legacy: separator and stop


def test_chat_cases_with_the_training_separator_and_stop_are_consistent() -> None:
    completions = Completions(separator="\n\n###\n\n", stop=[" END"])
    assert check_parity([chat_case(None)], LEGACY, completions=completions) == []


def test_chat_cases_without_a_separator_warn() -> None:
    warnings = check_parity([chat_case(None)], LEGACY, completions=Completions(stop=[" END"]))
    assert warnings == [
        (
            'the job\'s training prompts end with the separator "\\n\\n###\\n\\n", but the suite appends none '
            "(completions.separator is not set) — the fine-tune is evaluated with a prompt it was never trained on"
        )
    ]


def test_chat_cases_with_another_separator_warn() -> None:
    completions = Completions(separator=" ->", stop=[" END"])
    (warning,) = check_parity([chat_case(None)], LEGACY, completions=completions)
    assert '" ->"' in warning
    assert 'end with "\\n\\n###\\n\\n" (0 of 3 end with the suite\'s)' in warning


def test_separator_where_training_prompts_share_none() -> None:
    examples = legacy(("refund please", " billing END"), ("app crash", " technical END"))
    (warning,) = check_parity(
        [chat_case(None)], examples, completions=Completions(separator="\n\n###\n\n", stop=[" END"])
    )
    assert "no common separator" in warning


def test_prompt_cases_must_end_with_the_training_separator() -> None:
    cases = [
        prompt_case("Refund?\n\n###\n\n", "p1"),
        prompt_case("Crash", "p2"),
        prompt_case("Lost\n\n", "p3"),
    ]
    (warning,) = check_parity(cases, LEGACY, completions=Completions(stop=[" END"]))
    assert warning.startswith(
        '2 of 3 test prompts do not end with the separator the job\'s training prompts end with ("\\n\\n###\\n\\n")'
    )


def test_prompt_cases_ending_with_the_separator_are_consistent() -> None:
    cases = [prompt_case("Refund?\n\n###\n\n", "p1"), prompt_case("I want a refund\n\n###\n\n", "p2")]
    assert check_parity(cases, LEGACY, completions=Completions(stop=[" END"])) == []


def test_missing_stop_warns() -> None:
    (warning,) = check_parity([prompt_case("x\n\n###\n\n")], LEGACY, completions=Completions())
    assert warning == (
        'the job\'s training completions end with " END", but the suite sets no stop sequence '
        "(completions.stop) — the model will run on past its answer"
    )


def test_other_stop_warns() -> None:
    (warning,) = check_parity([prompt_case("x\n\n###\n\n")], LEGACY, completions=Completions(stop=["\n"]))
    assert 'end with " END", but the suite stops at ["\\n"]' in warning


def test_a_stop_that_ends_the_training_ending_is_enough() -> None:
    completions = Completions(separator="\n\n###\n\n", stop=["\n", "END"])
    assert check_parity([chat_case(None)], LEGACY, completions=completions) == []


def test_stop_that_training_completions_do_not_end_with() -> None:
    examples = legacy(
        ("a\n\n###\n\n", " billing END"), ("b\n\n###\n\n", " technical"), ("c\n\n###\n\n", " x END")
    )
    (warning,) = check_parity([prompt_case("d\n\n###\n\n")], examples, completions=Completions(stop=[" END"]))
    assert (
        'the suite stops at [" END"] (completions.stop), but only 2 of 3 training completions end with it'
        in warning
    )


def test_legacy_checks_do_not_apply_to_chat_training_data() -> None:
    completions = Completions(separator="\n\n###\n\n", stop=[" END"])
    assert check_parity([chat_case(ROUTER)], [chat_example(ROUTER)], completions=completions) == []


def test_chat_system_check_does_not_apply_to_legacy_training_data() -> None:
    completions = Completions(separator="\n\n###\n\n", stop=[" END"])
    assert check_parity([chat_case(ROUTER)], LEGACY, completions=completions) == []


def test_empty_inputs_warn_about_nothing() -> None:
    assert check_parity([], [], completions=Completions()) == []
    assert check_parity([chat_case(ROUTER)], [], completions=Completions()) == []
    assert check_parity([], [chat_example(ROUTER)], completions=Completions()) == []
