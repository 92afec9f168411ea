"""``--job local:DIR`` → the same ``JobInfo`` an OpenAI job gives: base, checkpoints, final, curves, data.

``DIR`` is either a run of ``evalkit finetune`` or any Hugging Face Trainer output directory whose
``checkpoint-N/`` folders hold LoRA adapters (``adapter_config.json``) or full weights (``config.json`` +
``*.safetensors``: a full fine-tune, or an adapter merged into its base):

- a run with a job record (``job.json``, ``checkpoints.json``, ``results.csv``, written by
  ``evalkit.lab.record`` in OpenAI's shapes) is read by the code that reads OpenAI's job objects
  (``evalkit.targets.jobs``) and result files (``evalkit.targets.training``); its ``local:`` model ids,
  relative to the run directory, become absolute; its training file is read for the training examples;
- a directory without one: every ``checkpoint-N`` adapter or full model is a checkpoint, the base is the
  one the adapters name (``base_model_name_or_path``), the final model is an adapter or a full model saved
  in ``DIR`` itself or else the last checkpoint (with a warning), and the training curve comes from
  ``trainer_state.json``.

The base can be named in the spec itself: ``local:DIR?base=ID`` (``ID``: a ``local:`` id, a built-in
name, a Hub id in the local Hugging Face cache, or a model directory, absolute or relative to ``DIR``).
It overrides the adapters' and the job record's base, and it is required for full-weight checkpoints of
a run without a job record, which name no base of their own.

Checkpoints are evaluated as ``local:/abs/path/checkpoint-N``; the local provider serves adapters on one
copy of the base and loads a full-weight checkpoint as a model of its own. A base whose tokenizer has no
chat template (a pretrained model, not an instruct one) is called on completions with the suite's
``completions:`` settings, like a ``babbage-002`` job, and the job's warnings say so. Nothing here needs
torch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.providers.local.models import (
    PREFIX,
    BaseSource,
    adapter_base,
    base_named,
    has_chat_template,
    is_full_model,
    is_local,
    local_id,
    read_json,
    resolve_model,
)
from evalkit.records import Target
from evalkit.targets.jobs import (
    Checkpoint,
    JobInfo,
    check_status,
    checkpoint_from,
    job_info_from,
    job_targets,
    unfinished_warning,
)
from evalkit.targets.training import (
    ResultFileError,
    TrainingStep,
    merge_training,
    parse_examples,
    parse_result_file,
)

JOB_FILE = "job.json"
"""The FineTuningJob object of a local run."""
CHECKPOINTS_FILE = "checkpoints.json"
"""The checkpoint list page of a local run."""
RESULT_FILE = "results.csv"
"""The result file of a local run."""
TRAINING_FILE = "training.jsonl"
"""The training data of a local run."""
VALIDATION_FILE = "validation.jsonl"
"""The validation data of a local run, if it had one."""
TRAINER_STATE = "trainer_state.json"
"""Hugging Face Trainer's state file: ``log_history`` holds the per-step losses."""
_CHECKPOINT_DIR = re.compile(r"checkpoint-(\d+)")
_BASE_OPTION = "?base="
"""``local:DIR?base=ID`` names the base model of the run in ``DIR``."""
_FIELD = "--job"


def is_local_job(spec: str) -> bool:
    """``spec`` names a local run (``local:DIR``) rather than an OpenAI job id."""
    return is_local(spec)


def fetch_local_job(spec: str, *, with_files: bool = True) -> JobInfo:
    """The run in ``local:DIR`` (a run of ``evalkit finetune`` or a Trainer output directory) as a job.

    ``with_files``: read the training and validation examples (the run's own copies). Raises
    ``InputError`` on ``--job`` when the directory is missing, holds no checkpoints, or its run failed."""
    directory, base = _run_dir(spec)
    if (directory / JOB_FILE).is_file():
        job = _recorded_job(directory, with_files=with_files)
        if base is not None:
            job.base_model = base_id(base)
    else:
        job = _trainer_job(directory, base)
    if not _chat_base(job):
        job.warnings.append(
            f"the base model {job.base_model} has no chat template (a pretrained model, not an instruct "
            "one): the run's models are called on completions, with the suite's `completions:` settings"
        )
    return job


def local_job_targets(job: JobInfo, prefix: str | None = None) -> list[Target]:
    """``job_targets`` for a local run: on the completions endpoint when it was trained on legacy
    prompt/completion rows (the model learned raw prompts), else on chat."""
    targets = job_targets(job, prefix)
    examples = job.training_examples
    legacy = bool(examples) and all(e.messages is None for e in examples)
    if legacy or not _chat_base(job):
        return [replace(target, endpoint="completions") for target in targets]
    return targets


def _chat_base(job: JobInfo) -> bool:
    """The job's base model has a chat template (True too when its files cannot be read: the call says why)."""
    try:
        return has_chat_template(resolve_model(job.base_model).base)
    except InputError:
        return True


