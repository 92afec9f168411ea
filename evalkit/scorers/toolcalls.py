"""``tool_calls``: a function-calling answer scored against the reference's calls — names, and arguments
compared as JSON.

Both sides are read as ``render_tool_calls`` writes them — what the providers make of a model's tool
calls, and what ``data/chat.py`` makes of a reference message's ``tool_calls`` — and each output call is
paired with at most one reference call of the same name: in any order (``order: any``, the default, an
optimal assignment) or in the reference's (``order: strict``); see ``calls.py``. An answer that is text
holds no calls. Arguments compare as JSON (``1 == 1.0``, ``true != 1``, key order free), top-level keys
as (key, value) pairs; arguments that are no JSON object (text that did not parse, an array) count as one
pair, equal only to the same value.

Per case, 0 or 1 (so paired comparisons use McNemar): 1.0 when the output's calls are the reference's —
as many, every one paired, every pair's arguments equal. Aggregates, over the scored cases:

    name_accuracy  share of cases calling exactly the reference's functions (as many calls, every one
                   paired), arguments ignored
    args_exact     share of paired calls whose arguments equal the reference call's; null if none paired
    args_f1        F1 over argument (key, value) pairs, pooled over cases: 2·TP / (output pairs + reference
                   pairs), TP the pairs a paired call shares with its reference call. Every pair of an
                   unpaired call counts: an extra call's as false positives, a missing call's as misses.
                   Null when neither side has any argument
    text_rate      share of answers with no tool call (text instead)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from evalkit.records import Case, Score, is_scored
from evalkit.scorers.base import Aggregate, Scorer, ScoringError, binary
from evalkit.scorers.calls import Call, Match, compare, pair_calls, read_calls, written
from evalkit.scorers.jsonscore import json_equal
from evalkit.suite.scorer_options import ToolCallsOptions
from evalkit.text import encodable, one_line

__all__ = ["ToolCallsScorer", "build_tool_calls"]

_ISSUES_SHOWN = 3
"""Problems a miss's explanation names before saying how many more there are."""


class ToolCallsScorer(Scorer):
    """1.0 when the output makes exactly the reference's function calls; ``answer`` is the calls read."""

    kind = "tool_calls"

    def __init__(self, *, name: str | None = None, order: Literal["any", "strict"] = "any") -> None:
        super().__init__(name=name)
        self.order = order
        """``any``: parallel calls pair in any order; ``strict``: in the reference's order."""
        self._references: dict[str, list[Call] | None] = {}

    async def score(self, output: str, case: Case) -> Score:
        expected = self._calls_of(case.reference)
        if not expected:
            raise ScoringError(self.check_reference(case.reference) or "the reference holds no tool call")
        calls = read_calls(output)
        if not calls:
            return binary(False, explanation="the answer makes no tool call (it is text)")
        pairing = self.pairing(calls, expected)
        match = compare(calls, expected, pairing)
        problems = None if match.right else _problems(calls, expected, pairing, strict=self.order == "strict")
        return binary(match.right, answer=written(calls), explanation=problems)

    def check_reference(self, reference: str) -> str | None:
        calls = self._calls_of(reference)
        if calls is None:
            shown = one_line(reference if len(reference) <= 60 else reference[:57] + "...")
            return (
                f"reference {shown!r} is not tool calls (a JSON list of {{\"name\", \"arguments\"}}, as an "
                "assistant message's tool_calls become)"
            )
        return "the reference is an empty list of tool calls" if not calls else None

    def aggregate_names(self) -> tuple[str, ...]:
        return ("name_accuracy", "args_exact", "args_f1", "text_rate")

    def aggregate(self, cases: Sequence[Case], scores: Sequence[Score | None]) -> Aggregate:
        """The aggregates of the module docstring, from each score's ``answer`` (the calls read)."""
        matches: list[Match] = []
        for case, score in zip(cases, scores, strict=True):
            expected = self._calls_of(case.reference)
            if score is None or not is_scored(score) or not expected:
                continue
            calls = (read_calls(score.answer) if score.answer is not None else None) or []
            matches.append(compare(calls, expected, self.pairing(calls, expected)))
        if not matches:
            return Aggregate(metrics=dict.fromkeys(self.aggregate_names()), n=0)
        paired = sum(m.paired for m in matches)
        pairs = sum(m.output_pairs + m.reference_pairs for m in matches)
        metrics: dict[str, float | None] = {
            "name_accuracy": sum(m.names_right for m in matches) / len(matches),
            "args_exact": sum(m.exact for m in matches) / paired if paired else None,
            "args_f1": 2 * sum(m.shared for m in matches) / pairs if pairs else None,
            "text_rate": sum(m.output == 0 for m in matches) / len(matches),
        }
        return Aggregate(metrics=metrics, n=len(matches))

    def pairing(self, calls: Sequence[Call], expected: Sequence[Call]) -> list[tuple[int, int]]:
        """(output index, reference index) of each paired call (see the module docstring)."""
        return pair_calls(calls, expected, strict=self.order == "strict")

    def _calls_of(self, reference: str) -> list[Call] | None:
        """The reference's calls, read once however many targets answer its case."""
        if reference not in self._references:
            self._references[reference] = read_calls(reference)
        return self._references[reference]


def _problems(
    calls: Sequence[Call], expected: Sequence[Call], pairing: Sequence[tuple[int, int]], *, strict: bool
) -> str:
    """What is wrong, in a few words: extra and missing calls, then wrong arguments of paired calls."""
    paired_out, paired_ref = {i for i, _ in pairing}, {j for _, j in pairing}
    extra = [i for i in range(len(calls)) if i not in paired_out]
    missing = [j for j in range(len(expected)) if j not in paired_ref]
    issues: list[str] = []
    if strict and extra and missing and sorted(c.name for c in calls) == sorted(c.name for c in expected):
        issues.append("the calls are not in the reference's order")
    else:
        issues += [f"extra call {_shown(calls[i].name)}" for i in extra]
        issues += [f"missing call {_shown(expected[j].name)}" for j in missing]
    for i, j in pairing:
        issues += _argument_problems(calls[i], expected[j])
    more = len(issues) - _ISSUES_SHOWN
    return "; ".join(issues[:_ISSUES_SHOWN]) + (f" (and {more} more)" if more > 0 else "")


def _argument_problems(call: Call, expected: Call) -> list[str]:
    name, got, want = _shown(call.name), call.arguments, expected.arguments
    if call.same_arguments(expected):
        return []
    if not isinstance(got, dict) or not isinstance(want, dict):
        return [f"{name}: arguments are {_shown(got)}, expected {_shown(want)}"]
    problems = [f"{name}: argument {_shown(key)} is missing" for key in want if key not in got]
    problems += [f"{name}: unexpected argument {_shown(key)}" for key in got if key not in want]
    problems += [
        f"{name}: argument {_shown(key)} is {_shown(got[key])}, expected {_shown(value)}"
        for key, value in want.items()
        if key in got and not json_equal(got[key], value)
    ]
    return problems


def _shown(value: Any, limit: int = 40) -> str:
    """A JSON value in a few characters, on one line (model outputs are untrusted text)."""
    text = one_line(encodable(json.dumps(value, ensure_ascii=False)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_tool_calls(options: ToolCallsOptions) -> ToolCallsScorer:
    """The ``tool_calls`` scorer a suite entry describes."""
    return ToolCallsScorer(name=options.name, order=options.order)
