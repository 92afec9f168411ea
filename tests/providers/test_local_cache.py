"""Cached answers of a ``local:`` model belong to its weights, not its path: a Trainer ``output_dir``
trained again in place must be asked again, while unchanged weights are served from the cache."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from test_router import Recording as Remote

from evalkit.providers.base import Reply
from evalkit.providers.local.models import local_id
from evalkit.providers.local.provider import LocalProvider
from evalkit.providers.request import Request
from evalkit.providers.router import ProviderRouter
from evalkit.records import Case, Message, Target
from evalkit.runner import RunSettings, run_targets
from evalkit.runner.cache import Cache
from evalkit.runner.calls import Caller

CASES = [Case(id=f"c{i}", reference="billing", messages=(Message(role="user", content=f"ticket {i}"),))
         for i in range(3)]


def _adapter(folder: Path, weights: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {"peft_type": "LORA", "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct"}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    (folder / "adapter_model.safetensors").write_bytes(weights)
    return folder


class Recording(LocalProvider):
    """The local provider as it keys the cache, with answers made up instead of generated (no torch)."""

    def __init__(self) -> None:
        super().__init__()
        self.models: list[str] = []

    async def call(self, request: Request, *, probe: bool = False) -> Reply:
        self.models.append(request.model)
        return Reply(output="billing")


def _run(model: str, cache_dir: Path) -> list[str]:
    """The models the local provider was asked for in one cached run of every case."""
    local = Recording()
    target = Target(name="mine", model=model, endpoint="chat")

    async def run() -> None:
        with Cache.open(cache_dir) as cache:
            caller = Caller(ProviderRouter(local=local), cache=cache)
            await run_targets(CASES, [target], caller=caller, settings=RunSettings(), progress=False)

    asyncio.run(run())
    return local.models


def test_retrained_weights_at_the_same_path_are_asked_again(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path / "runs" / "checkpoint-9", b"first weights")
    model = local_id(adapter)

    assert len(_run(model, tmp_path / "cache")) == len(CASES)
    assert _run(model, tmp_path / "cache") == []  # same weights: every answer from the cache

    (adapter / "adapter_model.safetensors").write_bytes(b"weights trained again")
    assert len(_run(model, tmp_path / "cache")) == len(CASES)


def test_the_cache_identity_follows_the_files_and_leaves_other_models_alone(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path / "adapter", b"abc")
    model = local_id(adapter)
    local = LocalProvider()
    before = local.cache_identity(model)
    assert before.startswith(local.identity + "#") and local.cache_identity(model) == before

    weights = adapter / "adapter_model.safetensors"
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # same bytes, saved again
    assert LocalProvider().cache_identity(model) != before

    router = ProviderRouter(remote=Remote("remote"), local=local)
    assert router.cache_identity("gpt-4o-mini") == "remote-service"
    assert router.cache_identity("ft:gpt-4o-mini:acme::x1") == "remote-service"
    assert local.cache_identity("local:/no/such/dir") == local.identity  # cannot be served: the call says why
