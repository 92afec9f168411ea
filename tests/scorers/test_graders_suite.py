"""A grader object in a suite: taken as OpenAI's API defines it, and anything that cannot work — an unknown
type, a missing or unknown key, a template that does not parse or reads what no sample has, a hostile
``multi`` formula, a Python source without ``grade`` — refused by ``evalkit validate`` (and so by ``evalkit
run``, which makes the same checks) with one line: file, line, field, what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.cli.validate import describe_suite
from evalkit.errors import InputError
from evalkit.suite.grader_options import metric_name

HEAD = "name: s\ncases: [{input: a, expected: b}]\nscorers:\n"
STRING_CHECK = "{type: string_check, name: check, input: '{{sample.output_text}}', reference: '{{item.reference}}', operation: eq}"


def _refusal(tmp_path: Path, scorers: str) -> str:
    (tmp_path / "suite.yaml").write_text(HEAD + scorers)
    with pytest.raises(InputError) as caught:
        describe_suite(tmp_path / "suite.yaml")
    text = str(caught.value)
    assert "\n" not in text
    return text.replace(str(tmp_path) + "/", "")


@pytest.mark.parametrize(
    ("scorers", "expected"),
    [
        (
            "  - grader: {type: string_chek, name: x}\n",
            ("suite.yaml:4: scorers[0].grader.type: unknown grader type 'string_chek' (known: string_check, "
            "text_similarity, score_model, label_model, python, multi)"),
        ),
        (
            "  - grader: {name: x, input: a}\n",
            "suite.yaml:4: scorers[0].grader.type: required key missing (known: string_check",
        ),
        (
            "  - grader: {type: string_check, name: x, input: a, operation: eq}\n",
            "suite.yaml:4: scorers[0].grader.reference: required key missing",
        ),
        (
            "  - grader: {type: string_check, input: a, reference: b, operation: eq}\n",
            "suite.yaml:4: scorers[0].grader.name: required key missing: the grader's name",
        ),
        (
            ("  - grader:\n      type: string_check\n      name: x\n      input: a\n      reference: b\n"
            "      operation: eq\n      pass_threshold: 0.5\n"),
            ("suite.yaml:10: scorers[0].grader.pass_threshold: unknown key (allowed: name, type, input, "
            "reference, operation)"),
        ),
        (
            "  - grader: {type: string_check, name: x, input: a, reference: b, operation: contains}\n",
            "suite.yaml:4: scorers[0].grader.operation: expected 'eq', 'ne', 'like' or 'ilike', got 'contains'",
        ),
        (
            ("  - grader:\n      type: string_check\n      name: x\n      input: '{{sample.output_text'\n"
            "      reference: b\n      operation: eq\n"),
            "suite.yaml:7: scorers[0].grader.input: not a valid template: unexpected end of template",
        ),
        (
            "  - grader: {type: string_check, name: x, input: '{{ answer }}', reference: b, operation: eq}\n",
            "suite.yaml:4: scorers[0].grader.input: a template may read only 'sample' and 'item', not 'answer'",
        ),
        (
            "  - grader: {type: string_check, name: x, input: '{{sample.output}}', reference: b, operation: eq}\n",
            ("suite.yaml:4: scorers[0].grader.input: sample.output is not something a sample holds (it has: "
            "output_text, output_json, output_tools)"),
        ),
        (
            ("  - grader:\n      type: text_similarity\n      name: x\n      input: a\n      reference: b\n"
            "      evaluation_metric: rouge_6\n"),
            "suite.yaml:9: scorers[0].grader.evaluation_metric: expected 'fuzzy_match', 'bleu'",
        ),
        (
            ("  - grader:\n      type: score_model\n      name: x\n      model: gpt-4o\n"
            "      input: [{role: user, content: {type: input_image, image_url: 'http://x'}}]\n"),
            ("suite.yaml:8: scorers[0].grader.input[0].content[0].type: expected 'input_text' or 'output_text', "
            "got 'input_image'"),
        ),
        (
            ("  - grader:\n      type: label_model\n      name: x\n      model: gpt-4o\n"
            "      input: [{role: user, content: 'Sentiment of {{sample.output_text}}?'}]\n"
            "      labels: [positive, negative]\n      passing_labels: [postive]\n"),
            ("suite.yaml:10: scorers[0].grader.passing_labels[0]: 'postive' is not one of the labels (positive, "
            "negative)"),
        ),
        (
            f"  - grader: {STRING_CHECK}\n  - grader: {STRING_CHECK.replace('name: check', 'name: CHECK')}\n",
            "suite.yaml:5: scorers[1]: scorers[0] is already named 'check'",
        ),
        (
            f"  - grader: {STRING_CHECK.replace('name: check', 'name: Error rate')}\n",
            "suite.yaml:4: scorers[0].grader.name: metric name 'error_rate' is reserved for evalkit's own metric",
        ),
    ],
    ids=[
        "unknown type", "no type", "missing key", "no name", "extra key", "bad operation", "template syntax",
        "template root", "sample field", "metric", "image content", "passing label", "same metric name",
        "reserved name",
    ],
)
def test_a_grader_that_cannot_work_is_one_located_line(tmp_path: Path, scorers: str, expected: str) -> None:
    assert _refusal(tmp_path, scorers).startswith(expected)


@pytest.mark.parametrize(
    ("formula", "what"),
    [
        ("__import__('os').system('true')", "calling anything but"),
        ("exact.__class__", "attribute access: not allowed"),
        ("exact + fuzzy", "'fuzzy' is not a known name (names: exact, similar)"),
    ],
)
def test_a_hostile_or_wrong_multi_formula_is_refused_at_load(tmp_path: Path, formula: str, what: str) -> None:
    scorers = (
        "  - grader:\n"
        "      type: multi\n"
        "      name: combined\n"
        "      graders:\n"
        f"        exact: {STRING_CHECK}\n"
        "        similar: {type: text_similarity, input: '{{sample.output_text}}', reference: '{{item.reference}}',"
        " evaluation_metric: bleu}\n"
        f"      calculate_output: \"{formula}\"\n"
    )
    refusal = _refusal(tmp_path, scorers)
    assert refusal.startswith("suite.yaml:10: scorers[0].grader.calculate_output: ")
    assert what in refusal


def test_a_multi_holding_a_multi_or_an_unnameable_key_is_refused(tmp_path: Path) -> None:
    nested = (
        "  - grader:\n      type: multi\n      name: m\n      calculate_output: inner\n      graders:\n"
        f"        inner: {{type: multi, graders: {{a: {STRING_CHECK}}}, calculate_output: a}}\n"
    )
    assert _refusal(tmp_path, nested).startswith(
        "suite.yaml:9: scorers[0].grader.graders.inner.type: a multi grader's graders cannot be multi graders"
    )
    spaced = f"  - grader:\n      type: multi\n      name: m\n      calculate_output: a\n      graders: {{'a b': {STRING_CHECK}}}\n"
    assert "key 'a b' cannot be named in calculate_output" in _refusal(tmp_path, spaced)


def test_a_python_source_without_grade_is_refused(tmp_path: Path) -> None:
    scorers = "  - grader:\n      type: python\n      name: py\n      source: |\n        def grader(sample, item):\n          return 1\n"
    assert _refusal(tmp_path, scorers).startswith(
        "suite.yaml:7: scorers[0].grader.source: no grade function is defined"
    )


def test_valid_graders_pass_validation_under_their_metric_names(tmp_path: Path) -> None:
    (tmp_path / "suite.yaml").write_text(
        HEAD
        + f"  - grader: {STRING_CHECK.replace('name: check', 'name: Exact match (strict)')}\n"
        + "  - grader:\n"
        "      type: multi\n"
        "      name: Combined score\n"
        "      graders:\n"  # one grader, as OpenAI's spec writes it: named in the formula by its name
        f"        {STRING_CHECK.replace('name: check', 'name: exact-ish')}\n"
        "      calculate_output: 2 * exact_ish - 1\n"
        "  - grader:\n"
        "      type: multi\n"
        "      name: listed\n"
        f"      graders: [{STRING_CHECK}, {STRING_CHECK.replace('name: check', 'name: Second One')}]\n"
        "      calculate_output: (check + second_one) / 2\n"
        "  - grader:\n"
        "      type: python\n"
        "      name: py\n"
        "      image_tag: '2025-05-08'\n"
        "      pass_threshold: 0.5\n"
        "      source: |\n"
        "        def grade(sample, item):\n"
        "            return float(sample['output_text'] == item['reference'])\n"
    )
    text = describe_suite(tmp_path / "suite.yaml")
    assert "scorers: exact_match_strict, combined_score, listed, py" in text


@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("Exact match (strict)", "exact_match_strict"),
        ("fuzzy-match v2", "fuzzy-match_v2"),
        ("  Price ±5%  ", "price_5"),
        ("2nd pass", "_2nd_pass"),
        ("already_fine", "already_fine"),
        ("日本語", ""),
    ],
)
def test_grader_names_become_metric_names_by_one_rule(name: str, metric: str) -> None:
    assert metric_name(name) == metric
