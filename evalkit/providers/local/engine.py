"""The torch side of local models: load a base (and LoRA adapters on it) and generate a batch of calls.

Used from ``LocalProvider``'s single worker thread only; ``evalkit.providers.local.provider`` holds the provider
(queueing, batching, the asyncio side).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import InputError, ServiceError
from evalkit.providers.base import CallError, Reply
from evalkit.providers.local.device import describe, local_device
from evalkit.providers.local.models import LocalModel, load_base
from evalkit.providers.local.templates import TemplateError, render_chat, template_message
from evalkit.records import Usage

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

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
class Job:
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


def failure(exc: Exception) -> Exception:
    if isinstance(exc, (CallError, ServiceError)):
        return exc
    if isinstance(exc, InputError):
        return CallError(str(exc), whole_target=True)
    return CallError(f"local generation failed: {type(exc).__name__}: {exc}")


@dataclass(slots=True)
class _Loaded:
    """A base model in memory, with the adapters loaded onto it so far."""

    model: Any
    """The base, or a ``PeftModel`` around it once an adapter is loaded."""
    tokenizer: PreTrainedTokenizerBase
    adapters: dict[Path, str] = field(default_factory=dict)
    """Adapter directory → its name in ``model``."""


class Engine:
    """Loads models and generates batches; used from the provider's single worker thread only."""

    def __init__(self, *, cache_dir: Path | None, on_load: LoadCallback | None) -> None:
        self._cache_dir = cache_dir
        self._on_load = on_load
        self._bases: dict[str, _Loaded] = {}

    def run(self, batch: Sequence[Job]) -> list[Reply | Exception]:
        """The reply (or the error) of every call of a batch that shares one base and one sampling."""
        loaded = self._base(batch[0].model)  # a base that cannot load fails the whole batch
        outcomes: list[Reply | Exception] = [Reply(output="")] * len(batch)
        ready: list[tuple[int, str, str]] = []
        for index, job in enumerate(batch):
            try:
                ready.append((index, _text(job, loaded.tokenizer), self._adapter(loaded, job.model)))
            except Exception as exc:  # noqa: BLE001 — this call's adapter or conversation: only it fails
                outcomes[index] = failure(exc)
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
            device = local_device()
            if self._on_load is not None:
                self._on_load(f"loading local:{model.base.key} on {describe(device)}")
            network, tokenizer = load_base(model.base, cache_dir=self._cache_dir, say=self._on_load)
            if device != "cpu":
                network.to(device)  # type: ignore[arg-type]  # torch modules move in place; the stub wants a model
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


def _text(job: Job, tokenizer: PreTrainedTokenizerBase) -> str:
    """What the model reads: the raw prompt, or the conversation through the chat template."""
    if job.prompt is not None:
        return job.prompt
    messages = [template_message(m) for m in job.messages or []]
    try:
        return render_chat(messages, tokenizer, tools=job.tools, open_reply=True)
    except TemplateError as exc:
        raise CallError(f"{job.model.id}: {exc}", whole_target=True) from None


def _generate(loaded: _Loaded, texts: list[str], adapters: list[str], sampling: Sampling) -> list[Reply]:
    import torch

    tokenizer = loaded.tokenizer
    encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(loaded.model.device)
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
