"""The lab: local models and local fine-tuning, so evalkit runs end to end offline on a CPU.

``models`` (local model ids → weights on disk, loading), ``examples`` (a fine-tuning JSONL file,
checked), ``encode`` (examples → tokens, loss only where the model should learn), ``trainer`` (LoRA with
``transformers.Trainer``), ``record`` (a job record shaped like OpenAI's), ``finetune`` (the whole run),
``cli`` (the ``evalkit finetune`` command). Only ``trainer`` imports torch at the top; the rest import
the heavy libraries where they use them.
"""
