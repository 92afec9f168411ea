"""One generation request, from its body to the answer: which checks, which model on which endpoint.

    check_request(endpoint, body)  → the body, or 400 as OpenAI words it (``generate``/``responses``/``structured``)
    check_served(served, ...)      → 404 for an unknown model or one that does not answer on that endpoint
    answer(endpoint, ...)          → the reasoning refusals (``reasoning.py``), then the answer body

Where models answer: chat models on chat and responses, legacy models on completions, Responses-only
models on responses (anywhere else 404 "This model is only supported in v1/responses ...").
"""

from __future__ import annotations

from . import bodies, generate, reasoning, responses, structured
from .bodies import JsonDict, Reply
from .generate import Script
from .models import Kind, ServedModel

_ENDPOINT_PATHS: dict[Kind, str] = {
    "chat": "v1/chat/completions",
    "completions": "v1/completions",
    "responses": "v1/responses",
}


def check_request(endpoint: Kind, body: object) -> JsonDict:
    """The body as a dict, or ``ApiError`` 400 for the first thing wrong with it on ``endpoint`` (a strict
    ``json_schema`` structured output cannot follow included: ``structured.py``)."""
    checked = responses.check_body(body) if endpoint == "responses" else generate.check_body(endpoint, body)
    structured.check_format(endpoint, checked)
    return checked


def check_served(served: ServedModel | None, model: str, endpoint: Kind, *, azure: bool) -> ServedModel:
    """The served model, or OpenAI's 404: unknown model (Azure: deployment), or the wrong endpoint."""
    if served is None:
        raise bodies.deployment_not_found() if azure else bodies.model_not_found(model)
    if served.kind == endpoint or (served.kind == "chat" and endpoint == "responses"):
        return served
    if served.kind == "responses":
        raise bodies.responses_only_model(_ENDPOINT_PATHS[endpoint])
    if endpoint == "completions":
        raise bodies.chat_model_on_completions()
    if endpoint == "responses":
        raise bodies.completions_model_on_responses()
    raise bodies.completions_model_on_chat()


def answer(
    endpoint: Kind,
    model: str,
    body: JsonDict,
    served: ServedModel,
    script: Script | str | Reply,
    *,
    reasoning_setting: int,
) -> JsonDict:
    """The answer body; ``reasoning_setting``: the tokens the model reasons at default effort."""
    if endpoint == "completions":
        return generate.completions_answer(model, body, script)
    if endpoint == "chat":
        if not served.reasoning:
            return generate.chat_answer(model, body, script)
        effort = reasoning.check_chat(body)
        spent = reasoning.spent(reasoning_setting, effort)
        return generate.chat_answer(model, body, script, reasoning_tokens=spent)
    if not served.reasoning:
        reasoning.refuse_effort(body)
        return responses.responses_answer(model, body, script)
    effort = reasoning.check_responses(body)
    spent = reasoning.spent(reasoning_setting, effort)
    return responses.responses_answer(model, body, script, reasoning_tokens=spent, effort=effort)
