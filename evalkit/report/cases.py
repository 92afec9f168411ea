"""The per-case data of report.html: one compact JSON document the page's script renders a page at a time.

Shape (keys kept short: a run of 10,000 cases × 5 targets embeds 50,000 answers)::

    {"targets": [name, ...], "base": name | null, "focus": name | null, "best": name | null,
     "scorer": name | null,
     "labels": [label, ...],                       # reference labels, for the label filter
     "flips": {target: {"fixed": [case id, ...], "broken": [case id, ...]}},   # vs base
     "cases": [{"id", "line", "ctx": [[role, text], ...], "input": text, "ref": text, "label": label | null,
                "res": [null | {"out", "err", "ok", "s": [[scorer, score, answer, why], ...],
                                "serr": [[scorer, message], ...], "lat", "fin", "cached"}, ...]}]}

``res`` follows ``targets``; ``ok`` is the deciding scorer's verdict (score ≥ 0.5), null when it has none.
Keys whose value is empty are left out. Every string is untrusted text: the page's script only ever puts
it in the document with ``textContent``, in an element isolated from the text around it (``dir="auto"``).
A text longer than ``MAX_TEXT`` characters is cut (saying so: results.json has it whole). ``script_json``
makes the document safe to sit inside ``<script type="application/json">`` and writable as UTF-8: lone
surrogates and control characters become visible escapes (``report.escapes``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.records import render_tool_calls
from evalkit.records.cases import CaseRecord, CaseResult, ChatInput
from evalkit.records.results import RunResults
from evalkit.report.escapes import clip, has_hidden, visible, visible_data

__all__ = ["MAX_TEXT", "RIGHT_AT", "case_data", "deciding_scorer", "script_json"]

RIGHT_AT = 0.5
"""A case counts as right for a target when the deciding scorer gave it at least this."""

MAX_TEXT = 100_000
"""The most characters of one answer, input, reference or message the page embeds (a page of megabyte
answers would be slow to open; results.json keeps them whole)."""

_SCRIPT_UNSAFE = str.maketrans({
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
})


def case_data(results: RunResults, *, base: str | None, focus: str | None, best: str | None = None) -> dict[str, Any]:
    """What the page's script needs to list, filter and open every case."""
    targets = results.target_names
    scorer = deciding_scorer(results)
    labels = _labels(results)
    cases = [_case(case, targets, scorer, set(labels)) for case in results.cases]
    return {
        "targets": visible_data(targets),
        "base": base if base is None else visible(base),
        "focus": focus if focus is None else visible(focus),
        "best": best if best is None else visible(best),
        "scorer": scorer if scorer is None else visible(scorer),
        "labels": visible_data(labels),
        "flips": visible_data(_flips(results, cases, targets, base, scorer)),
        "cases": cases,
    }


def script_json(data: Any) -> str:
    """``data`` as JSON that cannot end or confuse a ``<script>`` element (``<``, ``>``, ``&``, U+2028/9), with
    every string's lone surrogates and control characters as visible escapes (``case_data`` writes its
    strings so; anything else is walked here)."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except UnicodeEncodeError:
        text = ""
    if not text or (not text.isprintable() and has_hidden(text)):  # isprintable: the usual case, at C speed
        text = json.dumps(visible_data(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_UNSAFE)


def deciding_scorer(results: RunResults) -> str | None:
    """The scorer that says whether a case is right: the flips' scorer, else the suite's first one."""
    for flip in results.flips:
        if flip.scorer:
            return flip.scorer
    for scorer in results.scorers:
        return scorer.name
    for case in results.cases:
        for result in case.results.values():
            for name in result.scores:
                return name
    return None


def _labels(results: RunResults) -> list[str]:
    """The labels of the suite's classify scorers, in their order."""
    found: list[str] = []
    for scorer in results.scorers:
        if scorer.kind == "classify":
            found += [str(label) for label in scorer.options.get("labels", []) if label not in found]
    if not found:
        for per_scorer in results.details.values():
            for detail in per_scorer.values():
                found += [str(label) for label in detail.get("labels", []) if label not in found]
    return found


def _case(case: CaseRecord, targets: Sequence[str], scorer: str | None, labels: set[str]) -> dict[str, Any]:
    context, shown = _conversation(case.input)
    reference = case.reference
    return _compact({
        "id": visible(case.id),
        "line": case.line,
        "ctx": [[visible(role), _cut(text)] for role, text in context],
        "input": _cut(shown),
        "ref": _cut(reference),
        "label": visible(reference.strip()) if reference.strip() in labels else None,
        "res": [_result(case.results.get(name), scorer) for name in targets],
    })


