"""``text_similarity``'s metrics: each the figure of the library OpenAI's docs name for it, in [0, 1].

    fuzzy_match    rapidfuzz ``fuzz.WRatio`` of the two texts after ``utils.default_process`` (lowercased,
                   non-alphanumerics to spaces, trimmed), ÷ 100 — the figure of the fuzzy-match Python
                   grader in OpenAI's graders guide (its docs name rapidfuzz, not the function)
    bleu           sacrebleu ``sentence_bleu(input, [reference])`` with its defaults (13a tokenizer,
                   exponential smoothing, effective order), ÷ 100
    gleu           nltk ``sentence_gleu([reference tokens], input tokens)``, tokens split on whitespace
    meteor         nltk ``meteor_score([reference tokens], input tokens)``, same tokens; needs NLTK's
                   WordNet data, which evalkit never downloads: without it a suite using meteor is refused
    rouge_1 … 5    rouge-score ``RougeScorer(["rougeN"]).score(reference, input)`` F-measure (its default
    rouge_l        tokenizer: lowercased alphanumeric words; no stemming)
    cosine         embeddings of both texts (``evalkit.scorers.graders.embeddings``, through the judge's
                   backend): not here

Figures are clamped to [0, 1] (sacrebleu gives 100.00000000000004 for identical texts). The libraries
are imported on first use: nltk alone takes seconds to import.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["LOCAL_METRICS", "metric_problem", "similarity"]

LOCAL_METRICS = (
    "fuzzy_match", "bleu", "gleu", "meteor", "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l",
)  # fmt: skip
"""The metrics computed here, without a model (all but ``cosine``)."""



def similarity(metric: str, text: str, reference: str) -> float:
    """``text`` against ``reference`` by ``metric`` (one of ``LOCAL_METRICS``), in [0, 1]."""
    return min(1.0, max(0.0, float(_metric(metric)(text, reference))))


def metric_problem(metric: str) -> str | None:
    """Why ``metric`` cannot be computed here (METEOR without WordNet's data), or None."""
    if metric == "meteor" and not _wordnet_installed():
        return (
            "meteor needs NLTK's WordNet data, which is not installed here (evalkit never downloads it): "
            "install it with `python -m nltk.downloader wordnet` (or set NLTK_DATA to a folder that holds "
            "it), or choose another evaluation_metric"
        )
    return None


def _metric(metric: str) -> Callable[[str, str], float]:
    if metric == "fuzzy_match":
        return _fuzzy
    if metric == "bleu":
        return _bleu
    if metric == "gleu":
        return _gleu
    if metric == "meteor":
        return _meteor
    if metric.startswith("rouge_") and metric in LOCAL_METRICS:
        return _rouge(metric)
    raise ValueError(f"{metric!r} is not a local text_similarity metric (known: {', '.join(LOCAL_METRICS)})")


def _fuzzy(text: str, reference: str) -> float:
    from rapidfuzz import fuzz, utils

    return fuzz.WRatio(text, reference, processor=utils.default_process) / 100.0


def _bleu(text: str, reference: str) -> float:
    from sacrebleu import sentence_bleu

    return float(sentence_bleu(text, [reference]).score) / 100.0


def _gleu(text: str, reference: str) -> float:
    from nltk.translate.gleu_score import sentence_gleu

    return float(sentence_gleu([reference.split()], text.split()))


def _meteor(text: str, reference: str) -> float:
    from nltk.translate.meteor_score import meteor_score

    return float(meteor_score([reference.split()], text.split()))


def _rouge(metric: str) -> Callable[[str, str], float]:
    key = "rougeL" if metric == "rouge_l" else f"rouge{metric.removeprefix('rouge_')}"

    def figure(text: str, reference: str) -> float:
        return float(_rouge_scorer(key).score(reference, text)[key].fmeasure)

    return figure


@lru_cache(maxsize=8)
def _rouge_scorer(key: str) -> Any:
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer([key])


@lru_cache(maxsize=1)
def _wordnet_installed() -> bool:
    try:
        from nltk.corpus import wordnet

        wordnet.ensure_loaded()
    except LookupError:
        return False
    return True
