"""The embeddings endpoint (``POST /v1/embeddings``): request checks, deterministic vectors, the answer.

A vector is a hashed bag of words: each lower-cased word (``\\w+``) adds ±1 to one dimension, both picked
by the word's SHA-256, and the sum is scaled to unit length as OpenAI's vectors are. So the same text
always gets the same vector, texts that share words are close, texts that share none are near 0; a
text with no word at all is hashed whole. ``vector(text, dimensions)`` is the vector the fake answers,
for a test to compare with.

Embedding models (``EMBEDDING_MODELS``, more with ``FakeOpenAI.add_embedding_model``) answer in their
own number of dimensions, or in ``dimensions`` when the body asks (``text-embedding-3-*`` only: OpenAI's
400 "This model does not support specifying dimensions." for the others). A model the fake serves for
generation answers OpenAI's 403 "You are not allowed to generate embeddings from this model"; an unknown
one 404 ``model_not_found``. Bodies are checked against the spec's ``CreateEmbeddingRequest``; an empty
string to embed gets OpenAI's 400 "'$.input' is invalid". ``encoding_format`` ``float`` (the API's
default) answers lists of numbers, ``base64`` (the SDK's default) little-endian float32 bytes in base64.
Usage: ``prompt_tokens`` = ``total_tokens`` = the inputs' whitespace words.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from typing import Any

from . import bodies
from .bodies import ApiError, JsonDict, check_against_spec

EMBEDDING_MODELS: dict[str, int] = {
    "text-embedding-3-large": 3072,
    "text-embedding-3-small": 1536,
    "text-embedding-ada-002": 1536,
}
"""Embedding models every fresh (or reset) fake serves, and their dimensions."""

_WORD = re.compile(r"\w+")


def vector(text: str, dimensions: int) -> list[float]:
    """The unit vector the fake answers for ``text`` (a hashed bag of its lower-cased words)."""
    values = [0.0] * dimensions
    for word in _WORD.findall(text.lower()) or [text]:
        digest = hashlib.sha256(word.encode("utf-8", "surrogatepass")).digest()
        index = int.from_bytes(digest[:8], "big") % dimensions
        values[index] += 1.0 if digest[8] % 2 == 0 else -1.0
    norm = math.sqrt(sum(v * v for v in values))
    if norm == 0.0:  # the words cancelled out: one dimension, so that the vector still has a direction
        values[0], norm = 1.0, 1.0
    return [v / norm for v in values]


def check_body(body: Any) -> JsonDict:
    """The body as a dict, or ``ApiError`` 400 for the first thing wrong with it (OpenAI's words where known)."""
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "We could not parse the JSON body of your request. (HINT: The OpenAI API expects "
            "a JSON payload, but what was sent was not valid JSON.)",
        )
    for name in ("model", "input"):
        if name not in body:
            raise ApiError(
                400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
            )
    given = body["input"]
    if given == "" or (isinstance(given, list) and any(item == "" for item in given)):
        raise ApiError(
            400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
        )
    check_against_spec(body, "CreateEmbeddingRequest")
    return body


def answer(body: JsonDict, *, dimensions: int) -> JsonDict:
    """``CreateEmbeddingResponse`` for a checked body; ``dimensions``: the model's own (or the body's)."""
    texts = _texts(body["input"])
    size = body.get("dimensions") or dimensions
    base64_format = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        values = vector(text, size)
        encoded: Any = _base64(values) if base64_format else values
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(bodies.count_tokens(text) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def check_dimensions(model: str, body: JsonDict) -> None:
    """OpenAI's 400 for ``dimensions`` sent to a model without them (``text-embedding-ada-002``)."""
    if body.get("dimensions") is not None and not model.startswith("text-embedding-3"):
        raise ApiError(400, "This model does not support specifying dimensions.", param="dimensions")


def not_an_embedding_model() -> ApiError:
    """OpenAI's 403 for a generation model (``gpt-4o``) asked for embeddings."""
    return ApiError(403, "You are not allowed to generate embeddings from this model")


def _texts(given: Any) -> list[str]:
    """The texts to embed: a string, strings, or token arrays (their tokens read as words)."""
    if isinstance(given, str):
        return [given]
    if given and all(isinstance(item, int) for item in given):
        return [" ".join(map(str, given))]
    return [item if isinstance(item, str) else " ".join(map(str, item)) for item in given]


def _base64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")

