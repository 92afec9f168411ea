"""The plain typed values stages hand on — the vocabulary of every stage, importing none of them.

``values``        cases, targets, outcomes, scores, metrics: what flows up to scoring
``cases``         the suite a run read, and each case with every target's answer
``usage``         tokens, cache hits, latency and cost per target and per judge
``jobs``          the fine-tuning jobs: checkpoints, training curves, training files' checks
``findings``      comparisons, flips, the recommended checkpoint, the gate's verdict
``results``       ``RunRecord`` (a run before its analysis) and ``RunResults`` (all of the above)
``plain``         plain JSON values with secrets hidden, as results.json may hold them
``packing``       records pickled as columns, for the CLI's sidecar
``results_json``  results.json itself: written, read and checked, its JSON Schema generated from the records
"""

from evalkit.records.values import (
    ENDPOINTS,
    ERROR_RATE,
    Case,
    CaseSet,
    Endpoint,
    FailedScore,
    Message,
    Metric,
    Outcome,
    ReplaySource,
    Role,
    Score,
    Target,
    TrainingExample,
    Usage,
    failed,
    is_scored,
    render_tool_calls,
)

__all__ = [
    "ENDPOINTS",
    "ERROR_RATE",
    "Case",
    "CaseSet",
    "Endpoint",
    "FailedScore",
    "Message",
    "Metric",
    "Outcome",
    "ReplaySource",
    "Role",
    "Score",
    "Target",
    "TrainingExample",
    "Usage",
    "failed",
    "is_scored",
    "render_tool_calls",
]
