"""Inline ``cases:`` in the suite file: any row shape, errors located at the case's line in the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.data import load_cases
from evalkit.errors import DataError
from evalkit.suite import load_suite

SUITE = """\
name: inline
scorers:
  - classify: {labels: [billing, technical]}
cases:
  - {input: "Charged twice", expected: billing, id: c1}
  - input: "App crashes"
    expected: technical
    system: Route the ticket.
  - messages:
      - {role: user, content: "Refund?"}
      - {role: assistant, content: billing}
    tools: [{type: function, function: {name: route}}]
"""


def _load_text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


def test_inline_cases_in_every_shape(tmp_path: Path) -> None:
    suite = load_suite(_load_text(tmp_path, SUITE))
    case_set = load_cases(suite)
    first, second, third = case_set.cases
    assert first.id == "c1"
    assert first.messages == ({"role": "user", "content": "Charged twice"},)
    assert second.messages == (
        {"role": "system", "content": "Route the ticket."},
        {"role": "user", "content": "App crashes"},
    )
    assert second.reference == "technical"
    assert third.reference == "billing"
    assert third.extras == {"tools": [{"type": "function", "function": {"name": "route"}}]}
    assert case_set.source == "inline"
    assert [(c.source, c.line) for c in case_set.cases] == [(None, 1), (None, 2), (None, 3)]


def test_inline_hash_follows_the_cases_not_the_formatting(tmp_path: Path) -> None:
    first = load_cases(load_suite(_load_text(tmp_path, SUITE)))
    reordered = SUITE.replace(
        '{input: "Charged twice", expected: billing, id: c1}',
        "{id: c1, expected: billing, input: Charged twice}",
    )
    again = load_cases(load_suite(_load_text(tmp_path, reordered + "# a comment\n")))
    changed = load_cases(load_suite(_load_text(tmp_path, SUITE.replace("App crashes", "App hangs"))))
    assert first.sha256 == again.sha256 != changed.sha256
    assert [c.id for c in first.cases] == [c.id for c in again.cases]
    assert first.cases[1].id != changed.cases[1].id


def test_legacy_inline_cases_become_prompt_cases(tmp_path: Path) -> None:
    text = (
        'name: x\ncompletions: {stop: " END"}\nscorers: [exact]\n'
        'cases:\n  - {prompt: "Q\\n\\n###\\n\\n", completion: " A END"}\n'
    )
    (case,) = load_cases(load_suite(_load_text(tmp_path, text))).cases
    assert (case.prompt, case.reference, case.messages) == ("Q\n\n###\n\n", "A", None)


@pytest.mark.parametrize(
    ("cases", "expected"),
    [
        (
            "  - {input: a, expected: billing}\n  - {input: b, expected: refund}\n",
            (
                "suite.yaml:6: cases[1].expected: reference 'refund' is not one of the classify labels "
                "(billing, technical)"
            ),
        ),
        (
            "  - {input: a, expected: billing}\n  - {input: a, expected: billing}\n",
            "suite.yaml:6: cases[1]: cases[1] repeats cases[0] (a duplicated case counts twice; delete one)",
        ),
        (
            "  - {input: a, expeted: billing}\n",
            (
                "suite.yaml:5: cases[0].expeted: unknown key (allowed: input, expected, system, id; a chat "
                "row has "
                '"messages"; a legacy row has "prompt" and "completion")'
            ),
        ),
        (
            "  - {question: a}\n",
            (
                'suite.yaml:5: cases[0].messages: required (a chat row has "messages"; a legacy row has '
                '"prompt" and '
                '"completion"; an inline case may be {input, expected})'
            ),
        ),
        (
            "  - messages:\n      - {role: user, content: a}\n      - {role: robot, content: billing}\n",
            (
                "suite.yaml:5: cases[0].messages[1].role: 'robot' is not one of system, developer, user, "
                "assistant, tool, "
                "function"
            ),
        ),
    ],
)
def test_bad_inline_cases_point_at_the_suite_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cases: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _load_text(tmp_path, "name: x\nscorers:\n  - classify: {labels: [billing, technical]}\ncases:\n" + cases)
    with pytest.raises(DataError) as caught:
        load_cases(load_suite("suite.yaml"))
    assert str(caught.value) == expected
