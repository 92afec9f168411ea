"""Tables → cases through ``datasets``: CSV (every cell read as text), Parquet, datasets saved to disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from evalkit.data import load_cases
from evalkit.errors import DataError
from evalkit.records import CaseSet
from evalkit.suite import load_suite

CSV_DATA = "data: {path: test.csv, columns: {input: question, expected: answer, system: sys, id: key}}"


@pytest.fixture(autouse=True)
def _datasets_cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``datasets`` reads its cache location once, at import; point it at this test's tmp dir."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    monkeypatch.chdir(tmp_path)


def _suite(tmp_path: Path, data: str, *, scorers: str = "scorers: [exact]\n") -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(f"name: t\n{data}\n{scorers}")
    return path


def _csv(tmp_path: Path, text: str, *, data: str = CSV_DATA) -> CaseSet:
    (tmp_path / "test.csv").write_text(text)
    return load_cases(load_suite(_suite(tmp_path, data)))


def test_csv_cells_stay_text_leading_zeros_and_na_included(tmp_path: Path) -> None:
    text = 'key,question,answer,sys\n001,"Code, please",007,Be brief\n002,Missing?,NA,\n'
    case_set = _csv(tmp_path, text)
    first, second = case_set.cases
    assert (first.id, first.reference) == ("001", "007")
    assert first.messages == (
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "Code, please"},
    )
    assert (second.id, second.reference) == ("002", "NA")
    assert second.messages == ({"role": "user", "content": "Missing?"},)
    assert [(c.source, c.line) for c in case_set.cases] == [("test.csv", 2), ("test.csv", 3)]
    assert case_set.source == "test.csv"
    assert case_set.sha256 == hashlib.sha256(text.encode()).hexdigest()


def test_csv_with_a_byte_order_mark_and_no_id_column(tmp_path: Path) -> None:
    (tmp_path / "test.csv").write_bytes(b"\xef\xbb\xbfquestion,answer\nhi,billing\n")
    data = "data: {path: test.csv, columns: {input: question, expected: answer}}"
    (case,) = load_cases(load_suite(_suite(tmp_path, data))).cases
    assert case.reference == "billing" and len(case.id) == 12


def test_a_mapping_naming_a_missing_column_lists_the_columns(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        _csv(tmp_path, "key,question,label,sys\n1,hi,billing,\n")
    assert str(caught.value) == (
        "suite.yaml:2: data.columns.expected: column 'answer' is not in test.csv (columns: key, question, "
        "label, sys)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key,question,answer,sys\n1,hi,,\n", "test.csv:2: answer: is empty (it is the expected column)"),
        ("key,question,answer,sys\n", "test.csv: no cases (the file has a header but no rows)"),
        ("", "test.csv: no cases (the file is empty)"),
        ("key,question,answer,answer\n1,a,b,c\n", "test.csv:1: column 'answer' appears twice in the header"),
        (
            "key,question,answer,sys\n1,hi,billing,\n1,ho,technical,\n",
            "test.csv:3: id: id '1' is used twice (first at line 2)",
        ),
    ],
)
def test_bad_csv_files_are_located(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(DataError) as caught:
        _csv(tmp_path, text)
    assert str(caught.value) == expected


def test_csv_reference_not_a_label(tmp_path: Path) -> None:
    (tmp_path / "test.csv").write_text("q,a\nhi,billing\nho,refund\n")
    data = "data: {path: test.csv, columns: {input: q, expected: a}}"
    suite = _suite(tmp_path, data, scorers="scorers:\n  - classify: {labels: [billing, technical]}\n")
    with pytest.raises(DataError) as caught:
        load_cases(load_suite(suite))
    assert (
        str(caught.value)
        == "test.csv:3: a: reference 'refund' is not one of the classify labels (billing, technical)"
    )


def test_parquet_values_are_converted_to_text(tmp_path: Path) -> None:
    import datasets

    datasets.Dataset.from_dict({"q": ["two plus two?"], "a": [4], "n": [10]}).to_parquet(
        str(tmp_path / "t.parquet")
    )
    case_set = load_cases(
        load_suite(_suite(tmp_path, "data: {path: t.parquet, columns: {input: q, expected: a, id: n}}"))
    )
    (case,) = case_set.cases
    assert (case.id, case.reference, case.line) == ("10", "4", 1)
    assert case.messages == ({"role": "user", "content": "two plus two?"},)


def test_a_dataset_saved_to_disk_is_read_by_split(tmp_path: Path) -> None:
    import datasets

    splits = {
        "train": datasets.Dataset.from_dict({"text": ["t"], "label": ["billing"]}),
        "test": datasets.Dataset.from_dict({"text": ["a", "b"], "label": ["billing", "technical"]}),
    }
    datasets.DatasetDict(splits).save_to_disk(str(tmp_path / "ds"))
    data = "data: {hf: ds, split: test, columns: {input: text, expected: label}}"
    first = load_cases(load_suite(_suite(tmp_path, data)))
    again = load_cases(load_suite(_suite(tmp_path, data)))
    assert [c.reference for c in first.cases] == ["billing", "technical"]
    assert [(c.source, c.line) for c in first.cases] == [(None, 1), (None, 2)]
    assert first.source == "hf:ds:test"
    assert first.sha256 == again.sha256
    assert [c.id for c in first.cases] == [c.id for c in again.cases]


def test_a_missing_split_or_dataset_names_the_dataset(tmp_path: Path) -> None:
    import datasets

    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"x": ["a"], "y": ["b"]})}).save_to_disk(
        str(tmp_path / "ds")
    )
    with pytest.raises(DataError) as caught:
        load_cases(load_suite(_suite(tmp_path, "data: {hf: ds, columns: {input: x, expected: y}}")))
    assert (
        str(caught.value)
        == "suite.yaml:2: data.hf: cannot load dataset 'ds': split 'test' not found (splits: train)"
    )

    with pytest.raises(DataError) as caught:
        load_cases(
            load_suite(_suite(tmp_path, "data: {hf: nobody/nothing, columns: {input: x, expected: y}}"))
        )
    assert str(caught.value).startswith("suite.yaml:2: data.hf: cannot load dataset 'nobody/nothing': ")
