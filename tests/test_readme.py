"""The README's commands are real: every `evalkit ...` line parses, and the no-key ones run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from evalkit.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def _commands() -> list[list[str]]:
    """Every `evalkit ...` command in the README's code blocks, continuation lines joined."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```$", README, flags=re.DOTALL | re.MULTILINE)
    text = "\n".join(blocks).replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("evalkit "):
            commands.append(shlex.split(line.replace("<stamp>", "stamp"))[1:])
    return commands


def test_readme_shows_commands() -> None:
    assert len(_commands()) >= 5


@pytest.mark.parametrize("argv", _commands(), ids=" ".join)
def test_readme_command_parses(argv: list[str]) -> None:
    if argv == ["--help"]:
        return
    build_parser().parse_args(argv)


def test_readme_names_the_test_command_that_ci_runs() -> None:
    assert "make test" in README
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_readme_validate_command_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert ["validate", "suites/ticket-triage.yaml"] in _commands()
    assert main(["validate", "suites/ticket-triage.yaml"]) == 0
