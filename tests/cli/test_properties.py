"""Bad input at scale: whatever a suite file or a data file holds, ``evalkit validate`` describes it
(exit 0) or says in one line what is wrong (exit 2) — never a traceback, never another exit code.

Hypothesis writes the files: arbitrary text, arbitrary YAML documents, suite-shaped documents with
arbitrary values, and data files whose lines are arbitrary text, arbitrary JSON, or nearly-right rows
of each supported format (chat, legacy prompt/completion, CSV).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.cli import main

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SUITE_KEYS = ("name", "description", "data", "cases", "generation", "completions", "scorers", "gate",
              "targets", "prices")
SCORER_KINDS = ("exact", "includes", "regex", "json", "classify", "judge")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True), st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
"""Any JSON/YAML value (NaN and infinities included: YAML has them)."""


def _validate(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``evalkit validate`` ends with exit 0, or exit 2 and exactly one ``evalkit: error:`` line."""
    capsys.readouterr()
    code = main(["validate", str(suite)])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip("\n").split("\n")
        assert len(lines) == 1 and lines[0].startswith("evalkit: error: "), err


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


# ── suite files ──────────────────────────────────────────────────────────────────────────────────────

names = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12)
scorer_entries = st.one_of(
    st.sampled_from(SCORER_KINDS),
    st.just({"classify": {"labels": ["billing", "technical"]}}),
    st.builds(lambda kind, options: {kind: options}, st.sampled_from(SCORER_KINDS), json_values),
    json_values,
)
suite_documents = st.fixed_dictionaries(
    {"name": names | json_values, "data": st.just("data.jsonl"), "scorers": st.lists(scorer_entries, max_size=3)},
    optional={
        **{key: json_values for key in SUITE_KEYS if key not in ("name", "data", "scorers", "targets")},
        "targets": st.dictionaries(names, st.sampled_from(["gpt-4o-mini", "davinci-002@completions"]) | json_values,
                                   max_size=2),
        "unknown_key": json_values,
    },
)
"""Dicts shaped like a suite, with arbitrary values where the schema expects particular ones."""


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "billing"}]}
    return _write(tmp_path / "data.jsonl", json.dumps(row) + "\n")


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_as_a_suite_file(
    text: str, tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _validate(_write(tmp_path / "suite.yaml", text), capsys)


@SETTINGS
@given(document=json_values)
def test_any_yaml_document_as_a_suite_file(
    document: Any, tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _validate(_write(tmp_path / "suite.yaml", yaml.safe_dump(document, allow_unicode=True)), capsys)


@SETTINGS
@given(document=suite_documents)
def test_suite_shaped_documents_with_any_values(
    document: dict[str, Any], tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _validate(_write(tmp_path / "suite.yaml", yaml.safe_dump(document, allow_unicode=True)), capsys)


# ── data files ───────────────────────────────────────────────────────────────────────────────────────

messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant", "tool", "robot"]) | json_values},
        optional={"content": st.text(max_size=20) | json_values, "weight": json_values,
                  "tool_calls": json_values, "name": json_values},
    ),
    max_size=4,
)
good_rows = st.builds(
    lambda question, answer: {"messages": [{"role": "user", "content": question},
                                           {"role": "assistant", "content": answer}]},
    st.text(max_size=20), st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=10),
)
"""Rows that are right (any text, empty included), so a file of them is valid."""
chat_rows = st.fixed_dictionaries(
    {"messages": messages | json_values}, optional={"id": json_values, "tools": json_values}
)
legacy_rows = st.fixed_dictionaries(
    {"prompt": st.text(max_size=20) | json_values, "completion": st.text(max_size=20) | json_values},
    optional={"id": json_values},
)
jsonl_lines = st.one_of(
    good_rows.map(json.dumps),
    good_rows.map(json.dumps),
    st.text(max_size=40).map(lambda t: t.replace("\n", " ").replace("\r", " ")),
    json_values.map(json.dumps),
    chat_rows.map(json.dumps),
    legacy_rows.map(json.dumps),
)


def _suite_for(tmp_path: Path, data: str) -> Path:
    if data.endswith(".csv"):
        data = f"{{path: {data}, columns: {{input: prompt, expected: completion}}}}"
    return _write(
        tmp_path / "suite.yaml",
        f"name: properties\ndata: {data}\nscorers: [exact]\ntargets: {{m: gpt-4o-mini}}\n",
    )


@SETTINGS
@given(lines=st.lists(jsonl_lines, max_size=6))
def test_any_jsonl_lines_as_data(lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "data.jsonl", "".join(line + "\n" for line in lines))
    _validate(_suite_for(tmp_path, "data.jsonl"), capsys)


@SETTINGS
@given(rows=st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=4), max_size=5),
       header=st.just(["prompt", "completion"])
       | st.lists(st.sampled_from(["prompt", "completion", "id", "x", ""]), max_size=4))
def test_any_csv_as_data(
    rows: list[list[str]], header: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    _write(tmp_path / "data.csv", buffer.getvalue())
    _validate(_suite_for(tmp_path, "data.csv"), capsys)


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_any_bytes_as_data(raw: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data.jsonl").write_bytes(raw)
    _validate(_suite_for(tmp_path, "data.jsonl"), capsys)
