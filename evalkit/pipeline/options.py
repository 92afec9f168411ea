"""How a run is asked for (``RunOptions``, the CLI's flags) and what it hands back (``RunResult``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evalkit.records.results import RunResults


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a suite: the CLI's flags."""

    model_flags: tuple[str, ...] = ()
    """``NAME=ID[@chat|@completions|@responses]`` or ``NAME=run:PATH/results.json#TARGET`` (a saved run's
    answers, replayed) values, added to (or replacing) the suite's targets."""
    job_ids: tuple[str, ...] = ()
    """Fine-tuning jobs whose base model, checkpoints and final model are evaluated."""
    server: str | None = None
    """``--server URL``: an OpenAI-compatible server (vLLM, ``transformers serve``) that serves the local
    runs' models (``evalkit.targets.served``); every non-local model of the run is called there too."""
    out_dir: Path | None = None
    """Where the outputs go; default ``reports/<suite name>/<UTC timestamp>/``."""
    concurrency: int = 8
    """Requests in flight at once, across all targets."""
    use_cache: bool = True
    """Reuse cached responses for identical requests (and store new ones)."""
    max_attempts: int = 6
    """Attempts per request, first try included, before a case is recorded as an error."""
    timeout_s: float = 60.0
    """Per-attempt request timeout in seconds."""
    model_wait_s: float = 300.0
    """How long to wait for a fine-tune that answers "model not found" while it loads."""
    batch: bool = False
    """Send OpenAI targets' requests through the Batch API (cheaper, slower) before the live runner."""
    progress: bool = True
    """Show progress bars on stderr."""
    gate: bool = True
    """Apply the suite's gate. False (``--no-gate``): no rule is checked — not even that its targets are in
    the run — nor applied, and the verdict is ``not-gated`` unless the run cannot be judged (``error``)."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a finished run hands back to the CLI."""

    results: RunResults
    """What the run found (results.json's records)."""
    out_dir: Path
    """Where results.json and the reports were written."""

    @property
    def verdict(self) -> str:
        """``go``, ``no-go``, ``not-gated`` (run without its gate), or ``error`` when the run cannot be judged
        (``results.gate.errors`` says why)."""
        return self.results.gate.verdict
