"""``--job local:DIR --server URL``: a local run's base, checkpoints and final model, called on an
OpenAI-compatible server instead of in this process; and the ``vllm serve`` command that serves them.

The server's ``GET {URL}/models`` says what it serves. Each target (``local:/abs/path`` or ``local:NAME``) is
matched to one served model id, first match wins:

1. a model whose ``root`` is the target's path or name (vLLM lists the base with ``root`` = the path or name
   it was started with, and each LoRA module with ``root`` = its adapter path, ``parent`` = the base id),
   the one named like the target first (``final`` and ``step-N`` may be the same adapter folder);
2. a model whose ``id`` is the target's path or name (engines that list models by path or Hub name);
3. a model whose ``id`` is the target's name (``base``, ``step-N``, ``final``: vLLM's ``--lora-modules
   step-N=...``, ``--served-model-name base``) and whose ``root``, when listed, is the target's path — a
   module of that name serving another adapter is reported, not used;
4. for an engine that loads models by the path given as ``model`` and lists no ``root``: a folder of full
   weights (``config.json``) is sent as its absolute path. ``transformers serve`` lists the generative
   models of its Hub cache and the paths it has loaded (``id`` = the path, ``owned_by`` "local"), so a path
   it has not loaded yet is not listed, and it loads whatever path it is sent. A LoRA adapter folder is
   never sent so: it cannot load one ("Unrecognized model … Should have a `model_type` key").

A target the server does not serve stops the run before any generation call (``InputError`` on
``--server``, one line) listing what the server serves and the command that would serve the run.

A matched target keeps its name, role, step and endpoint; ``Target.model`` becomes the served id (the id the
server answered as, recorded in results.json) and ``Target.served_from`` keeps the local model id. Its
answers are cached under the server's address, the served id, the local id and the local files' fingerprint
(``served_identity``).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import InputError, ServiceError
from evalkit.providers.local.models import (
    BUILTINS,
    PREFIX,
    is_local,
    model_fingerprint,
    read_json,
    resolve_model,
    weights_dir,
)
from evalkit.records import Target

if TYPE_CHECKING:
    import openai

    from evalkit.providers.router import ProviderRouter

_FIELD = "--server"
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The values vLLM's ``--max-lora-rank`` accepts (its ``MaxLoRARanks``): an adapter's ``r`` is rounded up to
one of them."""


@dataclass(frozen=True, slots=True)
class ServedModel:
    """One entry of a server's ``GET /v1/models``."""

    id: str
    """The id to send as ``model``."""
    root: str | None = None
    """vLLM: the path or name the model was loaded from (a LoRA module's adapter path)."""
    parent: str | None = None
    """vLLM: the base model's id, for a LoRA module; None for a base model."""


def served_models(entries: Iterable[Mapping[str, Any]]) -> list[ServedModel]:
    """The entries of a ``GET /v1/models`` body (its ``data``) as ``ServedModel`` values."""
    found = []
    for entry in entries:
        model_id = entry.get("id")
        if not isinstance(model_id, str):
            continue
        root, parent = entry.get("root"), entry.get("parent")
        found.append(
            ServedModel(
                model_id, root if isinstance(root, str) else None, parent if isinstance(parent, str) else None
            )
        )
    return found


async def list_served(client: openai.AsyncOpenAI, url: str) -> list[ServedModel]:
    """What the server at ``url`` serves, through the SDK (``client.models.list()``); ``ServiceError`` when it
    cannot be read."""
    import openai

    try:
        entries = [model.model_dump() async for model in client.models.list()]
    except openai.APIConnectionError as exc:
        raise ServiceError(
            f"cannot reach the server {url} ({exc}): is it running, and is URL its /v1 address?"
        ) from None
    except openai.APIStatusError as exc:
        raise ServiceError(
            f"the server {url} answered GET /models with HTTP {exc.status_code}: expected an OpenAI-compatible "
            "server's model list (give --server its /v1 address, e.g. http://127.0.0.1:8000/v1)"
        ) from None
    return served_models(entries)


def serve_targets(targets: Sequence[Target], served: Sequence[ServedModel], *, url: str) -> list[Target]:
    """``targets`` (a local run's) as the server at ``url`` serves them: ``model`` the served id,
    ``served_from`` the local id. ``InputError`` on ``--server`` listing every target it does not serve."""
    matched: list[Target] = []
    missing: list[str] = []
    by_path = not any(model.root is not None for model in served)
    for target in targets:
        if not is_local(target.model):
            matched.append(target)
            continue
        served_id, problem = _match(target, served, by_path=by_path)
        if served_id is None:
            missing.append(f"{target.name} ({target.model}{problem})")
        else:
            matched.append(replace(target, model=served_id, served_from=target.model))
    if missing:
        ids = ", ".join(model.id for model in served) or "nothing"
        how = f"serve the run with: {vllm_command(targets)}"
        if by_path:  # an engine that loads by path cannot load an adapter: it needs the merged weights
            runs = sorted({str(Path(t.model[len(PREFIX) :]).parent) for t in targets if _adapter_path(t) is not None})
            how = f"merge the adapters first (evalkit merge {' '.join(runs)}), or {how}" if runs else how
        raise InputError(
            f"the server {url} does not serve {'; '.join(missing)}: it serves {ids}; {how}",
            field=_FIELD,
        )
    return matched


