"""Importing an eval from OpenAI's closed Evals platform: the suite, the data rows and the saved run it
writes, from objects shaped as OpenAI's API returned them (checked against OpenAI's spec), and the
refusals — one line naming the file, line and field — for inputs it cannot import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakeopenai.openapi import OpenAPISpec
from fixtures.openai_evals import (
    ALL_CRITERIA,
    ANSWERS,
    EVAL_ID,
    ITEMS,
    MODEL,
    RUN_ID,
    STRING_CHECK,
    SYSTEM,
    eval_object,
    output_item,
    output_page,
    run_object,
    write_items,
    write_json,
    write_jsonl,
)

from evalkit.data import load_cases
from evalkit.errors import InputError
from evalkit.importers import EvalImport, Imported, import_openai_eval
from evalkit.pipeline import named_targets
from evalkit.records import render_tool_calls
from evalkit.records.results_json import read_results
from evalkit.suite import load_suite

TARGET = MODEL  # the replayed target is named after the model (already a safe name)
RUN_DIR = f"suites/runs/triage-{RUN_ID}"


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _import(
    *,
    eval_doc: dict[str, Any] | None = None,
    items: bool = True,
    run: dict[str, Any] | None = None,
    outputs: Any = None,
    force: bool = False,
) -> Imported:
    request = EvalImport(
        eval_file=write_json(Path("eval.json"), eval_doc if eval_doc is not None else eval_object()),
        items_file=write_items(Path("items.jsonl")) if items else None,
        run_file=write_json(Path("run.json"), run) if run is not None else None,
        output_items_file=write_json(Path("out.json"), outputs) if outputs is not None else None,
        out=Path("suites/triage.yaml"),
        force=force,
    )
    return import_openai_eval(request)


def _suite() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(Path("suites/triage.yaml").read_text(encoding="utf-8"))
    return document


def _rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path("suites/data/triage.jsonl").read_text().splitlines()]


def _with_builtin_scorers() -> Path:
    """The written suite with evalkit's own scorers in place of its graders (loadable on any branch)."""
    document = _suite()
    document["scorers"] = ["exact"]
    path = Path("suites/triage-exact.yaml")
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _refusal(**kwargs: Any) -> str:
    with pytest.raises(InputError) as caught:
        _import(**kwargs)
    return str(caught.value)


# --- what OpenAI's API returned ------------------------------------------------------------------------


def test_the_fixtures_are_what_openais_api_returns(openai_spec: OpenAPISpec) -> None:
    openai_spec.check(eval_object(), "Eval")
    openai_spec.check(run_object(), "EvalRun")
    openai_spec.check(output_page(), "EvalRunOutputItemList")
    for index in range(len(ITEMS)):
        openai_spec.check(output_item(index), "EvalRunOutputItem")


# --- the suite and its data ----------------------------------------------------------------------------


def test_a_run_template_makes_each_items_conversation_and_the_criteria_become_graders() -> None:
    imported = _import(run=run_object())

    suite = _suite()
    assert suite["name"] == "ticket-triage" and EVAL_ID in suite["description"]
    assert suite["data"] == "data/triage.jsonl"
    assert suite["scorers"] == [{"grader": criterion} for criterion in ALL_CRITERIA]  # exactly as defined
    assert suite["generation"] == {"temperature": 0, "top_p": 1, "seed": 42, "max_tokens": 16}
    assert "targets" not in suite
    rows = _rows()
    assert [row["id"] for row in rows] == ["0", "1", "2", "3"]
    assert rows[1]["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "App crashes on start"},
        {"role": "assistant", "content": "technical"},  # the reference: item.label, as the criteria compare
    ]
    assert rows[1]["item"] == ITEMS[1]
    assert imported.openai_results is None
    assert imported.next_command.startswith(
        "evalkit validate suites/triage.yaml && evalkit run suites/triage.yaml"
    )


def test_the_written_data_reads_as_cases_that_send_the_conversation_and_keep_the_item() -> None:
    _import(run=run_object())
    cases = load_cases(load_suite(_with_builtin_scorers())).cases
    assert [case.reference for case in cases] == [item["label"] for item in ITEMS]
    assert cases[0].messages == (
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Card charged twice"},
    )
    assert cases[0].item == ITEMS[0]


