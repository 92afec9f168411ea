"""What a fine-tuning job's own training data says about a suite, before any model is called.

- ``infer``: the separator and stop sequence legacy training prompts/completions imply;
- ``parity``: warnings when the suite prompts the fine-tune differently from how it was trained;
- ``contamination``: test cases whose input also appears in the job's training or validation file.

Pure functions over ``TrainingExample`` and ``Case`` records: no network, no files.
"""

from __future__ import annotations

from evalkit.checks.contamination import Contamination, find_contamination
from evalkit.checks.infer import Inferred, infer_completions
from evalkit.checks.parity import check_parity
from evalkit.records.jobs import Overlap

__all__ = ["Contamination", "Inferred", "Overlap", "check_parity", "find_contamination", "infer_completions"]
