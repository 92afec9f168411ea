"""``--job local:DIR`` on full-weight checkpoints (``config.json`` + ``*.safetensors``), the base named by
``local:DIR?base=ID``, and a base without a chat template called on completions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fixtures.local_data import write_suite

from evalkit.cli import main
from evalkit.errors import InputError
from evalkit.targets.local_jobs import fetch_local_job, local_job_targets

BUILTIN = "local:smollm2-135m-instruct"


def fake_model(folder: Path, *, template: bool = True) -> Path:
    """A model folder as files only (enough for resolving targets, not for loading)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (folder / "model.safetensors").write_bytes(b"")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"chat_template": "{{ x }}"} if template else {})
    )
    return folder


def real_model(converted: Path, folder: Path, *, template: bool = True) -> Path:
    """A loadable model folder: the converted built-in's files linked in, its chat template left out when
    ``template`` is False (what a pretrained, not instruct, model looks like)."""
    source = next(converted.glob("smollm2-135m-instruct-*"))
    folder.mkdir(parents=True)
    for file in source.iterdir():
        if template or file.name != "chat_template.jinja":
            os.symlink(file, folder / file.name)
    return folder


def test_full_weight_checkpoints_need_a_base_and_take_it_from_the_spec(tmp_path: Path) -> None:
    run = tmp_path / "run"
    fake_model(run / "checkpoint-5")
    fake_model(run / "checkpoint-10")
    fake_model(run)  # the Trainer's final save_model

    with pytest.raises(InputError, match=r"full models, which name no base model: .*\?base="):
        fetch_local_job(f"local:{run}")
    job = fetch_local_job(f"local:{run}?base={BUILTIN}")
    targets = local_job_targets(job)

    assert [(t.name, t.model, t.endpoint) for t in targets] == [
        ("base", BUILTIN, "chat"),
        ("step-5", f"local:{run.resolve() / 'checkpoint-5'}", "chat"),
        ("step-10", f"local:{run.resolve() / 'checkpoint-10'}", "chat"),
        ("final", f"local:{run.resolve()}", "chat"),
    ]
    assert job.warnings == []


def test_a_base_without_a_chat_template_sends_the_run_to_completions_and_says_so(tmp_path: Path) -> None:
    pretrained = fake_model(tmp_path / "pretrained", template=False)
    run = tmp_path / "run"
    fake_model(run / "checkpoint-3", template=False)

    job = fetch_local_job(f"local:{run}?base={pretrained}")

    assert {t.endpoint for t in local_job_targets(job)} == {"completions"}
    assert any("has no chat template" in w and "completions" in w for w in job.warnings)


def test_the_spec_base_overrides_the_adapters_base(tmp_path: Path) -> None:
    other = fake_model(tmp_path / "other-base")
    run = tmp_path / "run"
    (run / "checkpoint-1").mkdir(parents=True)
    (run / "checkpoint-1" / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct"})
    )

    assert fetch_local_job(f"local:{run}").base_model == BUILTIN
    assert fetch_local_job(f"local:{run}?base=../other-base").base_model == f"local:{other.resolve()}"
    with pytest.raises(InputError, match="names no model"):
        fetch_local_job(f"local:{run}?base=")


def test_full_weight_checkpoints_on_a_pretrained_base_are_evaluated_in_process_on_completions(
    local_models: Path, converted_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pretrained = real_model(converted_models, tmp_path / "pretrained", template=False)
    run = tmp_path / "run"
    real_model(converted_models, run / "checkpoint-2", template=False)
    spec = f"local:{run}?base={pretrained}"

    assert main(["targets", "--job", spec]) == 0
    listed = capsys.readouterr().out
    assert "step-2" in listed and "final" in listed

    out = tmp_path / "report"
    code = main(["run", str(write_suite(tmp_path)), "--job", spec, "--out", str(out), "--quiet", "--no-gate"])

    assert code == 0
    assert "has no chat template" in capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert [(t["name"], t["model"], t["endpoint"]) for t in results["targets"]] == [
        ("base", f"local:{pretrained.resolve()}", "completions"),
        ("step-2", f"local:{run.resolve() / 'checkpoint-2'}", "completions"),
        ("final", f"local:{run.resolve() / 'checkpoint-2'}", "completions"),
    ]
    answers = [case["results"]["step-2"] for case in results["cases"]]
    assert len(answers) == 4
    assert all(a["error"] is None and a["usage"]["completion_tokens"] > 0 for a in answers)
    # the same weights as the base, so the same greedy answers
    assert [a["output"] for a in answers] == [case["results"]["base"]["output"] for case in results["cases"]]
