"""Reasoning models: the parameters they refuse, and how they spend a token budget.

Refusals (HTTP 400, OpenAI's bodies), checked once the model is known to be a reasoning one:

- ``max_tokens`` on chat: ``unsupported_parameter``, "Unsupported parameter: 'max_tokens' is not supported
  with this model. Use 'max_completion_tokens' instead.";
- ``temperature`` or ``top_p`` other than 1 (chat and responses): ``unsupported_value``, "Unsupported
  value: 'temperature' does not support 0 with this model. Only the default (1) value is supported." —
  the number is the value sent, as JSON writes it;
- an effort (``reasoning_effort`` on chat, ``reasoning.effort`` on responses) outside the spec's
  ``ReasoningEffort`` enum: ``invalid_value``.

Spending: a reasoning model spends ``round(tokens × EFFORT_SHARE[effort])`` reasoning tokens per answer,
where ``tokens`` is its setting (``FakeOpenAI.set_reasoning_tokens``; ``DEFAULT_REASONING_TOKENS`` = 40)
and ``effort`` the one asked for (default ``medium``: the setting as is; ``low`` half, ``minimal`` a
quarter, ``none`` nothing, ``high`` twice, ``xhigh`` three times, ``max`` four times). They are counted
first against the budget (``max_completion_tokens`` on chat, ``max_output_tokens`` on responses); the
visible answer gets the tokens left, one word = one token. When none are left the answer is empty and cut
for length (chat: ``content: ""``, ``finish_reason: "length"``; responses: ``incomplete``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .bodies import ApiError, JsonDict

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
"""Efforts the spec's ``ReasoningEffort`` allows (openai-openapi f85dbe2)."""

DEFAULT_EFFORT = "medium"
"""The effort a request that names none gets (the spec's default)."""

EFFORT_SHARE: dict[str, float] = {
    "none": 0.0,
    "minimal": 0.25,
    "low": 0.5,
    "medium": 1.0,
    "high": 2.0,
    "xhigh": 3.0,
    "max": 4.0,
}
"""How many times a model's reasoning-token setting each effort spends."""


def supported_values(values: Sequence[str]) -> str:
    """``'a', 'b', and 'c'`` as OpenAI lists the values it accepts."""
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])}, and {quoted[-1]}"


def unsupported_parameter(name: str, *, instead: str | None = None) -> ApiError:
    """400 ``unsupported_parameter``: the model does not take ``name`` at all."""
    hint = f" Use '{instead}' instead." if instead else ""
    return ApiError(
        400,
        f"Unsupported parameter: '{name}' is not supported with this model.{hint}",
        param=name,
        code="unsupported_parameter",
    )


def unsupported_value(name: str, value: object) -> ApiError:
    """400 ``unsupported_value``: only the default (1) of a sampling parameter is supported."""
    return ApiError(
        400,
        f"Unsupported value: '{name}' does not support {json.dumps(value)} with this model. "
        "Only the default (1) value is supported.",
        param=name,
        code="unsupported_value",
    )


def check_sampling(body: JsonDict) -> None:
    """Refuse ``temperature``/``top_p`` other than 1 (null and absent are the default)."""
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and value != 1:
            raise unsupported_value(name, value)


def check_chat(body: JsonDict) -> str:
    """Refuse what a reasoning model does not take on chat; the effort it is asked for."""
    if body.get("max_tokens") is not None:
        raise unsupported_parameter("max_tokens", instead="max_completion_tokens")
    check_sampling(body)
    return checked_effort(body.get("reasoning_effort"), "reasoning_effort")


def checked_effort(value: object, param: str) -> str:
    """The effort asked for (``DEFAULT_EFFORT`` if none), or 400 ``invalid_value`` naming ``param``."""
    if value is None:
        return DEFAULT_EFFORT
    if not isinstance(value, str) or value not in REASONING_EFFORTS:
        raise ApiError(
            400,
            f"Invalid value: {value!r}. Supported values are: {supported_values(REASONING_EFFORTS)}.",
            param=param,
            code="invalid_value",
        )
    return value


def spent(tokens: int, effort: str) -> int:
    """Reasoning tokens a model whose setting is ``tokens`` spends at ``effort``."""
    return round(tokens * EFFORT_SHARE[effort])


@dataclass(frozen=True)
class Budget:
    """A token budget after reasoning has taken its share."""

    reasoning_tokens: int
    """Reasoning tokens spent (at most the budget)."""
    answer_tokens: int | None
    """Tokens left for the visible answer; None: no limit."""

    @property
    def exhausted(self) -> bool:
        """Nothing is left for the visible answer."""
        return self.answer_tokens == 0


def split_budget(reasoning_tokens: int, budget: int | None) -> Budget:
    """Reasoning first, the visible answer gets the rest of ``budget`` (None: unlimited)."""
    if budget is None:
        return Budget(reasoning_tokens, None)
    used = min(reasoning_tokens, budget)
    return Budget(used, budget - used)


def check_responses(body: JsonDict) -> str:
    """Refuse what a reasoning model does not take on responses; the effort it is asked for."""
    check_sampling(body)
    return checked_effort(requested_effort(body), "reasoning.effort")


def refuse_effort(body: JsonDict) -> None:
    """A model that does not reason refuses ``reasoning.effort`` on responses."""
    if requested_effort(body) is not None:
        raise unsupported_parameter("reasoning.effort")


def requested_effort(body: JsonDict) -> object:
    """``reasoning.effort`` of a Responses body (None if not given)."""
    settings = body.get("reasoning")
    return settings.get("effort") if isinstance(settings, dict) else None
