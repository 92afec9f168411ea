"""The lab: local fine-tuning, so evalkit runs end to end offline on a CPU. Nothing on the serving path
imports it; only ``evalkit finetune`` (``evalkit.cli.finetune``) does — an import contract keeps it so.

``examples`` (a fine-tuning JSONL file, checked), ``encode`` (examples → tokens, loss only where the model
should learn), ``trainer`` (LoRA with ``transformers.Trainer``), ``record`` (a job record shaped like
OpenAI's), ``finetune`` (the whole run). Local models themselves (ids, weights, chat templates) live in
``evalkit.providers.local``. Only ``trainer`` imports torch at the top; the rest import the heavy
libraries where they use them.
"""