def test_assistant_messages_of_the_template_are_sent_never_taken_as_the_reference() -> None:
    few_shot = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "My parcel never came"},
        {"role": "assistant", "content": "billing"},
        {"role": "user", "content": "{{item.ticket}}"},
    ]
    _import(run=run_object(input_messages={"type": "template", "template": few_shot}))
    [case, *_] = load_cases(load_suite(_with_builtin_scorers())).cases
    assert [m["content"] for m in case.messages or ()] == [
        SYSTEM,
        "My parcel never came",
        "billing",
        "Card charged twice",
    ]
    assert case.reference == "billing"  # item 0's label, not the example answer


def test_template_texts_render_in_a_sandbox_and_values_that_are_not_text_as_json() -> None:
    template = [
        {
            "type": "message",
            "role": "user",
            "content": {"type": "input_text", "text": "{{ item.ticket }} / {{ item }}"},
        }
    ]
    _import(run=run_object(input_messages={"type": "template", "template": template}))
    sent = _rows()[0]["messages"][0]
    assert sent == {"role": "user", "content": f"Card charged twice / {json.dumps(ITEMS[0])}"}

    escape = [{"role": "user", "content": "{{ item.__class__.__mro__ }}"}]
    message = _refusal(run=run_object(input_messages={"type": "template", "template": escape}), force=True)
    assert message.startswith("items.jsonl:1: item") and "template" in message


def test_items_holding_their_conversation_need_no_run(tmp_path: Path) -> None:
    lines = [
        {"item": {"input": "Card charged twice", "label": "billing"}},
        {"item": {"messages": [{"role": "user", "content": "App crashes"}], "label": "technical"}},
    ]
    write_jsonl(Path("own.jsonl"), lines)
    eval_doc = eval_object([STRING_CHECK])
    eval_doc["data_source_config"] = {"type": "logs", "schema": {"type": "object"}}
    request = EvalImport(
        eval_file=write_json(Path("eval.json"), eval_doc),
        items_file=Path("own.jsonl"),
        out=Path("suites/triage.yaml"),
    )
    import_openai_eval(request)
    rows = _rows()
    assert rows[0]["messages"][0] == {"role": "user", "content": "Card charged twice"}
    assert rows[1]["messages"][:1] == [{"role": "user", "content": "App crashes"}]
    assert "generation" not in _suite()  # evalkit's defaults: the eval says nothing of sampling


def test_an_item_reference_names_the_field_holding_the_conversation() -> None:
    eval_doc = eval_object([STRING_CHECK])
    eval_doc["data_source_config"] = {"type": "custom", "schema": {"type": "object"}}
    write_jsonl(
        Path("items.jsonl"),
        [{"item": {"chat": [{"role": "developer", "content": "Hi"}], "label": "billing"}}],
    )
    run = run_object(input_messages={"type": "item_reference", "item_reference": "item.chat"})
    request = EvalImport(
        eval_file=write_json(Path("eval.json"), eval_doc),
        items_file=Path("items.jsonl"),
        run_file=write_json(Path("run.json"), run),
        out=Path("suites/triage.yaml"),
    )
    import_openai_eval(request)
    assert _rows()[0]["messages"][0] == {"role": "developer", "content": "Hi"}


def test_fields_of_a_criterion_no_grader_object_takes_are_left_out_and_said() -> None:
    criterion = {**STRING_CHECK, "id": "Right queue-5d2e3a"}
    imported = _import(eval_doc=eval_object([criterion]), run=run_object())
    assert [entry["grader"] for entry in _suite()["scorers"]] == [STRING_CHECK]
    assert imported.notes == ["left out fields no grader object takes: testing_criteria[0].id"]