def history_metrics(log_history: Iterable[Mapping[str, Any]]) -> list[TrainingStep]:
    """Trainer ``log_history`` entries → per-step records with OpenAI's metric names: ``loss`` →
    ``train_loss``, ``mean_token_accuracy`` → ``train_mean_token_accuracy``, ``eval_loss`` →
    ``full_valid_loss`` (the whole validation set), ``eval_mean_token_accuracy`` → its accuracy."""
    records: list[dict[str, Any]] = []
    for entry in log_history:
        step = entry.get("step")
        if "loss" in entry:
            records.append(
                {
                    "step": step,
                    "train_loss": entry["loss"],
                    "train_mean_token_accuracy": entry.get("mean_token_accuracy"),
                }
            )
        if "eval_loss" in entry:
            records.append(
                {
                    "step": step,
                    "full_valid_loss": entry["eval_loss"],
                    "full_valid_mean_token_accuracy": entry.get("eval_mean_token_accuracy"),
                }
            )
    return merge_training(records)


def _run_dir(spec: str) -> tuple[Path, BaseSource | None]:
    """The run directory of ``local:DIR[?base=ID]`` and the base it names, if it names one."""
    text = spec[len(PREFIX) :] if is_local(spec) else spec
    text, _, base_name = text.partition(_BASE_OPTION)
    if not text.strip():
        raise InputError(f"{spec!r}: expected local:DIR, a fine-tuning run directory", field=_FIELD)
    directory = Path(text.strip()).expanduser()
    if not directory.is_dir():
        problem = "does not exist" if not directory.exists() else "is not a directory"
        raise InputError(
            f"{spec!r}: {directory} {problem} (expected a run of `evalkit finetune` or a Hugging Face "
            "Trainer output directory with checkpoint-N/ adapters)",
            field=_FIELD,
        )
    directory = directory.resolve()
    if not base_name.strip():
        if _BASE_OPTION in spec:
            raise InputError(f"{spec!r}: ?base= names no model (expected ?base=ID)", field=_FIELD)
        return directory, None
    base = base_named(base_name.strip(), relative_to=directory, field=_FIELD)
    return directory, base


def _recorded_job(directory: Path, *, with_files: bool) -> JobInfo:
    raw = read_json(directory / JOB_FILE, field=_FIELD)
    try:
        job = job_info_from(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{directory / JOB_FILE} is not a fine-tuning job record (missing {exc})", field=_FIELD
        ) from None
    check_status(job, raw)
    job.base_model = _absolute(job.base_model, directory)
    if job.fine_tuned_model is not None:
        job.fine_tuned_model = _absolute(job.fine_tuned_model, directory)
    job.checkpoints = _recorded_checkpoints(directory, job)
    job.training = merge_training(
        ({"step": c.step, **c.metrics} for c in job.checkpoints),
        _result_steps(directory, job),
        history_metrics(_log_history(directory)),
    )
    if with_files:
        job.training_examples = _examples(directory, job.training_file, job)
        job.validation_examples = _examples(directory, job.validation_file, job)
    if job.status != "succeeded" or not job.fine_tuned_model:
        job.warnings.append(unfinished_warning(job))
    return job


def _recorded_checkpoints(directory: Path, job: JobInfo) -> list[Checkpoint]:
    """The record's checkpoints whose adapters are still there; the folders on disk if the run did not
    get as far as writing its checkpoint list."""
    path = directory / CHECKPOINTS_FILE
    if not path.is_file():
        return [Checkpoint(step=step, model=local_id(folder)) for step, folder in _checkpoint_dirs(directory)]
    page = read_json(path, field=_FIELD)
    found: list[Checkpoint] = []
    for item in page.get("data") or []:
        try:
            checkpoint = checkpoint_from(item)
        except (KeyError, TypeError, ValueError):
            job.warnings.append(f"{path}: skipped an entry that is not a checkpoint object")
            continue
        model = _absolute(checkpoint.model, directory)
        if not _is_checkpoint(Path(model[len(PREFIX) :])):
            job.warnings.append(
                f"checkpoint step {checkpoint.step} of {directory} is gone from disk: skipped"
            )
            continue
        found.append(replace(checkpoint, model=model))
    return sorted(found, key=lambda c: c.step)


