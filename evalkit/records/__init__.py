"""The plain typed values stages hand on — the vocabulary of every stage, importing none of them.

``values``    cases, targets, outcomes, scores, metrics: what flows up to scoring
``results``   what a run found (``RunResults`` and its parts), the records results.json serialises
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
    "Role",
    "Score",
    "Target",
    "TrainingExample",
    "Usage",
    "failed",
    "is_scored",
    "render_tool_calls",
]
