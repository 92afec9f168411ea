"""--model flags and the suite's targets block → Targets."""

from __future__ import annotations

import pytest

from evalkit.errors import InputError
from evalkit.records import Target
from evalkit.suite.model import TargetSpec
from evalkit.targets.spec import parse_model_flag, resolve_targets


@pytest.mark.parametrize(
    ("flag", "parsed"),
    [
        ("prod=ft:gpt-4o-mini:org::abc@chat", ("prod", "ft:gpt-4o-mini:org::abc", "chat")),
        ("old=ft:davinci-002:org::abc", ("old", "ft:davinci-002:org::abc", None)),
        ("x=my-deployment@completions", ("x", "my-deployment", "completions")),
        (" base = gpt-4o-mini ", ("base", "gpt-4o-mini", None)),
        ("vertex=claude-3-haiku@20240307", ("vertex", "claude-3-haiku@20240307", None)),
    ],
)
def test_parse_model_flag(flag: str, parsed: tuple[str, str, str | None]) -> None:
    assert parse_model_flag(flag) == parsed


@pytest.mark.parametrize(
    ("flag", "says"),
    [
        ("gpt-4o-mini", "expected NAME=MODEL_ID"),
        ("=gpt-4o-mini", "expected NAME=MODEL_ID"),
        ("prod=", "expected NAME=MODEL_ID"),
        ("prod=@chat", "model id is empty"),
        ("my model=gpt-4o", "target name 'my model' is not allowed"),
        ("prod=gpt-4o@chta", "unknown endpoint '@chta' (allowed: @chat, @completions, @responses)"),
    ],
)
def test_bad_model_flags_say_what_is_wrong(flag: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_model_flag(flag)
    assert says in str(caught.value)
    assert str(caught.value).startswith("--model: ")


def test_suite_targets_then_flags_and_a_flag_replaces_by_name() -> None:
    specs = {
        "base": TargetSpec(model="davinci-002"),
        "prod": TargetSpec(model="gpt-4o-mini"),
        "tuned": TargetSpec(model="my-deployment", endpoint="completions"),
    }
    targets = resolve_targets(specs, ["prod=ft:gpt-4o-mini:org::abc", "extra=o3-mini@completions"])
    assert targets == [
        Target(name="base", model="davinci-002", endpoint="completions", role="base"),
        Target(name="prod", model="ft:gpt-4o-mini:org::abc", endpoint="chat", role="model"),
        Target(name="tuned", model="my-deployment", endpoint="completions", role="model"),
        Target(name="extra", model="o3-mini", endpoint="completions", role="model"),
    ]


def test_flags_alone_are_enough() -> None:
    assert resolve_targets({}, ["base=gpt-4o-mini"]) == [
        Target(name="base", model="gpt-4o-mini", endpoint="chat", role="base")
    ]


def test_no_targets_names_both_ways_to_give_them() -> None:
    with pytest.raises(InputError) as caught:
        resolve_targets({}, [])
    assert "'targets:'" in str(caught.value)
    assert "--model NAME=ID" in str(caught.value)


def test_same_flag_name_twice_is_an_error() -> None:
    with pytest.raises(InputError, match="'a' is given twice"):
        resolve_targets({}, ["a=gpt-4o", "a=gpt-4o-mini"])


def test_bad_suite_target_name_is_located() -> None:
    with pytest.raises(InputError, match=r"^targets\.no good: target name"):
        resolve_targets({"no good": TargetSpec(model="gpt-4o")}, [])