def test_criteria_whose_names_make_no_metric_name_of_their_own_are_renamed_and_said() -> None:
    criteria = [STRING_CHECK, {**STRING_CHECK, "name": "right queue!"}, {**STRING_CHECK, "name": "Error rate"}]
    imported = _import(eval_doc=eval_object(criteria), run=run_object())
    names = [entry["grader"]["name"] for entry in _suite()["scorers"]]
    assert names == ["Right queue", "right queue! (2)", "Error rate criterion 3"]  # right_queue_2, error_rate_…
    assert len(imported.notes) == 2 and imported.notes[0].startswith("testing_criteria[1]: 'right queue!'")


# --- output items: the saved run -----------------------------------------------------------------------


def test_output_items_become_a_saved_run_that_the_suite_replays() -> None:
    imported = _import(items=False, outputs=output_page())

    suite = _suite()
    assert suite["targets"] == {TARGET: f"run:runs/triage-{RUN_ID}/results.json#{TARGET}"}
    assert suite["generation"] == {
        "temperature": 0.0,
        "top_p": 1.0,
        "seed": 42,
        "max_tokens": 16,
    }  # the samples'
    assert [row["item"] for row in _rows()] == ITEMS  # from the output items' datasource_item
    saved = read_results(f"{RUN_DIR}/results.json")
    [target] = saved.targets
    assert (target.name, target.model, target.endpoint) == (TARGET, MODEL, "chat")
    answers = [case.results[TARGET] for case in saved.cases]
    assert [a.output for a in answers] == ["billing", "technical", "technical", None]
    assert answers[3].error == "Rate limit reached for gpt-4o-mini (rate_limit_exceeded)"
    assert (answers[0].usage.prompt_tokens, answers[0].usage.completion_tokens, answers[0].finish_reason) == (
        30,
        1,
        "stop",
    )
    assert (
        answers[2].scores["right_queue"] == 0.0
        and answers[2].explanations["right_queue"] == "OpenAI: did not pass"
    )
    metrics = saved.metrics[TARGET]
    assert (
        metrics["right_queue.pass_rate"].value == pytest.approx(2 / 3) and metrics["error_rate"].value == 0.25
    )
    assert saved.gate.verdict == "not-gated"
    assert (
        imported.openai_results is not None
        and "'Right queue' (right_queue) passed 2 of 3 (67%)" in imported.openai_results
    )

    suite_file = _with_builtin_scorers()
    loaded = load_suite(suite_file)
    targets, replayed = named_targets(loaded, load_cases(loaded), [])  # what validate and run check first
    assert [t.name for t in targets] == [TARGET] and not replayed.warnings
    assert [o.output for o in replayed.outcomes[TARGET]] == ["billing", "technical", "technical", None]


def test_items_and_a_run_with_output_items_keep_the_runs_settings_and_ids() -> None:
    _import(run=run_object(), outputs=output_page())
    saved = read_results(f"{RUN_DIR}/results.json")
    assert [case.id for case in saved.cases] == ["0", "1", "2", "3"]
    assert saved.generation == {"temperature": 0.0, "max_tokens": 16, "top_p": 1.0, "seed": 42, "params": {},
                                "reasoning_allowance": 4096}  # fmt: skip


def test_an_answer_of_tool_calls_is_the_text_evalkit_compares_tool_calls_as() -> None:
    calls = [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "route", "arguments": '{"queue": "billing"}'},
        }
    ]
    page = output_page()
    page["data"][0]["sample"]["output"] = [{"role": "assistant", "content": None, "tool_calls": calls}]
    _import(outputs=page)
    saved = read_results(f"{RUN_DIR}/results.json")
    assert saved.cases[0].results[TARGET].output == render_tool_calls(calls)


def test_an_item_with_no_output_item_is_replayed_as_a_failed_call() -> None:
    page = output_page()
    del page["data"][1]
    imported = _import(run=run_object(), outputs=page)
    saved = read_results(f"{RUN_DIR}/results.json")
    assert saved.cases[1].results[TARGET].error == "OpenAI's run has no output item for this item"
    assert any("1 item(s) have no output item (datasource_item_id 1)" in note for note in imported.notes)


