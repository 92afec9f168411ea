"""The gate: the suite's rules applied to a run's results → a go/no-go verdict with one reason per rule.

It reads a run's ``RunResults`` (results.json's records), so the same code decides ``evalkit run`` and
re-decides a saved run with ``evalkit gate DIR/results.json``. Rule kinds (``evalkit.suite.rules``):

    bound            context.py + bounds.py   a metric's value (or CI end) against min / max
    budget           bounds.py                error rate, cost, latency p95 against a cap
    non-inferiority  paired.py                low end of Δ's 95% CI against −margin (a margin below
                                              the comparison's mde: said, and warned about)
    superiority      paired.py                Δ > 0 and p (Holm across the rule's targets) < alpha
    (baseline)       baseline.py              the same two, against a saved run paired by case id

Each ``RuleResult`` keeps the rule as written (``rule``), its ``kind``, ``target``, ``metric``, the
``value`` compared (one target) or None (several), ``passed``, one ``reason`` line with the figure and the
bar, and per-target ``checks``. ``rule_levels`` gives the level each ``versus`` comparison is tested at,
for the analysis to compute its ``mde`` at before the gate runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from evalkit.errors import InputError
from evalkit.gate.bounds import check_bound, check_budget
from evalkit.gate.context import Finding, GateContext, listing, suggest
from evalkit.gate.health import NO_BOUNDS, ErrorBounds, run_errors
from evalkit.gate.text import rule_label, target_label
from evalkit.records.findings import GateVerdict, RuleResult
from evalkit.records.results import RunInputs, RunResults
from evalkit.suite.rules import GateRule, is_glob

__all__ = [
    "ErrorBounds",
    "apply_gate",
    "bounds_of",
    "check_rules",
    "rule_label",
    "rule_levels",
    "rule_targets",
    "rules_from_results",
]

_SHOWN_METRICS = 12
"""Metric names listed at most in an error about an unknown one."""


def apply_gate(
    rules: Sequence[GateRule],
    results: RunResults,
    *,
    file: str | Path | None = None,
    base_dir: Path | None = None,
    bounds: ErrorBounds = NO_BOUNDS,
    gated: bool = True,
) -> GateVerdict:
    """Check every rule; the verdict is ``go`` when all hold (or there are none), else ``no-go`` — unless
    the run cannot be judged (``health``: a target with no successful answer, error rates above
    ``bounds``, a rule computed on no case): then ``error``, with one line per reason in ``errors``.
    Not ``gated`` (``evalkit run --no-gate``): no rule is checked, and the verdict is ``not-gated`` unless
    the run cannot be judged.

    ``file`` is where the rules came from (errors name it); ``base_dir`` is where ``baseline:`` paths
    start (default: the folder of the suite file recorded in the results). A rule naming a target,
    metric or saved run that does not exist raises ``InputError`` at ``gate[i].<key>``.
    """
    if not gated:
        errors = run_errors(results, bounds)
        return GateVerdict(
            "error" if errors else "not-gated",
            errors=errors,
            max_error_rate=bounds.max_error_rate,
            max_scoring_error_rate=bounds.max_scoring_error_rate,
        )
    context = GateContext.of(results, file, base_dir if base_dir is not None else default_base_dir(results))
    applied = [_apply(context, index, rule) for index, rule in enumerate(rules)]
    checked = [result for result, _ in applied]
    errors = run_errors(results, bounds) + [
        f"gate[{index}] ({rule_label(result)}): cannot be evaluated: {result.error}"
        for index, result in enumerate(checked)
        if result.error is not None
    ]
    verdict: Literal["go", "no-go", "error"] = (
        "error" if errors else "go" if all(rule.passed for rule in checked) else "no-go"
    )
    return GateVerdict(
        verdict,
        checked,
        errors,
        warnings=[
            f"gate[{index}] ({rule_label(result)}): {warning}"
            for index, (result, warnings) in enumerate(applied)
            for warning in warnings
        ],
        max_error_rate=bounds.max_error_rate,
        max_scoring_error_rate=bounds.max_scoring_error_rate,
    )


def bounds_of(gate: GateVerdict) -> ErrorBounds:
    """The error-rate bounds a saved run was gated with."""
    return ErrorBounds(gate.max_error_rate, gate.max_scoring_error_rate)


def rules_from_results(gate: GateVerdict, *, file: str | Path | None = None) -> list[GateRule]:
    """The rules a saved run was gated with, to re-apply them (``InputError`` if one is malformed)."""
    rules = []
    for index, checked in enumerate(gate.rules):
        written = {"target": checked.target, "metric": checked.metric, "min": checked.min, "max": checked.max}
        spec = checked.rule or {key: value for key, value in written.items() if value is not None}
        try:
            rules.append(GateRule.model_validate(spec))
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise InputError(
                f"the saved rule cannot be re-applied: {problem['msg']}",
                file=file,
                field=f"gate.rules[{index}]",
            ) from None
    return rules


def check_rules(
    rules: Sequence[GateRule],
    *,
    targets: Sequence[str] | None,
    metrics: Sequence[str],
    file: str | Path | None = None,
    base_dir: Path | None = None,
    inputs: RunInputs | None = None,
) -> None:
    """Before any model call: every rule's targets exist (``targets``; None while they are not known yet),
    its metric is one the suite's scorers report (``metrics``: ``evalkit.scorers.declared_metrics``), and
    its saved run can be read (and, given this run's ``inputs``, was made with the same data, scorers and
    generation settings). ``InputError`` at ``gate[i].<key>``, with the closest
    valid name."""
    names = list(targets or [])
    for index, rule in enumerate(rules):
        context = GateContext(names, file, base_dir or Path.cwd())
        if targets is not None:
            context.targets_of(index, rule)
        if rule.metric is not None and rule.metric not in metrics:
            raise context.error(index, "metric", _unknown_metric(rule.metric, metrics))
        if rule.baseline is not None:
            _check_saved_run(context, index, rule, inputs)


def _unknown_metric(metric: str, known: Sequence[str]) -> str:
    """Why ``metric`` is not one of ``known``, with the closest name that is."""
    scorer = metric.split(".", 1)[0]
    scorers = list(dict.fromkeys(name.split(".", 1)[0] for name in known))
    if scorer not in scorers:
        return (
            f"metric {metric!r} names no scorer of this suite{suggest(metric, known)} (known: "
            f"{listing(scorers)}; aggregates look like classify.macro_f1)"
        )
    own = [name for name in known if name.split(".", 1)[0] == scorer]
    shown = ", ".join(own[:_SHOWN_METRICS]) + (", …" if len(own) > _SHOWN_METRICS else "")
    return f"metric {metric!r} is not one scorer {scorer!r} reports{suggest(metric, own)} (it reports: {shown})"


def _check_saved_run(context: GateContext, index: int, rule: GateRule, run: RunInputs | None) -> None:
    from evalkit.gate.baseline import baseline_path, changed_inputs, read_baseline

    saved = read_baseline(
        baseline_path(rule, context.base_dir), on_missing=lambda msg: context.error(index, "baseline", msg)
    )
    changed = changed_inputs(run, RunInputs.of(saved)) if run is not None else []
    if changed and not rule.allow_changed:
        raise context.error(
            index,
            "baseline",
            f"the saved run {rule.baseline} was made with different {' and '.join(changed)}; set "
            "'allow_changed: true' on this rule to compare anyway",
        )


def rule_targets(
    rule: GateRule, targets: Sequence[str], *, index: int = 0, file: str | Path | None = None
) -> list[str]:
    """The names among ``targets`` a rule covers, in that order (``versus`` left out of globs);
    ``InputError`` at ``gate[index].target`` for a name that is not there or a glob matching nothing."""
    context = GateContext(list(targets), file, Path.cwd())
    return context.targets_of(index, rule)


def rule_levels(rules: Sequence[GateRule], targets: Sequence[str]) -> dict[tuple[str, str, str], float]:
    """Per (target, versus, metric) a ``versus`` rule compares, the two-sided level it tests at: what the
    analysis computes that comparison's ``mde`` at (``gate.paired.rule_level`` says which level)."""
    from evalkit.gate.paired import rule_levels as levels

    return levels(rules, targets)


