"""``evalkit run SUITE --job local:DIR --server URL`` against a loopback server that answers like vLLM serving
the run's adapters as LoRA modules, and ``evalkit targets --job local:DIR --serve vllm``."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import pytest
from fixtures.local_data import HELD_OUT, SYSTEM
from fixtures.vllm_models import vllm_models

from evalkit.cli import main

HUB_BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"
LABELS = dict(HELD_OUT)


class VLLMLike:
    """A loopback server with vLLM's ``GET /v1/models`` body and a ``POST /v1/chat/completions`` that
    answers each ticket's label for ``final``, ``billing`` for every other model."""

    def __init__(self, models: dict[str, Any]) -> None:
        self.models = models
        self.chat_models: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    self._send(200, owner.models)
                else:
                    self._send(404, {"object": "error", "message": f"no route {self.path}", "code": 404})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/v1/chat/completions":
                    self._send(404, {"object": "error", "message": f"no route {self.path}", "code": 404})
                    return
                owner.chat_models.append(body["model"])
                ticket = body["messages"][-1]["content"]
                answer = LABELS[ticket] if body["model"] == "final" else "billing"
                self._send(200, _completion(body["model"], answer))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1764748800,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21},
    }


def _adapter(folder: Path, r: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    config = {"peft_type": "LORA", "base_model_name_or_path": HUB_BASE, "r": r}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    (folder / "adapter_model.safetensors").write_bytes(b"")


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A Trainer output directory: LoRA adapters at steps 2 and 4 and the final one in the directory."""
    out = tmp_path / "out"
    _adapter(out / "checkpoint-2", r=8)
    _adapter(out / "checkpoint-4", r=8)
    _adapter(out, r=8)
    return out.resolve()


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    rows = [
        {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": t},
                {"role": "assistant", "content": label},
            ]
        }
        for t, label in HELD_OUT
    ]
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    path = tmp_path / "suite.yaml"
    path.write_text(
        "name: served\ndata: test.jsonl\ngeneration: {temperature: 0, max_tokens: 4}\nscorers: [exact]\n"
        "gate:\n  - {target: final, metric: exact, min: 0.75}\n"
    )
    return path


def test_targets_serve_vllm_prints_the_command_that_serves_the_run(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["targets", "--job", f"local:{run}", "--serve", "vllm"]) == 0
    assert capsys.readouterr().out == (
        f"vllm serve {HUB_BASE} --enable-lora --lora-modules step-2={run}/checkpoint-2 "
        f"step-4={run}/checkpoint-4 final={run} --max-lora-rank 8\n"
    )


def test_run_evaluates_the_local_run_on_the_server_and_records_the_served_ids(
    run: Path, suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    with VLLMLike(vllm_models(base=HUB_BASE, run=str(run))) as server:
        code = main(
            ["run", str(suite), "--job", f"local:{run}", "--server", server.url, "--out", str(out), "--quiet"]
        )

    assert code == 0, capsys.readouterr().err
    assert sorted(set(server.chat_models)) == sorted([HUB_BASE, "step-2", "step-4", "final"])
    assert len(server.chat_models) == 4 * len(HELD_OUT)
    results = json.loads((out / "results.json").read_text())
    assert [(t["name"], t["model"], t.get("served_from"), t["endpoint"]) for t in results["targets"]] == [
        ("base", HUB_BASE, "local:smollm2-135m-instruct", "chat"),
        ("step-2", "step-2", f"local:{run}/checkpoint-2", "chat"),
        ("step-4", "step-4", f"local:{run}/checkpoint-4", "chat"),
        ("final", "final", f"local:{run}", "chat"),
    ]
    assert results["metrics"]["final"]["exact"]["value"] == 1.0
    assert results["metrics"]["base"]["exact"]["value"] == 0.25
    assert results["gate"]["verdict"] == "go"
    html = (out / "report.html").read_text()
    assert f"(served from <code><bdi>local:{run}/checkpoint-2</bdi></code>)" in html


def test_a_target_the_server_does_not_serve_stops_the_run_before_any_call(
    run: Path, suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with VLLMLike(vllm_models(base=HUB_BASE, run=str(run), drop=("step-4",))) as server:
        code = main(
            ["run", str(suite), "--job", f"local:{run}", "--server", server.url, "--out", str(tmp_path / "r")]
        )

    assert code == 2
    assert server.chat_models == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        f"evalkit: error: --server: the server {server.url} does not serve step-4 (local:{run}/checkpoint-4): "
        f"it serves {HUB_BASE}, step-2, final; serve the run with: vllm serve {HUB_BASE} --enable-lora "
    )


def test_server_needs_a_local_run(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(suite), "--model", "m=gpt-4o", "--server", "http://127.0.0.1:9/v1"]) == 2
    assert "give the run as --job local:DIR" in capsys.readouterr().err


def test_a_server_that_does_not_answer_is_an_error_naming_it(
    run: Path, suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with VLLMLike({}) as server:
        url = server.url  # closed once the block ends
    flags = ["--server", url, "--max-attempts", "1", "--quiet", "--out", str(tmp_path / "r")]
    code = main(["run", str(suite), "--job", f"local:{run}", *flags])

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"evalkit: error: cannot reach the server {url} (") and err.count("\n") == 1


def test_a_rerun_reuses_cached_answers_until_an_adapter_changes(
    run: Path, suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with VLLMLike(vllm_models(base=HUB_BASE, run=str(run))) as server:
        flags = ["--job", f"local:{run}", "--server", server.url, "--quiet"]
        assert main(["run", str(suite), *flags, "--out", str(tmp_path / "first")]) == 0
        assert main(["run", str(suite), *flags, "--out", str(tmp_path / "again")]) == 0
        assert len(server.chat_models) == 4 * len(HELD_OUT)  # the re-run made no call
        (run / "checkpoint-2" / "adapter_model.safetensors").write_bytes(b"retrained")
        assert main(["run", str(suite), *flags, "--out", str(tmp_path / "retrained")]) == 0, (
            capsys.readouterr().err
        )

    # step-2 is asked again: an adapter's own files are its fingerprint (as for the in-process local provider),
    # so final (the run directory's adapter), base and step-4 come from the cache.
    again = server.chat_models[4 * len(HELD_OUT) :]
    assert sorted(again) == ["step-2"] * len(HELD_OUT)
