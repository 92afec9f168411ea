"""Scorer options are part of the suite schema: what cannot work is refused when the suite is loaded, located
at the offending option (file, line, field), before any data is read or model called."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from evalkit.errors import SuiteError
from evalkit.suite import load_suite
from evalkit.suite.scorer_options import ClassifyOptions, ExactOptions, IncludesOptions, JsonOptions


def _load(tmp_path: Path, scorers: str) -> None:
    (tmp_path / "suite.yaml").write_text(f"name: s\ncases: [{{input: a, expected: b}}]\nscorers:\n{scorers}")
    load_suite(tmp_path / "suite.yaml")


@pytest.mark.parametrize(
    ("labels", "casefold", "message"),
    [
        (
            ["Billing", "billing"],
            True,
            "labels 'Billing' and 'billing' are the same after normalisation when case is ignored",
        ),
        (["refund", "refund.", "other"], False, "labels 'refund' and 'refund.' are the same after normalisation"),
        (["billing", "Unparsed"], True, "label 'Unparsed' is reserved"),
        (["billing", "?!"], True, "label '?!' is only punctuation or whitespace"),
    ],
)
def test_labels_that_cannot_be_told_apart_are_a_suite_error(
    tmp_path: Path, labels: list[str], casefold: bool, message: str
) -> None:
    scorers = f"  - exact\n  - classify: {{labels: {json.dumps(labels)}, casefold: {str(casefold).lower()}}}\n"
    with pytest.raises(SuiteError) as caught:
        _load(tmp_path, scorers)
    assert (caught.value.line, caught.value.field) == (5, "scorers[1].classify.labels")
    assert message in str(caught.value)
    with pytest.raises(ValidationError, match="normalisation|reserved|only punctuation"):
        ClassifyOptions(labels=labels, casefold=casefold)


def test_an_invalid_json_schema_is_a_suite_error(tmp_path: Path) -> None:
    with pytest.raises(SuiteError) as caught:
        _load(tmp_path, "  - exact\n  - json: {schema: {type: banana}}\n")
    assert (caught.value.line, caught.value.field) == (5, "scorers[1].json.schema")
    assert "not a valid JSON Schema" in str(caught.value) and "banana" in str(caught.value)
    assert JsonOptions(schema={"type": "object"}).json_schema == {"type": "object"}


def test_a_scorer_cannot_take_the_error_rate_name(tmp_path: Path) -> None:
    with pytest.raises(SuiteError) as caught:
        _load(tmp_path, "  - exact: {name: error_rate}\n")
    assert caught.value.field == "scorers[0].exact.name"
    assert "scorer name 'error_rate' is reserved for evalkit's own metric" in str(caught.value)
    with pytest.raises(ValidationError, match="reserved"):
        ExactOptions(name="error_rate")


def test_includes_with_empty_text_would_match_everything(tmp_path: Path) -> None:
    with pytest.raises(SuiteError) as caught:
        _load(tmp_path, "  - includes: {text: ''}\n")
    assert caught.value.field == "scorers[0].includes.text"
    assert "text is empty, so it would be found in every output" in str(caught.value)
    assert IncludesOptions(text="x").text == "x"


def test_a_label_is_found_however_the_reference_is_written() -> None:
    options = ClassifyOptions(labels=["billing", "Late delivery"])
    assert options.label_of(" **Billing.** ") == "billing"
    assert options.label_of("late   DELIVERY") == "Late delivery"
    assert options.label_of("refund") is None
    assert ClassifyOptions(labels=["billing", "b2"], casefold=False).label_of("Billing") is None
