"""OpenAI grader objects as scorers (``- grader: {type: …}``): the testing criteria of OpenAI's closed
Evals and the rewards of reinforcement fine-tuning, run here so a figure means the same before and after
the move.

    scorer.py         ``GraderScorer``: the mean score under the grader's name, ``<name>.pass_rate``
                      with a pass threshold, the check of every case's item before any call
    grading.py        each grader type ready to grade one answer (string_check, text_similarity,
                      score_model, label_model, python, multi)
    templates.py      ``sample`` and ``item`` for an answer, and rendering the objects' templates
    similarity.py     text_similarity's metrics by the libraries OpenAI names (rapidfuzz, sacrebleu,
                      nltk, rouge-score)
    formula.py        multi's ``calculate_output``, parsed and evaluated without ``eval``
    python_grader.py  a python grader's ``grade(sample, item)`` in a worker process with a time limit
    model_graders.py  score_model and label_model through the judge's backend
    embeddings.py     cosine similarity of embeddings, through the judge's backend

The objects themselves (their schema, templates parsed at load) are suite options:
``evalkit.suite.grader_options``.
"""

from evalkit.scorers.graders.scorer import GraderScorer, ModelGraderScorer, build_grader

__all__ = ["GraderScorer", "ModelGraderScorer", "build_grader"]