def default_base_dir(results: RunResults) -> Path:
    """The folder of the suite file a run recorded (where its ``baseline:`` paths start), else the cwd."""
    file = results.suite.file
    return Path(file).parent if file else Path.cwd()


def _apply(context: GateContext, index: int, rule: GateRule) -> tuple[RuleResult, list[str]]:
    """The rule's result, and its warnings (one per target)."""
    from evalkit.gate.paired import check_paired

    targets = context.targets_of(index, rule)
    if rule.kind == "bound":
        checks = [check_bound(context, index, rule, target) for target in targets]
    elif rule.kind == "budget":
        checks = [check_budget(context, index, rule, target) for target in targets]
    else:
        checks = check_paired(context, index, rule, targets)
    result = RuleResult(
        rule=rule.to_json(),
        kind=rule.kind,
        target=rule.target,
        metric=rule.figure,
        value=checks[0].value if len(checks) == 1 else None,
        passed=all(check.passed for check in checks),
        reason=_reason(rule, checks),
        checks=[check.record() for check in checks],
        error="; ".join(c.error for c in checks if c.error is not None) or None,
    )
    return result, [check.warning for check in checks if check.warning is not None]


def _reason(rule: GateRule, checks: Sequence[Finding]) -> str:
    """One line: ``final exact = 0.412 < 0.500 (min)``; several targets: ``step-* exact: step-10 …; …``."""
    subject = _subject(rule)
    if len(checks) == 1 and isinstance(rule.target, str) and not is_glob(rule.target):
        line = subject(checks[0].target) + checks[0].text
    else:
        line = subject(target_label(rule.target)) + ": " + "; ".join(c.target + c.text for c in checks)
    changed = sorted({part for c in checks for part in c.facts.get("baseline_changed") or []})
    if changed:
        line += f" ({' and '.join(changed)} changed since the saved run: allowed)"
    return line


def _subject(rule: GateRule) -> Callable[[str], str]:
    if rule.kind == "budget":
        return lambda name: name
    if rule.versus is not None:
        return lambda name: f"{name} {rule.metric} vs {rule.versus}"
    if rule.baseline is not None:
        return lambda name: f"{name} {rule.metric} vs saved run {rule.baseline}"
    return lambda name: f"{name} {rule.metric}"
