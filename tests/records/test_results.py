"""results.json: built from a run, checked against its schema, written and read back, secrets kept out.

The document a user sees is what these tests read (``as_json``): the records' serialisation is the contract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixtures.runs import Scored, as_json, build_results, from_json, scored_run

import evalkit
from evalkit.errors import InputError
from evalkit.records import Case, CaseSet, Metric, Outcome, Score, Target, Usage
from evalkit.records.results_json import (
    SCHEMA_PATH,
    load_schema,
    read_results,
    results_schema,
    validate_results,
    write_results,
)

API_KEY = "sk-proj-THISISAFAKEKEYTHATMUSTNOTLEAK0123456789"
GO: dict[str, Any] = {"verdict": "go", "rules": []}


def make_record() -> Scored:
    """Three targets, three cases; ``base`` errors on case 2, ``final`` answers case 1 from the cache (an
    answer the Batch API gave)."""
    cases = [
        Case(
            id="c1",
            reference="billing",
            messages=({"role": "user", "content": "I was charged twice"},),
            line=1,
        ),
        Case(
            id="c2",
            reference="technical",
            messages=(
                {"role": "system", "content": "Route the ticket."},
                {"role": "user", "content": "App crashes"},
            ),
            extras={"tools": [{"type": "function", "function": {"name": "route"}}]},
            line=2,
        ),
        Case(id="c3", reference="account", prompt="Reset my password\n\n###\n\n", line=3),
    ]
    targets = [
        Target("base", "gpt-4o-mini", "chat", "base"),
        Target("step-10", "ft:gpt-4o-mini:org::abc:ckpt-step-10", "chat", "checkpoint", 10),
        Target("final", "ft:gpt-4o-mini:org::abc", "chat", "final"),
    ]
    ok = Outcome("billing", usage=Usage(10, 1), latency_s=0.5, finish_reason="stop")
    outcomes = {
        "base": [
            Outcome("technical", usage=Usage(10, 1), latency_s=1.0, finish_reason="stop"),
            Outcome(None, error=f"401 Incorrect API key provided: {API_KEY}"),
            Outcome("account", usage=Usage(12, 2), latency_s=3.0, finish_reason="stop"),
        ],
        "step-10": [ok, ok, ok],
        "final": [
            Outcome(
                "billing", usage=Usage(10, 1), latency_s=0.2, cached=True, finish_reason="stop", batch=True
            ),
            Outcome("technical", usage=Usage(11, 1), latency_s=2.0, finish_reason="stop"),
            Outcome("account", usage=Usage(12, 1), latency_s=4.0, finish_reason="length"),
        ],
    }
    right, wrong = Score(1.0, answer="billing"), Score(0.0, answer=None, explanation="no label found")
    scores: dict[str, dict[str, list[Score | None]]] = {
        "base": {"exact": [Score(0.0), None, Score(1.0)], "classify": [wrong, None, right]},
        "step-10": {"exact": [Score(1.0), Score(0.0), Score(0.0)], "classify": [right, right, right]},
        "final": {"exact": [Score(1.0), Score(1.0), Score(1.0)], "classify": [right, right, right]},
    }
    metrics = {
        "base": {"exact": Metric(0.5, 2, (0.1, 0.9)), "classify.accuracy": Metric(float("nan"), 0)},
        "step-10": {"exact": Metric(1 / 3, 3), "classify.accuracy": Metric(np.float64(0.75), 3)},
        "final": {"exact": Metric(1.0, 3), "classify.accuracy": Metric(1.0, 3)},
    }
    details = {
        "final": {
            "classify": {
                "labels": ("billing", "technical"),
                "confusion_matrix": np.array([[1, 0], [0, 1]]),
                "support": {"billing": np.int64(1)},
            }
        }
    }
    return scored_run(
        suite_name="triage",
        suite_description="Route tickets.",
        suite_file="suites/triage.yaml",
        suite_sha256="a" * 64,
        case_set=CaseSet(cases, "b" * 64, "data/triage.jsonl"),
        targets=targets,
        generation={"temperature": 0.0, "max_tokens": 16, "params": {"api_key": API_KEY, "logprobs": True}},
        completions={"separator": "\n\n###\n\n", "stop": [" END"]},
        outcomes=outcomes,
        scores=scores,
        metrics=metrics,
        details=details,
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:01:00+00:00",
        warnings=[f"retrying after 429 with key {API_KEY}"],
    )


def write_document(path: Path, document: dict[str, Any]) -> Path:
    """A results.json as another program (or a hand edit) might have written it."""
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def results() -> dict[str, Any]:
    return as_json(build_results(make_record()))


def test_built_results_match_the_schema(results: dict[str, Any]) -> None:
    validate_results(results)
    assert results["schema_version"] == 1
    assert results["evalkit_version"] == evalkit.__version__
    assert results["suite"]["data"] == {"source": "data/triage.jsonl", "sha256": "b" * 64, "cases": 3}
    assert [t["name"] for t in results["targets"]] == ["base", "step-10", "final"]
    assert results["targets"][1] == {
        "name": "step-10",
        "model": "ft:gpt-4o-mini:org::abc:ckpt-step-10",
        "endpoint": "chat",
        "role": "checkpoint",
        "step": 10,
    }
    assert results["gate"] == {**GO, "errors": []}
    assert results["comparisons"] == [] and results["training"] == []


def test_cases_keep_input_reference_and_every_targets_answer(results: dict[str, Any]) -> None:
    first, second, third = results["cases"]
    assert first["input"] == {"messages": [{"role": "user", "content": "I was charged twice"}], "extras": {}}
    assert second["input"]["extras"]["tools"][0]["function"]["name"] == "route"
    assert third["input"] == {"prompt": "Reset my password\n\n###\n\n"}
    assert (first["id"], first["line"], first["reference"]) == ("c1", 1, "billing")

    errored = second["results"]["base"]
    assert errored["output"] is None and errored["error"].startswith("401 Incorrect API key")
    assert errored["scores"] == {}

    cached = first["results"]["final"]
    assert cached["cached"] is True and cached["output"] == "billing"
    assert cached["batch"] is True  # answered by the Batch API: charged at the batch rate
    assert second["results"]["final"]["batch"] is False and errored["batch"] is False
    assert cached["usage"] == {"prompt_tokens": 10, "completion_tokens": 1}

    wrong = first["results"]["base"]
    assert wrong["scores"] == {"exact": 0.0, "classify": 0.0}
    assert wrong["answers"] == {}  # the scorer read nothing: no answer recorded
    assert wrong["explanations"] == {"classify": "no label found"}
    assert third["results"]["final"]["finish_reason"] == "length"


def test_metrics_and_details_become_plain_json(results: dict[str, Any], tmp_path: Path) -> None:
    assert results["metrics"]["base"]["exact"] == {"value": 0.5, "ci": [0.1, 0.9], "n": 2}
    assert results["metrics"]["base"]["classify.accuracy"] == {"value": None, "ci": None, "n": 0}  # NaN
    assert results["metrics"]["step-10"]["classify.accuracy"]["value"] == 0.75
    assert results["details"]["final"]["classify"] == {
        "labels": ["billing", "technical"],
        "confusion_matrix": [[1, 0], [0, 1]],
        "support": {"billing": 1},
    }
    path = write_results(tmp_path / "results.json", from_json(results))

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON constant {token}")

    assert json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse) == results


def test_usage_counts_this_runs_calls_and_latency(results: dict[str, Any]) -> None:
    final = results["usage"]["final"]
    assert (final["calls"], final["cached"], final["errors"]) == (2, 1, 0)
    assert (final["prompt_tokens"], final["completion_tokens"]) == (23, 2)  # the cached answer cost nothing
    assert final["latency_p50_s"] == pytest.approx(3.0)
    assert 3.0 < final["latency_p95_s"] <= 4.0

    base = results["usage"]["base"]
    assert (base["calls"], base["cached"], base["errors"]) == (3, 0, 1)
    assert base["latency_p50_s"] == pytest.approx(2.0)  # over the two successful calls only


def test_usage_latency_is_null_without_a_successful_call() -> None:
    scored = make_record()
    scored.record.outcomes["final"] = [Outcome(None, error="timeout")] * 3
    usage = as_json(build_results(scored))["usage"]["final"]
    assert usage["errors"] == 3
    assert usage["latency_p50_s"] is None and usage["latency_p95_s"] is None


def test_api_keys_never_reach_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "not-shaped-like-sk-but-secret")
    scored = make_record()
    scored.record.warnings.append("the key not-shaped-like-sk-but-secret was rejected")
    text = write_results(tmp_path / "r.json", build_results(scored)).read_text(encoding="utf-8")
    assert API_KEY not in text
    assert "THISISAFAKEKEY" not in text
    assert "not-shaped-like-sk-but-secret" not in text
    saved = json.loads(text)
    assert saved["generation"]["params"] == {"api_key": "***", "logprobs": True}
    assert saved["generation"]["max_tokens"] == 16


def test_read_results_round_trips_and_accepts_the_run_folder(results: dict[str, Any], tmp_path: Path) -> None:
    write_results(tmp_path / "run" / "results.json", from_json(results))
    assert as_json(read_results(tmp_path / "run" / "results.json")) == results
    assert as_json(read_results(tmp_path / "run")) == results
    assert read_results(tmp_path / "run") == from_json(results)


def _one_line_error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_results(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


def test_read_results_missing_file(tmp_path: Path) -> None:
    assert "no such file" in _one_line_error(tmp_path / "nope.json")


@pytest.mark.writes_invalid_results
def test_read_results_not_json(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{\n  "schema_version": 1,\n  oops\n}\n', encoding="utf-8")
    message = _one_line_error(path)
    assert message.startswith(f"{path}:3: not valid JSON")


@pytest.mark.writes_invalid_results
@pytest.mark.parametrize(
    ("mutate", "field", "says"),
    [
        (lambda r: r.pop("gate"), None, "'gate' is a required property"),
        (
            lambda r: r["cases"][0]["results"]["final"].update(cached="yes"),
            "cases[0].results.final.cached",
            "expected boolean, got string",
        ),
        (
            lambda r: r["targets"][2].update(endpoint="assistants"),
            "targets[2].endpoint",
            "allowed: chat, completions, responses",
        ),
        (lambda r: r["gate"].update(verdict="maybe"), "gate.verdict", "allowed: go, no-go"),
        (
            lambda r: r["metrics"]["final"]["exact"].update(ci=[0.1]),
            "metrics.final.exact.ci",
            "expected at least 2 items, got 1",
        ),
        (lambda r: r.update(schema_version=2), "schema_version", "not supported"),
        (
            lambda r: r["cases"][1].update(input={"text": "hi"}),
            "cases[1].input",
            "expected an object with 'messages' or an object with 'prompt'",
        ),
    ],
)
def test_read_results_names_the_broken_field(
    results: dict[str, Any], tmp_path: Path, mutate: Any, field: str | None, says: str
) -> None:
    mutate(results)
    path = write_document(tmp_path / "results.json", results)
    message = _one_line_error(path)
    if field is not None:
        assert f": {field}: " in message
    assert says in message
    assert len(message) < 300


@pytest.mark.writes_invalid_results
def test_read_results_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps([{"big": "x" * 10_000}]), encoding="utf-8")
    message = _one_line_error(path)
    assert "expected object, got array" in message and len(message) < 300


def test_later_fields_are_allowed_but_required_ones_enforced(results: dict[str, Any]) -> None:
    results["charts"] = {"svg": "<svg/>"}
    results["cases"][0]["results"]["final"]["logprobs"] = [-0.1]
    results["targets"][0]["adapter"] = "lora-1"
    validate_results(results)
    del results["cases"][0]["results"]["final"]["latency_s"]
    with pytest.raises(InputError, match=r"cases\[0\]\.results\.final: 'latency_s' is a required property"):
        validate_results(results)


def test_schema_is_valid_2020_12_and_documents_the_main_fields() -> None:
    from jsonschema import Draft202012Validator

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert SCHEMA_PATH.name == "results.schema.json" and SCHEMA_PATH.is_file()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    undocumented = [name for name, prop in schema["properties"].items() if not prop.get("description")]
    assert undocumented == []
    assert set(schema["required"]) == set(schema["properties"])


def test_the_schema_in_the_repo_is_the_one_generated_from_the_records() -> None:
    """results.schema.json cannot drift from the records evalkit writes; ``make schema`` regenerates it."""
    assert load_schema() == results_schema(), (
        f"{SCHEMA_PATH} differs from the schema of evalkit.records.results: run `make schema`"
    )


def test_every_field_of_every_record_is_documented() -> None:
    schema = load_schema()
    undocumented = [
        f"{name}.{field}"
        for name, definition in schema["$defs"].items()
        for field, prop in definition.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert undocumented == []


def test_a_run_written_by_evalkit_reads_back_as_the_same_records(results: dict[str, Any], tmp_path: Path) -> None:
    written = from_json(results)
    path = write_results(tmp_path / "results.json", written)
    again = read_results(path)
    assert again == written
    assert again.cases[1].results["base"].failed and not again.cases[0].results["final"].failed
    assert again.metric("base", "exact") == Metric(0.5, 2, (0.1, 0.9))


@pytest.mark.writes_invalid_results
def test_a_file_of_an_earlier_evalkit_without_the_later_fields_still_reads(
    results: dict[str, Any], tmp_path: Path
) -> None:
    """Fields added after the first release (flips, recommendation, judge usage, resamples, score errors,
    batch) have defaults."""
    for key in ("flips", "recommendation", "judge_usage", "resamples"):
        del results[key]
    for case in results["cases"]:
        for result in case["results"].values():
            for key in ("answers", "explanations", "score_errors", "batch"):
                result.pop(key, None)
    older = read_results(write_document(tmp_path / "results.json", results))
    assert older.flips == [] and older.recommendation is None and older.judge_usage == {}
    assert older.resamples is None
    assert older.cases[0].results["base"].explanations == {}
    assert not older.cases[0].results["final"].batch  # an answer of an earlier evalkit was a live one
