"""Separator and stop sequence inferred from a legacy job's prompt/completion training data."""

from __future__ import annotations

import pytest

from evalkit.checks.infer import Inferred, common_ending, infer_completions, shown
from evalkit.records import TrainingExample
from evalkit.suite.model import Completions


def legacy(*pairs: tuple[str, str]) -> list[TrainingExample]:
    return [TrainingExample(prompt=prompt, completion=completion) for prompt, completion in pairs]


def test_separator_and_stop_from_classic_openai_format() -> None:
    inferred = infer_completions(
        legacy(
            ("I was charged twice for my refund\n\n###\n\n", " billing END"),
            ("The app keeps crashing when I open it after the crash\n\n###\n\n", " technical END"),
            ("Reset my password please\n\n###\n\n", " account END"),
        )
    )
    assert inferred == Inferred(separator="\n\n###\n\n", stop=[" END"], examples=3)


def test_separator_does_not_start_inside_a_word() -> None:
    # The prompts share "und\nQueue:" — "ref|und" and "so|und" — but the separator is "\nQueue:".
    examples = legacy(
        ("Ticket: refund\nQueue:", " billing\n"), ("Ticket: weird sound\nQueue:", " technical\n")
    )
    inferred = infer_completions(examples)
    assert inferred.separator == "\nQueue:"
    assert inferred.stop == ["\n"]


def test_stop_is_cut_back_to_the_word_boundary() -> None:
    # " billing END" and " shipping END" share "ing END"; the stop sequence is " END".
    inferred = infer_completions(legacy(("a ->", " billing END"), ("b ->", " shipping END")))
    assert inferred.stop == [" END"]
    assert inferred.separator == " ->"


@pytest.mark.parametrize(
    ("texts", "ending"),
    [
        # Words every prompt happens to end with are the prompts' text, not the separator's.
        (["I hope you are fine.\n\n###\n\n", "Thanks, all fine.\n\n###\n\n"], "\n\n###\n\n"),
        (["My order is fine.\n\n###\n\n", "The app is fine.\n\n###\n\n"], "\n\n###\n\n"),
        (["我要退款，谢谢。\n\n答：", "应用崩溃了，谢谢。\n\n答："], "\n\n答："),
        (["I'm fine. ->", "all fine. ->"], " ->"),
        (["so fine->", "all fine->"], "->"),
        (["refund please ->", "crash please ->"], " ->"),
        (["all fine. \n\n###\n\n", "I'm fine. \n\n###\n\n"], " \n\n###\n\n"),  # spaces go with it
        # Word-like separators are found whether the texts before them differ or share words.
        (["Card charged twice\n\nQueue:", "App crashes\n\nQueue:"], "\n\nQueue:"),
        (["Please help, thanks.\n\nQueue:", "It broke, thanks.\n\nQueue:"], "\n\nQueue:"),
        (["Re: refund\nRoute it.\n\n###\n\n", "Re: crash\nRoute it.\n\n###\n\n"], "\nRoute it.\n\n###\n\n"),
        (["refund ->", "crash ->"], " ->"),
        (["Ticket: refund Answer:", "Ticket: crash Answer:"], " Answer:"),  # nothing after it to cut at
        (["refund Answer: ", "crash Answer: "], " Answer: "),
        # Stop sequences: the completions' ending is cut the same way.
        ([" billing, thanks.\n", " shipping, thanks.\n"], "\n"),
        ([" billing END", " shipping END"], " END"),
        ([" billing ###", " shipping ###"], " ###"),
    ],
)
def test_the_ending_starts_at_a_separator_boundary(texts: list[str], ending: str) -> None:
    assert common_ending(texts) == ending


def test_prompts_and_completions_sharing_their_last_words_give_the_separator_and_stop() -> None:
    inferred = infer_completions(
        legacy(
            ("My card was charged twice, is that fine.\n\n###\n\n", " billing, thanks.\n"),
            ("The app crashes on start, is that fine.\n\n###\n\n", " technical, thanks.\n"),
        )
    )
    assert inferred == Inferred(separator="\n\n###\n\n", stop=["\n"], examples=2)


def test_punctuation_ending_a_sentence_is_not_part_of_the_separator() -> None:
    prompts = legacy(("My card was charged twice.\n", "x"), ("The app crashes.\n", "y"))
    assert infer_completions(prompts).separator == "\n"


def test_sentence_punctuation_alone_is_no_separator() -> None:
    # Appending "?" to every test prompt would corrupt them; nothing sensible is common.
    inferred = infer_completions(legacy(("Why was I charged twice?", " a"), ("Can you help?", " b")))
    assert inferred.separator is None


def test_symbol_separator_glued_to_the_text_is_kept() -> None:
    assert infer_completions(legacy(("refund->", " a"), ("crash->", " b"))).separator == "->"


