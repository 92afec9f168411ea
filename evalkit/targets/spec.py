"""Targets named by the user: the suite's ``targets:`` block and ``--model NAME=ID[@ENDPOINT]`` flags.

Both become ``Target`` records, each with the endpoint its model is served on (the override if one is
given, else the one its lineage implies, see ``evalkit.providers.routing``) — or, for a saved run's target
standing in for a model (``run:PATH#TARGET``), the endpoint it was called on then
(``evalkit.targets.replay``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from evalkit.errors import InputError
from evalkit.providers.routing import endpoint_for
from evalkit.records import ENDPOINTS, Endpoint, Role, Target
from evalkit.suite.model import TargetSpec
from evalkit.targets.replay import Replays, is_replay, parse_run_ref

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")
_NAME_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit"
_FLAG_FORM = (
    "expected NAME=MODEL_ID[@chat|@completions|@responses] or NAME=run:PATH/results.json#TARGET, "
    "e.g. prod=ft:gpt-4o-mini:org::abc@chat"
)


def parse_model_flag(flag: str) -> tuple[str, str, Endpoint | None]:
    """Split a ``--model`` value into (name, model id, endpoint override or None); InputError if bad.
    A saved run's target (``run:PATH#TARGET``) is kept whole: its path may hold an ``@``."""
    name, sep, rest = flag.partition("=")
    name, rest = name.strip(), rest.strip()
    if not sep or not name or not rest:
        raise InputError(f"{flag!r}: {_FLAG_FORM}", field="--model")
    _check_name(name, field="--model")
    if is_replay(rest):
        return name, rest, None
    model, endpoint = _split_endpoint(rest, flag=flag)
    if not model:
        raise InputError(f"{flag!r}: the model id is empty; {_FLAG_FORM}", field="--model")
    return name, model, endpoint


def resolve_targets(
    specs: Mapping[str, TargetSpec],
    model_flags: Sequence[str],
    *,
    allow_empty: bool = False,
    base_dir: Path | None = None,
    replays: Replays | None = None,
) -> list[Target]:
    """The targets to evaluate: the suite's, in suite order, then the flags' (a flag replaces a suite
    target of the same name in place). InputError when a name is bad or repeated, or when none is given
    (unless ``allow_empty``: a ``--job`` brings its own).

    A saved run's target (``run:PATH#TARGET``) is read through ``replays`` (``evalkit.targets.replay``),
    which keeps the file for the answers: PATH is relative to ``base_dir`` (the suite's folder) in the
    suite, to the working directory in a flag."""
    wanted: dict[str, tuple[TargetSpec, str, Path]] = {}
    for name, spec in specs.items():
        _check_name(name, field=f"targets.{name}")
        wanted[name] = (spec, f"targets.{name}", base_dir or Path.cwd())
    flagged: set[str] = set()
    for flag in model_flags:
        name, model, endpoint = parse_model_flag(flag)
        if name in flagged:
            raise InputError(
                f"target {name!r} is given twice; each --model needs its own name", field="--model"
            )
        flagged.add(name)
        wanted[name] = (TargetSpec(model=model, endpoint=endpoint), "--model", Path.cwd())
    if not wanted and not allow_empty:
        raise InputError(
            "no models to evaluate: add a 'targets:' block to the suite (NAME: {model: ID}) "
            "or pass --model NAME=ID (or --job ID for a fine-tuning job)"
        )
    replays = replays if replays is not None else Replays()
    return [_target(name, *how, replays=replays) for name, how in wanted.items()]


def _target(name: str, spec: TargetSpec, field: str, base_dir: Path, *, replays: Replays) -> Target:
    role: Role = "base" if name == "base" else "model"
    if spec.replays:
        ref = parse_run_ref(spec.model, field=field)
        ref = replace(ref, allow_changed=ref.allow_changed or spec.allow_changed)
        return replays.target(name, ref, role=role, base_dir=base_dir, field=field)
    return Target(
        name=name,
        model=spec.model,
        endpoint=spec.endpoint or endpoint_for(spec.model),
        role=role,
        generation=spec.generation or None,
    )


def _split_endpoint(text: str, *, flag: str) -> tuple[str, Endpoint | None]:
    """``ID@chat`` → (ID, "chat"). A suffix that is not a word (``claude@20240229``) stays in the id."""
    model, sep, suffix = text.rpartition("@")
    if not sep:
        return text, None
    for endpoint in ENDPOINTS:
        if suffix == endpoint:
            return model.strip(), endpoint
    if re.fullmatch(r"[A-Za-z_\-]+", suffix):
        allowed = ", ".join(f"@{e}" for e in ENDPOINTS)
        raise InputError(f"{flag!r}: unknown endpoint '@{suffix}' (allowed: {allowed})", field="--model")
    return text, None


def _check_name(name: str, *, field: str) -> None:
    if not _NAME.fullmatch(name):
        raise InputError(f"target name {name!r} is not allowed: use {_NAME_RULE}", field=field)
