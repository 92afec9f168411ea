"""A pytest plugin: run an evalkit suite inside a team's own test run and assert its verdict.

    from evalkit.pytest_plugin import assert_go

    def test_the_fine_tune_ships(evalkit_run):
        result = evalkit_run("suites/ticket-triage.yaml", models=["base=gpt-4o-mini", "ft=ft:gpt-4o-mini:acme::abc"])
        assert_go(result)   # fails with the verdict and every rule's reason when the gate says no-go

``evalkit_run(suite, models=[...], jobs=[...])`` runs the suite as ``evalkit run`` does (paths relative to
pytest's rootdir) and returns the ``RunResult``; its outputs go to a temporary folder, or under
``--evalkit-out DIR`` to keep them (e.g. as a CI artifact). A suite that cannot run (bad input, an
unreachable service) fails the test with evalkit's one-line message.

The plugin is registered through the ``pytest11`` entry point, so every pytest session in an environment
with evalkit loads it: this module imports nothing heavy — the pipeline is imported when a test first calls
``evalkit_run``. Disable it with ``-p no:evalkit``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

from evalkit.text import one_line

if TYPE_CHECKING:
    from evalkit.pipeline import RunResult

__all__ = ["EvalkitRun", "assert_go", "evalkit_run", "no_go_message"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class EvalkitRun(Protocol):
    """The ``evalkit_run`` fixture: run a suite, get its ``RunResult``."""

    def __call__(
        self,
        suite: str | Path,
        *,
        models: Sequence[str] | Mapping[str, str] = (),
        jobs: Sequence[str] = (),
        out: str | Path | None = None,
        use_cache: bool = True,
        concurrency: int = 8,
        gate: bool = True,
    ) -> RunResult: ...


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("evalkit")
    group.addoption(
        "--evalkit-out",
        metavar="DIR",
        default=None,
        help="keep the outputs of evalkit_run under DIR/<test name>/ (default: a temporary folder)",
    )


@pytest.fixture
def evalkit_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> EvalkitRun:
    """Run an evalkit suite: ``evalkit_run("suites/x.yaml", models=["ft=ft:gpt-4o-mini:acme::abc"])``.

    ``models``: ``NAME=ID[@chat|@completions|@responses]`` or ``NAME=run:PATH/results.json#TARGET`` strings
    (or a ``{name: id}`` mapping), as ``--model``; ``jobs``: fine-tuning job ids, as ``--job``; ``out``: the
    output folder; ``gate=False``: without the suite's gate, as ``--no-gate`` (the verdict is
    ``not-gated``). Relative paths start at pytest's rootdir (a ``run:`` path in ``models`` at the working
    directory, as on the command line).
    """
    root = request.config.rootpath
    keep = request.config.getoption("--evalkit-out")
    runs = 0

    def run(
        suite: str | Path,
        *,
        models: Sequence[str] | Mapping[str, str] = (),
        jobs: Sequence[str] = (),
        out: str | Path | None = None,
        use_cache: bool = True,
        concurrency: int = 8,
        gate: bool = True,
    ) -> RunResult:
        nonlocal runs
        from evalkit.errors import EvalkitError
        from evalkit.pipeline import RunOptions, run_suite

        runs += 1
        if out is None:
            out = (
                _kept_dir(root / keep, request.node.name, runs)
                if keep
                else tmp_path_factory.mktemp("evalkit")
            )
        options = RunOptions(
            model_flags=_model_flags(models),
            job_ids=tuple(jobs),
            out_dir=root / out,
            concurrency=concurrency,
            use_cache=use_cache,
            progress=False,
            gate=gate,
        )
        try:
            return run_suite(root / suite, options)
        except EvalkitError as error:
            problem = one_line(error)
        pytest.fail(
            f"evalkit could not run {suite}: {problem}", pytrace=False
        )  # outside: no chained traceback

    return run


def assert_go(result: RunResult) -> None:
    """Pass when the run's verdict is go (or not-gated: run with ``gate=False``, as ``evalkit run`` exits 0
    on both); otherwise (no-go, or error: the run cannot be judged) fail the test with the verdict, every
    reason it cannot be judged and every rule's reason."""
    if result.verdict not in ("go", "not-gated"):
        pytest.fail(no_go_message(result), pytrace=False)


def no_go_message(result: RunResult) -> str:
    """The verdict as plain text: a headline, one line per rule (✓/✗ and its reason), where the reports are."""
    results = result.results
    rules = results.gate.rules
    passed = sum(1 for rule in rules if rule.passed)
    suite = one_line(results.suite.name)
    lines = [
        f"evalkit: {result.verdict.upper()} for suite {suite} ({passed} of {len(rules)} gate rules passed)"
    ]
    lines += [f"  error: {one_line(error)}" for error in results.gate.errors]
    lines += [f"  {'✓' if rule.passed else '✗'} {one_line(rule.reason)}" for rule in rules]
    if results.recommendation is not None:
        lines.append(f"  recommendation: {one_line(results.recommendation.reason)}")
    lines.append(f"reports: {result.out_dir}")
    return "\n".join(lines)


def _model_flags(models: Sequence[str] | Mapping[str, str]) -> tuple[str, ...]:
    if isinstance(models, Mapping):
        return tuple(f"{name}={model}" for name, model in models.items())
    if isinstance(models, str):
        return (models,)
    return tuple(models)


def _kept_dir(base: Path, test_name: str, number: int) -> Path:
    name = _UNSAFE.sub("_", test_name).strip("_") or "test"
    return base / (name if number == 1 else f"{name}-{number}")

