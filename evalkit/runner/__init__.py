"""The runner: the one path to a model — cache lookup → concurrency slot → provider call → cache store.

``run`` sends every case to every target (one schedule, a probe per target); ``cache`` keeps the answers
on disk; ``batch_api`` answers OpenAI targets through the Batch API into that cache; ``progress`` draws
the bars.
"""

from evalkit.runner.run import RunSettings, run_targets

__all__ = ["RunSettings", "run_targets"]
