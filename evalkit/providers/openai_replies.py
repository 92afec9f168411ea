"""An OpenAI answer read: the text of a Chat, Completions or Responses body, its usage (reasoning tokens
included) and finish reason; lone surrogates written as their escapes; an answer its token budget left
empty said as such; an embeddings body's vector as ``evalkit.providers.embeddings`` keeps it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from evalkit.providers.base import Reply
from evalkit.providers.embeddings import embedding_reply
from evalkit.providers.request import CallEndpoint
from evalkit.providers.responses import responses_answer, responses_usage
from evalkit.records import Usage, render_tool_calls
from evalkit.text import encodable

__all__ = ["out_of_budget", "parse_reply"]


def parse_reply(body: Any, endpoint: CallEndpoint) -> Reply:
    """The answer in an OpenAI response body of ``endpoint`` (raises KeyError/TypeError/… on other shapes);
    lone surrogates in it written as their escapes."""
    if endpoint == "embeddings":
        return embedding_reply(body)
    if endpoint == "responses":
        answer, finish = responses_answer(body)
        reply = Reply(output=answer, usage=responses_usage(body), finish_reason=finish)
    else:
        reply = _chat_reply(body) if endpoint == "chat" else _completion_reply(body)
    output = encodable(reply.output)
    return reply if output is reply.output else replace(reply, output=output, escaped=True)


def _chat_reply(body: Any) -> Reply:
    choice = body["choices"][0]
    message = choice["message"]
    output = message.get("content")
    if not output and message.get("tool_calls"):  # content null or "" beside the calls: the calls are the answer
        output = render_tool_calls(message["tool_calls"])
    if output is None:
        output = message.get("refusal") or ""
    return Reply(output=str(output), usage=_usage(body), finish_reason=choice.get("finish_reason"))


def _completion_reply(body: Any) -> Reply:
    choice = body["choices"][0]
    return Reply(output=str(choice["text"]), usage=_usage(body), finish_reason=choice.get("finish_reason"))


def _usage(body: dict[str, Any]) -> Usage:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return Usage()
    details = usage.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        reasoning_tokens=int(details.get("reasoning_tokens") or 0) if isinstance(details, dict) else 0,
    )


def out_of_budget(reply: Reply) -> str:
    """Why an answer that came back empty because its token budget ran out is an error, not an answer."""
    usage = reply.usage
    thinking = f", {usage.reasoning_tokens} of them reasoning" if usage.reasoning_tokens else ""
    return (
        f"the answer is empty: its token budget ran out ({usage.completion_tokens} tokens{thinking}) before "
        "any visible text; raise generation.max_tokens or, for a reasoning model, "
        "generation.reasoning_allowance"
    )
