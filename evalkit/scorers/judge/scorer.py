"""``judge``: another model grades the answers (LLM-as-judge), pointwise on a scale or pairwise vs the base.

    pointwise   value = (mean verdict − low) / (high − low); answer = the verdict(s) ("4" or "4, 5, 4");
                aggregates pass_rate, mean_verdict and, with repeats > 1, spread
    pairwise    each target against its base, blind, in both orders: 1.0 when both orders prefer the
                target, 0.0 when both prefer the base, else 0.5; answer = the preference in each order
                ("target, tie"); aggregates win_rate, loss_rate, tie_rate, position_bias_rate

The judge model is called through a ``JudgeBackend``: the run's ``Caller`` (response cache, shared
limit on calls in flight), structured output (``response_format: json_schema``, strict) on chat models unless
the service rejects it, and usage counted per judge scorer. A verdict that cannot be read or falls off
the scale raises ``ScoringError`` — the case gets a score error, never a made-up score. Prompts and
parsing live in ``prompts``.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar, cast

from evalkit.errors import ServiceError
from evalkit.providers.base import CallError, Reply
from evalkit.records import Case, Score
from evalkit.scorers.base import Aggregate, Scorer, ScoringError
from evalkit.scorers.judge.backend import JudgeBackend, JudgeModel, Sampling
from evalkit.scorers.judge.prompts import (
    JudgePrompt,
    Winner,
    pairwise_prompt,
    parse_score,
    parse_winner,
    pointwise_prompt,
)
from evalkit.suite.scorer_options import JudgeOptions

T = TypeVar("T")


class _Judge(Scorer):
    """What both judge modes share: the judge model, the rubric, and how to ask for a verdict."""

    kind = "judge"
    calls_model = True

    def __init__(
        self,
        *,
        model: str,
        rubric: str,
        judge: JudgeBackend | None = None,
        temperature: float = 0.0,
        max_tokens: int = 400,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.model = JudgeModel.parse(model)
        """The judge model and its endpoint."""
        self.rubric = rubric
        """What a good answer is (trusted text from the suite)."""
        self.sampling = Sampling(temperature=temperature, max_tokens=max_tokens)
        """How the judge samples."""
        self.judge = judge
        """The backend that makes the calls; None for a scorer built only to validate or re-aggregate."""

    async def _verdict(self, prompt: JudgePrompt, read: Callable[[str], T], *, repeat: int = 0) -> T:
        """The judge's reply to ``prompt``, read by ``read``; ``ScoringError`` when the call fails or the
        reply cannot be read."""
        reply = await self._reply(prompt, repeat)
        try:
            return read(reply.output)
        except ScoringError as exc:
            if reply.finish_reason != "length":
                raise
            limit = self.sampling.max_tokens
            raise ScoringError(f"{exc.message} (the reply was cut at max_tokens {limit}; raise it)") from None

    async def _reply(self, prompt: JudgePrompt, repeat: int) -> Reply:
        if self.judge is None:
            raise ServiceError(
                f"scorer {self.name!r} cannot call its judge model {self.model.model}: it was built without "
                "a judge backend (build_scorers(configs, judge=JudgeBackend(Caller(provider, cache=...))))"
            )
        try:
            return await self.judge.ask(
                prompt, judge=self.model, sampling=self.sampling, scorer=self.name, repeat=repeat
            )
        except CallError as exc:
            raise ScoringError(f"the judge call failed: {exc.message}") from None


class JudgeScorer(_Judge):
    """Pointwise: each answer gets a verdict on an integer scale, ``repeats`` times independently."""

    def __init__(
        self,
        *,
        model: str,
        rubric: str,
        judge: JudgeBackend | None = None,
        scale: tuple[int, int] = (1, 5),
        pass_mark: float = 4.0,
        repeats: int = 1,
        temperature: float = 0.0,
        max_tokens: int = 400,
        name: str | None = None,
    ) -> None:
        super().__init__(
            model=model, rubric=rubric, judge=judge, temperature=temperature, max_tokens=max_tokens, name=name
        )
        self.scale = scale
        """The lowest and highest verdict."""
        self.pass_mark = pass_mark
        """A case passes when its mean verdict is at least this."""
        self.repeats = repeats
        """Independent verdicts per answer."""

    async def score(self, output: str, case: Case) -> Score:
        prompt = pointwise_prompt(case, output, rubric=self.rubric, scale=self.scale)
        read = partial(parse_score, scale=self.scale)
        verdicts = await _all(self._verdict(prompt, read, repeat=i) for i in range(self.repeats))
        scores = [verdict for verdict, _ in verdicts]
        low, high = self.scale
        value = (statistics.fmean(scores) - low) / (high - low)
        return Score(
            value, answer=", ".join(map(str, scores)), explanation=_reasons([r for _, r in verdicts])
        )

    def aggregate_names(self) -> tuple[str, ...]:
        return ("pass_rate", "mean_verdict", "spread") if self.repeats > 1 else ("pass_rate", "mean_verdict")

    def aggregate(self, cases: Sequence[Case], scores: Sequence[Score | None]) -> Aggregate:
        low, high = self.scale
        scored = [s for s in scores if s is not None and math.isfinite(s.value)]
        means = [low + s.value * (high - low) for s in scored]
        metrics: dict[str, float | None] = {
            "pass_rate": _share(sum(m >= self.pass_mark - 1e-9 for m in means), len(means)),
            "mean_verdict": statistics.fmean(means) if means else None,
        }
        if self.repeats > 1:
            spreads = [statistics.stdev(v) for s in scored if len(v := _verdicts(s.answer)) > 1]
            metrics["spread"] = statistics.fmean(spreads) if spreads else None
        return Aggregate(metrics=metrics, n=len(scored))


class PairwiseJudgeScorer(_Judge):
    """Pairwise: each target's answer against its base's, blind, asked in both orders."""

    pairwise = True

    async def score(self, output: str, case: Case) -> Score:
        raise TypeError(f"scorer {self.name!r} is pairwise: it scores a pair of answers (score_pair)")

    async def score_pair(self, output: str, other: str, case: Case) -> Score:
        """``output`` (the target's) against ``other`` (the base's): a win only when both orders agree."""
        if output == other:
            return Score(0.5, answer="tie, tie", explanation="the two answers are identical")
        first, second = await _all(
            [
                self._verdict(pairwise_prompt(case, output, other, rubric=self.rubric), parse_winner),
                self._verdict(pairwise_prompt(case, other, output, rubric=self.rubric), parse_winner),
            ]
        )
        preferred = (_preferred(first[0], target_is="A"), _preferred(second[0], target_is="B"))
        value = 1.0 if preferred == ("target", "target") else 0.0 if preferred == ("base", "base") else 0.5
        explanation = f"target shown as A: {first[1]}\ntarget shown as B: {second[1]}"
        return Score(value, answer=", ".join(preferred), explanation=explanation)

    def aggregate_names(self) -> tuple[str, ...]:
        return ("win_rate", "loss_rate", "tie_rate", "position_bias_rate")

    def aggregate(self, cases: Sequence[Case], scores: Sequence[Score | None]) -> Aggregate:
        pairs = [_preferences(s.answer) for s in scores if s is not None and math.isfinite(s.value)]
        n = len(pairs)
        wins = sum(p == ("target", "target") for p in pairs)
        losses = sum(p == ("base", "base") for p in pairs)
        return Aggregate(
            metrics={
                "win_rate": _share(wins, n),
                "loss_rate": _share(losses, n),
                "tie_rate": _share(n - wins - losses, n),
                "position_bias_rate": _share(sum(p[0] != p[1] for p in pairs), n),
            },
            n=n,
        )


def build_judge(
    options: JudgeOptions, *, judge: JudgeBackend | None = None
) -> JudgeScorer | PairwiseJudgeScorer:
    """The ``judge`` scorer a suite entry describes (pointwise or pairwise), calling through ``judge``."""
    common: dict[str, Any] = {
        "model": options.model,
        "rubric": options.rubric,
        "judge": judge,
        "temperature": options.temperature,
        "max_tokens": options.max_tokens,
        "name": options.name,
    }
    if options.mode == "pairwise":
        return PairwiseJudgeScorer(**common)
    return JudgeScorer(
        scale=options.scale, pass_mark=options.effective_pass_mark, repeats=options.repeats, **common
    )


# --- helpers --------------------------------------------------------------------------------------


async def _all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Await concurrently and let every one finish (its verdict is cached); then raise the first failure."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast(list[T], results)


def _preferred(winner: Winner, *, target_is: str) -> str:
    """A verdict in terms of the target: ``target``, ``base`` or ``tie``."""
    if winner == "tie":
        return "tie"
    return "target" if winner == target_is else "base"


def _preferences(answer: str | None) -> tuple[str, str]:
    first, _, second = (answer or "").partition(", ")
    return first, second


def _verdicts(answer: str | None) -> list[int]:
    try:
        return [int(part) for part in (answer or "").split(", ") if part]
    except ValueError:
        return []


def _reasons(reasons: Sequence[str]) -> str | None:
    if len(reasons) == 1:
        return reasons[0] or None
    return "\n".join(f"[{i}] {reason}" for i, reason in enumerate(reasons, 1)) or None


def _share(count: int, total: int) -> float | None:
    return count / total if total else None
