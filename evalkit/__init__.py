"""evalkit: decide whether a fine-tuned model is ready to ship.

The public API, for scripts and notebooks (the ``evalkit`` command wraps the same functions)::

    from evalkit import RunOptions, run_suite
    result = run_suite("suites/ticket-triage.yaml", RunOptions(model_flags=("ft=ft:gpt-4o-mini:acme::abc",)))
    result.verdict            # "go" | "no-go" | "not-gated" | "error"
    result.results["metrics"] # {target: {metric: {value, ci, n}}}

Names are imported on first use, so ``import evalkit`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from evalkit._version import __version__

_EXPORTS: dict[str, str] = {
    # running
    "run_suite": "evalkit.pipeline",
    "RunOptions": "evalkit.pipeline",
    "RunResult": "evalkit.pipeline",
    # stages
    "load_suite": "evalkit.suite",
    "load_cases": "evalkit.data",
    "resolve_targets": "evalkit.targets.spec",
    "endpoint_for": "evalkit.providers.routing",
    "build_scorers": "evalkit.scorers",
    "apply_gate": "evalkit.gate",
    "read_results": "evalkit.records.results_json",
    "write_outputs": "evalkit.report.outputs",
    # records
    "Suite": "evalkit.suite.model",
    "Case": "evalkit.records",
    "CaseSet": "evalkit.records",
    "Target": "evalkit.records",
    "Outcome": "evalkit.records",
    "Score": "evalkit.records",
    "Metric": "evalkit.records",
    # errors
    "EvalkitError": "evalkit.errors",
    "InputError": "evalkit.errors",
    "SuiteError": "evalkit.errors",
    "DataError": "evalkit.errors",
    "ServiceError": "evalkit.errors",
}

__all__ = [
    "Case",
    "CaseSet",
    "DataError",
    "EvalkitError",
    "InputError",
    "Metric",
    "Outcome",
    "RunOptions",
    "RunResult",
    "Score",
    "ServiceError",
    "Suite",
    "SuiteError",
    "Target",
    "__version__",
    "apply_gate",
    "build_scorers",
    "endpoint_for",
    "load_cases",
    "load_suite",
    "read_results",
    "resolve_targets",
    "run_suite",
    "write_outputs",
]

if TYPE_CHECKING:
    from evalkit.data import load_cases
    from evalkit.errors import DataError, EvalkitError, InputError, ServiceError, SuiteError
    from evalkit.gate import apply_gate
    from evalkit.pipeline import RunOptions, RunResult, run_suite
    from evalkit.providers.routing import endpoint_for
    from evalkit.records import Case, CaseSet, Metric, Outcome, Score, Target
    from evalkit.records.results_json import read_results
    from evalkit.report.outputs import write_outputs
    from evalkit.scorers import build_scorers
    from evalkit.suite import load_suite
    from evalkit.suite.model import Suite
    from evalkit.targets.spec import resolve_targets


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'evalkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
