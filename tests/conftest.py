"""Shared fixtures: every test is isolated from the real world, and can talk to a fake OpenAI.

- ``isolate`` (autouse): evalkit's cache and Hugging Face caches go to the test's tmp dir, HF runs
  offline, and no ``OPENAI_*``/``AZURE_OPENAI_*``/``EVALKIT_*``/``GITHUB_STEP_SUMMARY`` from the
  developer's shell leaks in (so no test can reach a real service or the user's files).
- ``fake_openai_server`` (session): one fake OpenAI HTTP server on 127.0.0.1 for the whole run.
- ``fake_openai``: that server, reset, with ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` pointing at it.
- ``openai_spec`` (session): OpenAI's OpenAPI spec to check body shapes (a copy in the repo); never skips.

``tests/`` is put on ``sys.path`` so test modules anywhere can ``from fakeopenai import FakeOpenAI``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # pytest's default import mode does this too; importlib mode doesn't

# Imported after the sys.path entry above.
from fakeopenai import FAKE_API_KEY, FakeOpenAI
from fakeopenai.openapi import SPEC_PATH, OpenAPISpec, load_spec

pytest_plugins = (
    "pytester",  # lets tests run the fixtures above in an inner pytest session
    "fixtures.local_models",  # local models converted once per test run (lab, providers, targets, cli)
)

_LEAKY_PREFIXES = ("OPENAI_", "AZURE_OPENAI_", "EVALKIT_")
_LEAKY_NAMES = ("OPENAI_API_VERSION", "GITHUB_STEP_SUMMARY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


@pytest.fixture(scope="session")
def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One per-run stand-in for the user's config/cache dirs (shared so tool caches build once)."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(autouse=True)
def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _session_home: Path) -> None:
    """Keep the test away from real services, real keys and the user's caches."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf" / "datasets"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(_session_home / name.lower()))
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("no_proxy", no_proxy)


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAI]:
    """The fake OpenAI server, started once per test run (prefer ``fake_openai``, which resets it)."""
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(
    fake_openai_server: FakeOpenAI, isolate: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeOpenAI]:
    """The fake OpenAI, freshly reset, with OPENAI_BASE_URL/OPENAI_API_KEY pointing at it."""
    fake_openai_server.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_API_KEY)
    yield fake_openai_server
    fake_openai_server.reset()  # releases anything this test left hanging


@pytest.fixture(scope="session")
def openai_spec() -> OpenAPISpec:
    """OpenAI's official OpenAPI spec (``check(body, "SchemaName")``), trimmed; fails if the copy is gone."""
    spec = load_spec()
    if spec is None:
        pytest.fail(
            f"OpenAI's OpenAPI spec is missing at {SPEC_PATH}: it is part of the repository; restore it"
            " from git, or rewrite it with `python tests/fakeopenai/trim_spec.py`",
            pytrace=False,
        )
    return spec


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "writes_invalid_results: the test writes a broken results.json on purpose (not schema-checked)"
    )


@pytest.fixture(autouse=True)
def results_follow_the_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """Every results.json a test produces follows evalkit's published JSON Schema (the file in the repo, checked
    with a JSON Schema validator, not with the records it was generated from) and reads back."""
    yield
    if request.node.get_closest_marker("writes_invalid_results"):
        return
    from jsonschema import Draft202012Validator

    from evalkit.records.results_json import load_schema, read_results

    validator = Draft202012Validator(load_schema())
    for path in tmp_path.rglob("results.json"):
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(json.loads(path.read_text()))]
        assert not problems, f"{path} does not follow the published schema:\n" + "\n".join(problems[:5])
        read_results(path)