def test_nothing_in_common_gives_none() -> None:
    inferred = infer_completions(legacy(("first prompt", " billing"), ("second one", " technical")))
    assert inferred.separator is None
    assert inferred.stop is None
    assert inferred.examples == 2


def test_identical_completions_are_not_a_stop_sequence() -> None:
    inferred = infer_completions(legacy(("a\n\n###\n\n", " yes END"), ("b\n\n###\n\n", " yes END")))
    assert inferred.stop is None
    assert inferred.separator == "\n\n###\n\n"


def test_one_example_infers_nothing_from_its_whole_text() -> None:
    inferred = infer_completions(legacy(("only prompt\n\n###\n\n", " billing END")))
    assert inferred.separator is None
    assert inferred.stop is None
    assert inferred.examples == 1


def test_a_text_that_is_all_ending_gives_no_evidence() -> None:
    # One completion is nothing but " END": where its answer stops cannot be told, so nothing is inferred.
    assert common_ending([" END", " billing END"]) is None
    assert common_ending(["\n", "billing\n"]) is None
    assert common_ending(["x\n", "billing\n"]) == "\n"


def test_chat_examples_are_ignored() -> None:
    chat = TrainingExample(
        messages=({"role": "user", "content": "hi\n\n###\n\n"}, {"role": "assistant", "content": "x"})
    )
    assert infer_completions([chat]) == Inferred(separator=None, stop=None, examples=0)
    mixed = infer_completions([chat, *legacy(("a\n###\n", " x END"), ("b\n###\n", " y END"))])
    assert mixed == Inferred(separator="\n###\n", stop=[" END"], examples=2)


def test_no_examples_at_all() -> None:
    assert infer_completions([]) == Inferred(separator=None, stop=None, examples=0)
    assert common_ending([]) is None
    assert common_ending(["", "abc"]) is None


def test_unicode_prompts() -> None:
    inferred = infer_completions(
        legacy(
            ("我要退款。\n\n答：", " 账单 END"),
            ("应用崩溃了。\n\n答：", " 技术 END"),
            ("Café\n\n答：", " x END"),
        )
    )
    assert inferred.separator == "\n\n答："
    assert inferred.stop == [" END"]


def test_cjk_sentence_end_alone_is_no_separator() -> None:
    assert common_ending(["我要退款。", "应用崩溃了。"]) is None


def test_decomposed_accent_is_part_of_the_word() -> None:
    # "cafe\u0301" and "be\u0301" share "e\u0301" (an é written as e + combining accent): a word's end.
    assert common_ending(["cafe\u0301", "be\u0301"]) is None


def test_describe_escapes_what_was_inferred() -> None:
    inferred = Inferred(separator="\n\n###\n\n", stop=[" END"], examples=120)
    assert (
        inferred.describe()
        == 'inferred from 120 training prompts: separator "\\n\\n###\\n\\n", stop [" END"]'
    )


def test_describe_says_what_was_not_found() -> None:
    assert Inferred(separator=None, stop=None, examples=1).describe() == (
        "inferred from 1 training prompt: separator (none in common), stop (none in common)"
    )
    assert "no prompt/completion training examples" in Inferred(None, None, 0).describe()


def test_describe_never_prints_raw_control_characters() -> None:
    line = Inferred(separator="\x1b[31m\u2028", stop=["\x00"], examples=2).describe()
    assert line.isprintable()
    assert "\\u001b[31m\\u2028" in line
    assert "\\u0000" in line


def test_fill_takes_only_what_the_suite_leaves_out() -> None:
    inferred = Inferred(separator="\n\n###\n\n", stop=[" END"], examples=5)
    assert inferred.fill(Completions()) == Completions(separator="\n\n###\n\n", stop=[" END"])
    own = Completions(separator=" ->", template="{content}")
    assert inferred.fill(own) == Completions(separator=" ->", stop=[" END"], template="{content}")
    assert Inferred(None, None, 0).fill(own) is own


def test_to_json() -> None:
    inferred = Inferred(separator="\n", stop=None, examples=3)
    assert inferred.to_json() == {"separator": "\n", "stop": None, "examples": 3}


def test_shown_cuts_long_text() -> None:
    assert shown("abcdefgh", limit=3) == '"abc…"'
    assert shown("abc", limit=3) == '"abc"'
    assert shown("\U000e0001") == '"\\U000e0001"'


def test_many_examples_quickly() -> None:
    examples = legacy(
        *[
            (f"ticket {i}: {'refund' if i % 2 else 'crash'}\n\n###\n\n", f" label{i % 4} END")
            for i in range(20_000)
        ]
    )
    assert infer_completions(examples) == Inferred(separator="\n\n###\n\n", stop=[" END"], examples=20_000)