def test_output_items_saved_one_a_line_and_numbered_from_one_still_find_their_items() -> None:
    shifted = [{**output_item(i), "datasource_item_id": i + 1} for i in range(len(ITEMS))]
    write_jsonl(Path("out.jsonl"), shifted)
    request = EvalImport(
        eval_file=write_json(Path("eval.json"), eval_object()),
        items_file=write_items(Path("items.jsonl")),
        output_items_file=Path("out.jsonl"),
        out=Path("suites/triage.yaml"),
    )
    import_openai_eval(request)
    saved = read_results(f"{RUN_DIR}/results.json")
    assert [case.results[TARGET].output for case in saved.cases] == [
        "billing",
        "technical",
        "technical",
        None,
    ]


def test_a_page_that_says_more_is_missing_is_said() -> None:
    page = {**output_page(), "has_more": True}
    imported = _import(outputs=page)
    assert any("has_more" in note for note in imported.notes)


# --- refusals ------------------------------------------------------------------------------------------


def test_an_unknown_data_source_is_refused_at_its_field() -> None:
    eval_doc = eval_object()
    eval_doc["data_source_config"]["type"] = "responses"
    assert _refusal(eval_doc=eval_doc, run=run_object()) == (
        'eval.json: data_source_config.type: "responses" is not a data source evalkit can import '
        "(allowed: custom, logs, stored_completions)"
    )


def test_an_unknown_grader_type_is_refused_at_its_field() -> None:
    eval_doc = eval_object([STRING_CHECK, {"type": "regex", "name": "x"}])
    message = _refusal(eval_doc=eval_doc, run=run_object())
    assert message.startswith(
        'eval.json: testing_criteria[1].type: "regex" is not a grader type evalkit runs'
    )


def test_a_field_the_template_reads_that_an_item_lacks_is_refused_at_the_item() -> None:
    template = [{"role": "user", "content": "{{item.question}}"}]
    message = _refusal(run=run_object(input_messages={"type": "template", "template": template}))
    assert message == (
        "items.jsonl:1: item.question: missing: the run's template "
        "(data_source.input_messages.template[0].content) reads it"
    )


def test_an_item_that_breaks_the_eval_item_schema_is_refused_at_its_line() -> None:
    write_jsonl(
        Path("items.jsonl"), [{"item": ITEMS[0]}, {"item": {"ticket": "Lost parcel", "label": "shipping"}}]
    )
    request = EvalImport(
        eval_file=write_json(Path("eval.json"), eval_object()),
        items_file=Path("items.jsonl"),
        run_file=write_json(Path("run.json"), run_object()),
        out=Path("suites/triage.yaml"),
    )
    with pytest.raises(
        InputError, match=r"^items.jsonl:2: item.label: does not follow the eval's item schema"
    ):
        import_openai_eval(request)


def test_no_way_to_build_the_conversation_says_which_option_to_give() -> None:
    message = _refusal()
    assert message.startswith(
        "items.jsonl:1: item: no way to build the conversation this item was sent: give --run"
    )
    assert "--output-items" in message


def test_output_items_of_other_items_are_refused() -> None:
    page = output_page()
    page["data"][2]["datasource_item"] = {"ticket": "Something else", "label": "billing"}
    message = _refusal(outputs=page)
    assert message.startswith(
        "out.json: data[2].datasource_item: item 2 is not among the items of items.jsonl"
    )


def test_a_run_of_another_eval_is_refused() -> None:
    message = _refusal(run={**run_object(), "eval_id": "eval_other"})
    assert message.startswith("run.json: eval_id: 'eval_other' is a run of another eval")


def test_nothing_is_overwritten_without_force() -> None:
    Path("suites").mkdir()
    Path("suites/triage.yaml").write_text("mine\n")
    message = _refusal(run=run_object())
    assert message == "--out: suites/triage.yaml exists; give --force to overwrite it (or another --out)"
    assert Path("suites/triage.yaml").read_text() == "mine\n" and not Path("suites/data").exists()

    _import(run=run_object(), force=True)
    assert _suite()["name"] == "ticket-triage"


