"""Function calls read from an answer or a reference, and paired one to one — for ``tool_calls``.

``read_calls`` reads what ``evalkit.records.render_tool_calls`` writes (a JSON list of ``{"name",
"arguments"}``), OpenAI-shaped calls (``{"function": {"name", "arguments"}}``, arguments as JSON text) and a
lone call object; anything else (plain text) holds no calls. Missing arguments are ``{}``; arguments that
did not parse as JSON stay the text the model wrote.

``pair_calls`` pairs each output call with at most one reference call of the same name: in order
(``strict``), or by an optimal assignment (``scipy.optimize.linear_sum_assignment``) that pairs the most
calls, then the most with equal arguments, then the most equal (key, value) pairs. ``compare`` counts what
the ``tool_calls`` figures are made of.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.records import render_tool_calls
from evalkit.scorers.jsonscore import json_equal
from evalkit.text import encodable

__all__ = ["Call", "Match", "compare", "pair_calls", "read_calls", "written"]

_MAX_DEPTH = 64
"""Deepest nesting of arguments compared: an answer nested deeper (untrusted text) is read as no calls, so
comparing it can never exhaust the stack."""


@dataclass(frozen=True, slots=True)
class Call:
    """One function call: its name and its arguments as a JSON value (a dict when they parsed)."""

    name: str
    """The function's name."""
    arguments: Any
    """Its arguments: a dict, or the text the model wrote when it is not JSON, or another JSON value."""

    def pairs(self) -> int:
        """How many (key, value) pairs the arguments count as (arguments that are no object: one)."""
        return len(self.arguments) if isinstance(self.arguments, dict) else 1

    def shared(self, other: Call) -> int:
        """The (key, value) pairs these arguments have in common with ``other``'s."""
        mine, theirs = self.arguments, other.arguments
        if isinstance(mine, dict) and isinstance(theirs, dict):
            return sum(1 for key, value in mine.items() if key in theirs and json_equal(value, theirs[key]))
        both_plain = not isinstance(mine, dict) and not isinstance(theirs, dict)
        return int(both_plain and json_equal(mine, theirs))

    def same_arguments(self, other: Call) -> bool:
        """These arguments equal ``other``'s, as JSON."""
        return json_equal(self.arguments, other.arguments)


def read_calls(text: str) -> list[Call] | None:
    """The function calls ``text`` holds as JSON (see the module docstring); None when it holds none."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(_call_shaped(item) for item in value):
        return None
    calls: list[Call] = []
    for item in json.loads(render_tool_calls(value)):
        name, arguments = item["name"], item["arguments"]
        if not isinstance(name, str) or not name or _depth(arguments) > _MAX_DEPTH:
            return None
        calls.append(Call(name, {} if arguments is None else arguments))
    return calls


def _call_shaped(item: Any) -> bool:
    """An object ``render_tool_calls`` can read a call from: its ``function``/``custom`` part, if any, an object."""
    if not isinstance(item, dict) or _depth(item) > _MAX_DEPTH + 3:
        return False
    return all(not item.get(part) or isinstance(item[part], dict) for part in ("function", "custom"))


def _depth(value: Any) -> int:
    """How deeply a JSON value nests (a scalar: 0), counted without recursion."""
    deepest, level = 0, [value]
    while level:
        level = [
            child
            for item in level
            if isinstance(item, (dict, list))
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if level:
            deepest += 1
    return deepest


@dataclass(frozen=True, slots=True)
class Match:
    """How one output's calls compare with the reference's."""

    output: int
    """Calls in the output."""
    reference: int
    """Calls in the reference."""
    paired: int
    """Output calls paired with a reference call of the same name."""
    exact: int
    """Paired calls whose arguments equal the reference call's."""
    shared: int
    """Argument pairs the paired calls share with their reference calls."""
    output_pairs: int
    """Argument pairs of every output call."""
    reference_pairs: int
    """Argument pairs of every reference call."""

    @property
    def names_right(self) -> bool:
        return self.output == self.reference == self.paired

    @property
    def right(self) -> bool:
        return self.names_right and self.exact == self.paired


def pair_calls(calls: Sequence[Call], expected: Sequence[Call], *, strict: bool) -> list[tuple[int, int]]:
    """(output index, reference index) of each paired call: same name; in order when ``strict``."""
    if strict:
        return [(i, i) for i, (a, b) in enumerate(zip(calls, expected, strict=False)) if a.name == b.name]
    return _assigned(calls, expected)


def _assigned(calls: Sequence[Call], expected: Sequence[Call]) -> list[tuple[int, int]]:
    """The optimal pairing: weight 0 across names, else 1 + shared pairs + (a bonus above any sum of shared
    pairs) for equal arguments — so the most calls pair, then the most exactly, then the most pairs."""
    bonus = 1 + sum(call.pairs() for call in expected)
    weights = [
        [(1 + a.shared(b) + bonus * a.same_arguments(b)) if a.name == b.name else 0 for b in expected]
        for a in calls
    ]
    candidates = [(i, j) for i, row in enumerate(weights) for j, weight in enumerate(row) if weight]
    if len(candidates) <= 1:
        return candidates
    from scipy.optimize import linear_sum_assignment

    rows, columns = linear_sum_assignment(weights, maximize=True)
    return [(int(i), int(j)) for i, j in zip(rows, columns, strict=True) if weights[i][j]]


def compare(calls: Sequence[Call], expected: Sequence[Call], pairing: Sequence[tuple[int, int]]) -> Match:
    """What ``compare`` counts: calls on each side, paired, paired exactly, argument pairs."""
    return Match(
        output=len(calls),
        reference=len(expected),
        paired=len(pairing),
        exact=sum(calls[i].same_arguments(expected[j]) for i, j in pairing),
        shared=sum(calls[i].shared(expected[j]) for i, j in pairing),
        output_pairs=sum(call.pairs() for call in calls),
        reference_pairs=sum(call.pairs() for call in expected),
    )


def written(calls: Sequence[Call]) -> str:
    """The calls as the scorer read them, as ``render_tool_calls`` writes calls."""
    calls_written = [{"arguments": c.arguments, "name": c.name} for c in calls]
    return encodable(json.dumps(calls_written, sort_keys=True, ensure_ascii=False))
