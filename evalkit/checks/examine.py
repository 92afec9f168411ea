"""Before any model is called: what the fine-tuning jobs' own files say about how to evaluate them.

For each job: when the suite does not say how to prompt a legacy completions model, the separator and
stop sequence are inferred from the job's training prompts; the suite's prompting is compared with the
training data's (parity), and its inputs are looked up in the training and validation files
(contamination). Everything found is returned as plain values for results.json and the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.records import Case, Target
from evalkit.records.jobs import JobChecks
from evalkit.suite.model import Completions
from evalkit.targets.jobs import JobInfo


@dataclass(slots=True)
class Findings:
    """What the jobs' files told us, ready for the runner, results.json and the terminal."""

    completions_by_target: dict[str, Completions] = field(default_factory=dict)
    """Prompting for each completions target whose job implied settings the suite left out."""
    inferred: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per job id: the separator / stop inferred from its training prompts, and from how many."""
    checks: dict[str, JobChecks] = field(default_factory=dict)
    """Per job id: ``parity`` warnings and ``contamination`` overlap."""
    warnings: list[str] = field(default_factory=list)
    """Lines for the terminal and results.json."""
    notes: list[str] = field(default_factory=list)
    """Informational lines for the terminal (what was inferred)."""


def effective_completions(suite_completions: Completions, job: JobInfo) -> tuple[Completions, dict[str, Any]]:
    """The suite's completions settings with what it leaves out inferred from ``job``'s training file."""
    from evalkit.checks.infer import infer_completions

    if suite_completions.separator is not None and suite_completions.stop is not None:
        return suite_completions, {}
    inferred = infer_completions(job.training_examples)
    if not inferred.examples:
        return suite_completions, {}
    update: dict[str, Any] = {}
    if suite_completions.separator is None and inferred.separator is not None:
        update["separator"] = inferred.separator
    if suite_completions.stop is None and inferred.stop is not None:
        update["stop"] = inferred.stop
    record = {"examples": inferred.examples, "description": inferred.describe(), **update}
    return suite_completions.model_copy(update=update), record


def examine_jobs(
    jobs: Sequence[JobInfo],
    targets_by_job: dict[str, list[Target]],
    cases: Sequence[Case],
    *,
    suite_completions: Completions,
) -> Findings:
    """Infer prompting, check parity and contamination for every job."""
    from evalkit.checks.contamination import find_contamination
    from evalkit.checks.parity import check_parity

    findings = Findings()
    several = len(jobs) > 1
    for job in jobs:
        label = f"job {job.id}: " if several else ""
        completions = suite_completions
        if any(t.endpoint == "completions" for t in targets_by_job[job.id]):
            completions, record = effective_completions(suite_completions, job)
            if record:
                findings.inferred[job.id] = record
                findings.notes.append(f"{label}{record['description']}")
                for target in targets_by_job[job.id]:
                    if target.endpoint == "completions":
                        findings.completions_by_target[target.name] = completions
        parity = (
            check_parity(cases, job.training_examples, completions=completions)
            if job.training_examples
            else []
        )
        overlap = find_contamination(cases, job.training_examples, job.validation_examples)
        findings.checks[job.id] = JobChecks(parity=parity, contamination=overlap.record())
        findings.warnings.extend(f"{label}{w}" for w in [*job.warnings, *parity, *overlap.warnings()])
    return findings
