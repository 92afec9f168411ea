"""A saved run's target standing in for a model: named, read, checked against this run's cases and
settings, and answered with no call (``evalkit.targets.replay``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fixtures.runs import build_results, scored_run
from pydantic import ValidationError

from evalkit.errors import InputError
from evalkit.records import Case, CaseSet, Outcome, ReplaySource, Target, Usage
from evalkit.records.results_json import write_results
from evalkit.suite.model import Completions, Generation, TargetSpec
from evalkit.targets.replay import Replays, RunRef, parse_run_ref
from evalkit.targets.spec import parse_model_flag, resolve_targets

CASES = [
    Case(id="a", reference="billing", messages=({"role": "user", "content": "Card charged twice"},)),
    Case(id="b", reference="technical", messages=({"role": "user", "content": "App crashes"},)),
    Case(id="c", reference="billing", messages=({"role": "user", "content": "Refund please"},)),
]


def _save(
    path: Path,
    *,
    cases: list[Case] = CASES,
    generation: dict[str, Any] | None = None,
    outcomes: list[Outcome] | None = None,
) -> Path:
    """A saved run of one target, ``old`` (model ``ft:gpt-4o-mini:acme::old``), written to ``path``."""
    outcomes = outcomes or [
        Outcome("billing", usage=Usage(12, 1), latency_s=0.4, finish_reason="stop") for _ in cases
    ]
    scored = scored_run(
        case_set=CaseSet(list(cases), "d" * 64, "inline"),
        targets=[Target("old", "ft:gpt-4o-mini:acme::old", "chat")],
        outcomes={"old": outcomes},
        scores={"old": {}},
        generation=generation if generation is not None else {"temperature": 0.0, "max_tokens": 256},
    )
    write_results(path, build_results(scored))
    return path


def _answers(
    tmp_path: Path, ref: str, *, cases: list[Case] = CASES, generation: Generation | None = None
) -> tuple[Target, list[Outcome], list[str]]:
    replays = Replays()
    target = replays.target(
        "prod", parse_run_ref(ref, field="--model"), role="model", base_dir=tmp_path, field="--model"
    )
    replayed = replays.answers(
        [target], cases, generation=generation or Generation(), completions=Completions()
    )
    return target, replayed.outcomes["prod"], replayed.warnings


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("run:runs/old/results.json#old", RunRef("runs/old/results.json", "old")),
        ("run:a#b/results.json#final?allow_changed", RunRef("a#b/results.json", "final", allow_changed=True)),
        ("run:reports/x@y/results.json#m", RunRef("reports/x@y/results.json", "m")),
    ],
)
def test_a_run_reference_is_a_path_and_a_target(text: str, ref: RunRef) -> None:
    assert parse_run_ref(text, field="--model") == ref
    assert str(ref) == text.removesuffix("?allow_changed")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("run:results.json", "expected run:PATH/results.json#TARGET"),
        ("run:#final", "expected run:PATH/results.json#TARGET"),
        ("run:results.json#", "expected run:PATH/results.json#TARGET"),
        ("run:results.json#final?allow", "unknown option '?allow' (allowed: ?allow_changed)"),
    ],
)
def test_a_malformed_run_reference_says_the_form(text: str, says: str) -> None:
    with pytest.raises(InputError, match="^--model: ") as caught:
        parse_run_ref(text, field="--model")
    assert says in str(caught.value)


def test_a_flag_keeps_the_run_reference_whole() -> None:
    assert parse_model_flag("prod=run:reports/a@chat/results.json#final") == (
        "prod",
        "run:reports/a@chat/results.json#final",
        None,
    )


@pytest.mark.parametrize(
    ("written", "model", "allow_changed"),
    [
        ("run:runs/old/results.json#old", "run:runs/old/results.json#old", False),
        ({"run": "runs/old/results.json#old"}, "run:runs/old/results.json#old", False),
        ({"run": "runs/old/results.json#old", "allow_changed": True}, "run:runs/old/results.json#old", True),
    ],
)
def test_the_suite_names_a_saved_run_as_a_string_or_a_mapping(
    written: Any, model: str, allow_changed: bool
) -> None:
    spec = TargetSpec.model_validate(written)
    assert (spec.model, spec.allow_changed, spec.replays) == (model, allow_changed, True)


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ({"run": "r.json#old", "endpoint": "chat"}, "'endpoint' and 'generation' do not apply"),
        ({"run": "r.json#old", "model": "gpt-4o"}, "give 'model' (a model to call) or 'run'"),
        ({"run": ""}, "expected a saved run's target: PATH/results.json#TARGET"),
        ({"model": "gpt-4o", "allow_changed": True}, "'allow_changed' applies only to a saved run's target"),
    ],
)
def test_a_saved_run_target_takes_no_call_settings(written: Any, says: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(says)):
        TargetSpec.model_validate(written)


def test_a_replayed_target_has_the_saved_endpoint_and_records_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _save(tmp_path / "suites" / "runs" / "results.json")
    _save(tmp_path / "cli.json")
    specs = {"base": TargetSpec.model_validate("run:runs/results.json#old")}
    targets = resolve_targets(specs, ["prod=run:cli.json#old", "new=gpt-4o"], base_dir=tmp_path / "suites")
    assert targets == [
        Target(
            "base",
            "run:runs/results.json#old",
            "chat",
            role="base",
            replayed_from=ReplaySource(
                file="suites/runs/results.json", target="old", model="ft:gpt-4o-mini:acme::old"
            ),
        ),
        Target(
            "prod",
            "run:cli.json#old",
            "chat",
            replayed_from=ReplaySource(file="cli.json", target="old", model="ft:gpt-4o-mini:acme::old"),
        ),
        Target("new", "gpt-4o", "chat"),
    ]


def test_a_flag_replacing_a_suite_target_reads_only_its_own_run(tmp_path: Path) -> None:
    specs = {"prod": TargetSpec.model_validate("run:gone/results.json#old")}
    assert resolve_targets(specs, ["prod=gpt-4o"], base_dir=tmp_path) == [Target("prod", "gpt-4o", "chat")]


def test_the_saved_answers_are_replayed_as_they_were_with_no_call(tmp_path: Path) -> None:
    failed = Outcome(None, error="HTTP 500: boom")
    _save(
        tmp_path / "results.json",
        outcomes=[
            Outcome("billing", usage=Usage(12, 3), latency_s=0.4, finish_reason="stop"),
            failed,
            Outcome("technical", batch=True),
        ],
    )
    target, outcomes, warnings = _answers(tmp_path, "run:results.json#old")
    assert target.model == "run:results.json#old" and warnings == []
    assert outcomes == [
        Outcome("billing", usage=Usage(12, 3), latency_s=0.4, cached=True, finish_reason="stop"),
        Outcome(None, error="HTTP 500: boom", cached=True),  # a failed call stays a failed case
        Outcome("technical", cached=True, batch=True),
    ]


def test_cases_are_matched_by_id_whatever_their_order_and_extra_saved_cases_are_left(tmp_path: Path) -> None:
    extra = Case(id="z", reference="billing", prompt="other")
    _save(
        tmp_path / "results.json",
        cases=[CASES[2], extra, CASES[0], CASES[1]],
        outcomes=[Outcome(c.id) for c in (CASES[2], extra, CASES[0], CASES[1])],
    )
    _, outcomes, _ = _answers(tmp_path, "run:results.json#old")
    assert [o.output for o in outcomes] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("run:nowhere/results.json#old", "run:nowhere/results.json#old: nowhere/results.json: no such file"),
        ("run:results.json#final", "has no target 'final' (its targets: old)"),
        ("run:notes.txt#old", "notes.txt:1: not valid JSON"),
    ],
)
def test_a_file_that_cannot_stand_in_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ref: str, says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _save(tmp_path / "results.json")
    (tmp_path / "notes.txt").write_text("just notes\n")
    with pytest.raises(InputError) as caught:
        _answers(tmp_path, ref)
    assert str(caught.value).startswith("--model: ") and says in str(caught.value)


def test_cases_the_saved_run_lacks_are_refused_with_their_ids(tmp_path: Path) -> None:
    _save(tmp_path / "results.json", cases=CASES[:1], outcomes=[Outcome("billing")])
    with pytest.raises(InputError, match=r"the saved run lacks 2 of this run's 3 cases \(ids b, c\)"):
        _answers(tmp_path, "run:results.json#old?allow_changed")  # never allowed


def test_a_case_asked_differently_is_refused_unless_allowed(tmp_path: Path) -> None:
    _save(tmp_path / "results.json")
    now = [
        CASES[0],
        Case(id="b", reference="technical", messages=({"role": "user", "content": "App freezes"},)),
        CASES[2],
    ]
    with pytest.raises(InputError) as caught:
        _answers(tmp_path, "run:results.json#old", cases=now)
    assert "1 of this run's 3 cases were asked differently there (ids b)" in str(caught.value)
    assert "add ?allow_changed to replay them anyway" in str(caught.value)
    _, outcomes, warnings = _answers(tmp_path, "run:results.json#old?allow_changed", cases=now)
    assert len(outcomes) == 3
    assert warnings == [
        (
            "target prod replays run:results.json#old although 1 of this run's 3 cases were asked differently "
            "there (ids b) (allowed by allow_changed)"
        )
    ]


def test_other_generation_settings_are_refused_saying_which(tmp_path: Path) -> None:
    _save(tmp_path / "results.json", generation={"temperature": 0.7, "max_tokens": 256})
    with pytest.raises(InputError) as caught:
        _answers(tmp_path, "run:results.json#old")
    assert "the saved run was made with other generation settings (temperature 0.7 there, 0.0 here)" in str(
        caught.value
    )
    _, _, warnings = _answers(tmp_path, "run:results.json#old?allow_changed")
    assert "temperature 0.7 there, 0.0 here" in warnings[0]


def test_settings_an_older_run_did_not_record_count_as_their_defaults(tmp_path: Path) -> None:
    _save(tmp_path / "results.json", generation={"temperature": 0.0})  # no max_tokens, reasoning_allowance…
    assert _answers(tmp_path, "run:results.json#old")[2] == []


def test_a_replay_of_a_replay_names_the_model_first_replayed(tmp_path: Path) -> None:
    source = ReplaySource(file="old/results.json", target="final", model="ft:davinci-002:acme::gone")
    scored = scored_run(
        case_set=CaseSet(list(CASES), "d" * 64, "inline"),
        targets=[Target("prod", "run:old/results.json#final", "completions", replayed_from=source)],
        outcomes={"prod": [Outcome("billing", cached=True) for _ in CASES]},
        scores={"prod": {}},
        generation={"temperature": 0.0, "max_tokens": 256},
    )
    write_results(tmp_path / "results.json", build_results(scored))
    target, _, _ = _answers(tmp_path, "run:results.json#prod")
    assert target.endpoint == "completions"
    assert target.replayed_from is not None and target.replayed_from.model == "ft:davinci-002:acme::gone"
