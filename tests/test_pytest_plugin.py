"""The pytest plugin: a team's own tests run a suite against (here, fake) OpenAI and assert its verdict.

One inner pytest session, in a subprocess (as a team's CI would run it), holds every scenario.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from fakeopenai import FakeOpenAI, FakeRequest

REPO = Path(__file__).resolve().parents[1]
GOOD = "ft:gpt-4o-mini:acme:triage:g00d"
BAD = "ft:gpt-4o-mini:acme:triage:b4d"

SUITE = """\
name: plugin-check
cases:
  - {id: t1, messages: [{role: user, content: "ticket one"}, {role: assistant, content: billing}]}
  - {id: t2, messages: [{role: user, content: "ticket two"}, {role: assistant, content: shipping}]}
  - {id: t3, messages: [{role: user, content: "ticket three"}, {role: assistant, content: account}]}
scorers: [exact]
gate:
  - {target: ft, metric: exact, min: 0.9}
  - {target: ft, metric: error_rate, max: 0.0}
"""

TESTS = f'''
from evalkit.pytest_plugin import assert_go

def test_good_ships(evalkit_run):
    result = evalkit_run("suites/triage.yaml", models=["base=gpt-4o-mini", "ft={GOOD}"])
    assert result.results.metrics["ft"]["exact"].value == 1.0
    assert_go(result)

def test_bad_ships(evalkit_run):
    assert_go(evalkit_run("suites/triage.yaml", models={{"base": "gpt-4o-mini", "ft": "{BAD}"}}))

def test_wrong_target(evalkit_run):
    evalkit_run("suites/triage.yaml", models=["base=gpt-4o-mini"])

def test_any_target_without_the_gate(evalkit_run):
    result = evalkit_run("suites/triage.yaml", models=["base=gpt-4o-mini"], gate=False)
    assert result.verdict == "not-gated" and result.results.gate.rules == []
    assert_go(result)  # as `evalkit run --no-gate` exits 0
'''

ANSWERS = {"ticket one": "billing", "ticket two": "shipping", "ticket three": "account"}


def _answer(good: bool) -> Callable[[FakeRequest], str]:
    def answer(request: FakeRequest) -> str:
        right = next(label for text, label in ANSWERS.items() if text in request.last_user)
        return right if good or right == "billing" else "no idea"

    return answer


def test_a_teams_tests_assert_the_verdict(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.add_model(GOOD)
    fake_openai.add_model(BAD)
    fake_openai.script("gpt-4o-mini", lambda request: "billing")
    fake_openai.script(GOOD, _answer(good=True))
    fake_openai.script(BAD, _answer(good=False))
    (pytester.path / "suites").mkdir()
    (pytester.path / "suites" / "triage.yaml").write_text(SUITE)
    pytester.makeini("[pytest]\n")  # the rootdir, where relative suite paths start
    pytester.makepyfile(test_team=TESTS)

    # the plugin by name, whether or not this environment's install registered the entry point yet
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    outcome = pytester.runpytest_subprocess(
        "-p", "evalkit.pytest_plugin", "--evalkit-out", "ci-reports", "-p", "no:cacheprovider"
    )

    outcome.assert_outcomes(passed=2, failed=2)
    text = outcome.stdout.str()
    # a no-go fails with the verdict and every rule's reason, not a traceback into the plugin
    assert "evalkit: NO-GO for suite plugin-check (1 of 2 gate rules passed)" in text
    assert "✗ ft exact = 0.333 < 0.900 (min)" in text
    assert "✓ ft error_rate = 0.000 ≤ 0.000 (max)" in text
    assert "def assert_go" not in text and "def run(" not in text
    # a suite that cannot run fails with evalkit's one-line message
    outcome.stdout.fnmatch_lines(["*evalkit could not run suites/triage.yaml: *gate[[]0[]].target: *'ft'*"])
    assert "During handling of the above exception" not in text
    # the outputs are kept per test under --evalkit-out
    kept = pytester.path / "ci-reports"
    ran = ["test_any_target_without_the_gate", "test_bad_ships", "test_good_ships"]
    assert sorted(p.name for p in kept.iterdir()) == ran
    files = ["junit.xml", "report.html", "results.json", "summary.md"]
    assert sorted(p.name for p in (kept / "test_good_ships").iterdir()) == files
    assert fake_openai.count(model=GOOD) == 3 and fake_openai.count(model=BAD) == 3


def test_the_plugin_is_registered_and_imports_nothing_heavy() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["pytest11"] == {"evalkit": "evalkit.pytest_plugin"}
    heavy = (
        "openai",
        "numpy",
        "scipy",
        "sklearn",
        "datasets",
        "rich",
        "jinja2",
        "jsonschema",
        "evalkit.pipeline",
    )
    code = f"import sys, evalkit.pytest_plugin\nprint(sorted(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
