"""The training loop itself: ``transformers.Trainer`` + ``peft`` LoRA on the CPU (imports torch).

Besides the loss, each logged step carries ``mean_token_accuracy`` — the share of learned tokens the
model predicted right, OpenAI's ``train_mean_token_accuracy`` — and each evaluation
``eval_mean_token_accuracy``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import PrinterCallback

from evalkit.lab.encode import IGNORE, Encoded

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainerControl, TrainerState


def train_lora(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    train_set: Sequence[Encoded],
    eval_set: Sequence[Encoded] | None,
    *,
    out: Path,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    lora_rank: int,
    seed: int,
    progress: bool,
) -> list[dict[str, Any]]:
    """Train a LoRA adapter on ``model``, saving ``out/checkpoint-N`` each epoch and
    ``out/trainer_state.json``; return the Trainer's ``log_history``."""
    from peft import LoraConfig, get_peft_model
    from transformers import set_seed

    set_seed(seed)
    model.config.use_cache = False
    network = get_peft_model(
        model,
        LoraConfig(
            r=lora_rank,
            lora_alpha=2 * lora_rank,
            lora_dropout=0.0,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        ),
    )
    arguments = TrainingArguments(
        output_dir=str(out),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        learning_rate=learning_rate,
        lr_scheduler_type="linear",
        logging_steps=1,
        save_strategy="epoch",
        save_only_model=True,
        eval_strategy="epoch" if eval_set else "no",
        use_cpu=True,
        report_to=[],
        disable_tqdm=True,
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=0,
    )
    trainer = _AccuracyTrainer(
        model=network,
        args=arguments,
        train_dataset=_rows(train_set),
        eval_dataset=_rows(eval_set) if eval_set else None,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=IGNORE),
        callbacks=[_ProgressBar()] if progress else [],
    )
    trainer.remove_callback(PrinterCallback)  # the Trainer prints every log dict otherwise
    trainer.train()
    trainer.save_state()
    return list(trainer.state.log_history)


def _rows(items: Sequence[Encoded]) -> list[dict[str, list[int]]]:
    return [{"input_ids": e.input_ids, "labels": e.labels} for e in items]


class _AccuracyTrainer(Trainer):
    """A Trainer that also logs the mean token accuracy of the learned tokens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counts = {True: [0, 0], False: [0, 0]}  # training? → [right, total]

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> Any:
        labels = inputs["labels"]
        loss, outputs = super().compute_loss(
            model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch
        )
        right, total = _token_hits(outputs.logits.detach(), labels)
        counts = self._counts[model.training]
        counts[0] += right
        counts[1] += total
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        for training, key in ((True, "mean_token_accuracy"), (False, "eval_mean_token_accuracy")):
            right, total = self._counts[training]
            wanted = "loss" if training else "eval_loss"
            if wanted in logs and total:
                logs[key] = right / total
                self._counts[training] = [0, 0]
        super().log(logs, start_time)


def _token_hits(logits: torch.Tensor, labels: torch.Tensor) -> tuple[int, int]:
    """How many learned tokens the model predicted right (next-token, greedy), and how many there are."""
    predicted = logits[:, :-1, :].argmax(dim=-1)
    target = labels[:, 1:]
    learned = target != IGNORE
    return int((predicted.eq(target) & learned).sum()), int(learned.sum())


class _ProgressBar(TrainerCallback):
    """A rich progress bar on stderr: steps done, epoch, last loss."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        from evalkit.runner.progress import progress_bars

        self._progress = progress_bars("{task.fields[status]}")
        self._task = self._progress.add_task("fine-tuning", total=state.max_steps, status="")
        self._progress.start()

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=state.global_step)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if self._progress is None or self._task is None or not logs or "loss" not in logs:
            return
        status = f"epoch {state.epoch or 0:.1f}  loss {logs['loss']:.3f}"
        if "mean_token_accuracy" in logs:
            status += f"  accuracy {logs['mean_token_accuracy']:.0%}"
        self._progress.update(self._task, status=status)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
