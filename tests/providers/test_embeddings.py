"""Embeddings replies: whichever encoding a server answers in, the vector is kept as base64 float32."""

from __future__ import annotations

import base64
import struct

import pytest

from evalkit.providers.embeddings import (
    decode_embedding,
    embedding_reply,
    embedding_request,
    encode_embedding,
)


def body(embedding: object, prompt_tokens: int = 3) -> dict[str, object]:
    return {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def test_the_request_asks_for_one_texts_vector_in_base64() -> None:
    request = embedding_request("text-embedding-3-small", "my card was charged", name="grader:similar")

    assert (request.endpoint, request.model, request.target) == ("embeddings", "text-embedding-3-small", "grader:similar")
    assert request.payload == {"model": "text-embedding-3-small", "input": "my card was charged", "encoding_format": "base64"}


def test_floats_and_base64_become_the_same_reply() -> None:
    values = [0.25, -0.5, 0.125]
    packed = base64.b64encode(struct.pack("<3f", *values)).decode()

    from_floats, from_base64 = embedding_reply(body(values)), embedding_reply(body(packed))

    assert from_floats == from_base64
    assert from_floats.output == packed == encode_embedding(values)
    assert decode_embedding(from_floats.output) == (0.25, -0.5, 0.125)
    assert from_floats.usage.prompt_tokens == 3


@pytest.mark.parametrize(
    "embedding",
    ["not base64!", base64.b64encode(b"\x00\x01\x02").decode(), [], ["0.1"], None],
    ids=["not-base64", "not-float32", "empty", "strings", "null"],
)
def test_anything_but_a_vector_is_refused(embedding: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        embedding_reply(body(embedding))


def test_a_body_with_several_vectors_is_refused() -> None:
    two = body([0.1])
    two["data"] = [*two["data"], {"object": "embedding", "index": 1, "embedding": [0.2]}]  # type: ignore[misc]

    with pytest.raises(ValueError):
        embedding_reply(two)
