"""Suite files: YAML → a validated ``Suite`` (test data, generation settings, scorers, gate, targets)."""

from evalkit.suite.load import load_suite
from evalkit.suite.model import Columns, Completions, DataSpec, GateRule, Generation, Suite, TargetSpec
from evalkit.text import display_path

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
