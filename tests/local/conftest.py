"""Fixtures for local models: the built-in SmolLM2 converted once per test run, shared by every test.

``converted_models`` (session) converts the built-in GGUF into a session tmp dir (≈20 s, ≈0.5 GB);
``local_models`` makes that the ``models/`` folder of the test's own evalkit cache dir (a symlink), so
``load_base`` and the local provider find the weights without converting again, while each test keeps
its own response cache. ``tiny_chat_file`` writes a small chat training file (``local_data.TICKETS``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from local_data import TICKETS, chat_row


@pytest.fixture(scope="session")
def converted_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding the built-in model converted from its GGUF file (once per test run)."""
    from evalkit.providers.local.models import BUILTINS, BaseSource, load_base

    folder = tmp_path_factory.mktemp("models")
    builtin = BUILTINS["smollm2-135m-instruct"]
    load_base(BaseSource(key=builtin.name, path=None, builtin=builtin), cache_dir=folder)
    return folder


@pytest.fixture
def local_models(converted_models: Path, isolate: None) -> Path:
    """The test's evalkit cache dir, whose ``models/`` is the converted built-in model."""
    cache = Path(os.environ["EVALKIT_CACHE_DIR"])
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "models").symlink_to(converted_models, target_is_directory=True)
    return cache


@pytest.fixture
def tiny_chat_file(tmp_path: Path) -> Path:
    """A chat fine-tuning file of the eight tickets."""
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(chat_row(t, label)) + "\n" for t, label in TICKETS), encoding="utf-8")
    return path
