"""evalkit against a real OpenAI-compatible engine: ``transformers serve`` (the ``serving`` extra of
transformers, installed by the test set-up), on the CPU and offline, serving by path the SmolLM2 base and
the merged checkpoints of a short local fine-tune.

``evalkit run --job local:DIR --server URL`` must give base, every step-N and final with no error, and the
same answers as the in-process run of the same cases (greedy decoding on both sides).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.local_data import HELD_OUT, SYSTEM

from evalkit.cli import main

STARTUP_S = 180.0
"""Most seconds ``transformers serve`` may take to answer ``GET /v1/models``."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[str]:
    """A ``transformers serve`` on loopback (CPU, offline); its ``/v1`` address."""
    binary = Path(sys.executable).with_name("transformers")
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-serve")}
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [str(binary), "serve", "--device", "cpu", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"transformers serve did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    rows = [
        {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": t}, {"role": "assistant", "content": label}]}
        for t, label in HELD_OUT
    ]  # fmt: skip
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    path = tmp_path / "suite.yaml"
    path.write_text("name: engine\ndata: test.jsonl\ngeneration: {temperature: 0, max_tokens: 4}\nscorers: [exact]\n")
    return path


def _answers(out: Path) -> dict[tuple[str, str], Any]:
    results = json.loads((out / "results.json").read_text())
    return {(case["id"], name): (r["output"], r["error"]) for case in results["cases"] for name, r in case["results"].items()}


def test_a_local_run_served_by_transformers_serve_answers_as_it_does_in_process(
    local_models: Path, tiny_chat_file: Path, suite: Path, engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(["finetune", str(tiny_chat_file), "--base", "local:smollm2-135m-instruct", "--epochs", "2",
                 "--out", str(run), "--merge"]) == 0  # fmt: skip
    job = ["--job", f"local:{run}", "--quiet"]
    assert main(["run", str(suite), *job, "--out", str(tmp_path / "in-process")]) == 0
    assert main(["run", str(suite), *job, "--server", engine, "--out", str(tmp_path / "served")]) == 0, (
        capsys.readouterr().err
    )

    here, there = _answers(tmp_path / "in-process"), _answers(tmp_path / "served")
    served = json.loads((tmp_path / "served" / "results.json").read_text())["targets"]
    names = [t["name"] for t in served]
    assert names[0] == "base" and names[-1] == "final" and any(n.startswith("step-") for n in names)
    assert all(t["model"].startswith("/") and t["served_from"].startswith("local:") for t in served)
    assert [t["model"].endswith("/merged") for t in served[1:]] == [True] * (len(served) - 1)
    assert all(error is None for _, error in there.values())
    assert there == here  # greedy decoding: the same answers, case by case and target by target
