"""report.html: one self-contained page — verdict, metrics, targets, and every case side by side.

The page is rendered by jinja2 with autoescaping on, from a view built here out of the results dict. Model
outputs and test data are untrusted: they only ever reach the page as escaped text, and the page carries a
Content-Security-Policy that forbids scripts and any request off the page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evalkit.report.summary import format_number, headline_metrics, headline_value

__all__ = ["TEMPLATE_DIR", "render_html"]

TEMPLATE_DIR = Path(__file__).with_name("templates")
"""Where the report's jinja2 templates live."""

_TEMPLATE = "report.html.j2"


def render_html(results: Mapping[str, Any]) -> str:
    """The HTML report of a run, as one string."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,  # always: the template's name does not end in .html
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = format_number
    return env.get_template(_TEMPLATE).render(report=_view(results))


def _view(results: Mapping[str, Any]) -> dict[str, Any]:
    names = [t["name"] for t in results["targets"]]
    return {
        "suite": results["suite"],
        "evalkit_version": results["evalkit_version"],
        "started_at": results["started_at"],
        "finished_at": results["finished_at"],
        "gate": results["gate"],
        "targets": results["targets"],
        "metrics": _metrics_view(results, names),
        "usage": [{"target": name, **results["usage"].get(name, {})} for name in names],
        "cases": [_case_view(index, case, names) for index, case in enumerate(results["cases"], 1)],
        "comparisons": results["comparisons"],
        "training": _training_view(results["training"]),
        "warnings": results["warnings"],
        "settings": {
            "generation": _compact(results["generation"]),
            "completions": _compact(results["completions"]),
        },
    }


def _metrics_view(results: Mapping[str, Any], targets: Sequence[str]) -> dict[str, Any]:
    headline = headline_metrics(results)
    others = sorted({m for t in results["metrics"].values() for m in t} - set(headline))
    columns = [*headline, *others]
    rows = []
    for target in targets:
        found = results["metrics"].get(target, {})
        cells = []
        for metric in columns:
            entry = found.get(metric) or {
                "value": headline_value(results, target, metric),
                "ci": None,
                "n": None,
            }
            cells.append(entry)
        rows.append({"target": target, "cells": cells})
    return {"columns": columns, "rows": rows}


def _case_view(index: int, case: Mapping[str, Any], targets: Sequence[str]) -> dict[str, Any]:
    shown, earlier = _input_view(case["input"])
    return {
        "index": index,
        "id": case["id"],
        "line": case["line"],
        "input": shown,
        "earlier": earlier,
        "reference": case["reference"],
        "results": [_result_view(name, case["results"].get(name)) for name in targets],
    }


def _input_view(data: Mapping[str, Any]) -> tuple[str, list[dict[str, str]]]:
    """The text to show (the last user message, or the prompt) and the conversation before it."""
    if "messages" not in data:
        return str(data.get("prompt", "")), []
    messages = list(data["messages"])
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=len(messages) - 1)
    if last_user < 0:
        return "", []
    earlier = [{"role": str(m.get("role", "?")), "text": _message_text(m)} for m in messages[:last_user]]
    return _message_text(messages[last_user]), earlier


def _message_text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_part_text(part) for part in content)
    if message.get("tool_calls"):
        return json.dumps(message["tool_calls"], ensure_ascii=False, indent=1)
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def _part_text(part: Any) -> str:
    if isinstance(part, Mapping) and part.get("type") == "text":
        return str(part.get("text", ""))
    if isinstance(part, Mapping) and part.get("type") in ("image_url", "input_image"):
        return "[image]"
    return json.dumps(part, ensure_ascii=False)


def _result_view(target: str, result: Mapping[str, Any] | None) -> dict[str, Any]:
    if result is None:
        return {"target": target, "missing": True}
    answers, explanations = result.get("answers", {}), result.get("explanations", {})
    return {
        "target": target,
        "missing": False,
        "output": result["output"],
        "error": result["error"],
        "cached": result["cached"],
        "latency_s": result["latency_s"],
        "finish_reason": result["finish_reason"],
        "scores": [
            {
                "name": name,
                "value": _score_text(value),
                "grade": _grade(value),
                "answer": answers.get(name),
                "explanation": explanations.get(name),
            }
            for name, value in result["scores"].items()
        ],
    }


def _score_text(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if value in (0.0, 1.0) else f"{value:.3f}"


def _grade(value: float | None) -> str:
    if value is None:
        return "none"
    return "good" if value >= 1.0 else "bad" if value <= 0.0 else "mid"


def _training_view(steps: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    columns: list[str] = []
    for step in steps:
        columns += [key for key in step if key not in columns]
    return {"columns": columns, "rows": [[_cell(step.get(c)) for c in columns] for step in steps]}


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return format_number(value, 4)
    return "—" if value is None else str(value)


def _compact(settings: Mapping[str, Any]) -> str:
    shown = {key: value for key, value in settings.items() if value not in (None, {}, [])}
    return json.dumps(shown, ensure_ascii=False) if shown else "defaults"
