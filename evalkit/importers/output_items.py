"""A run's output items, as ``GET /v1/evals/{id}/runs/{run}/output_items`` returned them (schema
``EvalRunOutputItem``): per item, the conversation sent (``sample.input``), the model's answer
(``sample.output``: its text, tool calls rendered as evalkit renders them), usage, finish reason or error,
and OpenAI's own grader results.

The answers become a saved run that stands in for the model (``evalkit.importers.saved_run``): an answer
is the assistant text of ``sample.output``, or its tool calls as ``render_tool_calls`` writes them (the
text evalkit compares a live model's tool calls as), or its refusal; a sample with an error is that
error, as a call that failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.importers.conversation import ItemError, chat_messages
from evalkit.importers.reading import Where, json_type, read_records, shown
from evalkit.records import Message, Outcome, Usage, render_tool_calls
from evalkit.text import encodable

__all__ = ["GraderResult", "OutputItem", "OutputItems", "read_output_items"]

_WHAT = "the run's output items as GET /v1/evals/{id}/runs/{run}/output_items returns them"


@dataclass(frozen=True, slots=True)
class GraderResult:
    """One of OpenAI's grader results on an output item."""

    name: str
    """The criterion's name, as OpenAI reported it."""
    score: float | None
    """Its score."""
    passed: bool | None
    """Whether it passed."""


@dataclass(frozen=True, slots=True)
class OutputItem:
    """One item's sample and results in the run."""

    item_id: int
    """``datasource_item_id``: the item's place among the run's data."""
    item: dict[str, Any]
    """``datasource_item``: the item's fields."""
    where: Where
    """Where the output item is in its file."""
    run_id: str | None
    """The run it belongs to, if said."""
    created_at: int | None
    """When it was made (Unix seconds), if said."""
    sent: list[Message] | None
    """``sample.input`` in Chat Completions' shape: the conversation sent; None when it is empty."""
    outcome: Outcome
    """The answer (or the error), usage and finish reason."""
    model: str | None
    """``sample.model``: the model that answered, if said."""
    sample: dict[str, Any]
    """The sample as given (its sampling settings: ``temperature``, ``max_completion_tokens``, …)."""
    results: list[GraderResult]
    """OpenAI's grader results, in its order."""


@dataclass(frozen=True, slots=True)
class OutputItems:
    """The output items of one run."""

    items: list[OutputItem]
    """In file order."""
    more: bool
    """The file's last page said ``has_more``: output items the file lacks."""

    @property
    def run_id(self) -> str | None:
        """The run they belong to (the first one said)."""
        return next((o.run_id for o in self.items if o.run_id), None)

    @property
    def model(self) -> str | None:
        """The model that answered most of them, if said."""
        models = Counter(o.model for o in self.items if o.model)
        return models.most_common(1)[0][0] if models else None


def read_output_items(path: Path) -> OutputItems:
    """The output items in ``path``; ``InputError`` at the first that is not one."""
    found = read_records(path, what=_WHAT)
    items = [_output_item(record, where) for record, where in found.records]
    run_ids = {o.run_id for o in items if o.run_id}
    if len(run_ids) > 1:
        raise Where(found.records[0][1].file).error(
            f"holds output items of {len(run_ids)} runs ({', '.join(sorted(run_ids))}); import one run at a time"
        )
    return OutputItems(items, more=found.more)


def _output_item(record: Any, where: Where) -> OutputItem:
    if not isinstance(record, dict):
        raise where.error(f"expected an output item (an object), got {json_type(record)}")
    if record.get("object", "eval.run.output_item") != "eval.run.output_item":
        raise where.at("object").error(
            f"{shown(record.get('object'))} is not an output item; expected {_WHAT}"
        )
    item_id = record.get("datasource_item_id")
    if not isinstance(item_id, int) or isinstance(item_id, bool) or item_id < 0:
        raise where.at("datasource_item_id").error(
            f"expected the item's index (an integer), got {shown(item_id)}"
        )
    item = record.get("datasource_item")
    if not isinstance(item, dict):
        raise where.at("datasource_item").error(
            f"expected the item's fields (an object), got {json_type(item)}"
        )
    sample = record.get("sample") or {}
    if not isinstance(sample, dict):
        raise where.at("sample").error(f"expected an object, got {json_type(sample)}")
    created, run_id, model = record.get("created_at"), record.get("run_id"), sample.get("model")
    return OutputItem(
        item_id=item_id,
        item=item,
        where=where,
        run_id=run_id if isinstance(run_id, str) else None,
        created_at=created if isinstance(created, int) and not isinstance(created, bool) else None,
        sent=_sent(sample.get("input"), where.at("sample")),
        outcome=_outcome(sample, where.at("sample")),
        model=model if isinstance(model, str) and model else None,
        sample=sample,
        results=_results(record.get("results"), where.at("results")),
    )


def _sent(value: Any, where: Where) -> list[Message] | None:
    if value is None or value == []:
        return None
    try:
        return chat_messages(value, field="input")
    except ItemError as exc:
        raise Where(where.file, where.line, f"{where.field}.{exc.field}").error(exc.message) from None


def _outcome(sample: dict[str, Any], where: Where) -> Outcome:
    given = sample.get("usage")
    usage: dict[str, Any] = given if isinstance(given, dict) else {}
    tokens = Usage(
        prompt_tokens=_count(usage, "prompt_tokens"), completion_tokens=_count(usage, "completion_tokens")
    )
    finish = sample.get("finish_reason") if isinstance(sample.get("finish_reason"), str) else None
    error = _error(sample.get("error"))
    if error is not None:
        return Outcome(output=None, error=error, usage=tokens, finish_reason=finish)
    output = sample.get("output")
    if output is not None and not isinstance(output, list):
        raise where.at("output").error(f"expected a list of messages, got {json_type(output)}")
    text = (
        _answer(output or [])
        if output or not isinstance(sample.get("output_text"), str)
        else sample["output_text"]
    )
    return Outcome(output=encodable(text), usage=tokens, finish_reason=finish)


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _error(error: Any) -> str | None:
    """A sample's error as one line, or None when it has none (the API writes an empty one then)."""
    if not isinstance(error, dict):
        return None
    message, code = str(error.get("message") or "").strip(), str(error.get("code") or "").strip()
    if not message and not code:
        return None
    return f"{message} ({code})" if message and code else message or code


def _answer(output: Sequence[Any]) -> str:
    """The answer text of ``sample.output``: its assistant text, else its tool calls, else its refusal."""
    messages = [m for m in output if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
    texts = [_text(m.get("content")) for m in messages]
    if any(texts):
        return "".join(texts)
    calls = [call for m in messages for call in (m.get("tool_calls") or [])]
    if calls:
        return render_tool_calls(calls)
    return "".join(str(m.get("refusal") or "") for m in messages)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _results(results: Any, where: Where) -> list[GraderResult]:
    if results is None:
        return []
    if not isinstance(results, list):
        raise where.error(f"expected a list of grader results, got {json_type(results)}")
    found: list[GraderResult] = []
    for index, result in enumerate(results):
        at = where.at(index)
        if not isinstance(result, dict) or not isinstance(result.get("name"), str):
            raise at.error('expected a grader result like {"name": ..., "score": ..., "passed": ...}')
        score, passed = result.get("score"), result.get("passed")
        if score is not None and (not isinstance(score, (int, float)) or isinstance(score, bool)):
            raise at.at("score").error(f"expected a number, got {shown(score)}")
        found.append(
            GraderResult(
                name=result["name"],
                score=float(score) if score is not None else None,
                passed=passed if isinstance(passed, bool) else None,
            )
        )
    return found
