"""``evalkit merge DIR``: each LoRA checkpoint merged into its (GGUF-converted) base, loadable by path, with
the adapter's greedy answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.local_data import write_suite

from evalkit.cli import main
from evalkit.errors import InputError
from evalkit.lab.finetune import finetune
from evalkit.lab.merge import merge_run


def test_merge_writes_loadable_checkpoints_with_the_adapters_answers(
    local_models: Path, tiny_chat_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = finetune(
        tiny_chat_file, out=tmp_path / "run", epochs=2, batch_size=4, learning_rate=3e-3, progress=False
    )

    assert main(["merge", str(run)]) == 0

    progress = capsys.readouterr()
    for step in (2, 4):
        merged = run / f"checkpoint-{step}" / "merged"
        assert f"merge: checkpoint-{step}: wrote {merged}" in progress.err
        assert str(merged) in progress.out
        assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"} <= {
            f.name for f in merged.iterdir()
        }
        assert "quantization_config" not in json.loads((merged / "config.json").read_text())
    # the run still reads as before: its checkpoints are the adapters, the merged folders sit beside them
    assert main(["targets", "--job", f"local:{run}"]) == 0
    assert "merged" not in capsys.readouterr().out

    out = tmp_path / "report"
    flags = ["--model", f"merged-2=local:{run / 'checkpoint-2' / 'merged'}"]
    flags += ["--model", f"merged-4=local:{run / 'checkpoint-4' / 'merged'}"]
    code = main(
        ["run", str(write_suite(tmp_path)), "--job", f"local:{run}", *flags, "--out", str(out), "--quiet"]
    )

    assert code in (0, 1)
    cases = json.loads((out / "results.json").read_text())["cases"]
    for step in (2, 4):
        adapter = [case["results"][f"step-{step}"]["output"] for case in cases]
        merged_answers = [case["results"][f"merged-{step}"]["output"] for case in cases]
        assert merged_answers == adapter
        assert all(case["results"][f"merged-{step}"]["error"] is None for case in cases)
    assert [case["results"]["step-4"]["output"] for case in cases] != [
        case["results"]["base"]["output"] for case in cases
    ]


def test_finetune_merge_then_merge_again_skips_what_exists(
    local_models: Path, tiny_chat_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    flags = ["--epochs", "1", "--batch-size", "8", "--quiet", "--merge"]
    assert main(["finetune", str(tiny_chat_file), "--out", str(run), *flags]) == 0
    assert (
        f"merge: checkpoint-1: wrote {run.resolve() / 'checkpoint-1' / 'merged'}" in capsys.readouterr().err
    )
    merged = [run.resolve() / "checkpoint-1" / "merged"]
    written = (merged[0] / "model.safetensors").stat().st_mtime_ns

    again: list[str] = []
    assert merge_run(run, say=again.append) == merged

    assert again == ["merge: checkpoint-1: merged/ exists, skipped"]
    assert (merged[0] / "model.safetensors").stat().st_mtime_ns == written
    assert not [f for f in (run / "checkpoint-1").iterdir() if f.name.startswith(".merged-")]


def test_a_folder_without_adapters_is_refused(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-1").mkdir()
    (tmp_path / "checkpoint-1" / "config.json").write_text("{}")
    (tmp_path / "checkpoint-1" / "model.safetensors").write_bytes(b"")

    with pytest.raises(InputError, match="no LoRA adapters"):
        merge_run(tmp_path)
    assert main(["merge", str(tmp_path / "nowhere")]) == 2
