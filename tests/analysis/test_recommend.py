"""The model to ship: the final one, unless an earlier checkpoint is significantly better than it (paired
test on the primary metric, Holm-adjusted across the earlier checkpoints) — a case or two is noise."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from test_analyse import LABELS, TargetRow, analysed_run, make_results

from evalkit.analysis import analyse, compare
from evalkit.analysis.stats import holm
from evalkit.records.findings import Recommendation
from evalkit.records.results import RunResults


def answers(references: Sequence[str], right: int) -> list[str | None]:
    """The first ``right`` cases answered right, the rest with the next label."""
    return [ref if i < right else LABELS[(LABELS.index(ref) + 1) % 4] for i, ref in enumerate(references)]


def run_of(n: int, right: dict[str, int], targets: Sequence[TargetRow], scorers: Sequence[object] | None = None) -> RunResults:
    references = [LABELS[i % 4] for i in range(n)]
    outputs = {name: answers(references, count) for name, count in right.items()}
    if scorers is None:
        return analysed_run(make_results(references, outputs, targets))
    return analysed_run(make_results(references, outputs, targets, scorers=scorers))


def recommendation_of(results: RunResults) -> Recommendation:
    assert results.recommendation is not None
    return results.recommendation


DEMO: list[TargetRow] = [
    ("base", "base", None),
    ("step-9", "checkpoint", 9),
    ("step-18", "checkpoint", 18),
    ("step-27", "checkpoint", 27),
    ("step-36", "checkpoint", 36),
    ("final", "final", 36),
]
"""The demo's shape: four epochs of a local fine-tune; the last checkpoint is the final model."""


def test_a_checkpoint_one_case_of_24_ahead_of_final_raises_no_flag_and_final_is_recommended() -> None:
    results = run_of(24, {"base": 0, "step-9": 14, "step-18": 17, "step-27": 21, "step-36": 20, "final": 20}, DEMO)
    found = recommendation_of(results)
    assert found.best == "step-27" and found.value is not None and found.final_value is not None
    assert found.value > found.final_value
    assert found.overfitting is False and found.recommended == "final"
    # The checkpoints trained for fewer steps than final are the family; step-36 is final's own step.
    assert [c.target for c in found.versus_final] == ["step-9", "step-18", "step-27"]
    step_27 = found.versus_final[2]
    assert step_27.versus == "final" and step_27.delta is not None and step_27.delta > 0
    assert step_27.p_value is not None and step_27.p_value > 0.05
    assert found.reason.startswith(
        f"step-27 and final are indistinguishable on this suite (classify.macro_f1 {found.value:.3f} vs "
        f"{found.final_value:.3f}, Δ +"
    )
    assert "p = 0." in found.reason and "overfit" not in found.reason


def test_a_significantly_better_earlier_checkpoint_is_flagged_and_recommended() -> None:
    targets: list[TargetRow] = [
        ("base", "base", None),
        ("step-30", "checkpoint", 30),
        ("step-60", "checkpoint", 60),
        ("final", "final", 90),
    ]
    results = run_of(80, {"base": 10, "step-30": 60, "step-60": 76, "final": 56}, targets)
    found = recommendation_of(results)
    assert found.overfitting is True and found.recommended == "step-60" == found.best
    step_60 = next(c for c in found.versus_final if c.target == "step-60")
    assert step_60.p_adjusted is not None and step_60.p_adjusted < 0.05
    assert found.reason.startswith("step-60 is significantly better than final (classify.macro_f1 0.950 vs ")
    assert found.reason.endswith("training past step 60 may have overfitted")
    # Its bootstrap p-value is at the floor of 2,000 resamples: the reason gives the bound, not a figure.
    assert step_60.p_value == pytest.approx(2 / 2001) and step_60.p_adjusted == pytest.approx(4 / 2001)
    assert "p_adj < 0.002)" in found.reason


def test_holm_across_the_checkpoints_can_undo_a_nominally_significant_lead() -> None:
    targets: list[TargetRow] = [("base", "base", None)]
    targets += [(f"step-{k}", "checkpoint", k) for k in (1, 2, 3, 4)]
    targets.append(("final", "final", 5))
    right = {"base": 0, "step-1": 20, "step-2": 20, "step-3": 20, "step-4": 27, "final": 20}
    found = recommendation_of(run_of(40, right, targets, scorers=["exact"]))
    step_4 = next(c for c in found.versus_final if c.target == "step-4")
    assert step_4.test == "mcnemar-exact" and step_4.p_value == 2 * 0.5**7  # 7 cases fixed, none broken
    assert step_4.p_adjusted == holm([1.0, 1.0, 1.0, 2 * 0.5**7])[3] > 0.05
    assert found.overfitting is False and found.recommended == "final" and found.best == "step-4"
    assert found.reason.startswith("step-4 is not significantly better than final once adjusted for 4 checkpoints")
    assert "p = 0.0156, p_adj = 0.0625" in found.reason


def test_the_evidence_is_the_paired_comparison_evalkit_compare_gives() -> None:
    results = run_of(24, {"base": 0, "step-9": 14, "step-18": 17, "step-27": 21, "step-36": 20, "final": 20}, DEMO)
    found = recommendation_of(results)
    for entry in found.versus_final:
        alone = compare(results, entry.target, "final", "classify.macro_f1")
        assert (entry.delta, entry.ci, entry.p_value, entry.test, entry.n) == (
            alone.delta, alone.ci, alone.p_value, alone.test, alone.n
        )
    raw = [float(c.p_value or 0) for c in found.versus_final]
    assert [c.p_adjusted for c in found.versus_final] == holm(raw)
    # A gate rule comparing the checkpoints with final makes the same comparisons: the advice is the same.
    pairs = [(name, "final") for name in ("step-9", "step-18", "step-27")]
    assert analyse(results, pairs=pairs).recommendation == found


def test_without_a_final_model_the_best_checkpoint_is_recommended() -> None:
    targets: list[TargetRow] = [("base", "base", None), ("step-10", "checkpoint", 10), ("step-20", "checkpoint", 20)]
    found = recommendation_of(run_of(20, {"base": 2, "step-10": 16, "step-20": 12}, targets))
    assert found.recommended == "step-10" == found.best and found.final is None
    assert found.overfitting is False and found.versus_final == []
    assert found.reason.endswith("(the job has no final model yet)")


def test_final_scoring_best_is_recommended_without_a_comparison_in_the_reason() -> None:
    found = recommendation_of(run_of(24, {"base": 0, "step-9": 14, "step-18": 17, "step-27": 19, "step-36": 22, "final": 22}, DEMO))
    assert found.recommended == "final" and found.best == "final" and found.overfitting is False
    assert found.reason == f"final scores {found.value:.3f} classify.macro_f1, the best of 5 fine-tuned models"
