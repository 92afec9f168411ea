"""Loss masking: only weighted assistant messages (chat) or the completion (legacy) carry loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalkit.lab.encode import IGNORE, Encoded, encode
from evalkit.records import TrainingExample


@pytest.fixture(scope="module")
def tokenizer(converted_models: Path) -> Any:
    from transformers import AutoTokenizer

    (folder,) = [p for p in converted_models.iterdir() if (p / "config.json").is_file()]
    return AutoTokenizer.from_pretrained(folder)


def learned_text(encoded: Encoded, tokenizer: Any) -> str:
    return str(
        tokenizer.decode([t for t, label in zip(encoded.input_ids, encoded.labels) if label != IGNORE])
    )


def masked_text(encoded: Encoded, tokenizer: Any) -> str:
    return str(
        tokenizer.decode([t for t, label in zip(encoded.input_ids, encoded.labels) if label == IGNORE])
    )


CORRECTED = (
    {"role": "system", "content": "Sort tickets."},
    {"role": "user", "content": "My card was charged twice."},
    {"role": "assistant", "content": "Thanks for writing in! Someone will get back to you.", "weight": 0},
    {"role": "user", "content": "Queue name only."},
    {"role": "assistant", "content": "billing"},
)


def test_weight_zero_messages_get_no_loss(tokenizer: Any) -> None:
    encoded = encode(TrainingExample(messages=CORRECTED), tokenizer)

    assert learned_text(encoded, tokenizer) == "billing<|im_end|>"
    assert "Someone will get back to you.<|im_end|>" in masked_text(encoded, tokenizer)
    assert len(encoded.labels) == len(encoded.input_ids)
    assert all(label in (IGNORE, token) for token, label in zip(encoded.input_ids, encoded.labels))


def test_every_assistant_message_is_learned_by_default(tokenizer: Any) -> None:
    messages = tuple({k: v for k, v in m.items() if k != "weight"} for m in CORRECTED)

    encoded = encode(TrainingExample(messages=messages), tokenizer)

    assert (
        learned_text(encoded, tokenizer)
        == "Thanks for writing in! Someone will get back to you.<|im_end|>billing<|im_end|>"
    )
    masked = masked_text(encoded, tokenizer)
    assert (
        "Sort tickets." in masked and "My card was charged twice." in masked and "Queue name only." in masked
    )


def test_training_sees_the_prompt_tokens_the_model_is_called_with(tokenizer: Any) -> None:
    encoded = encode(TrainingExample(messages=CORRECTED), tokenizer)
    prompt = tokenizer.apply_chat_template(
        [{"role": m["role"], "content": m["content"]} for m in CORRECTED[:-1]],
        tokenize=False,
        add_generation_prompt=True,
    )
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]

    assert encoded.input_ids[: len(prompt_ids)] == prompt_ids
    assert encoded.labels[len(prompt_ids)] != IGNORE  # the answer starts right after the prompt


def test_legacy_rows_learn_the_completion_and_the_end(tokenizer: Any) -> None:
    encoded = encode(
        TrainingExample(prompt="Ticket: my parcel is lost\n\n###\n\n", completion=" shipping END"), tokenizer
    )

    assert learned_text(encoded, tokenizer) == " shipping END<|im_end|>"
    assert masked_text(encoded, tokenizer) == "Ticket: my parcel is lost\n\n###\n\n"


def test_examples_are_cut_to_max_length(tokenizer: Any) -> None:
    encoded = encode(TrainingExample(messages=CORRECTED), tokenizer, max_length=10)

    assert len(encoded.input_ids) == len(encoded.labels) == 10
    assert encoded.learned == 0
