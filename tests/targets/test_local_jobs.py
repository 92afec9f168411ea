"""``--job local:DIR`` on a Hugging Face Trainer output directory that has no evalkit job record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.errors import InputError
from evalkit.targets.local_jobs import fetch_local_job, local_job_targets

HUB_BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"


def adapter(folder: Path, base: str = HUB_BASE, **extra: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {"peft_type": "LORA", "base_model_name_or_path": base, "r": 8, **extra}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    (folder / "adapter_model.safetensors").write_bytes(b"")
    return folder


def trainer_state(folder: Path, history: list[dict[str, Any]]) -> None:
    state = {
        "global_step": history[-1]["step"],
        "num_train_epochs": 2,
        "train_batch_size": 4,
        "log_history": history,
    }
    (folder / "trainer_state.json").write_text(json.dumps(state))


HISTORY = [
    {"epoch": 0.5, "step": 1, "loss": 3.2, "grad_norm": 4.0, "learning_rate": 0.001},
    {"epoch": 1.0, "step": 2, "loss": 1.1, "grad_norm": 2.0, "learning_rate": 0.0005},
    {"epoch": 1.0, "step": 2, "eval_loss": 1.4, "eval_runtime": 0.1},
    {"epoch": 1.5, "step": 3, "loss": 0.6},
    {"epoch": 2.0, "step": 4, "loss": 0.3},
    {"epoch": 2.0, "step": 4, "eval_loss": 0.9},
    {"epoch": 2.0, "step": 4, "train_runtime": 9.0, "train_loss": 1.3},
]


@pytest.fixture
def trainer_dir(tmp_path: Path) -> Path:
    """``output_dir`` of a Trainer run: two checkpoint adapters, each with its trainer_state.json."""
    out = tmp_path / "out"
    trainer_state(adapter(out / "checkpoint-2"), HISTORY[:3])
    trainer_state(adapter(out / "checkpoint-4"), HISTORY)
    (out / "checkpoint-3-tmp").mkdir()  # not a checkpoint folder
    (out / "runs").mkdir()  # TensorBoard logs and the like are ignored
    return out


def test_checkpoints_resolve_to_base_steps_and_final(trainer_dir: Path) -> None:
    job = fetch_local_job(f"local:{trainer_dir}")
    targets = local_job_targets(job)

    assert [(t.name, t.role, t.step) for t in targets] == [
        ("base", "base", None),
        ("step-2", "checkpoint", 2),
        ("step-4", "checkpoint", 4),
        ("final", "final", 4),
    ]
    models = {t.name: t.model for t in targets}
    assert models["base"] == "local:smollm2-135m-instruct"  # the Hub id of the built-in model
    assert models["step-2"] == f"local:{trainer_dir.resolve() / 'checkpoint-2'}"
    assert models["final"] == models["step-4"]
    assert all(t.endpoint == "chat" for t in targets)
    assert any("the last checkpoint (step 4) is evaluated as 'final'" in w for w in job.warnings)


def test_training_curve_comes_from_trainer_state(trainer_dir: Path) -> None:
    job = fetch_local_job(f"local:{trainer_dir}")

    curve = {r["step"]: (r["train_loss"], r["full_valid_loss"]) for r in job.training}
    assert curve == {1: (3.2, None), 2: (1.1, 1.4), 3: (0.6, None), 4: (0.3, 0.9)}
    assert job.hyperparameters == {"n_epochs": 2, "batch_size": 4}
    assert job.status == "succeeded"
    assert job.id == "local-out"


def test_an_adapter_saved_in_the_directory_itself_is_the_final_model(trainer_dir: Path) -> None:
    adapter(trainer_dir)

    job = fetch_local_job(f"local:{trainer_dir}")

    assert job.fine_tuned_model == f"local:{trainer_dir.resolve()}"
    assert not job.warnings


def test_an_adapter_on_a_local_model_directory_names_that_directory(tmp_path: Path) -> None:
    base = tmp_path / "my-model"
    base.mkdir()
    (base / "config.json").write_text("{}")
    adapter(tmp_path / "out" / "checkpoint-1", base=str(base))

    job = fetch_local_job(f"local:{tmp_path / 'out'}")

    assert job.base_model == f"local:{base.resolve()}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d.mkdir(), "neither a job record (job.json) nor checkpoint-N/ folders"),
        (lambda d: None, "does not exist"),
        (
            lambda d: adapter(d / "checkpoint-1", base="gpt2-not-here"),
            "trained on 'gpt2-not-here', which is not on this machine",
        ),
        (
            lambda d: (adapter(d / "checkpoint-1"), adapter(d / "checkpoint-2", base="local:/elsewhere")),
            "does not exist",
        ),
        (lambda d: adapter(d / "checkpoint-1", peft_type="IA3"), "evalkit serves LoRA adapters only"),
    ],
    ids=["empty", "missing", "unknown-base", "other-base", "not-lora"],
)
def test_unusable_directories_are_refused_with_the_reason(tmp_path: Path, make: Any, message: str) -> None:
    directory = tmp_path / "run"
    make(directory)

    with pytest.raises(InputError, match="--job") as caught:
        fetch_local_job(f"local:{directory}")

    assert message in str(caught.value)


def test_adapters_on_different_bases_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other-model"
    other.mkdir()
    (other / "config.json").write_text("{}")
    adapter(tmp_path / "run" / "checkpoint-1")
    adapter(tmp_path / "run" / "checkpoint-2", base=str(other))

    with pytest.raises(InputError, match="trained on different base models"):
        fetch_local_job(f"local:{tmp_path / 'run'}")
