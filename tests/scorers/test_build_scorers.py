"""build_scorers: suite entries become scorers, in order, with names that can prefix metrics."""

from __future__ import annotations

import subprocess
import sys

import pytest

import evalkit.scorers
from evalkit.errors import SuiteError
from evalkit.scorers import (
    ClassifyScorer,
    ExactScorer,
    IncludesScorer,
    JsonScorer,
    RegexScorer,
    build_scorers,
)
from evalkit.suite.scorer_options import (
    ClassifyOptions,
    ExactOptions,
    IncludesOptions,
    JsonOptions,
    RegexOptions,
    ScorerConfig,
    ScorerOptions,
)


def test_every_builtin_kind_is_built_in_suite_order() -> None:
    configs = [
        ScorerConfig(kind="exact", options=ExactOptions(casefold=True)),
        ScorerConfig(kind="includes", options=IncludesOptions()),
        ScorerConfig(kind="regex", options=RegexOptions(pattern=r"\d+")),
        ScorerConfig(kind="json", options=JsonOptions(schema={"type": "object"})),
        ScorerConfig(kind="classify", options=ClassifyOptions(labels=["a", "b"], name="queue")),
    ]
    scorers = build_scorers(configs)
    kinds = [type(s) for s in scorers]
    assert kinds == [ExactScorer, IncludesScorer, RegexScorer, JsonScorer, ClassifyScorer]
    assert [s.name for s in scorers] == ["exact", "includes", "regex", "json", "queue"]
    assert [s.kind for s in scorers] == ["exact", "includes", "regex", "json", "classify"]
    assert isinstance(scorers[0], ExactScorer) and scorers[0].casefold


def test_two_scorers_with_one_name_are_rejected() -> None:
    configs = [
        ScorerConfig(kind="regex", options=RegexOptions(pattern="a")),
        ScorerConfig(kind="regex", options=RegexOptions(pattern="b")),
    ]
    with pytest.raises(SuiteError, match=r"^scorers\[1\]: two scorers are named 'regex'; give one"):
        build_scorers(configs)
    configs[1] = ScorerConfig(kind="regex", options=RegexOptions(pattern="b", name="regex_b"))
    assert [s.name for s in build_scorers(configs)] == ["regex", "regex_b"]


def test_an_unknown_kind_lists_the_known_ones() -> None:
    config = ScorerConfig(kind="exactt", options=ScorerOptions())
    with pytest.raises(SuiteError, match=r"scorer 'exactt' is unknown \(known: exact, includes, regex, json"):
        build_scorers([config])


def test_public_names_are_importable() -> None:
    for name in evalkit.scorers.__all__:
        assert hasattr(evalkit.scorers, name), name


def test_scoring_without_aggregates_does_not_import_heavy_libraries() -> None:
    code = (
        "import asyncio, sys\n"
        "from evalkit.records import Case\n"
        "from evalkit.scorers import build_scorers\n"
        "from evalkit.suite.scorer_options import ClassifyOptions, JsonOptions, ScorerConfig\n"
        "scorers = build_scorers([ScorerConfig(kind='json', options=JsonOptions()),\n"
        "    ScorerConfig(kind='classify', options=ClassifyOptions(labels=['a', 'b']))])\n"
        "case = Case(id='c', reference='a')\n"
        "for s in scorers: asyncio.run(s.score('{\"x\": 1} a', case))\n"
        "print(sorted(m for m in ('sklearn', 'jsonschema', 'scipy', 'numpy') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_scorer_declares_exactly_the_metrics_a_run_reports() -> None:
    """What ``declared_metrics`` says before a run (gate rules are checked against it) is what the
    metrics of a run hold, name for name, in order."""
    from evalkit.analysis.metrics import compute_metrics
    from evalkit.records import Case, Outcome, Score
    from evalkit.scorers import declared_metrics
    from evalkit.suite.scorer_options import JudgeOptions

    configs = [
        ScorerConfig(kind="exact", options=ExactOptions()),
        ScorerConfig(kind="includes", options=IncludesOptions()),
        ScorerConfig(kind="regex", options=RegexOptions(pattern="a")),
        ScorerConfig(kind="json", options=JsonOptions()),
        ScorerConfig(kind="classify", options=ClassifyOptions(labels=["a", "b"], name="queue")),
        ScorerConfig(kind="judge", options=JudgeOptions(model="m", rubric="r", name="once")),
        ScorerConfig(kind="judge", options=JudgeOptions(model="m", rubric="r", repeats=3, name="thrice")),
        ScorerConfig(kind="judge", options=JudgeOptions(model="m", rubric="r", mode="pairwise", name="duel")),
    ]
    scorers = build_scorers(configs)
    case = Case(id="c1", reference="a", messages=({"role": "user", "content": "q"},))
    answers = {"queue": "a", "once": "4", "thrice": "4, 4, 5", "duel": "target, target"}
    scores = {"t": {s.name: [Score(1.0, answer=answers.get(s.name))] for s in scorers}}
    metrics, _ = compute_metrics([case], {"t": [Outcome(output="a")]}, scores, scorers)
    assert list(metrics["t"]) == declared_metrics(scorers)
    assert "queue.f1.b" in metrics["t"] and "thrice.spread" in metrics["t"] and "once.spread" not in metrics["t"]
