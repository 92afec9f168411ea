"""Scorers: read each model output next to its case and say how right it is.

``build_scorers`` turns a suite's validated ``scorers:`` entries into ``Scorer`` objects, once per run.
Each has an async ``score(output, case) -> Score`` (1.0 right, 0.0 wrong for the built-ins), an
``aggregate(cases, scores)`` for suite-level figures (classification metrics), and a ``check_reference``
that validation uses to flag references a scorer cannot use.

    exact      output equals the reference after normalisation          exact.py
    includes   output contains the reference (or a fixed text)          match.py
    regex      output matches a regular expression                      match.py
    json       output is JSON; optionally fits a schema, equals the ref  jsonscore.py
    classify   output names a label; accuracy, F1, kappa, confusion     classify.py
    tool_calls the output's function calls against the reference's:     toolcalls.py
               names, arguments as JSON, parallel calls in any order
    judge      another model grades the output: on a scale, or pairwise judge/ (scorer, prompts, backend)
               against the base's output (both orders)
    grader     an OpenAI grader object (string_check, text_similarity,  graders/
               score_model, label_model, python, multi)

Judge scorers (and graders that call a model) call it through a ``JudgeBackend`` given to
``build_scorers(..., judge=)``; built without one they can still be validated and re-aggregate saved
scores, but not score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from evalkit.errors import SuiteError
from evalkit.records import ERROR_RATE, FailedScore, is_scored
from evalkit.scorers.base import Aggregate, CaseProblem, Scorer, ScoringError
from evalkit.scorers.classify import UNPARSED, ClassifyScorer, build_classify
from evalkit.scorers.exact import ExactScorer, build_exact
from evalkit.scorers.jsonscore import JsonScorer, build_json
from evalkit.scorers.match import IncludesScorer, RegexScorer, build_includes, build_regex
from evalkit.scorers.toolcalls import ToolCallsScorer, build_tool_calls
from evalkit.suite.grader_options import GraderOptions
from evalkit.suite.scorer_options import SCORER_OPTIONS, JudgeOptions, ScorerConfig, ScorerOptions

if TYPE_CHECKING:
    from evalkit.scorers.judge.backend import JudgeBackend

__all__ = [
    "UNPARSED",
    "Aggregate",
    "CaseProblem",
    "ClassifyScorer",
    "ExactScorer",
    "FailedScore",
    "IncludesScorer",
    "JsonScorer",
    "RegexScorer",
    "Scorer",
    "ScoringError",
    "ToolCallsScorer",
    "build_scorer",
    "build_scorers",
    "declared_metrics",
    "is_scored",
]

_BUILDERS: dict[str, Callable[[Any], Scorer]] = {
    "exact": build_exact,
    "includes": build_includes,
    "regex": build_regex,
    "json": build_json,
    "classify": build_classify,
    "tool_calls": build_tool_calls,
}


def build_scorer(config: ScorerConfig, *, judge: JudgeBackend | None = None) -> Scorer:
    """The scorer one validated suite entry describes; ``SuiteError`` if its options cannot work.

    ``judge``: the backend judge scorers call their model through (without it they cannot score)."""
    if config.kind == "judge":
        from evalkit.scorers.judge.scorer import build_judge

        options = _checked(config.options, config.kind)
        assert isinstance(options, JudgeOptions)
        return build_judge(options, judge=judge)
    if config.kind == "grader":
        from evalkit.scorers.graders import build_grader

        options = _checked(config.options, config.kind)
        assert isinstance(options, GraderOptions)
        return build_grader(options, judge=judge)
    builder = _BUILDERS.get(config.kind)
    if builder is None:
        known = ", ".join([*_BUILDERS, "judge", "grader"])
        raise SuiteError(f"scorer {config.kind!r} is unknown (known: {known})", field="scorers")
    return builder(_checked(config.options, config.kind))


def build_scorers(configs: Sequence[ScorerConfig], *, judge: JudgeBackend | None = None) -> list[Scorer]:
    """The scorers of a suite, in order; their names (which prefix every metric) must be distinct.

    ``judge``: the backend judge scorers call their model through (see ``evalkit.scorers.judge.scorer``)."""
    scorers: list[Scorer] = []
    for index, config in enumerate(configs):
        try:
            scorer = build_scorer(config, judge=judge)
        except SuiteError as exc:
            raise _located(exc, index) from None
        _check_name(scorer, scorers, index)
        scorers.append(scorer)
    return scorers


def declared_metrics(scorers: Sequence[Scorer]) -> list[str]:
    """Every metric a run with these scorers reports, in report order: each scorer's mean and aggregates
    (``exact``, ``classify``, ``classify.macro_f1``, ``classify.f1.billing``, …), then ``error_rate``."""
    return [*(name for scorer in scorers for name in scorer.metric_names()), ERROR_RATE]


def _checked(options: ScorerOptions, kind: str) -> ScorerOptions:
    expected = SCORER_OPTIONS[kind]
    if not isinstance(options, expected):
        raise TypeError(f"{kind} scorer needs {expected.__name__}, got {type(options).__name__}")
    return options


def _check_name(scorer: Scorer, earlier: Sequence[Scorer], index: int) -> None:
    field = f"scorers[{index}]"
    if any(other.name == scorer.name for other in earlier):
        raise SuiteError(
            f"two scorers are named {scorer.name!r}; give one of them another 'name' so their metrics "
            "can be told apart",
            field=field,
        )


def _located(error: SuiteError, index: int) -> SuiteError:
    """The same error located at the entry: ``scorers.json.schema`` becomes ``scorers[2].json.schema``."""
    field = error.field or "scorers"
    if field.startswith("scorers") and not field.startswith("scorers["):
        field = f"scorers[{index}]" + field.removeprefix("scorers")
    return SuiteError(error.message, file=error.file, line=error.line, field=field)