def _trainer_job(directory: Path, base: BaseSource | None) -> JobInfo:
    checkpoints = _checkpoint_dirs(directory)
    root_adapter = _is_checkpoint(directory)
    if not checkpoints and not root_adapter:
        raise InputError(
            f"{directory} holds neither a job record ({JOB_FILE}) nor checkpoint-N/ folders with LoRA adapters "
            "(adapter_config.json) or full weights (config.json + *.safetensors): expected a run of "
            "`evalkit finetune` or a Hugging Face Trainer output directory",
            field=_FIELD,
        )
    models = [folder for _, folder in checkpoints] + ([directory] if root_adapter else [])
    if base is None:
        base = _common_base(
            directory, [folder for folder in models if (folder / "adapter_config.json").is_file()]
        )
    state = _trainer_state(directory)
    job = JobInfo(
        id=_job_id(directory),
        status="succeeded",
        base_model=base_id(base),
        fine_tuned_model=local_id(models[-1]),
        hyperparameters=_trainer_hyperparameters(state),
        checkpoints=[Checkpoint(step=step, model=local_id(folder)) for step, folder in checkpoints],
        training=history_metrics(_log_history(directory)),
    )
    if not root_adapter:
        job.warnings.append(
            f"{directory} has no model of its own (the Trainer's final save_model): the last checkpoint "
            f"(step {checkpoints[-1][0]}) is evaluated as 'final'"
        )
    return job


def base_id(source: BaseSource) -> str:
    """The local model id of a base: ``local:NAME`` for a built-in, ``local:/abs/path`` for files,
    ``local:ORG/NAME`` for a model in the Hugging Face cache."""
    if source.builtin is not None:
        return PREFIX + source.builtin.name
    return local_id(source.path) if source.path is not None else PREFIX + source.key


def _common_base(directory: Path, adapters: list[Path]) -> BaseSource:
    if not adapters:
        raise InputError(
            f"the checkpoints in {directory} are full models, which name no base model: name it in the spec, "
            f"e.g. --job 'local:{directory}?base=HuggingFaceTB/SmolLM2-135M-Instruct' (a local: id, a built-in, a "
            "model directory or a Hub id in the local cache)",
            field=_FIELD,
        )
    bases = {folder: adapter_base(folder, field=_FIELD) for folder in adapters}
    keys = {base.key for base in bases.values()}
    if len(keys) > 1:
        shown = "; ".join(f"{folder.name}: {base.key}" for folder, base in bases.items())
        raise InputError(f"the adapters were trained on different base models ({shown})", field=_FIELD)
    return next(iter(bases.values()))


def _checkpoint_dirs(directory: Path) -> list[tuple[int, Path]]:
    """``(step, folder)`` of each ``checkpoint-N`` folder holding an adapter or full weights, by step."""
    found = []
    for folder in directory.iterdir():
        match = _CHECKPOINT_DIR.fullmatch(folder.name)
        if match and _is_checkpoint(folder):
            found.append((int(match.group(1)), folder))
    return sorted(found)


def _is_checkpoint(folder: Path) -> bool:
    """``folder`` holds a LoRA adapter or a full-weight model."""
    return (folder / "adapter_config.json").is_file() or is_full_model(folder)


def _absolute(model_id: str, directory: Path) -> str:
    """A record's model id with a path relative to the run directory made absolute."""
    if not is_local(model_id):
        return model_id
    path = Path(model_id[len(PREFIX) :])
    if path.is_absolute() or not (directory / path).exists():
        return model_id
    return local_id(directory / path)


def _result_steps(directory: Path, job: JobInfo) -> list[TrainingStep]:
    steps: list[TrainingStep] = []
    for name in job.result_files:
        path = directory / name
        try:
            steps += parse_result_file(path.read_bytes())
        except (OSError, ResultFileError) as exc:
            job.warnings.append(f"result file {path} was not read: {exc}")
    return steps


def _examples(directory: Path, name: str | None, job: JobInfo) -> list[Any]:
    if not name:
        return []
    path = directory / name
    try:
        parsed = parse_examples(path.read_bytes())
    except OSError as exc:
        job.warnings.append(f"the run's data file {path} was not read: {exc.strerror}")
        return []
    if parsed.skipped:
        job.warnings.append(f"{path}: skipped {parsed.skipped} unreadable lines")
    return list(parsed.examples)


def _trainer_state(directory: Path) -> dict[str, Any]:
    """The fullest ``trainer_state.json``: the directory's own, else its last checkpoint's."""
    candidates = [directory / TRAINER_STATE] + [
        folder / TRAINER_STATE for _, folder in reversed(_checkpoint_dirs(directory))
    ]
    for path in candidates:
        if path.is_file():
            return read_json(path, field=_FIELD)
    return {}


def _log_history(directory: Path) -> list[dict[str, Any]]:
    history = _trainer_state(directory).get("log_history")
    return [entry for entry in history if isinstance(entry, dict)] if isinstance(history, list) else []


def _trainer_hyperparameters(state: Mapping[str, Any]) -> dict[str, Any]:
    names = {"num_train_epochs": "n_epochs", "train_batch_size": "batch_size"}
    return {ours: state[theirs] for theirs, ours in names.items() if state.get(theirs) is not None}


def _job_id(directory: Path) -> str:
    """A job id for a directory without a record, usable in target names: ``local-<folder name>``."""
    name = re.sub(r"[^A-Za-z0-9._\-]+", "-", directory.name).strip("-.") or "run"
    return f"local-{name}"
