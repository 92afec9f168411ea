"""Local models (``local:…``) served in-process on the CPU with ``transformers`` + ``peft``.

A request is answered the way an OpenAI-compatible server would answer it: a chat request's
``messages`` go through the model's chat template (with the header that asks for the assistant's
reply), a completions request's ``prompt`` is sent as it is; generation stops at the model's
end-of-turn token, at a ``stop`` sequence (left out of the answer, as OpenAI does) or after
``max_tokens`` (``finish_reason`` ``stop`` or ``length``). Usage is the prompt's and the answer's token
counts. ``temperature`` 0 (the suites' usual setting) or absent is greedy decoding; above 0 samples,
seeded by ``seed`` (default 0), so a run repeats.

Calls are batched: while one batch generates, the calls that arrive wait, and the next batch takes up
to ``batch_size`` of them — any mix of a base model and LoRA adapters on that base (``peft``'s
mixed-adapter batches), so ``base``, every ``step-N`` and ``final`` of a run share one copy of the
base's weights and one batch. Identical calls in flight at once (a run's ``final`` is its last
checkpoint) are generated once. Models load on their first call, in the same worker thread as
generation; a built-in's GGUF weights are converted once and cached (``evalkit.providers.local.models``).

Failures: a model id that names nothing usable, a request field local models cannot honour, or a request
for embeddings (local models generate text only: hidden states mean-pooled from a small chat model make
poor sentence vectors) → ``CallError(whole_target=True)``; torch/transformers/peft or the built-in's weights not installed →
``ServiceError`` (the run stops, with the command that installs them).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.providers.base import CallError, Reply
from evalkit.providers.local.engine import Engine, Job, LoadCallback, Sampling, failure
from evalkit.providers.local.models import LocalModel, model_fingerprint, require_libraries, resolve_model
from evalkit.providers.request import Request

DEFAULT_BATCH_SIZE = 16
"""Most calls generated together."""
DEFAULT_MAX_TOKENS = {"chat": 512, "completions": 16}
"""Tokens generated when a request sets no ``max_tokens`` (OpenAI's completions default is 16)."""
SUPPORTED_FIELDS = frozenset(
    {
        "model", "messages", "prompt", "temperature", "top_p", "seed", "stop", "max_tokens",
        "max_completion_tokens", "n", "tools", "tool_choice", "parallel_tool_calls", "user",
    }
)  # fmt: skip
"""Request fields a local model honours (or that don't change its answer)."""


class LocalProvider:
    """Serves ``local:`` model ids in this process, batching calls on a worker thread."""

    def __init__(
        self,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        cache_dir: Path | None = None,
        on_load: LoadCallback | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._batch_size = batch_size
        self._engine = Engine(cache_dir=cache_dir, on_load=on_load)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evalkit-local")
        self._queue: deque[Job] = deque()
        self._inflight: dict[str, asyncio.Future[Reply]] = {}
        self._models: dict[str, LocalModel] = {}
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._identity = _identity()
        self._libraries_checked = False

    @property
    def identity(self) -> str:
        """``local`` and the versions of the libraries that generate."""
        return self._identity

    def cache_identity(self, model: str) -> str:
        """The libraries' versions and the fingerprint of the model's files (names, sizes, times), so
        weights retrained in place (a Trainer ``output_dir`` used again) never get the old weights' answers."""
        try:
            resolved = self._model(model)
        except CallError:
            return self._identity  # it cannot be served either; the call says why
        return f"{self._identity}#{model_fingerprint(resolved)}"

    async def call(self, request: Request, *, probe: bool = False) -> Reply:
        """Generate the answer to ``request`` (in a batch with the calls around it)."""
        if not self._libraries_checked:
            require_libraries()
            self._libraries_checked = True
        key = json.dumps([request.endpoint, request.payload], sort_keys=True, default=str)
        shared = self._inflight.get(key)
        if shared is None:
            shared = self._submit(request)
            self._inflight[key] = shared
            shared.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(shared)

    async def aclose(self) -> None:
        """Stop the worker; calls still waiting fail."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        for job in self._queue:
            if not job.future.done():
                job.future.set_exception(CallError("the local provider was closed"))
        self._queue.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _submit(self, request: Request) -> asyncio.Future[Reply]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()
        job = self._job(request, future)
        self._queue.append(job)
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._serve(), name="evalkit-local-batcher")
        return future

    def _job(self, request: Request, future: asyncio.Future[Reply]) -> Job:
        payload = request.payload
        if request.endpoint == "embeddings":
            raise CallError(
                f"local models give no embeddings: {request.model} cannot be the embeddings model of a "
                "cosine similarity; use an embeddings model on an OpenAI-compatible service "
                "(text-embedding-3-large on OpenAI, or one served by vLLM)",
                whole_target=True,
            )
        if request.endpoint == "responses":
            raise CallError(
                "local models are called on chat or completions, not the Responses API: drop @responses "
                "(or 'endpoint: responses') for this target",
                whole_target=True,
            )
        unsupported = sorted(set(payload) - SUPPORTED_FIELDS)
        if unsupported:
            raise CallError(
                f"local models do not support the request field(s) {', '.join(unsupported)} "
                f"(supported: {', '.join(sorted(SUPPORTED_FIELDS))})",
                whole_target=True,
            )
        if payload.get("n", 1) != 1:
            raise CallError("local models answer with one choice (n=1)", whole_target=True)
        return Job(
            model=self._model(request.model),
            sampling=_sampling(payload, endpoint=request.endpoint),
            messages=payload.get("messages") if request.endpoint == "chat" else None,
            prompt=_prompt(payload) if request.endpoint == "completions" else None,
            tools=payload.get("tools") or None,
            future=future,
        )

    def _model(self, model_id: str) -> LocalModel:
        model = self._models.get(model_id)
        if model is None:
            try:
                model = resolve_model(model_id)
            except InputError as exc:
                raise CallError(str(exc), whole_target=True) from None
            self._models[model_id] = model
        return model

    async def _serve(self) -> None:
        """Take batches off the queue and generate them, one at a time, until cancelled."""
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            await asyncio.sleep(0)  # let the calls made in the same tick join this batch
            batch = self._take_batch()
            if not batch:
                self._wake.clear()
                continue
            try:
                outcomes = await loop.run_in_executor(self._executor, self._engine.run, batch)
            except Exception as exc:  # noqa: BLE001 — the worker outlives any batch; the batch's calls fail
                outcomes = [failure(exc)] * len(batch)
            for job, outcome in zip(batch, outcomes, strict=True):
                if job.future.done():
                    continue
                if isinstance(outcome, BaseException):
                    job.future.set_exception(outcome)
                else:
                    job.future.set_result(outcome)

    def _take_batch(self) -> list[Job]:
        """The oldest waiting call and up to ``batch_size - 1`` more that can share its batch."""
        if not self._queue:
            return []
        group = self._queue[0].group
        batch: list[Job] = []
        rest: deque[Job] = deque()
        while self._queue:
            job = self._queue.popleft()
            if job.future.done():
                continue
            if job.group == group and len(batch) < self._batch_size:
                batch.append(job)
            else:
                rest.append(job)
        self._queue = rest
        return batch


def _sampling(payload: dict[str, Any], *, endpoint: str) -> Sampling:
    limit = payload.get("max_completion_tokens", payload.get("max_tokens"))
    stop = payload.get("stop")
    stops = (stop,) if isinstance(stop, str) else tuple(s for s in stop or () if isinstance(s, str) and s)
    return Sampling(
        max_new_tokens=int(limit) if isinstance(limit, int) and limit > 0 else DEFAULT_MAX_TOKENS[endpoint],
        temperature=float(payload.get("temperature") or 0.0),
        top_p=payload.get("top_p"),
        seed=int(payload.get("seed") or 0),
        stop=stops,
    )


def _prompt(payload: dict[str, Any]) -> str:
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        raise CallError("local models take one prompt as text", whole_target=True)
    return prompt


def _identity() -> str:
    versions = []
    for package in ("transformers", "peft", "torch"):
        try:
            versions.append(f"{package}-{metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package}-none")
    return "local:" + "+".join(versions)
