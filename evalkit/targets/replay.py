"""Saved runs standing in for models: ``run:PATH#TARGET`` replays a target's answers from an evalkit
results.json, with no model call.

A model that is about to be retired, or already is, can still be compared with: its answers, kept by an
earlier ``evalkit run``, are read back and scored afresh by this run's scorers, so the replayed target is
a target like any other — metrics, paired comparisons (``versus:`` rules, a base named ``base``), flips, a
column in the report.

    --model NAME=run:PATH/results.json#TARGET[?allow_changed]    PATH relative to the working directory
    targets: {NAME: run:PATH#TARGET}                             PATH relative to the suite file
    targets: {NAME: {run: PATH#TARGET, allow_changed: true}}

Before any call, a replay is refused (``InputError`` naming the flag or the suite's key, and the file)
unless the file is an evalkit results.json holding TARGET, every case of this run is in it — matched by
id *and* by a hash of its input (the conversation or prompt, with its request-level extras): an answer to
another question is not an answer to this one — and it was made with this suite's generation settings
(and, for a completions model, its prompting). ``allow_changed`` replays cases asked differently and
answers made with other settings anyway, with a warning saying what differs; cases the saved run lacks can
never be replayed.

Each case's outcome is the saved one: its output, or its error when the call had failed then (recorded
and counted, never dropped), with its usage, latency and finish reason. The outcomes are marked ``cached``
(no call was made in this run: its calls and tokens spent are zero), and the target's model is
``run:PATH#TARGET``, which no price table knows, so it has no cost in this run — the saved run holds what
its answers cost. ``Target.replayed_from`` records the file, the saved target and the model it called.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.records import Case, Outcome, ReplaySource, Role, Target
from evalkit.records.cases import CaseRecord, CaseResult, ChatInput
from evalkit.records.plain import jsonable, settings
from evalkit.records.results import RunResults
from evalkit.suite.model import RUN_PREFIX, Completions, Generation
from evalkit.text import display_path, encodable_data

__all__ = ["ALLOW_CHANGED", "Replayed", "Replays", "RunRef", "is_replay", "parse_run_ref"]

ALLOW_CHANGED = "allow_changed"
"""The option (``run:PATH#TARGET?allow_changed``, ``allow_changed: true``) that replays changed answers."""

_FORM = f"expected run:PATH/results.json#TARGET[?{ALLOW_CHANGED}], e.g. run:reports/prod/results.json#final"
_SHOWN_IDS = 5
"""Case ids quoted at most in a refusal."""
_UNSET = object()
_NO_ANSWER = "the saved run recorded neither an answer nor an error for this case"


def is_replay(model: str) -> bool:
    """Whether a target's model names a saved run's target (``run:PATH#TARGET``) instead of a model."""
    return model.startswith(RUN_PREFIX)


@dataclass(frozen=True, slots=True)
class RunRef:
    """A saved run's target, as the user named it."""

    path: str
    """The results.json (or its folder), as written."""
    target: str
    """The saved run's target to replay."""
    allow_changed: bool = False
    """Replay cases asked differently and answers made with other generation settings anyway."""

    def __str__(self) -> str:
        return f"{RUN_PREFIX}{self.path}#{self.target}"


def parse_run_ref(text: str, *, field: str) -> RunRef:
    """``run:PATH#TARGET[?allow_changed]`` as a ``RunRef``; ``InputError`` at ``field`` when malformed."""
    body = text.strip().removeprefix(RUN_PREFIX)
    path, sep, rest = body.rpartition("#")
    target, query, option = rest.partition("?")
    path, target = path.strip(), target.strip()
    if not sep or not path or not target:
        raise InputError(f"{text!r}: {_FORM}", field=field)
    if query and option.strip() != ALLOW_CHANGED:
        raise InputError(f"{text!r}: unknown option '?{option}' (allowed: ?{ALLOW_CHANGED})", field=field)
    return RunRef(path, target, allow_changed=bool(query))


@dataclass(slots=True)
class Replayed:
    """What the replayed targets answered, checked against this run's cases."""

    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    """Per replayed target name, one outcome per case of this run, in case order."""
    warnings: list[str] = field(default_factory=list)
    """What differs from the saved runs where ``allow_changed`` let it through."""


@dataclass(frozen=True, slots=True)
class _Asked:
    ref: RunRef
    path: Path
    field: str


class Replays:
    """The saved runs one run replays targets from, each file read once.

    ``target`` reads a saved run and makes the ``Target`` that stands for one of its targets (when the
    targets are resolved); ``answers`` then checks them against this run's cases and settings and hands
    back their outcomes — both before any call."""

    def __init__(self) -> None:
        self._runs: dict[Path, RunResults] = {}
        self._asked: dict[str, _Asked] = {}

    def target(self, name: str, ref: RunRef, *, role: Role, base_dir: Path, field: str) -> Target:
        """The target ``name`` replaying ``ref`` (PATH relative to ``base_dir`` unless absolute), with the
        saved target's endpoint; ``InputError`` at ``field`` when the file is no results.json or lacks it."""
        path = Path(os.path.normpath(base_dir / Path(ref.path).expanduser()))  # ``a/../b`` shown as ``b``
        saved = self._read(path, ref, field)
        found = saved.target(ref.target)
        if found is None:
            raise InputError(
                f"{ref}: the saved run {display_path(path)} has no target {ref.target!r} "
                f"(its targets: {', '.join(saved.target_names) or 'none'})",
                field=field,
            )
        self._asked[name] = _Asked(ref, path, field)
        model = found.replayed_from.model if found.replayed_from is not None else found.model  # a replay's replay
        source = ReplaySource(file=display_path(path), target=ref.target, model=model)
        return Target(name=name, model=str(ref), endpoint=found.endpoint, role=role, replayed_from=source)

    def answers(
        self,
        targets: Sequence[Target],
        cases: Sequence[Case],
        *,
        generation: Generation,
        completions: Completions,
    ) -> Replayed:
        """The outcomes of the replayed ``targets`` on ``cases``; ``InputError`` (at the flag or suite key
        that named the target) when the saved run lacks a case, asked one differently or used other
        generation settings — the last two unless ``allow_changed``."""
        replayed = Replayed()
        for target in targets:
            asked = self._asked.get(target.name)
            if asked is None or target.replayed_from is None:
                continue
            saved = self._runs[asked.path]
            found = saved.target(asked.ref.target)
            assert found is not None  # checked by ``target``
            records = _answered(saved, asked.ref.target)
            _check_cases(asked, cases, records)
            changed = _changed_inputs(cases, records) + _setting_changes(
                saved, found, generation, completions
            )
            if changed and not asked.ref.allow_changed:
                fix = (
                    f"add ?{ALLOW_CHANGED}"
                    if asked.field == "--model"
                    else f"set '{ALLOW_CHANGED}: true' on it"
                )
                raise InputError(
                    f"{asked.ref}: {'; '.join(changed)}: its answers may not be comparable — {fix} to replay "
                    "them anyway",
                    field=asked.field,
                )
            if changed:
                replayed.warnings.append(
                    f"target {target.name} replays {asked.ref} although {'; '.join(changed)} "
                    f"(allowed by {ALLOW_CHANGED})"
                )
            replayed.outcomes[target.name] = [
                _outcome(records[case.id].results[asked.ref.target]) for case in cases
            ]
        return replayed

    def _read(self, path: Path, ref: RunRef, field: str) -> RunResults:
        from evalkit.records.results_json import read_results

        if path not in self._runs:
            try:
                self._runs[path] = read_results(display_path(path))  # named in errors as the user would
            except InputError as error:
                raise InputError(f"{ref}: {error}", field=field) from None
        return self._runs[path]


def _answered(saved: RunResults, target: str) -> dict[str, CaseRecord]:
    """The saved run's cases that hold an answer (or an error) of ``target``, by id."""
    return {case.id: case for case in saved.cases if target in case.results}


def _check_cases(asked: _Asked, cases: Sequence[Case], records: Mapping[str, CaseRecord]) -> None:
    missing = [case.id for case in cases if case.id not in records]
    if missing:
        raise InputError(
            f"{asked.ref}: the saved run lacks {len(missing)} of this run's {len(cases)} cases "
            f"({_ids(missing)}); it cannot stand in for a model on cases it never answered",
            field=asked.field,
        )


def _changed_inputs(cases: Sequence[Case], records: Mapping[str, CaseRecord]) -> list[str]:
    changed = [case.id for case in cases if _case_key(case) != _record_key(records[case.id])]
    if not changed:
        return []
    return [f"{len(changed)} of this run's {len(cases)} cases were asked differently there ({_ids(changed)})"]


def _case_key(case: Case) -> str:
    """A hash of what a case asks: its conversation and request-level extras, or its prompt."""
    if case.messages is not None:
        return _key({"messages": list(case.messages), "extras": case.extras})
    return _key({"prompt": case.prompt or ""})


def _record_key(record: CaseRecord) -> str:
    """``_case_key`` of a saved case, from the input its results.json recorded."""
    given = record.input
    if isinstance(given, ChatInput):
        return _key({"messages": list(given.messages), "extras": given.extras})
    return _key({"prompt": given.prompt})


def _key(value: Mapping[str, Any]) -> str:
    # As results.json holds it: plain JSON values, lone surrogates written as their escapes.
    canonical = json.dumps(
        encodable_data(jsonable(value)), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _setting_changes(
    saved: RunResults, target: Target, generation: Generation, completions: Completions
) -> list[str]:
    """How the saved target was asked differently from this run's suite: its generation settings (the saved
    run's, under the target's own), and for a completions model the prompting."""
    then = _generation({**saved.generation, **(target.generation or {})})
    differences = _differences(then, _generation(generation.model_dump(exclude_none=True)), prefix="")
    if target.endpoint == "completions":
        prompting = {key: value for key, value in saved.completions.items() if key != "inferred"}
        now = settings(completions.model_dump(exclude_none=True))
        differences += _differences(prompting, now, prefix="completions.")
    if not differences:
        return []
    return [f"the saved run was made with other generation settings ({'; '.join(differences)})"]


def _generation(values: Mapping[str, Any]) -> dict[str, Any]:
    """Generation settings with the defaults filled in (a file of an earlier evalkit may lack a setting
    added since), as results.json holds them."""
    from pydantic import ValidationError

    try:
        values = Generation.model_validate(dict(values)).model_dump(exclude_none=True)
    except ValidationError:  # a setting this evalkit does not know: compared as written
        pass
    return settings(values)


def _differences(then: Mapping[str, Any], now: Mapping[str, Any], *, prefix: str) -> list[str]:
    return [
        f"{prefix}{key} {_shown(then.get(key, _UNSET))} there, {_shown(now.get(key, _UNSET))} here"
        for key in sorted(set(then) | set(now))
        if then.get(key, _UNSET) != now.get(key, _UNSET)
    ]


def _shown(value: Any) -> str:
    return "unset" if value is _UNSET else json.dumps(value, ensure_ascii=False)


def _ids(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_SHOWN_IDS])
    return f"ids {shown}" + (f", … ({len(ids) - _SHOWN_IDS} more)" if len(ids) > _SHOWN_IDS else "")


def _outcome(result: CaseResult) -> Outcome:
    """The saved answer, or the saved error, as this run's outcome: no call made, usage and latency kept."""
    error = result.error if result.error is not None or result.output is not None else _NO_ANSWER
    return Outcome(
        output=result.output if error is None else None,
        error=error,
        usage=result.usage,
        latency_s=result.latency_s,
        cached=True,
        finish_reason=result.finish_reason,
        batch=result.batch,
    )
