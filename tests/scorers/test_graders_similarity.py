"""``text_similarity``: each metric is its library's own figure (the one the module docstring of
``evalkit.scorers.graders.similarity`` names), computed here by calling the library directly; a pass
threshold adds ``<name>.pass_rate``; METEOR without NLTK's WordNet data is refused before any call."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sacrebleu
from nltk.translate.gleu_score import sentence_gleu
from rapidfuzz import fuzz, utils
from rouge_score.rouge_scorer import RougeScorer

from evalkit.cli import main
from evalkit.records import Case, Score
from evalkit.scorers.graders import build_grader, similarity
from evalkit.suite.grader_options import GraderOptions, parse_grader

PAIRS = [  # (answer, reference)
    ("The cat sat on the mat.", "The cat is sitting on the mat."),
    ("the quick brown fox jumps over the lazy dog", "A quick brown fox jumped over a lazy dog"),
    ("Paris is the capital of France", "Paris is the capital of France"),
    ("Refund issued to the customer's card", "We sent the money back to the card"),
    ("completely unrelated words here", "The invoice total was 42 dollars"),
]


def _library(metric: str, answer: str, reference: str) -> float:
    """The figure, straight from the library."""
    if metric == "fuzzy_match":
        return fuzz.WRatio(answer, reference, processor=utils.default_process) / 100
    if metric == "bleu":
        return sacrebleu.sentence_bleu(answer, [reference]).score / 100
    if metric == "gleu":
        return sentence_gleu([reference.split()], answer.split())
    key = "rougeL" if metric == "rouge_l" else "rouge" + metric[-1]
    return RougeScorer([key]).score(reference, answer)[key].fmeasure


def _grader(metric: str, **extra: object) -> GraderOptions:
    return parse_grader({
        "type": "text_similarity", "name": f"sim {metric}", "evaluation_metric": metric,
        "input": "{{sample.output_text}}", "reference": "{{item.reference}}", **extra,
    })  # fmt: skip


@pytest.mark.parametrize(
    "metric", ["fuzzy_match", "bleu", "gleu", "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l"]
)
def test_each_metric_equals_its_librarys_figure(metric: str) -> None:
    scorer = build_grader(_grader(metric))
    for answer, reference in PAIRS:
        got = asyncio.run(scorer.score(answer, Case(id="c", reference=reference))).value
        expected = _library(metric, answer, reference)
        assert got == pytest.approx(min(expected, 1.0), abs=1e-12), (answer, reference)
        assert 0.0 <= got <= 1.0
    assert asyncio.run(scorer.score("", Case(id="c", reference=""))).value == pytest.approx(
        min(_library(metric, "", ""), 1.0)
    )


def test_the_metrics_tell_close_answers_from_far_ones() -> None:
    """The fixtures are not degenerate: every metric gives the copy 1 and the unrelated answer less."""
    for metric in ("fuzzy_match", "bleu", "gleu", "rouge_1", "rouge_l"):
        _, _, copy, _, unrelated = (_library(metric, a, r) for a, r in PAIRS)
        assert copy == pytest.approx(1.0) and unrelated < 0.5, metric


def test_a_pass_threshold_adds_pass_rate_over_the_scored_cases() -> None:
    scorer = build_grader(_grader("fuzzy_match", pass_threshold=0.8))
    assert scorer.metric_names() == ["sim_fuzzy_match", "sim_fuzzy_match.pass_rate"]
    scores: list[Score | None] = [Score(0.95), Score(0.8), Score(0.2), None, Score(float("nan"))]
    aggregate = scorer.aggregate([], scores)
    assert aggregate.metrics == {"pass_rate": pytest.approx(2 / 3)}  # the errored and unscorable left out
    assert aggregate.n == 3


def test_meteor_without_wordnet_is_refused_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(similarity, "_wordnet_installed", lambda: False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(
        "name: s\n"
        "cases: [{input: a, expected: b}]\n"
        "scorers:\n"
        "  - grader:\n"
        "      type: text_similarity\n"
        "      name: meteor\n"
        "      input: '{{sample.output_text}}'\n"
        "      reference: '{{item.reference}}'\n"
        "      evaluation_metric: meteor\n"
    )
    for argv in (["validate", "s.yaml"], ["run", "s.yaml", "--model", "m=gpt-4o-mini", "--quiet"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("evalkit: error: s.yaml:9: scorers[0].grader.evaluation_metric: meteor needs NLTK's")
        assert "python -m nltk.downloader wordnet" in err and err.count("\n") == 1


def test_meteor_is_nltks_figure_where_wordnet_is_installed_and_refused_where_not() -> None:
    from nltk.corpus import wordnet

    try:
        wordnet.ensure_loaded()
    except LookupError:
        installed = False
    else:
        installed = True
    similarity._wordnet_installed.cache_clear()
    assert (similarity.metric_problem("meteor") is None) == installed
    if installed:
        from nltk.translate.meteor_score import meteor_score

        scorer = build_grader(_grader("meteor"))
        for answer, reference in PAIRS:
            got = asyncio.run(scorer.score(answer, Case(id="c", reference=reference))).value
            assert got == pytest.approx(meteor_score([reference.split()], answer.split()))
