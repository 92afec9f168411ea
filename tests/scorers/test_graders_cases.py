"""Before any call, every case must have each item field a grader's templates name: what is missing is said
with the fields the case does have, at the case's line and the suite option that reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.cli.validate import describe_suite
from evalkit.errors import DataError
from evalkit.records import Case
from evalkit.scorers.base import CaseProblem
from evalkit.scorers.graders import build_grader
from evalkit.suite.grader_options import parse_grader


def _problem(reference: str, item: dict[str, object]) -> CaseProblem | None:
    options = parse_grader({
        "type": "string_check", "name": "n", "operation": "eq", "input": "{{sample.output_text}}", "reference": reference,
    })  # fmt: skip
    return build_grader(options).check_case(Case(id="c1", reference="r", item=item))


@pytest.mark.parametrize(
    ("reference", "item", "problem"),
    [
        ("{{item.answer}}", {"answer": "x"}, None),
        ("{{item.reference}} {{item.id}}", {}, None),  # always there
        ("{{item.answer}}", {"other": 1}, "item has no field 'answer' (its fields: other, id, reference)"),
        ("{{item.meta.lang}}", {"meta": {"topic": "x"}}, "item.meta has no field 'lang' (its fields: topic)"),
        ("{{item.meta.lang}}", {"meta": "en"}, "item.meta is text, which has no field 'lang'"),
        ("{{item.tags[2]}}", {"tags": ["a", "b"]}, "item.tags has no item 2 (it has 2)"),
        ("{{item.tags[1]}}", {"tags": ["a", "b"]}, None),
        ("{{item['my field']}}", {"my field": 1}, None),
        ("{{item.name.upper()}}", {"name": "x"}, None),  # a method of the value, not a field
        ("{{item.values}}", {"values": [1]}, None),  # a field, even where a mapping has a method of that name
        ("{{sample.output_json.total}}", {}, None),  # the answer's: known only once it is in
    ],
)
def test_what_a_case_lacks_is_said_with_what_it_has(
    reference: str, item: dict[str, object], problem: str | None
) -> None:
    found = _problem(reference, item)
    assert (found.message if found else None) == problem
    if found is not None:
        assert found.option == "grader.reference"


def test_an_inline_case_lacking_a_field_is_located_in_the_suite_file(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "name: s\n"
        "cases:\n"
        "  - {messages: [{role: user, content: hi}], item: {answer: hello}}\n"
        "  - {messages: [{role: user, content: yo}], item: {other: 1}}\n"
        "scorers:\n"
        "  - grader:\n"
        "      type: text_similarity\n"
        "      name: sim\n"
        "      input: '{{sample.output_text}}'\n"
        "      reference: '{{item.answer}}'\n"
        "      evaluation_metric: fuzzy_match\n"
    )
    with pytest.raises(DataError) as caught:
        describe_suite(tmp_path / "s.yaml")
    error = caught.value
    assert (Path(error.file or "").name, error.line, error.field) == ("s.yaml", 4, "item")
    assert "item has no field 'answer' (its fields: other, id, reference)" in error.message
    assert "scorers[0].grader.reference (" in error.message and "s.yaml:10) reads" in error.message
