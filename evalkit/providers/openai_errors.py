"""What a failed OpenAI call means, in words a user can act on: the wrong endpoint (and which one is
right), a model not found (a fine-tune's access rules; one past its shutdown date), a setting the model
refuses (and the per-target override)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import openai

from evalkit.providers.base import CallError
from evalkit.providers.request import Request
from evalkit.providers.routing import endpoint_for
from evalkit.records import Endpoint

if TYPE_CHECKING:
    from evalkit.providers.lifecycle import Shutdown

__all__ = ["model_not_found", "refused_setting", "whole_target_error"]


def model_not_found(exc: openai.APIStatusError) -> bool:
    return exc.status_code == 404 and exc.code == "model_not_found"


def whole_target_error(
    exc: openai.APIStatusError,
    message: str,
    request: Request,
    *,
    identity: str,
    waited_s: float,
    shut_down: Shutdown | None = None,
) -> CallError | None:
    needed = _endpoint_needed(message)
    if needed == "responses" and request.endpoint == "chat":
        said = f"{identity} said: {message}"
        return CallError(f"model '{request.model}' is served only on the Responses API ({said})", move_to="responses")
    if needed == "completions" and request.endpoint == "chat" and endpoint_for(request.model) != "completions":
        return CallError(_responses_only_message(request, message, identity=identity), whole_target=True)
    if needed is not None and needed != request.endpoint:
        return CallError(
            f"model '{request.model}' is served on the {needed} endpoint, not {request.endpoint} "
            f"({identity} said: {message}); call it with --model {request.target}={request.model}@{needed} "
            f"or set 'endpoint: {needed}' on target '{request.target}' in the suite",
            whole_target=True,
        )
    if exc.code in ("model_not_found", "DeploymentNotFound"):
        said = _not_found_message(
            exc, message, request, identity=identity, waited_s=waited_s, shut_down=shut_down
        )
        return CallError(said, whole_target=True)
    return None


def _responses_only_message(request: Request, message: str, *, identity: str) -> str:
    return (
        f"model '{request.model}' is not served on the chat endpoint ({identity} said: {message}); it may "
        "be a model served only on the Responses API (e.g. o1-pro, codex models): call it with "
        f"--model {request.target}={request.model}@responses or set 'endpoint: responses' on target "
        f"'{request.target}' in the suite. If it really is a legacy completions model, use @completions "
        "(or 'endpoint: completions')"
    )


def _not_found_message(
    exc: openai.APIStatusError,
    message: str,
    request: Request,
    *,
    identity: str,
    waited_s: float,
    shut_down: Shutdown | None = None,
) -> str:
    if shut_down is not None:  # past its announced date: that is why, whatever the text says
        return (
            f"model '{request.model}' was shut down on {shut_down.describe()} and is no longer served by "
            f"{identity} (see README: Migrating off a retiring fine-tune)"
        )
    said = f"({exc.code}: {message})"
    if not request.model.startswith("ft:"):
        return f"model '{request.model}' was not found by {identity} {said}; check the id and that this API key may use it"
    access = (
        "a fine-tune can be used only with a key of the organisation and project that trained it "
        "(set OPENAI_ORG_ID / OPENAI_PROJECT_ID, or use a project key of that project)"
    )
    if waited_s > 0:
        return (
            f"model '{request.model}' was still not found by {identity} after waiting {waited_s:g} s for "
            f"it to load {said}; the API key may lack access to it: {access}"
        )
    return (
        f"model '{request.model}' was not found by {identity} {said}; check the id and that this API key "
        f"may use it: {access}; a fine-tune that just finished can take a few minutes to load"
    )


def _endpoint_needed(message: str) -> Endpoint | None:
    """The endpoint OpenAI's wrong-endpoint 404 text points to, if it is that text."""
    lowered = message.lower()
    if "only supported in v1/responses" in lowered:
        return "responses"
    if "not a chat model" in lowered:
        return "completions"
    if "is a chat model" in lowered:
        return "chat"
    return None


def refused_setting(exc: openai.APIStatusError, message: str, request: Request) -> str:
    """A 400 ``unsupported_parameter`` / ``unsupported_value``: the setting, and how to override it."""
    param = getattr(exc, "param", None) or "a setting"
    return (
        f"model '{request.model}' refuses {param!r} ({exc.code}: {message}); give target "
        f"'{request.target}' its own settings in the suite, e.g. targets: {{{request.target}: {{model: "
        f"{request.model}, generation: {{...}}}}}} (a 'generation:' mapping over the suite's), or "
        "generation: {params: {...}} for a field evalkit does not know"
    )
