"""``cosine``: how close two texts are in meaning, as the cosine similarity of their embeddings.

A ``text_similarity`` grader with ``evaluation_metric: cosine`` embeds the answer and the reference with
an embeddings model (``DEFAULT_MODEL`` unless the grader names another) and compares the vectors. Each
text is one request (``JudgeBackend.embed``) on the run's ``Caller``: cached like every call, so a warm
re-run makes none, and a reference embedded for one target is not embedded again for the next; usage is
counted under the scorer's name.

Two identical texts are 1.0 with no call (an embedding service may return slightly different vectors for
the same text twice; the figure of a copy is 1.0 by definition). One empty text against a non-empty one
is 0.0 with no call: OpenAI's endpoint refuses to embed an empty string, and nothing shares no meaning.
Local models (``local:…``) give no embeddings: the call fails with one line saying so. A vector of
zeros, or two vectors of different lengths, raise ``ScoringError``.
"""

from __future__ import annotations

import asyncio
import math

from evalkit.providers.base import CallError
from evalkit.providers.embeddings import decode_embedding
from evalkit.scorers.base import ScoringError
from evalkit.scorers.judge.backend import JudgeBackend

__all__ = ["DEFAULT_MODEL", "cosine_similarity"]

DEFAULT_MODEL = "text-embedding-3-large"
"""The embeddings model of a ``cosine`` grader that names none."""


async def cosine_similarity(backend: JudgeBackend, *, scorer: str, model: str, text: str, reference: str) -> float:
    """The cosine similarity of ``model``'s embeddings of ``text`` and ``reference``, in [-1, 1].

    Raises ``ScoringError`` when an embeddings call fails or its vector cannot be compared."""
    if text == reference:
        return 1.0
    if not text or not reference:
        return 0.0
    answer, expected = await asyncio.gather(
        _embedding(backend, scorer, model, text), _embedding(backend, scorer, model, reference)
    )
    return _cosine(answer, expected)


async def _embedding(backend: JudgeBackend, scorer: str, model: str, text: str) -> tuple[float, ...]:
    try:
        reply = await backend.embed(text, model=model, scorer=scorer)
    except CallError as exc:
        raise ScoringError(f"the embeddings call failed: {exc.message}") from None
    try:
        return decode_embedding(reply.output)
    except ValueError as exc:
        raise ScoringError(f"the embeddings model {model} answered no vector ({exc})") from None


def _cosine(left: tuple[float, ...], right: tuple[float, ...]) -> float:
    import numpy as np

    if len(left) != len(right):
        raise ScoringError(f"the two embeddings differ in length ({len(left)} and {len(right)} dimensions)")
    a, b = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    norms = float(np.linalg.norm(a)) * float(np.linalg.norm(b))
    if norms == 0.0 or not math.isfinite(norms):
        raise ScoringError("an embedding is all zeros (or not finite): its cosine similarity is undefined")
    return max(-1.0, min(1.0, float(np.dot(a, b)) / norms))
