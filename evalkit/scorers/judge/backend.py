"""The judge model's side of ``judge`` and of the model graders: calls through the run's ``Caller`` (the
targets' cache table and limit on calls in flight), structured output where the service accepts it, usage
counted per scorer, and one call for a question two targets ask at once.

    ask            a judge prompt (``JudgePrompt``: system + user text, a verdict schema), judge sampling
    ask_messages   messages given whole (a ``score_model``/``label_model`` grader's rendered ``input``), a
                   schema, and how to reply when structured output is refused; any sampling (``Generation``)
    embed          one text's embedding (a ``cosine`` similarity), on ``/v1/embeddings``
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from evalkit.providers.base import CallError, Reply
from evalkit.providers.embeddings import embedding_request
from evalkit.providers.request import Request, build_request
from evalkit.providers.routing import endpoint_for
from evalkit.records import ENDPOINTS, Case, Endpoint, Message, Outcome, Target
from evalkit.records.usage import JudgeUsage
from evalkit.runner.calls import Caller
from evalkit.scorers.judge.prompts import JudgePrompt
from evalkit.suite.model import Completions, Generation

_REJECTED_FORMAT = re.compile(r"response_format|json_schema", re.IGNORECASE)

_Who = tuple[str, str]
"""(endpoint, model): what the backend remembers a model's refusals by."""


@dataclass(frozen=True, slots=True)
class JudgeModel:
    """The model a judge scorer asks, and the endpoint it is served on."""

    model: str
    """The model id as the service knows it."""
    endpoint: Endpoint
    """Where it is called."""

    @classmethod
    def parse(cls, spec: str) -> JudgeModel:
        """``gpt-4o`` (endpoint by lineage) or ``gpt-4o@chat`` / ``davinci-002@completions`` (pinned)."""
        model, sep, suffix = spec.strip().rpartition("@")
        for endpoint in ENDPOINTS:
            if sep and suffix == endpoint:
                return cls(model.strip(), endpoint)
        return cls(spec.strip(), endpoint_for(spec))


@dataclass(frozen=True, slots=True)
class Sampling:
    """How the judge samples its verdicts."""

    temperature: float = 0.0
    """Sampling temperature."""
    max_tokens: int = 400
    """Most tokens per verdict."""


