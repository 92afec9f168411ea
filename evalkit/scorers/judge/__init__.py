"""``judge``: another model grades the answers. ``scorer`` (pointwise and pairwise scorers), ``prompts``
(what the judge is asked, and reading its verdict), ``backend`` (calling the judge model)."""

from evalkit.scorers.judge.scorer import JudgeScorer, PairwiseJudgeScorer, build_judge

__all__ = ["JudgeScorer", "PairwiseJudgeScorer", "build_judge"]
