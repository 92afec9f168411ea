"""What every check reads: the run's results, where the rules came from, and the lookups that name mistakes.

A rule naming a target or metric the run does not have is a mistake in the suite, not a failed check:
``InputError`` at ``gate[i].<key>`` (in the suite file, when known), listing what exists.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.records import Metric
from evalkit.records.findings import Check
from evalkit.records.results import RunResults
from evalkit.suite.rules import GateRule, is_glob


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict on one target, with the words that say it."""

    target: str
    """The target checked."""
    passed: bool
    """Whether the rule holds for it."""
    value: float | None
    """The figure compared with the bar (the metric, a CI end, a p-value, a cost, …); None if missing."""
    text: str
    """The figure and the bar, without the target's name: ``= 0.412 < 0.500 (min)``."""
    facts: dict[str, Any] = field(default_factory=dict)
    """Further figures for results.json (``versus``, ``delta``, ``ci``, ``p_value``, ``n``, …: ``Check``'s)."""
    error: str | None = None
    """Why the rule cannot be evaluated for this target (its figure was computed on no case, because calls
    or scoring failed); the run's verdict is then ``error``."""
    warning: str | None = None
    """What the verdict for this target should be read with (a margin finer than the suite resolves)."""

    def record(self) -> Check:
        """As results.json stores it under the rule's ``checks``."""
        return Check(target=self.target, value=self.value, passed=self.passed, **self.facts)


@dataclass(slots=True)
class GateContext:
    """A run's results (or, before the run, its target names) and where its rules came from, with the
    lookups every check needs."""

    target_names: list[str]
    """The run's targets, in order."""
    file: str | Path | None
    """The file the rules came from (errors name it)."""
    base_dir: Path
    """Where ``baseline:`` paths are relative to (the suite file's folder)."""
    results: RunResults | None = None
    """The run's results; None before the run."""
    baselines: dict[Path, RunResults] = field(default_factory=dict)
    """Saved runs read so far, by path."""

    @classmethod
    def of(cls, results: RunResults, file: str | Path | None, base_dir: Path) -> GateContext:
        """The context of a run's results."""
        return cls(results.target_names, file, base_dir, results)

    @property
    def run(self) -> RunResults:
        """The run's results (only checks after the run read them)."""
        if self.results is None:
            raise RuntimeError("gate bug: a check before the run asked for the run's results")
        return self.results

    def error(self, index: int, key: str, message: str) -> InputError:
        """An ``InputError`` located at ``gate[index].key``."""
        return InputError(message, file=self.file, field=f"gate[{index}].{key}")

    def model_of(self, target: str) -> str:
        """The model id of one of the run's targets."""
        return next(t.model for t in self.run.targets if t.name == target)

    def targets_of(self, index: int, rule: GateRule) -> list[str]:
        """The run's targets a rule covers, in run order; ``versus`` is left out of globs."""
        names = self.target_names
        if rule.versus is not None and rule.versus not in names:
            raise self.error(
                index,
                "versus",
                f"no target named {rule.versus!r} in this run{suggest(rule.versus, names)} "
                f"(targets: {listing(names)})",
            )
        return resolve_patterns(
            rule.target_patterns,
            names,
            exclude=rule.versus,
            on_error=lambda msg: self.error(index, "target", msg),
        )

    def metric_entry(self, index: int, rule: GateRule, target: str) -> Metric:
        """``metrics[target][rule.metric]``; ``InputError`` naming the metrics there are."""
        known = self.run.metrics.get(target, {})
        metric = rule.figure
        if metric not in known:
            raise self.error(
                index,
                "metric",
                f"metric {metric!r} is not reported for target {target!r}{suggest(metric, known)} "
                f"(metrics: {listing(known)})",
            )
        return known[metric]


def resolve_patterns(
    patterns: Iterable[str], names: list[str], *, exclude: str | None, on_error: Callable[[str], Exception]
) -> list[str]:
    """The names matched by ``patterns`` (names or globs), in ``names`` order; ``on_error(message)``
    builds the exception raised for a name that does not exist or a glob that matches nothing."""
    chosen: set[str] = set()
    for pattern in patterns:
        if is_glob(pattern):
            matched = [name for name in fnmatch.filter(names, pattern) if name != exclude]
            if not matched:
                raise on_error(f"{pattern!r} matches no target of this run (targets: {listing(names)})")
            chosen.update(matched)
        elif pattern not in names:
            raise on_error(
                f"target {pattern!r} is not in this run{suggest(pattern, names)} (targets: {listing(names)})"
            )
        elif pattern == exclude:
            raise on_error(f"target {pattern!r} cannot be compared with itself")
        else:
            chosen.add(pattern)
    return [name for name in names if name in chosen]


def listing(names: Iterable[str]) -> str:
    """Names sorted and joined, or ``none``."""
    return ", ".join(sorted(names)) or "none"


def suggest(name: str, names: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for a close name, else nothing."""
    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
