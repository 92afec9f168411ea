"""Suite files → Suite: the short forms people write, and one located line for every mistake."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from evalkit.errors import SuiteError
from evalkit.suite import Suite, TargetSpec, load_suite
from evalkit.suite.scorer_options import ClassifyOptions, ExactOptions, RegexOptions

GOOD = """\
name: ticket-triage
description: Route support tickets.
data: data/test.jsonl
generation: {temperature: 0, max_tokens: 16, stop: "\\n"}
completions: {separator: "\\n\\n###\\n\\n", stop: " END"}
scorers:
  - exact
  - exact: {casefold: true, name: exact_ci}
  - classify: {labels: [billing, technical]}
  - {regex: {pattern: "^[a-z]+$", name: one_word}}
gate:
  - {target: final, metric: classify.macro_f1, min: 0.8}
targets:
  base: davinci-002@completions
  final: ft:gpt-4o-mini:org::abc
  vertex: claude-3-haiku@20240307
  tuned: {model: my-deployment, endpoint: chat}
"""


def _write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_suite_with_every_short_form_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    suite = load_suite(path)

    assert suite.name == "ticket-triage"
    assert [(s.kind, s.name) for s in suite.scorers] == [
        ("exact", "exact"),
        ("exact", "exact_ci"),
        ("classify", "classify"),
        ("regex", "one_word"),
    ]
    assert suite.scorers[1].options == ExactOptions(casefold=True, name="exact_ci")
    assert isinstance(suite.scorers[2].options, ClassifyOptions)
    assert suite.scorers[2].options.labels == ["billing", "technical"]
    assert isinstance(suite.scorers[3].options, RegexOptions)
    assert suite.targets == {
        "base": TargetSpec(model="davinci-002", endpoint="completions"),
        "final": TargetSpec(model="ft:gpt-4o-mini:org::abc", endpoint=None),
        "vertex": TargetSpec(model="claude-3-haiku@20240307", endpoint=None),
        "tuned": TargetSpec(model="my-deployment", endpoint="chat"),
    }
    assert suite.generation.stop == ["\n"]
    assert suite.completions.stop == [" END"]
    assert suite.path == path.absolute()
    assert suite.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert suite.data_spec is not None and suite.data_spec.path == "data/test.jsonl"
    assert suite.line_of("scorers", 2) == 9
    assert suite.line_of("targets", "tuned", "model") == 17


def test_the_hash_follows_the_file_bytes(tmp_path: Path) -> None:
    first = load_suite(_write(tmp_path, GOOD)).sha256
    same = load_suite(_write(tmp_path, GOOD, "copy.yaml")).sha256
    changed = load_suite(_write(tmp_path, GOOD.replace("min: 0.8", "min: 0.9"), "changed.yaml")).sha256
    assert first == same != changed


def test_a_scorer_without_options_may_be_written_with_an_empty_mapping_or_null(tmp_path: Path) -> None:
    text = "name: s\ncases: [{input: a, expected: b}]\nscorers:\n  - exact:\n  - includes: {}\n"
    suite = load_suite(_write(tmp_path, text))
    assert [s.kind for s in suite.scorers] == ["exact", "includes"]


def test_suites_built_in_python_take_the_same_short_forms() -> None:
    suite = Suite.model_validate(
        {
            "name": "py",
            "cases": [{"input": "a", "expected": "b"}],
            "scorers": ["exact"],
            "targets": {"m": "x@chat"},
        }
    )
    assert suite.scorers[0].kind == "exact"
    assert suite.targets["m"] == TargetSpec(model="x", endpoint="chat")
    assert suite.line_of("cases", 0) is None


HEAD = "name: s\ndata: test.jsonl\nscorers:\n  - exact\n"

BAD: dict[str, tuple[str, str]] = {
    "YAML syntax error": (
        "name: s\ndata: test.jsonl\nscorers: [exact\n",
        (
            "suite.yaml:4: not valid YAML: did not find expected ',' or ']' "
            "(while parsing a flow sequence started at line 3)"
        ),
    ),
    "unknown nested key": (
        HEAD + "generation:\n  temperature: 0\n  temperatur: 1\n",
        (
            "suite.yaml:7: generation.temperatur: unknown key "
            "(allowed: temperature, max_tokens, top_p, seed, stop, params, reasoning_effort, reasoning_allowance)"
        ),
    ),
    "unknown top-level key": (
        HEAD + "scorer: exact\n",
        (
            "suite.yaml:5: scorer: unknown key (allowed: name, description, data, cases, generation, "
            "completions, "
            "scorers, gate, max_error_rate, max_scoring_error_rate, targets, prices)"
        ),
    ),
    "unknown scorer": (
        HEAD + "  - exactt\n",
        (
            "suite.yaml:5: scorers[1]: scorer 'exactt' is unknown (known: exact, includes, regex, json, "
            "classify, tool_calls, judge, grader)"
        ),
    ),
    "option of the wrong type": (
        HEAD + "  - classify:\n      labels: a\n",
        "suite.yaml:6: scorers[1].classify.labels: expected a list, got 'a'",
    ),
    "unknown scorer option": (
        HEAD + "  - classify: {labels: [a, b], casefolds: true}\n",
        "suite.yaml:5: scorers[1].classify.casefolds: unknown key (allowed: name, labels, match, casefold)",
    ),
    "duplicate labels": (
        HEAD + "  - classify: {labels: [a, b, a]}\n",
        "suite.yaml:5: scorers[1].classify.labels: label 'a' is listed twice; labels must be unique",
    ),
    "two scorers with one name": (
        HEAD + "  - exact: {casefold: true}\n",
        (
            "suite.yaml:5: scorers[1]: scorers[0] is already named 'exact'; give one of them its own name, "
            "e.g. '- exact: {name: exact_2, ...}'"
        ),
    ),
    "options that are not a mapping": (
        HEAD + "  - classify: [a, b]\n",
        "suite.yaml:5: scorers[1].classify: expected a mapping of options, got ['a', 'b']",
    ),
    "two scorers in one entry": (
        HEAD + "  - {includes: {}, regex: {pattern: a}}\n",
        "suite.yaml:5: scorers[1]: a scorer entry names one scorer, got 2 (includes, regex)",
    ),
    "bad regular expression": (
        HEAD + "  - regex: {pattern: '('}\n",
        (
            "suite.yaml:5: scorers[1].regex.pattern: not a valid regular expression: "
            "missing ), unterminated subpattern at position 0"
        ),
    ),
    "missing name": (
        "data: test.jsonl\nscorers: [exact]\n",
        "suite.yaml:1: name: required key missing",
    ),
    "bad suite name": (
        HEAD.replace("name: s", "name: my suite"),
        (
            "suite.yaml:1: name: 'my suite' is not a valid suite name "
            "(start with a letter or digit; then letters, digits, '.', '_', '-')"
        ),
    ),
    "no scorers": (
        "name: s\ndata: test.jsonl\nscorers: []\n",
        "suite.yaml:3: scorers: needs at least 1 item, got 0",
    ),
    "scorers not a list": (
        "name: s\ndata: test.jsonl\nscorers: exact\n",
        "suite.yaml:3: scorers: expected a list, got 'exact'",
    ),
    "number out of range": (
        HEAD + "generation: {temperature: 3}\n",
        "suite.yaml:5: generation.temperature: must be at most 2.0, got 3",
    ),
    "data and cases": (
        HEAD + "cases:\n  - {input: a, expected: b}\n",
        "suite.yaml:5: cases: give 'data' or 'cases', not both",
    ),
    "neither data nor cases": (
        "name: s\nscorers: [exact]\n",
        "suite.yaml:1: required key missing: 'data' (a file of test cases) or 'cases' (a list of cases)",
    ),
    "CSV without a column mapping": (
        HEAD.replace("test.jsonl", "test.csv"),
        (
            "suite.yaml:2: data: required for a csv file: say which columns hold what, "
            "e.g. data: {path: test.csv, columns: {input: question, expected: answer}}"
        ),
    ),
    "unknown data format": (
        "name: s\ndata:\n  path: test.txt\nscorers: [exact]\n",
        "suite.yaml:3: data.path: cannot read .txt files (allowed: .jsonl, .ndjson, .csv, .parquet)",
    ),
    "column mapping without expected": (
        "name: s\ndata:\n  path: t.csv\n  columns: {input: q}\nscorers: [exact]\n",
        "suite.yaml:4: data.columns.expected: required key missing",
    ),
    "data of the wrong type": (
        "name: s\ndata: 5\nscorers: [exact]\n",
        "suite.yaml:2: data: expected a file path or a mapping like {path: ...}, got 5",
    ),
    "bad endpoint suffix": (
        HEAD + "targets:\n  final: gpt-4o@chatt\n",
        (
            "suite.yaml:6: targets.final: 'gpt-4o@chatt': unknown endpoint '@chatt' (allowed: @chat, "
            "@completions, @responses)"
        ),
    ),
    "bad endpoint value": (
        HEAD + "targets:\n  final: {model: gpt-4o, endpoint: assistants}\n",
        "suite.yaml:6: targets.final.endpoint: expected 'chat', 'completions' or 'responses', got 'assistants'",
    ),
    "bad target name": (
        HEAD + "targets:\n  my model: gpt-4o\n",
        (
            "suite.yaml:6: targets.my model: 'my model' is not a valid target name "
            "(letters, digits, '.', '_', '-')"
        ),
    ),
    "gate rule without a bound": (
        HEAD + "gate:\n  - {target: final, metric: exact}\n",
        "suite.yaml:6: gate[0]: a gate rule needs 'min' or 'max' (a bound), 'versus'/'baseline' with 'margin' or 'superior: true' (a comparison), or a budget (max_error_rate, max_cost_usd, max_latency_p95_s)",
    ),
    "empty stop sequence": (
        HEAD + "completions: {stop: ['']}\n",
        "suite.yaml:5: completions.stop: stop sequences must not be empty strings",
    ),
    "key given twice": (
        HEAD + "name: t\n",
        "suite.yaml:5: key 'name' appears twice in this mapping (first at line 1); keep one",
    ),
    "several problems, the first by line is told": (
        "name: s\ndata: test.jsonl\nscorers:\n  - exactt\ngeneration: {temperatur: 0, top_p: 2}\n",
        (
            "suite.yaml:4: scorers[0]: scorer 'exactt' is unknown (known: exact, includes, regex, json, "
            "classify, tool_calls, judge, grader) "
            "(and 2 more problems)"
        ),
    ),
    "not a mapping": (
        "- a\n- b\n",
        "suite.yaml:1: expected a mapping of suite keys (name, data, scorers, …), got list",
    ),
    "empty file": (
        "# nothing yet\n",
        "suite.yaml: the suite file is empty (it needs at least name, data or cases, scorers)",
    ),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_suites_give_one_located_line(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, expected = BAD[kind]
    _write(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SuiteError) as caught:
        load_suite("suite.yaml")
    assert str(caught.value) == expected


def test_tab_indentation_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "name: s\nscorers:\n\t- exact\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SuiteError) as caught:
        load_suite("suite.yaml")
    assert str(caught.value).startswith("suite.yaml:3: not valid YAML: found character")


def test_the_error_carries_file_line_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, BAD["option of the wrong type"][0])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SuiteError) as caught:
        load_suite("suite.yaml")
    assert (caught.value.file, caught.value.line, caught.value.field) == (
        "suite.yaml",
        6,
        "scorers[1].classify.labels",
    )


def test_a_missing_suite_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SuiteError) as caught:
        load_suite("suites/nope.yaml")
    assert str(caught.value) == f"suites/nope.yaml: suite file not found: {tmp_path / 'suites' / 'nope.yaml'}"


def test_a_directory_is_not_a_suite(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="is a directory"):
        load_suite(tmp_path)


def test_a_suite_outside_the_working_directory_is_named_by_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "name: s\nscorers: [exactt]\ncases: [{input: a, expected: b}]\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    assert str(caught.value).startswith(f"{path}:2: scorers[0]: scorer 'exactt' is unknown")


def test_long_values_are_shortened_in_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, HEAD + f"generation: {{max_tokens: {'x' * 200}}}\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SuiteError) as caught:
        load_suite("suite.yaml")
    expected = f"suite.yaml:5: generation.max_tokens: expected an integer, got '{'x' * 38}…"
    assert str(caught.value) == expected


def test_anchors_and_merge_keys_work_and_a_later_key_overrides_a_merged_one(tmp_path: Path) -> None:
    text = (
        "name: s\ncases: [{input: a, expected: b}]\nscorers: [exact]\n"
        "x-defaults: &gen {temperature: 0.5, max_tokens: 8}\n"
    )
    with pytest.raises(SuiteError, match=r"suite.yaml:4: x-defaults: unknown key"):
        load_suite(_write(tmp_path, text))
    merged = (
        "name: s\ncases: [{input: a, expected: b}]\nscorers: [exact]\n"
        "generation:\n  <<: {temperature: 0.5, max_tokens: 8}\n  max_tokens: 16\n"
    )
    suite = load_suite(_write(tmp_path, merged))
    assert (suite.generation.temperature, suite.generation.max_tokens) == (0.5, 16)
