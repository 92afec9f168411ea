"""What a grader's templates read, and rendering them: ``sample`` (the target's answer) and ``item`` (the
case's data row), in the sandboxed, strict jinja2 environment of ``evalkit.suite.grader_templates``.

    sample.output_text   the answer, as the target gave it
    sample.output_json   the answer parsed as JSON; null when it is not JSON (OpenAI filled it only for a
                         JSON response format) or when it is tool calls
    sample.output_tools  the tool calls, when the answer is evalkit's rendering of them
                         (``render_tool_calls``), in the Chat Completions shape: ``[{"type": "function",
                         "function": {"name", "arguments"}}]`` with ``arguments`` a JSON text; else []
    item                 the case's ``item`` fields (a table's other columns), with ``id`` and ``reference``

Model output is untrusted text: it is a value the template reads, never template source, and the
sandbox gives a template no way to reach Python objects. A template that reads what this answer does
not have (``{{sample.output_json.total}}`` on an answer that is not JSON) cannot be rendered: the case gets
a scoring error, never a made-up text.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from evalkit.records import Case
from evalkit.scorers.base import ScoringError
from evalkit.suite.grader_templates import template_environment

if TYPE_CHECKING:
    from jinja2 import Template

__all__ = ["item_namespace", "render", "sample_namespace"]


def item_namespace(case: Case) -> dict[str, Any]:
    """``item`` for ``case``: its item fields, with its ``id`` and ``reference`` (which take precedence)."""
    return {**case.item, "id": case.id, "reference": case.reference}


def sample_namespace(output: str) -> dict[str, Any]:
    """``sample`` for an answer: its text, its JSON and its tool calls."""
    parsed = _json(output)
    tools = _tool_calls(parsed)
    return {"output_text": output, "output_json": None if tools else parsed, "output_tools": tools}


def render(text: str, *, sample: dict[str, Any], item: dict[str, Any]) -> str:
    """``text`` rendered for one answer; ``ScoringError`` when it reads what is not there."""
    from jinja2 import TemplateError

    try:
        return _compiled(text).render(sample=sample, item=item)
    except TemplateError as exc:
        raise ScoringError(f"a grader template could not be rendered for this answer: {exc.message}") from None


@lru_cache(maxsize=512)
def _compiled(text: str) -> Template:
    return template_environment().from_string(text)


def _json(output: str) -> Any:
    try:
        return json.loads(output)
    except ValueError:
        return None


def _tool_calls(parsed: Any) -> list[dict[str, Any]]:
    """The tool calls of a ``render_tool_calls`` text (``[{"arguments": …, "name": …}]``), or []."""
    if not isinstance(parsed, list) or not parsed:
        return []
    if not all(isinstance(call, dict) and set(call) == {"name", "arguments"} for call in parsed):
        return []
    return [
        {
            "type": "function",
            "function": {
                "name": call["name"],
                "arguments": call["arguments"] if isinstance(call["arguments"], str) else json.dumps(call["arguments"]),
            },
        }
        for call in parsed
    ]