class JudgeBackend:
    """Calls judge models through the run's ``Caller``."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller
        self._usage: dict[str, JudgeUsage] = {}
        self._unstructured: set[_Who] = set()
        self._broken: dict[_Who, str] = {}
        self._in_flight: dict[str, asyncio.Future[Reply]] = {}
        self._first_calls: dict[_Who, asyncio.Future[None]] = {}

    def usage(self) -> dict[str, JudgeUsage]:
        """Per judge scorer name: its model, calls, verdicts that needed no call, and tokens."""
        return {name: replace(usage) for name, usage in self._usage.items()}

    async def ask(
        self, prompt: JudgePrompt, *, judge: JudgeModel, sampling: Sampling, scorer: str, repeat: int = 0
    ) -> Reply:
        """The judge's reply to ``prompt`` (``repeat``: which of several independent verdicts), from the
        cache when it holds it. Raises ``CallError`` when the call fails, ``ServiceError`` when the
        service cannot be used at all."""
        structured, plain = _requests(prompt, judge, sampling, scorer)
        return await self._ask(structured, plain, model=judge.model, scorer=scorer, repeat=repeat)

    async def ask_messages(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any],
        instruction: str,
        judge: JudgeModel,
        generation: Generation,
        scorer: str,
    ) -> Reply:
        """The reply of ``judge`` to ``messages`` sent as they are (a grader's rendered ``input``), asked
        for as strict structured output (``schema``: the ``json_schema`` object, with its ``name``) — or,
        where the model refuses that or is served on completions, with ``instruction`` (how to reply)
        added to the system message. Sampled as ``generation`` says, shaped for the model. Cached, shared
        and counted like ``ask``; raises the same errors."""
        structured, plain = _message_requests(messages, schema, instruction, judge, generation, scorer)
        return await self._ask(structured, plain, model=judge.model, scorer=scorer)

    async def embed(self, text: str, *, model: str, scorer: str) -> Reply:
        """``model``'s embedding of ``text`` (``evalkit.providers.embeddings``: base64 float32 as the
        reply's output), cached, shared and counted under ``scorer`` like a verdict."""
        request = embedding_request(model, text, name=f"grader:{scorer}")
        return await self._ask(None, request, model=model, scorer=scorer)

    async def _ask(
        self, structured: Request | None, plain: Request, *, model: str, scorer: str, repeat: int = 0
    ) -> Reply:
        usage = self._usage.setdefault(scorer, JudgeUsage(model))
        for request in (structured, plain):
            hit = self._caller.lookup(request, repeat=repeat) if request is not None else None
            if hit is not None:
                usage.cached += 1
                return _reply(hit)
        question = self._caller.key(plain, repeat=repeat)
        shared = self._in_flight.get(question)
        if shared is not None:  # the same question is being asked right now (two targets, one answer)
            usage.cached += 1
            return await asyncio.shield(shared)
        task = asyncio.ensure_future(self._fetch(structured, plain, repeat, usage))
        task.add_done_callback(_retrieve)
        self._in_flight[question] = task
        try:  # shielded: one asker giving up must not cancel the call for the others
            return await asyncio.shield(task)
        finally:
            del self._in_flight[question]

    async def _fetch(
        self, structured: Request | None, plain: Request, repeat: int, usage: JudgeUsage
    ) -> Reply:
        reply = await self._call(structured, plain, repeat)
        usage.calls += 1
        usage.prompt_tokens += reply.usage.prompt_tokens
        usage.completion_tokens += reply.usage.completion_tokens
        return reply

    async def _call(self, structured: Request | None, plain: Request, repeat: int) -> Reply:
        """A model's first call on an endpoint is made alone, as the runner probes a target: the others
        wait for it, so they never ask a model that does not exist, nor for an output format it refused.
        (Per endpoint: a chat model that gives no embeddings still judges.)"""
        who = (plain.endpoint, plain.model)
        first = self._first_calls.get(who)
        if first is None:
            first = self._first_calls[who] = asyncio.get_running_loop().create_future()
            try:
                return await self._attempt(structured, plain, who, repeat)
            finally:
                first.set_result(None)
        await asyncio.shield(first)
        return await self._attempt(structured, plain, who, repeat)

    async def _attempt(self, structured: Request | None, plain: Request, who: _Who, repeat: int) -> Reply:
        """Call with structured output unless the model rejected it before; without it if rejected now."""
        if who in self._broken:
            raise CallError(self._broken[who], whole_target=True)
        if structured is not None and who not in self._unstructured:
            try:
                return await self._send(structured, who, repeat)
            except CallError as exc:
                if not _rejects_response_format(exc):
                    raise
                self._unstructured.add(who)
        return await self._send(plain, who, repeat)

    async def _send(self, request: Request, who: _Who, repeat: int) -> Reply:
        try:
            return _reply(await self._caller.call(request, repeat=repeat))
        except CallError as exc:
            if exc.whole_target:
                self._broken[who] = exc.message
            raise


def _requests(
    prompt: JudgePrompt, judge: JudgeModel, sampling: Sampling, scorer: str
) -> tuple[Request | None, Request]:
    """The request with structured output (chat and Responses models) and the one without, shaped like the
    targets' requests (a reasoning judge gets ``max_completion_tokens``, no temperature, …)."""
    target = Target(f"judge:{scorer}", judge.model, judge.endpoint)
    generation = Generation(temperature=sampling.temperature, max_tokens=sampling.max_tokens)
    if judge.endpoint == "completions":
        case = Case(id=scorer, reference="", prompt=prompt.as_text())
        return None, build_request(case, target, generation, Completions())
    messages = ({"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user})
    plain = Case(id=scorer, reference="", messages=messages)
    structured = replace(plain, extras={"response_format": {"type": "json_schema", "json_schema": prompt.schema}})
    settings = (target, generation, Completions())
    return build_request(structured, *settings), build_request(plain, *settings)


def _message_requests(
    messages: Sequence[Message],
    schema: Mapping[str, Any],
    instruction: str,
    judge: JudgeModel,
    generation: Generation,
    scorer: str,
) -> tuple[Request | None, Request]:
    """Like ``_requests`` for messages given whole: structured output on chat and Responses models, the
    reply format said in words in the request without it (and in the one prompt of a completions model)."""
    target = Target(f"grader:{scorer}", judge.model, judge.endpoint)
    plain = Case(id=scorer, reference="", messages=_with_instruction(messages, instruction))
    settings = (target, generation, Completions())
    if judge.endpoint == "completions":
        return None, build_request(plain, *settings)
    given = Case(id=scorer, reference="", messages=tuple(messages))
    structured = replace(given, extras={"response_format": {"type": "json_schema", "json_schema": dict(schema)}})
    return build_request(structured, *settings), build_request(plain, *settings)


def _with_instruction(messages: Sequence[Message], instruction: str) -> tuple[Message, ...]:
    """``messages`` with ``instruction`` appended to the leading system (or developer) message's text, or
    else put first as a system message of its own: where chat templates expect a system message, and
    without a second one after it, which some templates refuse."""
    first = messages[0] if messages else None
    if first is not None and first.get("role") in ("system", "developer") and isinstance(first.get("content"), str):
        merged = {**first, "content": f"{first['content'].rstrip()}\n\n{instruction}"}
        return (merged, *messages[1:])
    return ({"role": "system", "content": instruction}, *messages)


def _reply(outcome: Outcome) -> Reply:
    return Reply(output=outcome.output or "", usage=outcome.usage, finish_reason=outcome.finish_reason)


def _retrieve(task: asyncio.Future[Reply]) -> None:
    """Mark a shared call's failure as seen: whoever still waits for it gets it; nobody else must."""
    if not task.cancelled():
        task.exception()


def _rejects_response_format(error: CallError) -> bool:
    return error.message.startswith("HTTP 400") and _REJECTED_FORMAT.search(error.message) is not None
