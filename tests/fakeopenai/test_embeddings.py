"""The fake's /v1/embeddings answers the official SDK as OpenAI does: shapes, encodings, errors."""

from __future__ import annotations

import base64
import struct
from typing import Any

import openai
import pytest

from fakeopenai import FAKE_API_KEY, FakeOpenAI
from fakeopenai.embeddings import vector
from fakeopenai.openapi import OpenAPISpec
from fakeopenai.test_shapes import call


def client(server: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=FAKE_API_KEY, max_retries=0)


def post(server: FakeOpenAI, body: dict[str, Any]) -> tuple[int, Any]:
    """(status, parsed JSON body) of one raw ``POST /v1/embeddings``."""
    status, _, answer = call(server, "/v1/embeddings", body)
    return status, answer


def test_the_sdk_gets_the_fakes_vectors_in_either_encoding(fake_openai: FakeOpenAI) -> None:
    sdk = client(fake_openai)

    floats = sdk.embeddings.create(model="text-embedding-3-small", input="refund my card", encoding_format="float")
    decoded = sdk.embeddings.create(model="text-embedding-3-small", input=["refund my card", "hello"])  # base64

    assert floats.data[0].embedding == vector("refund my card", 1536)
    assert decoded.data[0].embedding == pytest.approx(vector("refund my card", 1536), abs=1e-7)  # float32
    assert [d.index for d in decoded.data] == [0, 1]
    assert (floats.usage.prompt_tokens, decoded.usage.prompt_tokens) == (3, 4)
    assert [(r.body or {}).get("encoding_format") for r in fake_openai.requests] == ["float", "base64"]


def test_answers_follow_the_spec_and_base64_is_little_endian_float32(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    _, plain = post(fake_openai, {"model": "text-embedding-3-large", "input": "late parcel"})
    _, packed = post(fake_openai, {"model": "text-embedding-3-large", "input": "late parcel", "encoding_format": "base64"})

    openai_spec.check(plain, "CreateEmbeddingResponse")
    assert len(plain["data"][0]["embedding"]) == 3072
    raw = base64.b64decode(packed["data"][0]["embedding"])
    assert struct.unpack(f"<{len(raw) // 4}f", raw) == pytest.approx(plain["data"][0]["embedding"], abs=1e-7)


def test_vectors_are_unit_length_and_close_for_texts_that_share_words() -> None:
    a, b, c = vector("my card was charged twice", 256), vector("card charged twice", 256), vector("app crash", 256)

    def dot(x: list[float], y: list[float]) -> float:
        return sum(p * q for p, q in zip(x, y, strict=True))

    assert dot(a, a) == pytest.approx(1.0)
    assert dot(a, b) > 0.5 > abs(dot(a, c))
    assert vector("!!!", 8) == vector("!!!", 8) and dot(vector("!!!", 8), vector("!!!", 8)) == pytest.approx(1.0)


def test_dimensions_shorten_text_embedding_3_vectors_only(fake_openai: FakeOpenAI) -> None:
    _, short = post(fake_openai, {"model": "text-embedding-3-large", "input": "x", "dimensions": 64})
    status, refused = post(fake_openai, {"model": "text-embedding-ada-002", "input": "x", "dimensions": 64})

    assert len(short["data"][0]["embedding"]) == 64
    assert status == 400
    assert refused["error"]["message"] == "This model does not support specifying dimensions."


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"model": "text-embedding-3-small", "input": ""}, 400, "'$.input' is invalid."),
        ({"model": "text-embedding-3-small"}, 400, "Missing required parameter: 'input'."),
        ({"model": "text-embedding-3-small", "input": "x", "temperature": 0}, 400, "not a valid CreateEmbeddingRequest"),
        ({"model": "gpt-4o", "input": "x"}, 403, "You are not allowed to generate embeddings from this model"),
        ({"model": "text-embedding-9", "input": "x"}, 404, "The model `text-embedding-9` does not exist"),
    ],
    ids=["empty-input", "no-input", "unknown-field", "chat-model", "unknown-model"],
)
def test_what_openai_refuses_is_refused_in_its_words(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec, body: dict[str, Any], status: int, message: str
) -> None:
    answered, answer = post(fake_openai, body)

    assert answered == status
    assert message in answer["error"]["message"]
    openai_spec.check(answer, "ErrorResponse")


def test_added_models_faults_and_reset(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_embedding_model("my-embedder", 8)
    fake_openai.fail_next(1, status=503, model="my-embedder")

    failed, _ = post(fake_openai, {"model": "my-embedder", "input": "x"})
    answered, answer = post(fake_openai, {"model": "my-embedder", "input": "x"})
    fake_openai.reset()
    gone, _ = post(fake_openai, {"model": "my-embedder", "input": "x"})

    assert (failed, answered, gone) == (503, 200, 404)
    assert answer["data"][0]["embedding"] == vector("x", 8)
