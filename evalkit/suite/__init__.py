"""Suite files: YAML → a validated ``Suite`` (test data, generation settings, scorers, gate, targets)."""

from evalkit.suite.load import display_path, load_suite
from evalkit.suite.model import Columns, Completions, DataSpec, GateRule, Generation, Suite, TargetSpec

__all__ = [
    "Columns",
    "Completions",
    "DataSpec",
    "GateRule",
    "Generation",
    "Suite",
    "TargetSpec",
    "display_path",
    "load_suite",
]
