"""Model id → endpoint: the legacy completions family and its fine-tunes go to /v1/completions."""

from __future__ import annotations

import pytest

from evalkit.providers.routing import base_model, endpoint_for

ROUTES = [
    # the legacy completions family and everything built on it
    ("babbage-002", "completions"),
    ("davinci-002", "completions"),
    ("gpt-3.5-turbo-instruct", "completions"),
    ("gpt-3.5-turbo-instruct-0914", "completions"),
    ("ft:davinci-002:my-org:triage:8abcDEF1", "completions"),
    ("ft:babbage-002:my-org::8abcDEF1", "completions"),
    ("ft:babbage-002:org::id:ckpt-step-40", "completions"),
    ("ft:gpt-3.5-turbo-instruct-0914:org:x:id", "completions"),
    ("curie:ft-acme-2023-03-01-12-00-00", "completions"),
    ("text-davinci-003", "completions"),
    # chat models, their fine-tunes and checkpoints, and anything unknown
    ("gpt-4o-mini-2024-07-18", "chat"),
    ("ft:gpt-4o-mini:openai::7p4lURel", "chat"),
    ("ft:gpt-4o-mini-2024-07-18:org:triage:AbC123:ckpt-step-30", "chat"),
    ("ft:gpt-3.5-turbo-0125:org::xyz", "chat"),
    ("gpt-3.5-turbo", "chat"),
    ("gpt-4.1", "chat"),
    ("o3-mini", "chat"),
    ("o1", "chat"),
    ("my-local-llama", "chat"),
    ("davinci-002-but-not-really", "chat"),
]


@pytest.mark.parametrize(("model_id", "endpoint"), ROUTES)
def test_endpoint_follows_lineage(model_id: str, endpoint: str) -> None:
    assert endpoint_for(model_id) == endpoint


@pytest.mark.parametrize(
    ("model_id", "base"),
    [
        ("ft:davinci-002:org::abc:ckpt-step-40", "davinci-002"),
        ("ft:gpt-4o-mini:openai::7p4lURel", "gpt-4o-mini"),
        ("curie:ft-acme-2023-03-01-12-00-00", "curie"),
        ("gpt-4.1", "gpt-4.1"),
    ],
)
def test_base_model_of_fine_tunes_and_checkpoints(model_id: str, base: str) -> None:
    assert base_model(model_id) == base


@pytest.mark.parametrize(
    ("flag_model", "endpoint"),
    [
        ("my-local-llama@completions", "completions"),  # unknown id, told where it is served
        ("Qwen/Qwen2.5-0.5B@completions", "completions"),
        ("my-local-llama@chat", "chat"),
        ("ft:davinci-002:org::abc@chat", "chat"),  # an override beats the lineage
        ("gpt-4o-mini-2024-07-18@completions", "completions"),
        ("ft:babbage-002:org::abc:ckpt-step-8", "completions"),
    ],
)
def test_an_override_beats_the_lineage(flag_model: str, endpoint: str) -> None:
    from evalkit.targets.spec import resolve_targets

    (target,) = resolve_targets({}, [f"t={flag_model}"])
    assert target.endpoint == endpoint
    assert "@" not in target.model
