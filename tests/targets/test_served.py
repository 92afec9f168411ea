"""``--job local:DIR --server URL``: a local run's targets matched to what an OpenAI-compatible server serves
(``GET /v1/models`` in vLLM's shape, or an engine that loads models by path), and the ``vllm serve``
command that serves the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures.vllm_models import vllm_models

from evalkit.errors import InputError
from evalkit.records import Target
from evalkit.targets.local_jobs import fetch_local_job, local_job_targets
from evalkit.targets.served import ServedModel, serve_targets, served_models, vllm_command

HUB_BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"
URL = "http://127.0.0.1:8000/v1"


def adapter(folder: Path, *, base: str = HUB_BASE, r: int = 8) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {"peft_type": "LORA", "base_model_name_or_path": base, "r": r}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    (folder / "adapter_model.safetensors").write_bytes(b"")
    return folder


def trainer_run(run: Path, *, base: str = HUB_BASE) -> Path:
    """A Trainer output directory: adapters at steps 2 and 4 (r 8 and 12) and the final one in ``run``."""
    adapter(run / "checkpoint-2", base=base)
    adapter(run / "checkpoint-4", base=base, r=12)
    adapter(run, base=base, r=12)
    return run.resolve()


def run_targets(run: Path) -> list[Target]:
    return local_job_targets(fetch_local_job(f"local:{run}"))


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return trainer_run(tmp_path / "out")


def test_vllm_serves_the_base_by_its_name_and_each_adapter_as_a_lora_module(run: Path) -> None:
    served = served_models(vllm_models(base=HUB_BASE, run=str(run))["data"])
    assert served[1] == ServedModel("step-2", root=f"{run}/checkpoint-2", parent=HUB_BASE)

    targets = serve_targets(run_targets(run), served, url=URL)

    assert [(t.name, t.model, t.served_from, t.endpoint) for t in targets] == [
        ("base", HUB_BASE, "local:smollm2-135m-instruct", "chat"),
        ("step-2", "step-2", f"local:{run}/checkpoint-2", "chat"),
        ("step-4", "step-4", f"local:{run}/checkpoint-4", "chat"),
        ("final", "final", f"local:{run}", "chat"),
    ]
    assert [(t.role, t.step) for t in targets] == [
        ("base", None),
        ("checkpoint", 2),
        ("checkpoint", 4),
        ("final", 4),
    ]


def test_lora_modules_are_matched_by_adapter_path_whatever_their_names(run: Path) -> None:
    body = vllm_models(base=HUB_BASE, run=str(run))
    for card, name in zip(body["data"][1:], ["triage-a", "triage-b", "triage-c"], strict=True):
        card["id"] = name

    targets = serve_targets(run_targets(run), served_models(body["data"]), url=URL)

    assert [t.model for t in targets] == [HUB_BASE, "triage-a", "triage-b", "triage-c"]


def test_a_target_the_server_lacks_is_an_error_listing_what_it_serves_and_how_to_serve_the_run(
    run: Path,
) -> None:
    served = served_models(vllm_models(base=HUB_BASE, run=str(run), drop=("final",))["data"])

    with pytest.raises(InputError) as caught:
        serve_targets(run_targets(run), served, url=URL)

    assert str(caught.value) == (
        f"--server: the server {URL} does not serve final (local:{run}): it serves {HUB_BASE}, step-2, step-4; "
        f"serve the run with: vllm serve {HUB_BASE} --enable-lora --lora-modules step-2={run}/checkpoint-2 "
        f"step-4={run}/checkpoint-4 final={run} --max-lora-rank 16"
    )


def test_a_module_named_like_the_target_but_serving_another_adapter_is_not_used(
    run: Path, tmp_path: Path
) -> None:
    body = vllm_models(base=HUB_BASE, run=str(run))
    body["data"][2]["root"] = str(tmp_path / "elsewhere")  # step-4 serves another adapter

    with pytest.raises(
        InputError,
        match=rf"does not serve step-4 \(local:{run}/checkpoint-4, but the server's "
        rf"step-4 is {tmp_path}/elsewhere\)",
    ):
        serve_targets(run_targets(run), served_models(body["data"]), url=URL)


def test_an_engine_that_loads_by_path_gets_a_full_weight_base_by_its_absolute_path_but_no_adapter(
    tmp_path: Path,
) -> None:
    base = tmp_path / "base-model"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"model_type": "llama"}))
    run = trainer_run(tmp_path / "out", base=str(base))
    # `transformers serve` lists what it has cached, by Hub name, with no root: the run's folders are not there.
    listed: list[dict[str, Any]] = [
        {"id": HUB_BASE, "object": "model", "created": 0, "owned_by": "HuggingFaceTB"}
    ]
    targets = run_targets(run)

    assert serve_targets(targets[:1], served_models(listed), url=URL)[0].model == str(base.resolve())
    with pytest.raises(
        InputError, match=r"does not serve step-2 \(local:.*\); step-4 .*; final .*: it serves "
    ):
        serve_targets(targets, served_models(listed), url=URL)


def test_the_vllm_command_serves_every_adapter_under_its_target_name_on_one_flag(run: Path) -> None:
    assert vllm_command(run_targets(run)) == (
        f"vllm serve {HUB_BASE} --enable-lora --lora-modules step-2={run}/checkpoint-2 "
        f"step-4={run}/checkpoint-4 final={run} --max-lora-rank 16"
    )


def test_final_saved_as_the_last_checkpoint_is_answered_as_final_not_as_that_step(tmp_path: Path) -> None:
    run = tmp_path / "out"
    adapter(run / "checkpoint-2")
    adapter(run / "checkpoint-4")  # no adapter in the run directory: the last checkpoint is the final model
    run = run.resolve()
    body = vllm_models(base=HUB_BASE, run=str(run))
    body["data"][3]["root"] = f"{run}/checkpoint-4"

    targets = serve_targets(run_targets(run), served_models(body["data"]), url=URL)

    assert [(t.name, t.model) for t in targets] == [
        ("base", HUB_BASE),
        ("step-2", "step-2"),
        ("step-4", "step-4"),
        ("final", "final"),
    ]


def test_transformers_serve_lists_a_loaded_path_by_itself(tmp_path: Path) -> None:
    base = tmp_path / "merged"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"model_type": "llama"}))
    run = trainer_run(tmp_path / "out", base=str(base))
    # transformers' `ModelManager.list_models`: the Hub cache's models, then the loaded paths, with a status.
    listed = [
        {"owned_by": "HuggingFaceTB", "id": HUB_BASE, "object": "model", "created": 1730000000},
        {
            "owned_by": "local",
            "id": str(base.resolve()),
            "object": "model",
            "created": 0,
            "status": {"value": "loaded"},
        },
    ]

    (target,) = serve_targets(run_targets(run)[:1], served_models(listed), url=URL)

    assert (target.model, target.served_from) == (str(base.resolve()), f"local:{base.resolve()}")
