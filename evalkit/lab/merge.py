"""``evalkit merge DIR`` (and ``evalkit finetune --merge``): every LoRA adapter of a run merged into its base.

Each adapter folder of the run (``checkpoint-N/``, and ``DIR`` itself when the final adapter was saved
there) gets a ``merged/`` folder beside its adapter files: ``config.json``, ``model.safetensors``, the
generation config and the tokenizer files — a plain Hugging Face model that ``transformers serve`` or
vLLM loads by path, and that ``local:…/checkpoint-N/merged`` names for evalkit. peft's
``merge_and_unload`` adds each LoRA delta into a fresh copy of the base; a GGUF base is the converted,
cached copy ``load_base`` gives (its GGUF marks cleared, so ``save_pretrained`` takes it).

Idempotent: a ``merged/`` folder holding a ``config.json`` is left as it is; a folder is written under a
temporary name and renamed when complete, so an interrupted merge leaves nothing that looks finished.
"""

from __future__ import annotations

import copy
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from evalkit.errors import InputError
from evalkit.providers.local.models import adapter_base, load_base, quiet_libraries

MERGED = "merged"
"""The folder a merged checkpoint is written to, inside the adapter's folder."""


def adapter_dirs(run: Path) -> list[Path]:
    """The adapter folders of a run, by step: ``checkpoint-N/`` with an adapter, then ``run`` itself if
    it holds one (the final adapter)."""
    found = []
    for folder in run.glob("checkpoint-*"):
        step = folder.name.removeprefix("checkpoint-")
        if step.isdigit() and (folder / "adapter_config.json").is_file():
            found.append((int(step), folder))
    folders = [folder for _, folder in sorted(found)]
    return folders + ([run] if (run / "adapter_config.json").is_file() else [])


def merge_run(run: str | Path, *, say: Callable[[str], None] | None = None) -> list[Path]:
    """Write ``merged/`` beside every adapter of the run in ``run`` that has none yet; return every
    merged folder (written now or before). ``say`` gets one line per adapter (default: stderr).

    Raises ``InputError`` when ``run`` is not a run directory or holds no adapters, ``ServiceError`` when
    torch/transformers/peft are missing."""
    tell = say or _stderr
    directory = Path(run).expanduser()
    if not directory.is_dir():
        problem = "does not exist" if not directory.exists() else "is not a directory"
        raise InputError(
            f"{directory} {problem} (expected a run of `evalkit finetune` or a Trainer output directory)",
            field="DIR",
        )
    directory = directory.resolve()
    adapters = adapter_dirs(directory)
    if not adapters:
        raise InputError(
            f"{directory} holds no LoRA adapters (checkpoint-N/adapter_config.json or adapter_config.json) to "
            "merge: full-weight checkpoints need no merging",
            field="DIR",
        )
    todo = [folder for folder in adapters if not (folder / MERGED / "config.json").is_file()]
    for folder in adapters:
        if folder not in todo:
            tell(f"merge: {_name(folder, directory)}: {MERGED}/ exists, skipped")
    if todo:
        _merge_all(todo, directory, tell)
    return [folder / MERGED for folder in adapters]


def _merge_all(adapters: list[Path], run: Path, tell: Callable[[str], None]) -> None:
    from peft import PeftModel

    bases = {adapter_base(folder, field="DIR") for folder in adapters}
    quiet_libraries()
    for source in sorted(bases, key=lambda b: b.key):
        base, tokenizer = load_base(source, say=tell)
        for folder in adapters:
            if adapter_base(folder, field="DIR") != source:
                continue
            fresh = copy.deepcopy(base)  # merge_and_unload writes into the weights it is given
            merged = PeftModel.from_pretrained(fresh, str(folder)).merge_and_unload()
            scratch = Path(tempfile.mkdtemp(prefix=f".{MERGED}-", dir=folder))
            try:
                merged.save_pretrained(scratch)
                tokenizer.save_pretrained(scratch)
                scratch.rename(folder / MERGED)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            tell(f"merge: {_name(folder, run)}: wrote {folder / MERGED}")
            del fresh, merged


def _name(folder: Path, run: Path) -> str:
    return folder.name if folder != run else f"{folder.name} (final adapter)"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