def test_a_responses_run_keeps_its_tools_and_output_format_in_chat_completions_shape() -> None:
    tool = {"type": "function", "name": "route", "parameters": {"type": "object"}, "strict": True}
    schema = {"type": "json_schema", "name": "queue", "schema": {"type": "object"}, "strict": True}
    params = {"temperature": 0.5, "reasoning_effort": "xhigh", "tools": [tool, {"type": "web_search"}],
              "text": {"format": schema}}  # fmt: skip
    imported = _import(run=run_object(type="responses", sampling_params=params), outputs=output_page())

    generation = _suite()["generation"]
    assert (
        generation["temperature"] == 0.5 and generation["max_tokens"] == 16
    )  # the samples say what the run did not
    assert generation["params"] == {
        "response_format": {"type": "json_schema", "json_schema": {"name": "queue", "schema": {"type": "object"},
                                                                   "strict": True}}
    }  # fmt: skip
    tools = [
        {"type": "function", "function": {"name": "route", "parameters": {"type": "object"}, "strict": True}}
    ]
    assert all(row["tools"] == tools for row in _rows())
    assert any('reasoning_effort "xhigh"' in note for note in imported.notes)
    assert any('tool "web_search"' in note for note in imported.notes)
    [target] = read_results(f"{RUN_DIR}/results.json").targets
    assert target.endpoint == "responses"


def test_openais_result_names_with_an_id_suffix_are_their_criterias() -> None:
    page = output_page()
    for entry in page["data"]:
        for result in entry["results"]:
            result["name"] = f"{result['name']}-5d2e3a"
    _import(outputs=page)
    saved = read_results(f"{RUN_DIR}/results.json")
    assert [scorer.name for scorer in saved.scorers] == [
        "right_queue",
        "close_to_the_queue",
        "polite",
        "tone",
        "short",
    ]
    assert saved.cases[0].results[TARGET].scores["right_queue"] == 1.0


def test_a_template_that_does_not_compile_is_refused_at_the_runs_field() -> None:
    template = [{"role": "user", "content": "{{ item.ticket "}]
    message = _refusal(run=run_object(input_messages={"type": "template", "template": template}))
    assert message.startswith(
        "run.json: data_source.input_messages.template[0].content: not a valid template"
    )


def test_a_conversation_no_chat_model_takes_is_refused_at_its_item() -> None:
    template = [{"role": "critic", "content": "{{item.ticket}}"}]
    message = _refusal(run=run_object(input_messages={"type": "template", "template": template}))
    assert message.startswith(
        "items.jsonl:1: item: its conversation is not one a chat model takes (messages[0].role: 'critic' is not"
    )


def test_items_keep_their_own_ids_and_reference_which_graders_read_as_the_cases() -> None:
    lines = [
        {"item": {**item, "id": f"T-{n}", "reference": item["label"].upper()}} for n, item in enumerate(ITEMS)
    ]
    write_jsonl(Path("items.jsonl"), lines)
    eval_doc = eval_object([STRING_CHECK])
    eval_doc["data_source_config"] = {"type": "custom", "schema": {"type": "object"}}
    page = output_page([STRING_CHECK])
    for entry, line in zip(page["data"], lines, strict=True):
        entry["datasource_item"] = line["item"]
    request = EvalImport(
        eval_file=write_json(Path("eval.json"), eval_doc),
        items_file=Path("items.jsonl"),
        run_file=write_json(Path("run.json"), run_object()),
        output_items_file=write_json(Path("out.json"), page),
        out=Path("suites/triage.yaml"),
    )
    import_openai_eval(request)
    rows = _rows()
    assert [row["id"] for row in rows] == ["T-0", "T-1", "T-2", "T-3"]
    assert [m["role"] for m in rows[0]["messages"]] == ["system", "user"]  # its own reference, not item.label
    suite = load_suite(_with_builtin_scorers())
    cases = load_cases(suite).cases
    assert [case.reference for case in cases] == ["BILLING", "TECHNICAL", "BILLING", "BILLING"]
    _, replayed = named_targets(suite, load_cases(suite), [])
    assert [o.output for o in replayed.outcomes[TARGET]] == ANSWERS
