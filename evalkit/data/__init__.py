"""Test data → cases: chat JSONL, legacy prompt/completion JSONL, CSV, Parquet, datasets, inline cases.

    load_cases(suite)            → CaseSet (raises DataError: file:line: field: what is wrong)
    render_tool_calls(calls)     → the text a tool-call answer is compared as (defined in records, shared with the runner)

Modules: ``sources`` (JSONL, inline), ``tables`` (CSV, Parquet, datasets — through ``datasets``),
``chat`` (chat rows, tool calls), ``rows`` (legacy and table rows), ``load`` (ids and set-wide checks).
"""

from evalkit.data.load import load_cases
from evalkit.records import render_tool_calls

__all__ = ["load_cases", "render_tool_calls"]