def vllm_command(targets: Sequence[Target]) -> str:
    """``vllm serve BASE --enable-lora --lora-modules step-N=/abs/checkpoint-N … final=… --max-lora-rank R``
    for a local run's targets: the base as its path (or Hub name), each adapter as a LoRA module named like
    its target, one ``--lora-modules`` flag for all (vLLM keeps the last flag's values only), the rank the
    largest adapter ``r`` rounded up to a rank vLLM accepts. A target that is not a LoRA adapter (a merged
    checkpoint) is left out of it: vLLM serves one base model per server."""
    base = next((t for t in targets if t.role == "base"), None)
    modules = [(t.name, path) for t in targets if t.role != "base" and (path := _adapter_path(t)) is not None]
    words = ["vllm", "serve", _base_name(base.model) if base is not None else "BASE"]
    if modules:
        ranks = [_rank(path) for _, path in modules]
        words += ["--enable-lora", "--lora-modules", *(f"{name}={path}" for name, path in modules)]
        rank = max(r for r in ranks if r is not None) if any(r is not None for r in ranks) else None
        if rank is not None:
            words += ["--max-lora-rank", str(next((v for v in VLLM_LORA_RANKS if v >= rank), rank))]
    return shlex.join(words)


def _match(target: Target, served: Sequence[ServedModel], *, by_path: bool) -> tuple[str | None, str]:
    """The served id for ``target`` and, when none, why (``""`` or ``", served as step-2 from /other"``)."""
    where = target.model[len(PREFIX) :]
    builtin = BUILTINS.get(where)
    names = [where, *(builtin.hub_ids if builtin is not None else ())]  # a built-in is served by its Hub name
    rooted = [m for m in served if m.root is not None and any(_same(m.root, name) for name in names)]
    for model in sorted(rooted, key=lambda m: m.id != target.name):  # final=DIR/checkpoint-N: not step-N
        return model.id, ""
    for model in served:
        if any(_same(model.id, name) for name in names):
            return model.id, ""
    for model in served:
        if model.id == target.name:
            if model.root is None or any(_same(model.root, name) for name in names):
                return model.id, ""
            return None, f", but the server's {model.id} is {model.root}"
    if by_path:
        folder = _loadable(target)
        if folder is not None:
            return str(folder), ""
    return None, ""


def _loadable(target: Target) -> Path | None:
    """What an engine that loads models by path can load for ``target``: a folder of full weights; for a
    LoRA adapter, the merged model ``evalkit merge`` wrote beside it (``merged/``); for a GGUF base (the
    built-in), its weights converted to a Hugging Face folder."""
    model = resolve_model(target.model, field=_FIELD)
    if model.adapter is not None:
        merged = model.adapter / "merged"
        return merged if (merged / "config.json").is_file() else None
    where = Path(target.model[len(PREFIX) :])
    if where.is_absolute() and (where / "config.json").is_file():
        return where
    return weights_dir(model.base, say=lambda line: print(f"evalkit: {line}", file=sys.stderr))


def _same(served: str, where: str) -> bool:
    """The server's path or name is the target's: equal, or the same folder once made absolute."""
    if served == where:
        return True
    if not (os.path.isabs(served) and os.path.isabs(where)):
        return False
    return Path(served).resolve() == Path(where).resolve()


def _adapter_path(target: Target) -> Path | None:
    if not is_local(target.model):
        return None
    folder = Path(target.model[len(PREFIX) :])
    return folder if (folder / "adapter_config.json").is_file() else None


def _base_name(model: str) -> str:
    """What vLLM loads for a local base: its path, its Hub name, or a built-in's Hub name."""
    name = model[len(PREFIX) :] if is_local(model) else model
    builtin = BUILTINS.get(name)
    return builtin.hub_ids[0] if builtin is not None and builtin.hub_ids else name


def _rank(adapter: Path) -> int | None:
    r = read_json(adapter / "adapter_config.json", field="--job").get("r")
    return r if isinstance(r, int) and not isinstance(r, bool) and r > 0 else None


def check_server(url: str | None, job_ids: Sequence[str]) -> None:
    """``--server`` goes with ``--job local:DIR`` (every job a local run): ``InputError`` otherwise."""
    if url is None:
        return
    local_runs_only(job_ids, flag=f"--server {url}", field=_FIELD)
    if not url.startswith(("http://", "https://")):
        raise InputError(
            f"expected the server's http(s) address, e.g. http://127.0.0.1:8000/v1, got {url!r}", field=_FIELD
        )


def local_runs_only(job_ids: Sequence[str], *, flag: str, field: str) -> None:
    """``InputError`` on ``field`` unless every job is a local run (``local:DIR``), and there is one."""
    if not job_ids or not all(is_local(job) for job in job_ids):
        raise InputError(
            f"{flag} serves a local run's models: give the run as --job local:DIR (an OpenAI job is "
            "evaluated on OpenAI, where it is served)",
            field=field,
        )


async def on_server(
    router: ProviderRouter, targets: Sequence[Target], *, from_jobs: Mapping[str, Sequence[Target]], url: str
) -> list[Target]:
    """``targets``, those of the jobs matched to what the server at ``url`` serves (``serve_targets``); the
    others (``--model``, the suite's) as they are."""
    from evalkit.providers.openai import OpenAIProvider

    remote = router.remote
    assert isinstance(remote, OpenAIProvider)
    names = {t.name for job_targets in from_jobs.values() for t in job_targets}
    served = serve_targets(
        [t for t in targets if t.name in names], await list_served(remote.client, url), url=url
    )
    remote.served_from.update({t.model: served_identity(t.served_from) for t in served if t.served_from})
    by_name = {t.name: t for t in served}
    return [by_name.get(t.name, t) for t in targets]


def served_identity(local: str) -> str:
    """What a served model's answers depend on: the local model id and its files' fingerprint (names, sizes,
    times), so an adapter retrained in place, or another run served under the same module names, never
    gets cached answers of the old one."""
    try:
        return f"{local}#{model_fingerprint(resolve_model(local))}"
    except (InputError, OSError):
        return local
