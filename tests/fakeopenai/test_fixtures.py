"""The shared fixtures keep tests away from real services and point the SDK at the fake."""

from __future__ import annotations

import os
from pathlib import Path

import openai
import pytest

from fakeopenai import FAKE_API_KEY, FakeOpenAI

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

INNER_TESTS = """
import os
from pathlib import Path


def test_isolated(tmp_path):
    leaked = [n for n in os.environ if n.startswith(("OPENAI_", "AZURE_OPENAI_", "EVALKIT_CONCURRENCY"))]
    assert leaked == []
    assert "GITHUB_STEP_SUMMARY" not in os.environ
    assert Path(os.environ["EVALKIT_CACHE_DIR"]) == tmp_path / "cache"
    assert Path(os.environ["HF_HOME"]).is_relative_to(tmp_path)
    assert Path(os.environ["HF_DATASETS_CACHE"]).is_relative_to(tmp_path)
    assert os.environ["HF_HUB_OFFLINE"] == os.environ["HF_DATASETS_OFFLINE"] == "1"


def test_fake_openai_env(fake_openai):
    assert os.environ["OPENAI_BASE_URL"] == fake_openai.url
    assert os.environ["OPENAI_API_KEY"].startswith("sk-test-")
    assert "AZURE_OPENAI_API_KEY" not in os.environ
"""


def test_isolate_strips_the_developers_keys_and_caches(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "OPENAI_API_KEY": "sk-real-secret",
        "OPENAI_BASE_URL": "https://api.openai.com/v1",
        "OPENAI_API_VERSION": "2024-10-21",
        "AZURE_OPENAI_API_KEY": "azure-real-secret",
        "AZURE_OPENAI_ENDPOINT": "https://example.openai.azure.com",
        "GITHUB_STEP_SUMMARY": "/tmp/summary.md",
        "EVALKIT_CONCURRENCY": "99",
        "HF_HOME": "/home/someone/.cache/huggingface",
        "HF_HUB_OFFLINE": "0",
    }.items():
        monkeypatch.setenv(name, value)
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_inner=INNER_TESTS)

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)


def test_fake_openai_fixture_is_what_a_default_sdk_client_reaches(fake_openai: FakeOpenAI) -> None:
    sdk = openai.OpenAI()  # configured from the environment only, as evalkit's provider will be

    answer = sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}])

    assert answer.choices[0].message.content == "ping"
    assert os.environ["OPENAI_API_KEY"] == FAKE_API_KEY
    assert fake_openai.count("/v1/chat/completions") == 1
