"""The verdict as every output words it: go, no-go, not gated (``--no-gate``: no rule was checked) or error
(the run cannot be judged), each rule as passed, failed or not evaluable, and the note on a partial
results.json.

A rule with ``error`` set could not be evaluated (no scored case, no paired case): it neither passed nor
failed, and is shown as ``cannot be evaluated: …``. A verdict of ``error`` lists ``gate.errors``, one line
each; a run that has none recorded falls back on its rules' errors, then on why its results are partial.
"""

from __future__ import annotations

from typing import Literal

from evalkit.gate import rule_label
from evalkit.records.findings import GateVerdict, RuleResult
from evalkit.records.results import RunResults

__all__ = [
    "NOT_GATED",
    "RuleState",
    "error_lines",
    "is_error",
    "partial_note",
    "rule_state",
    "rule_text",
    "rules_tally",
    "verdict_word",
]

RuleState = Literal["pass", "fail", "error"]
"""A rule's outcome: it held, it did not, or it could not be evaluated."""

ERROR_HEADLINE = "the run cannot be judged"
"""What follows ``ERROR`` in every output."""


NOT_GATED = "the gate was not applied (--no-gate): no rule was checked"
"""What follows ``NOT GATED`` in every output."""


def verdict_word(gate: GateVerdict) -> str:
    """``GO``, ``NO-GO``, ``NOT GATED`` or ``ERROR``."""
    return {"go": "GO", "no-go": "NO-GO", "not-gated": "NOT GATED"}.get(gate.verdict, "ERROR")


def is_error(results: RunResults) -> bool:
    """Whether the run cannot be judged."""
    return results.gate.verdict == "error"


def rule_state(rule: RuleResult) -> RuleState:
    """``error`` when the rule could not be evaluated, else ``pass`` or ``fail``."""
    if rule.error is not None:
        return "error"
    return "pass" if rule.passed else "fail"


def rule_text(rule: RuleResult) -> str:
    """The rule's reason, or, when it could not be evaluated, its label and why: ``final exact ≥ 0.8:
    cannot be evaluated: no successful answer``."""
    if rule.error is None:
        return rule.reason
    return f"{rule_label(rule)}: cannot be evaluated: {rule.error}"


def error_lines(results: RunResults) -> list[str]:
    """Why the run cannot be judged, one line each (empty unless the verdict is ``error``)."""
    if not is_error(results):
        return []
    gate = results.gate
    if gate.errors:
        return list(gate.errors)
    found = [rule_text(rule) for rule in gate.rules if rule.error is not None]
    if found:
        return found
    note = partial_note(results)
    return [note] if note is not None else ["no reason was recorded"]


def partial_note(results: RunResults) -> str | None:
    """``partial results: …`` when the run stopped before its end (``results.incomplete``), else None."""
    if results.incomplete is None:
        return None
    return f"partial results: {results.incomplete}"


def rules_tally(gate: GateVerdict, *, noun: str = "gate rules") -> str:
    """``2 of 3 gate rules passed``, with ``, 1 could not be evaluated`` when some could not; ``NOT_GATED``
    for a run made without its gate."""
    if gate.verdict == "not-gated":
        return NOT_GATED
    states = [rule_state(rule) for rule in gate.rules]
    text = f"{states.count('pass')} of {len(states)} {noun} passed"
    errors = states.count("error")
    return text + (f", {errors} could not be evaluated" if errors else "")
