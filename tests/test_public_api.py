"""The public API is exactly what ``evalkit.__all__`` lists, and every name in it resolves."""

from __future__ import annotations

import subprocess
import sys

import evalkit


def test_every_public_name_resolves() -> None:
    for name in evalkit.__all__:
        assert getattr(evalkit, name) is not None, name


def test_public_api_is_curated() -> None:
    assert set(evalkit.__all__) == {
        "__version__", "run_suite", "RunOptions", "RunResult", "load_suite", "load_cases",
        "resolve_targets", "endpoint_for", "build_scorers", "apply_gate", "read_results", "write_outputs",
        "Suite", "Case", "CaseSet", "Target", "Outcome", "Score", "Metric",
        "EvalkitError", "InputError", "SuiteError", "DataError", "ServiceError",
    }


def test_import_and_help_stay_light() -> None:
    """`evalkit --help` and `import evalkit` load none of the heavy libraries."""
    code = (
        "import sys, evalkit.cli\n"
        "heavy = {'openai', 'datasets', 'sklearn', 'scipy', 'torch', 'pandas', 'jinja2', 'rich', 'pydantic'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_all_matches_the_lazy_exports() -> None:
    assert set(evalkit.__all__) - {"__version__"} == set(evalkit._EXPORTS)
