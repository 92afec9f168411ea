"""Embeddings (``POST /v1/embeddings``): the request for one text's vector, and the vector read back.

Only scorers ask for embeddings (a grader's ``cosine`` similarity); targets never do. A request travels the
one path every call takes (``evalkit.runner.calls.Caller``: cache → slot → provider → cache), keyed like
any other by (service, endpoint ``embeddings``, model, body), so a warm re-run makes no call. One text per
request: a reference embedded for one target's answer is a cache hit for the next target's.

Vectors are asked for as OpenAI's base64 of little-endian float32 (the SDK's default encoding, a quarter
of the JSON floats' size) and kept in that form as the reply's text, whichever encoding the server
answered in (some OpenAI-compatible servers send floats whatever was asked): compact in the cache, and
exact for the float32 values the service computes. ``decode_embedding`` reads a reply back.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Sequence
from typing import Any

from evalkit.providers.base import Reply
from evalkit.providers.request import Request
from evalkit.records import Usage

__all__ = ["ENCODING_FORMAT", "decode_embedding", "embedding_reply", "embedding_request", "encode_embedding"]

ENCODING_FORMAT = "base64"
"""The ``encoding_format`` every embeddings request asks for."""


def embedding_request(model: str, text: str, *, name: str) -> Request:
    """The request for ``model``'s embedding of ``text``; ``name`` says who asks (messages only, not sent)."""
    payload: dict[str, Any] = {"model": model, "input": text, "encoding_format": ENCODING_FORMAT}
    return Request(target=name, model=model, endpoint="embeddings", payload=payload)


def embedding_reply(body: Any) -> Reply:
    """The one vector of a ``CreateEmbeddingResponse`` as base64 float32 text, with its prompt tokens as
    usage; raises ValueError/TypeError/KeyError on any other shape."""
    (item,) = body["data"]
    vector = item["embedding"]
    if isinstance(vector, str):
        decode_embedding(vector)  # checked, then kept as it came
        text = vector
    elif isinstance(vector, list) and all(_is_number(x) for x in vector):
        text = encode_embedding(vector)
    else:
        raise TypeError("an embedding is a list of numbers or a base64 string")
    usage = body.get("usage") if isinstance(body, dict) else None
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return Reply(output=text, usage=Usage(prompt_tokens=int(tokens or 0)))


def encode_embedding(vector: Sequence[float]) -> str:
    """``vector`` as base64 of little-endian float32 (what OpenAI sends for ``encoding_format: base64``)."""
    if not vector:
        raise ValueError("an embedding has at least one dimension")
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def decode_embedding(text: str) -> tuple[float, ...]:
    """The vector in base64 float32 ``text``; ValueError when ``text`` is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not a base64 embedding") from None
    if not raw or len(raw) % 4:
        raise ValueError(f"not a base64 embedding of float32 values ({len(raw)} bytes)")
    return struct.unpack(f"<{len(raw) // 4}f", raw)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
