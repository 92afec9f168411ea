"""results.json: the run as one plain JSON document — built from a ``RunRecord``, written, read, checked.

Everything after this stage (the gate, the reports, ``evalkit gate`` and ``evalkit report``) works from the
dict ``build_results`` returns, never from the run's objects, so a saved run can be re-gated and re-rendered
with no model calls. ``results.schema.json`` beside this module documents and checks the format.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit._version import __version__
from evalkit.errors import InputError
from evalkit.records import Case, FailedScore, Outcome, RunRecord, Score

if TYPE_CHECKING:
    from jsonschema import ValidationError

__all__ = [
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "build_results",
    "read_results",
    "validate_results",
    "write_results",
]

SCHEMA_VERSION = 1
"""The version of the results.json format this evalkit writes and reads."""

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
"""The JSON Schema (draft 2020-12) that documents and checks results.json."""

_SECRET_ENV = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN")
_SECRET_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{12,}")
_SECRET_KEY = re.compile(r"(?i)(api[_\-]?key|authorization|secret|password|bearer|access[_\-]?token)")


def build_results(record: RunRecord, gate: Mapping[str, Any]) -> dict[str, Any]:
    """The results.json document of a run: plain JSON values only, secrets scrubbed, NaN as null."""
    scrub = _scrubber()
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "evalkit_version": __version__,
        "suite": {
            "name": record.suite_name,
            "description": record.suite_description,
            "file": record.suite_file,
            "sha256": record.suite_sha256,
            "data": {
                "source": record.case_set.source,
                "sha256": record.case_set.sha256,
                "cases": len(record.case_set.cases),
            },
        },
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "generation": _settings(record.generation),
        "completions": _settings(record.completions),
        "scorers": jsonable(record.scorers),
        "targets": [_target(t.name, t.model, t.endpoint, t.role, t.step) for t in record.targets],
        "cases": [_case(i, case, record, scrub) for i, case in enumerate(record.case_set.cases)],
        "metrics": {
            target: {name: _metric(m.value, m.ci, m.n) for name, m in metrics.items()}
            for target, metrics in record.metrics.items()
        },
        "details": jsonable(record.details),
        "usage": {t.name: usage_summary(record.outcomes.get(t.name, [])) for t in record.targets},
        "judge_usage": jsonable(record.judge_usage),
        "comparisons": [],
        "training": jsonable(record.training),
        "jobs": jsonable(record.jobs),
        "checks": jsonable(record.checks),
        "gate": jsonable(gate),
        "warnings": [scrub(w) for w in record.warnings],
    }
    return results


def write_results(path: str | Path, results: Mapping[str, Any]) -> Path:
    """Write results.json (UTF-8, indented, strict JSON) atomically; returns the path written."""
    path = Path(path)
    text = json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_text_atomic(path, text)
    return path


def read_results(path: str | Path) -> dict[str, Any]:
    """Read and check a results.json (or the one inside a run folder); ``InputError`` naming the file."""
    path = Path(path)
    if path.is_dir() and (path / "results.json").is_file():
        path = path / "results.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file; expected the results.json of an evalkit run", file=path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; expected the results.json of an evalkit run", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None
    try:
        results = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg} (column {exc.colno})", file=path, line=exc.lineno
        ) from None
    validate_results(results, file=path)
    assert isinstance(results, dict)  # the schema requires an object
    return results


def validate_results(results: Any, *, file: str | Path | None = None) -> None:
    """Check a results document against the schema; ``InputError`` with the first problem's field."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(load_schema()).iter_errors(results))
    if error is None:
        return
    field = _field_path(error.absolute_path) or None
    raise InputError(_describe(error), file=file if file is not None else "results.json", field=field)


@cache
def load_schema() -> dict[str, Any]:
    """The results.json schema, parsed."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def usage_summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Calls, cache hits, errors, tokens spent and latency percentiles of one target's outcomes.

    Calls and tokens count only requests made in this run (cache hits cost nothing); latency percentiles
    are over the calls that succeeded, null when there were none.
    """
    made = [o for o in outcomes if not o.cached]
    latencies = [o.latency_s for o in made if o.error is None and o.latency_s is not None]
    p50, p95 = _percentiles(latencies)
    return {
        "calls": len(made),
        "cached": len(outcomes) - len(made),
        "errors": sum(1 for o in outcomes if o.error is not None),
        "prompt_tokens": sum(o.usage.prompt_tokens for o in made),
        "completion_tokens": sum(o.usage.completion_tokens for o in made),
        "latency_p50_s": p50,
        "latency_p95_s": p95,
    }


