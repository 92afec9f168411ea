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
generation; a built-in's GGUF weights are converted once and cached (``evalkit.lab.models``).

Failures: a model id that names nothing usable, or a request field local models cannot honour →
``CallError(whole_target=True)``; torch/transformers/peft or the built-in's weights not installed →
``ServiceError`` (the run stops, with the command that installs them).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import InputError, ServiceError
from evalkit.lab.models import LocalModel, load_base, require_libraries, resolve_model
from evalkit.providers.base import CallError, Reply
from evalkit.providers.request import Request
from evalkit.records import Usage

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

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
_BASE_ADAPTER = "__base__"
"""peft's name for "no adapter" in a mixed-adapter batch."""

LoadCallback = Callable[[str], None]
"""Told (on the worker thread) before a model loads, with a line such as ``loading local:…``."""


@dataclass(frozen=True, slots=True)
class Sampling:
    """How to generate: calls batch together only when these are equal."""

    max_new_tokens: int
    temperature: float = 0.0
    top_p: float | None = None
    seed: int = 0
    stop: tuple[str, ...] = ()


@dataclass(slots=True)
class _Job:
    """One call waiting for its batch."""

    model: LocalModel
    sampling: Sampling
    messages: list[dict[str, Any]] | None
    prompt: str | None
    tools: list[dict[str, Any]] | None
    future: asyncio.Future[Reply] = field(repr=False)

    @property
    def group(self) -> tuple[str, Sampling]:
        return self.model.base.key, self.sampling


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
        self._engine = _Engine(cache_dir=cache_dir, on_load=on_load)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evalkit-local")
        self._queue: deque[_Job] = deque()
        self._inflight: dict[str, asyncio.Future[Reply]] = {}
        self._models: dict[str, LocalModel] = {}
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._identity = _identity()
        self._libraries_checked = False

    @property
    def identity(self) -> str:
        """``local`` and the versions of the libraries that generate: part of every cache key."""
        return self._identity

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

    def _job(self, request: Request, future: asyncio.Future[Reply]) -> _Job:
        payload = request.payload
        unsupported = sorted(set(payload) - SUPPORTED_FIELDS)
        if unsupported:
            raise CallError(
                f"local models do not support the request field(s) {', '.join(unsupported)} "
                f"(supported: {', '.join(sorted(SUPPORTED_FIELDS))})",
                whole_target=True,
            )
        if payload.get("n", 1) != 1:
            raise CallError("local models answer with one choice (n=1)", whole_target=True)
        return _Job(
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
                outcomes = [_failure(exc)] * len(batch)
            for job, outcome in zip(batch, outcomes, strict=True):
                if job.future.done():
                    continue
                if isinstance(outcome, BaseException):
                    job.future.set_exception(outcome)
                else:
                    job.future.set_result(outcome)

    def _take_batch(self) -> list[_Job]:
        """The oldest waiting call and up to ``batch_size - 1`` more that can share its batch."""
        if not self._queue:
            return []
        group = self._queue[0].group
        batch: list[_Job] = []
        rest: deque[_Job] = deque()
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


def _failure(exc: Exception) -> Exception:
    if isinstance(exc, (CallError, ServiceError)):
        return exc
    if isinstance(exc, InputError):
        return CallError(str(exc), whole_target=True)
    return CallError(f"local generation failed: {type(exc).__name__}: {exc}")


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


@dataclass(slots=True)
class _Loaded:
    """A base model in memory, with the adapters loaded onto it so far."""

    model: Any
    """The base, or a ``PeftModel`` around it once an adapter is loaded."""
    tokenizer: PreTrainedTokenizerBase
    adapters: dict[Path, str] = field(default_factory=dict)
    """Adapter directory → its name in ``model``."""


class _Engine:
    """Loads models and generates batches; used from the provider's single worker thread only."""

    def __init__(self, *, cache_dir: Path | None, on_load: LoadCallback | None) -> None:
        self._cache_dir = cache_dir
        self._on_load = on_load
        self._bases: dict[str, _Loaded] = {}

    def run(self, batch: Sequence[_Job]) -> list[Reply | Exception]:
        """The reply (or the error) of every call of a batch that shares one base and one sampling."""
        loaded = self._base(batch[0].model)  # a base that cannot load fails the whole batch
        outcomes: list[Reply | Exception] = [Reply(output="")] * len(batch)
        ready: list[tuple[int, str, str]] = []
        for index, job in enumerate(batch):
            try:
                ready.append((index, _text(job, loaded.tokenizer), self._adapter(loaded, job.model)))
            except Exception as exc:  # noqa: BLE001 — this call's adapter or conversation: only it fails
                outcomes[index] = _failure(exc)
        if ready:
            texts = [text for _, text, _ in ready]
            adapters = [adapter for _, _, adapter in ready]
            for (index, _, _), reply in zip(
                ready, _generate(loaded, texts, adapters, batch[0].sampling), strict=True
            ):
                outcomes[index] = reply
        return outcomes

    def _base(self, model: LocalModel) -> _Loaded:
        loaded = self._bases.get(model.base.key)
        if loaded is None:
            if self._on_load is not None:
                self._on_load(f"loading local:{model.base.key} on the CPU")
            network, tokenizer = load_base(model.base, cache_dir=self._cache_dir, say=self._on_load)
            tokenizer.padding_side = "left"
            loaded = self._bases[model.base.key] = _Loaded(network, tokenizer)
        return loaded

    def _adapter(self, loaded: _Loaded, model: LocalModel) -> str:
        """The name of ``model``'s adapter in ``loaded.model`` (loaded now if new), or the base's."""
        if model.adapter is None:
            return _BASE_ADAPTER
        name = loaded.adapters.get(model.adapter)
        if name is None:
            name = f"adapter{len(loaded.adapters)}"
            if self._on_load is not None:
                self._on_load(f"loading the adapter {model.adapter}")
            loaded.model = _with_adapter(loaded.model, model.adapter, name)
            loaded.adapters[model.adapter] = name
        return name


def _with_adapter(network: Any, adapter: Path, name: str) -> Any:
    from peft import PeftModel

    if isinstance(network, PeftModel):
        network.load_adapter(str(adapter), adapter_name=name)
        return network
    peft_model = PeftModel.from_pretrained(network, str(adapter), adapter_name=name)
    peft_model.eval()
    return peft_model


def _text(job: _Job, tokenizer: PreTrainedTokenizerBase) -> str:
    """What the model reads: the raw prompt, or the conversation through the chat template."""
    if job.prompt is not None:
        return job.prompt
    from evalkit.lab.encode import TemplateError, render_chat, template_message

    messages = [template_message(m) for m in job.messages or []]
    try:
        return render_chat(messages, tokenizer, tools=job.tools, open_reply=True)
    except TemplateError as exc:
        raise CallError(f"{job.model.id}: {exc}", whole_target=True) from None


def _generate(loaded: _Loaded, texts: list[str], adapters: list[str], sampling: Sampling) -> list[Reply]:
    import torch

    tokenizer = loaded.tokenizer
    encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    end_ids = _end_ids(loaded.model, tokenizer)
    options: dict[str, Any] = {
        "max_new_tokens": sampling.max_new_tokens,
        "do_sample": sampling.temperature > 0,
        "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else end_ids[0],
        "eos_token_id": end_ids,
    }
    if sampling.temperature > 0:
        options["temperature"] = sampling.temperature
        options["top_p"] = sampling.top_p if sampling.top_p is not None else 1.0
        torch.manual_seed(sampling.seed)
    if sampling.stop:
        options.update(stop_strings=list(sampling.stop), tokenizer=tokenizer)
    if loaded.adapters:
        options["adapter_names"] = adapters
    with torch.inference_mode():
        output = loaded.model.generate(**encoded, **options)
    prompt_tokens = encoded["attention_mask"].sum(dim=1).tolist()
    new = output[:, encoded["input_ids"].shape[1] :].tolist()
    return [
        _reply(ids, int(used), tokenizer, end_ids=end_ids, sampling=sampling)
        for ids, used in zip(new, prompt_tokens, strict=True)
    ]


def _reply(
    ids: list[int],
    prompt_tokens: int,
    tokenizer: PreTrainedTokenizerBase,
    *,
    end_ids: list[int],
    sampling: Sampling,
) -> Reply:
    """One generated row → the answer: cut at the first end token, then at the first stop sequence."""
    ended = next((i for i, token in enumerate(ids) if token in end_ids), None)
    kept = ids if ended is None else ids[:ended]
    text = str(tokenizer.decode(kept, skip_special_tokens=True))
    cuts = [text.find(stop) for stop in sampling.stop if stop in text]
    if cuts:
        text = text[: min(cuts)]
    finished = ended is not None or bool(cuts) or len(kept) < sampling.max_new_tokens
    return Reply(
        output=text,
        usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(kept)),
        finish_reason="stop" if finished else "length",
    )


def _end_ids(network: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """The tokens that end an answer: the generation config's end tokens and the tokenizer's."""
    configured = network.generation_config.eos_token_id
    ids = list(configured) if isinstance(configured, list) else [configured] if configured is not None else []
    if isinstance(tokenizer.eos_token_id, int) and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return [int(i) for i in ids]