def _result(result: CaseResult | None, scorer: str | None) -> dict[str, Any] | None:
    if result is None:
        return None
    scores, answers, why = result.scores, result.answers, result.explanations
    deciding = scores.get(scorer) if scorer else None
    return _compact({
        "out": _cut(result.output),
        "err": _cut(result.error),
        "ok": None if deciding is None else deciding >= RIGHT_AT,
        "s": [[visible(name), value, _cut(answers.get(name)), _cut(why.get(name))] for name, value in scores.items()]
        + [[visible(name), None, _cut(answers.get(name)), _cut(text)] for name, text in why.items() if name not in scores],
        "serr": [[visible(name), _cut(message)] for name, message in result.score_errors.items()],
        "lat": result.latency_s,
        "fin": _cut(result.finish_reason) if result.finish_reason != "stop" else None,
        "cached": result.cached,
    })


def _cut(text: str | None) -> str | None:
    """``text`` cut to ``MAX_TEXT`` characters, its hidden characters made visible (None stays None)."""
    return None if text is None else visible(clip(text, MAX_TEXT))


def _conversation(data: Any) -> tuple[list[list[str]], str]:
    """The messages before the last user message, and the text from that message on (or the prompt):
    what comes after it (tool calls and results) follows, each message headed by its role."""
    if not isinstance(data, ChatInput):
        return [], str(data.prompt)
    messages = list(data.messages)
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    last = users[-1] if users else len(messages) - 1
    if last < 0:
        return [], ""
    earlier = [[str(m.get("role", "?")), message_text(m)] for m in messages[:last]]
    after = "".join(f"\n\n{m.get('role', '?')}: {message_text(m)}" for m in messages[last + 1 :])
    return earlier, message_text(messages[last]) + after


def message_text(message: Mapping[str, Any]) -> str:
    """A chat message as text: its content, content parts joined (images as ``[image]``), or its tool calls."""
    content = message.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = "\n".join(_part_text(part) for part in content)
    else:
        text = "" if content is None else json.dumps(content, ensure_ascii=False)
    if message.get("tool_calls"):
        calls = render_tool_calls(message["tool_calls"])
        text = f"{text}\n{calls}" if text else calls
    return text


def _part_text(part: Any) -> str:
    if isinstance(part, Mapping) and part.get("type") == "text":
        return str(part.get("text", ""))
    if isinstance(part, Mapping) and part.get("type") in ("image_url", "input_image"):
        return "[image]"
    return json.dumps(part, ensure_ascii=False)


def _flips(
    results: RunResults,
    cases: Sequence[Mapping[str, Any]],
    targets: Sequence[str],
    base: str | None,
    scorer: str | None,
) -> dict[str, dict[str, list[str]]]:
    """Per target, the ids of the cases it fixed and broke against ``base``: the run's own flips if it
    has them for that scorer, else counted here from the deciding scorer."""
    if base is None:
        return {}
    found: dict[str, dict[str, list[str]]] = {}
    for flip in results.flips:
        if flip.versus == base and flip.scorer == scorer and flip.target in targets:
            found[flip.target] = {"fixed": list(flip.fixed_ids), "broken": list(flip.broken_ids)}
    where = targets.index(base)
    for index, target in enumerate(targets):
        if target != base and target not in found:
            found[target] = _count_flips(cases, index, where)
    return found


def _count_flips(cases: Sequence[Mapping[str, Any]], target: int, base: int) -> dict[str, list[str]]:
    fixed: list[str] = []
    broken: list[str] = []
    for case in cases:
        now, before = _ok(case, target), _ok(case, base)
        if now is None or before is None or now == before:
            continue
        (fixed if now else broken).append(case["id"])
    return {"fixed": fixed, "broken": broken}


def _ok(case: Mapping[str, Any], index: int) -> bool | None:
    result = case["res"][index]
    return None if result is None else result.get("ok")


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without keys that say nothing: None, empty lists, ``cached`` false (the script reads them
    as absent)."""
    return {
        key: value
        for key, value in data.items()
        if not (value is None or (isinstance(value, list) and not value) or (key == "cached" and not value))
    }
