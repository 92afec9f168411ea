"""``evalkit finetune`` end to end: a few LoRA steps on the CPU, then base, checkpoints and final evaluated."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fixtures.local_data import HELD_OUT, write_suite

from evalkit.analysis.metrics import compute_metrics
from evalkit.data import load_cases
from evalkit.errors import DataError, InputError
from evalkit.lab.finetune import finetune
from evalkit.providers.local.provider import LocalProvider
from evalkit.providers.router import ProviderRouter
from evalkit.records import Outcome, Target
from evalkit.runner import RunSettings, run_targets
from evalkit.runner.cache import Cache
from evalkit.runner.calls import Caller
from evalkit.scorers import build_scorers
from evalkit.scorers.run import score_run
from evalkit.suite import load_suite
from evalkit.targets.local_jobs import fetch_local_job, local_job_targets


def evaluate(
    suite_path: Path, targets: list[Target]
) -> tuple[dict[str, list[Outcome]], dict[str, float | None]]:
    """What ``evalkit run SUITE --job local:DIR`` does between resolving targets and scoring."""
    suite = load_suite(suite_path)
    cases = load_cases(suite).cases
    scorers = build_scorers(suite.scorers)

    async def run() -> tuple[dict[str, list[Outcome]], dict[str, float | None]]:
        cache = Cache.open(Cache.default_dir())
        async with ProviderRouter(local=LocalProvider()) as provider:
            outcomes = await run_targets(
                cases,
                targets,
                caller=Caller(provider, cache=cache),
                settings=RunSettings(generation=suite.generation),
                progress=False,
            )
        cache.close()
        scores = await score_run(cases, outcomes, scorers)
        metrics, _ = compute_metrics(cases, outcomes, scores, scorers)
        return outcomes, {name: values["exact"].value for name, values in metrics.items()}

    return asyncio.run(run())


def test_fine_tune_then_evaluate_base_every_checkpoint_and_final(
    local_models: Path, tiny_chat_file: Path, tmp_path: Path
) -> None:
    run = finetune(
        tiny_chat_file,
        out=tmp_path / "runs" / "tiny",
        epochs=2,
        batch_size=4,
        learning_rate=3e-3,
        progress=False,
    )

    for step in (2, 4):
        assert (run / f"checkpoint-{step}" / "adapter_model.safetensors").is_file()
        config = json.loads((run / f"checkpoint-{step}" / "adapter_config.json").read_text())
        assert config["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert json.loads((run / "trainer_state.json").read_text())["global_step"] == 4
    job = fetch_local_job(f"local:{run}")
    targets = local_job_targets(job)
    assert [t.name for t in targets] == ["base", "step-2", "step-4", "final"]
    assert [r["step"] for r in job.training] == [1, 2, 3, 4]
    assert all(
        r["train_loss"] is not None and r["train_mean_token_accuracy"] is not None for r in job.training
    )
    assert job.training[-1]["train_loss"] < job.training[0]["train_loss"]
    assert len(job.training_examples) == 8

    outcomes, exact = evaluate(write_suite(tmp_path), targets)

    assert all(
        o.error is None and o.usage.prompt_tokens > 0 for results in outcomes.values() for o in results
    )
    queues = {label for _, label in HELD_OUT}
    assert exact["base"] == 0.0  # the base model chats instead of answering with a queue name
    assert not any(o.output in queues for o in outcomes["base"])
    assert all(o.output in queues for o in outcomes["final"])  # four steps taught it the answer's form
    assert [o.output for o in outcomes["final"]] == [o.output for o in outcomes["step-4"]]


def test_the_same_command_again_reuses_the_finished_run(
    local_models: Path, tiny_chat_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    finetune(tiny_chat_file, out=out, epochs=1, batch_size=8, progress=False)
    saved = (out / "checkpoint-1" / "adapter_model.safetensors").stat().st_mtime_ns

    again = finetune(tiny_chat_file, out=out, epochs=1, batch_size=8)

    assert again == out
    assert (out / "checkpoint-1" / "adapter_model.safetensors").stat().st_mtime_ns == saved
    assert "reusing the finished fine-tune" in capsys.readouterr().err
    with pytest.raises(InputError, match="already holds a fine-tune of other data or settings"):
        finetune(tiny_chat_file, out=out, epochs=2, batch_size=8, progress=False)


def test_a_bad_line_is_reported_before_any_model_loads(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text(
        json.dumps(
            {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
        )
        + "\n"
        + json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "x", "weight": 2},
                ]
            }
        )
        + "\n"
    )

    with pytest.raises(DataError) as caught:
        finetune(data, out=tmp_path / "run", progress=False)

    assert str(caught.value) == f"{data}:2: messages[1].weight: expected 0 or 1, got 2"
    assert not (tmp_path / "run").exists()


def test_an_output_folder_that_is_not_a_run_is_left_alone(tiny_chat_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")

    with pytest.raises(InputError, match="exists and is not an evalkit run"):
        finetune(tiny_chat_file, out=out, progress=False)

    assert (out / "notes.txt").read_text() == "keep me"
