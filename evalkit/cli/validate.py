"""``evalkit validate``: load a suite and its data the way a run would, and describe what was found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from evalkit.records import CaseSet
from evalkit.scorers.base import Scorer
from evalkit.suite.model import Suite
from evalkit.suite.scorer_options import ClassifyOptions


def find_problems(suite: Suite, case_set: CaseSet, scorers: Sequence[Scorer]) -> list[str]:
    """Things that are legal but probably not what the author meant."""
    problems: list[str] = []
    references = Counter(case.reference for case in case_set.cases)
    for config in suite.scorers:
        if isinstance(config.options, ClassifyOptions):
            seen = {config.options.label_of(ref) for ref in references}
            missing = [label for label in config.options.labels if label not in seen]
            if missing:
                problems.append(f"scorer {config.name}: no case has the label(s) {', '.join(missing)}")
    for scorer in scorers:
        flagged = [
            (case.id, problem)
            for case in case_set.cases
            if (problem := scorer.check_reference(case.reference)) is not None
        ]
        if flagged:
            first_id, first = flagged[0]
            problems.append(
                f"scorer {scorer.name}: {len(flagged)} case(s) it cannot use (first: {first_id}: {first})"
            )
    empty = [case.id for case in case_set.cases if not case.reference.strip()]
    if empty:
        problems.append(f"{len(empty)} case(s) have an empty reference (first: {empty[0]})")
    if not suite.targets:
        problems.append("no targets: name them at run time with --model NAME=ID or --job ID")
    from evalkit.suite.rules import is_glob

    named = {p for rule in suite.gate for p in rule.target_patterns if not is_glob(p)}
    gate_targets = named - set(suite.targets)
    if suite.targets and gate_targets:
        problems.append(f"gate names target(s) not in targets: {', '.join(sorted(gate_targets))}")
    if suite.generation.temperature > 0:
        problems.append(
            f"temperature {suite.generation.temperature} > 0: answers vary between runs, "
            "and a cached re-run repeats the first sample"
        )
    return problems


def label_distribution(suite: Suite, case_set: CaseSet) -> dict[str, Counter[str]]:
    """Per classify scorer: how many cases carry each label."""
    out: dict[str, Counter[str]] = {}
    for config in suite.scorers:
        if isinstance(config.options, ClassifyOptions):
            counts: Counter[str] = Counter({label: 0 for label in config.options.labels})
            for case in case_set.cases:
                counts[config.options.label_of(case.reference) or case.reference] += 1
            out[config.name] = counts
    return out


def describe_suite(path: str | Path) -> str:
    """The text ``evalkit validate`` prints; raises an ``EvalkitError`` for anything invalid — the same
    checks ``evalkit run`` makes before its first call (``pipeline.check_suite``, and ``named_targets`` for
    the targets that replay a saved run)."""
    from evalkit.data import load_cases
    from evalkit.pipeline import build_checked_scorers, check_suite, named_targets
    from evalkit.suite import display_path, load_suite

    suite = load_suite(path)
    case_set = load_cases(suite)
    scorers = build_checked_scorers(suite)
    check_suite(suite, case_set, scorers)
    named_targets(suite, case_set, [], allow_empty=True)
    lines = [
        f"{display_path(suite.path)}: valid suite {suite.name!r}",
        f"  cases: {len(case_set.cases)} from {case_set.source}",
        f"  scorers: {', '.join(s.name for s in suite.scorers)}",
        f"  targets: {', '.join(f'{n}={t.model}' for n, t in suite.targets.items()) or '(none)'}",
        f"  gate rules: {len(suite.gate)}",
    ]
    for name, counts in label_distribution(suite, case_set).items():
        total = sum(counts.values()) or 1
        lines.append(f"  labels ({name}):")
        lines.extend(f"    {label:<24} {n:>6}  {n / total:6.1%}" for label, n in counts.items())
    problems = find_problems(suite, case_set, scorers)
    lines.append(f"  problems: {len(problems) or 'none'}")
    lines.extend(f"    - {problem}" for problem in problems)
    return "\n".join(lines)