def run_inputs(
    *,
    data_sha256: str,
    generation: Mapping[str, Any],
    completions: Mapping[str, Any],
    scorers: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """What decides a run's answers and their scores, in the shapes of its results.json (``suite.data``,
    ``generation``, ``completions``, ``scorers``): enough to check, before any call, that a saved baseline
    run is comparable (``gate.baseline.changed_inputs``)."""
    return {
        "suite": {"data": {"sha256": data_sha256}},
        "generation": _settings(generation),
        "completions": _settings(completions),
        "scorers": jsonable(scorers),
    }


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON values: tuples and sets as lists, numpy scalars/arrays unwrapped, NaN as null."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "tolist"):  # numpy scalars and arrays, without importing numpy
        return jsonable(value.tolist())
    return str(value)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --- building -------------------------------------------------------------------------------------


def _target(name: str, model: str, endpoint: str, role: str, step: int | None) -> dict[str, Any]:
    return {"name": name, "model": model, "endpoint": endpoint, "role": role, "step": step}


def _metric(value: float | None, ci: tuple[float, float] | None, n: int) -> dict[str, Any]:
    return {"value": _number(value), "ci": _ci(ci), "n": n}


def _ci(ci: tuple[float, float] | None) -> list[float] | None:
    if ci is None:
        return None
    low, high = _number(ci[0]), _number(ci[1])
    return None if low is None or high is None else [low, high]


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Run settings as JSON, with the value of any secret-looking key hidden (nested ones too)."""
    redacted: dict[str, Any] = jsonable(_redact(settings))
    return redacted


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: "***" if _SECRET_KEY.search(str(key)) and item else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact(item) for item in value]
    return value


def _case(index: int, case: Case, record: RunRecord, scrub: _Scrub) -> dict[str, Any]:
    return {
        "id": case.id,
        "line": case.line,
        "input": _input(case),
        "reference": case.reference,
        "results": {
            target.name: _case_result(
                record.outcomes[target.name][index],
                {scorer: scores[index] for scorer, scores in record.scores.get(target.name, {}).items()},
                scrub,
            )
            for target in record.targets
            if target.name in record.outcomes
        },
    }


def _input(case: Case) -> dict[str, Any]:
    if case.messages is not None:
        return {"messages": jsonable(list(case.messages)), "extras": jsonable(case.extras)}
    return {"prompt": case.prompt if case.prompt is not None else ""}


def _case_result(outcome: Outcome, scores: Mapping[str, Score | None], scrub: _Scrub) -> dict[str, Any]:
    failures = {name: score for name, score in scores.items() if isinstance(score, FailedScore)}
    scored = {name: score for name, score in scores.items() if score is not None and name not in failures}
    return {
        "output": outcome.output,
        "error": scrub(outcome.error) if outcome.error is not None else None,
        "scores": {name: _number(score.value) for name, score in scored.items()},
        "answers": {name: s.answer for name, s in scored.items() if s.answer is not None},
        "explanations": {name: s.explanation for name, s in scored.items() if s.explanation is not None},
        "score_errors": {name: scrub(s.error) for name, s in failures.items()},
        "usage": {
            "prompt_tokens": outcome.usage.prompt_tokens,
            "completion_tokens": outcome.usage.completion_tokens,
        },
        "latency_s": _number(outcome.latency_s),
        "cached": outcome.cached,
        "finish_reason": outcome.finish_reason,
    }


def _percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


class _Scrub:
    """Hides API keys (the ones in the environment, and anything shaped like ``sk-…``) in service text."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _SECRET_PATTERN.sub(r"\1***", text)


def _scrubber() -> _Scrub:
    values = (os.environ.get(name, "") for name in _SECRET_ENV)
    return _Scrub([v for v in values if len(v) >= 8])


# --- checking -------------------------------------------------------------------------------------


def _field_path(parts: Sequence[str | int]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _describe(error: ValidationError) -> str:
    """The validation error as one short line (jsonschema's own text can repeat a whole document)."""
    kind = error.validator
    instance: Any = error.instance
    expected: Any = error.validator_value
    if kind == "const" and list(error.absolute_path) == ["schema_version"]:
        return (
            f"{_short(instance)} is not supported by evalkit {__version__} (it reads schema_version "
            f"{SCHEMA_VERSION}); use the evalkit version that wrote the file"
        )
    if kind == "type":
        return f"expected {_type_words(expected)}, got {_json_type(instance)}"
    if kind in ("anyOf", "oneOf"):
        return f"expected {' or '.join(_shape(option) for option in expected)}, got {_short(instance)}"
    if kind == "required":
        return error.message
    if kind == "enum":
        return f"{_short(instance)} is not allowed (allowed: {', '.join(map(str, expected))})"
    if kind == "const":
        return f"{_short(instance)} is not allowed (must be {expected!r})"
    if kind in ("minimum", "maximum"):
        return f"{_short(instance)} is {'below the minimum' if kind == 'minimum' else 'above the maximum'} {expected}"
    if kind in ("minItems", "maxItems"):
        return f"expected {'at least' if kind == 'minItems' else 'at most'} {expected} items, got {len(instance)}"
    return " ".join(error.message.split())[:200]


def _shape(schema: Mapping[str, Any]) -> str:
    if "required" in schema:
        return "an object with " + " and ".join(repr(key) for key in schema["required"])
    if "type" in schema:
        return _type_words(schema["type"])
    return "another shape"


def _type_words(expected: Any) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    return " or ".join(names)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _short(value: Any) -> str:
    """A JSON value in a few characters: scalars as JSON, objects and arrays by their type."""
    if isinstance(value, (dict, list)):
        return f"an {_json_type(value)}" if value else f"an empty {_json_type(value)}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
