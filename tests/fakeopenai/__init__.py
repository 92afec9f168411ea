"""A fake OpenAI API for evalkit's tests: a real HTTP server on loopback, answering like OpenAI.

Use the ``fake_openai`` fixture (tests/conftest.py): it resets the shared server, points
``OPENAI_BASE_URL``/``OPENAI_API_KEY`` at it and returns the ``FakeOpenAI`` to script. See
``server.py`` for the whole API; ``openapi.py`` checks bodies against OpenAI's official spec.

Endpoints: ``/v1/chat/completions``, legacy ``/v1/completions`` and ``/v1/responses`` (the Responses
API: ``client.responses.create(model=..., input=...)``, ``response.output_text``; Azure's
``/openai/responses`` too), and ``/v1/embeddings`` (``embeddings.py``: deterministic vectors, a hashed bag
of words). A strict ``json_schema`` structured output cannot follow is refused with OpenAI's 400;
``structured.verdict(result)`` scripts a model grader's reply (``structured.py``). ``server.script(model, fn)`` decides the answer text on all three; the
``FakeRequest`` a script gets has ``endpoint`` ``"responses"`` there and ``last_user`` reads the last user
item of ``input`` (or the string input). Where each model answers (``DEFAULT_MODELS``, ``models.py``):

- chat models (``gpt-4o-mini``, ``gpt-4.1-mini`` ...) on chat and responses; legacy models on completions;
- reasoning models — ``o1``, ``o3``, ``o3-mini``, ``o4-mini``, ``gpt-5``, ``gpt-5-mini``, ``gpt-5.2``,
  ``gpt-6`` served by default, any ``o1``/``o3``/``o4-mini``/``gpt-5*``/``gpt-6*`` id given to
  ``add_model``, and ``ft:``/checkpoint ids on them — on chat and responses, refusing ``max_tokens``
  and ``temperature``/``top_p`` other than 1 with OpenAI's 400 bodies (``reasoning.py``);
- Responses-only reasoning models — ``o1-pro``, ``o3-pro``, ``gpt-5-pro``, ``gpt-5.2-pro``,
  ``codex-mini-latest``, ``gpt-5-codex``, ``o3-deep-research``, ``o4-mini-deep-research`` (any ``-pro``,
  ``codex`` or ``deep-research`` id of those families) — on responses only: 404 "This model is only
  supported in v1/responses and not in v1/chat/completions." elsewhere.

Driving it:

    server.add_model("gpt-5.4")                     # kind and reasoning from the name (or the base)
    server.add_model("o3-prod", "chat", reasoning=True)  # an Azure deployment: say what it is
    server.set_reasoning_tokens("o3", 100)          # per answer at default effort ("*": all); default 40
    server.set_shutdown("gpt-4o", "2027-01-14")     # GET /v1/models/gpt-4o → shutdown_date (else null)
    server.count("/v1/responses", model="o3-pro")   # requests by path / model / endpoint / status
    [r.body for r in server.requests if r.endpoint == "responses"]   # what was sent, as sent

Reasoning tokens come first out of ``max_completion_tokens`` (chat) or ``max_output_tokens``
(responses); the answer, one word = one token, gets the rest: with none left, chat answers
``content: ""`` / ``finish_reason: "length"`` and responses ``status: "incomplete"`` (reason
``max_output_tokens``) with no message item. Lower ``reasoning_effort``/``reasoning.effort`` spends less
(``reasoning.EFFORT_SHARE``). The Batch API takes ``/v1/responses`` lines and answers ``Response`` bodies.
"""

from __future__ import annotations

from .bodies import ApiError, Reply, ToolCall
from .generate import FakeRequest, Script
from .log import RecordedRequest
from .models import DEFAULT_MODELS, DEFAULT_REASONING_TOKENS, Kind
from .server import DEFAULT_RETRY_AFTER, FAKE_API_KEY, FakeOpenAI

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_REASONING_TOKENS",
    "DEFAULT_RETRY_AFTER",
    "FAKE_API_KEY",
    "ApiError",
    "FakeOpenAI",
    "FakeRequest",
    "Kind",
    "RecordedRequest",
    "Reply",
    "Script",
    "ToolCall",
]
