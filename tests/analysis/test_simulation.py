"""Does the paired test decide well? 1,000 simulated suites of 200 paired 0/1 cases, through
``evalkit.analysis.runs`` (exact McNemar), the path a superiority gate takes.

"Superior" means what a ``superior: true`` gate rule asks: p < 0.05 (two-sided) and Δ > 0.
- Equal true accuracy (base right 70%; the fine-tune fixes 10% of cases and breaks 10%): superior in at
  most 6.5% of suites.
- A true gain of 10 points (base right 70%; the fine-tune fixes 15% and breaks 5%): superior in at least
  80% of suites.
The observed rates are printed (``pytest -s``) and shown in any failure message.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from fixtures.runs import build_results, scored_run

from evalkit.analysis import compare
from evalkit.records import CaseSet, Metric, Target, Usage
from evalkit.records.cases import CaseRecord, CaseResult, PromptInput
from evalkit.records.results import RunResults

SUITES = 1000
CASES = 200
ALPHA = 0.05
BASE_ACCURACY = 0.70


def simulated_run(rng: np.random.Generator, *, fixes: float, breaks: float) -> RunResults:
    """One run's results: ``base`` right on ~70% of cases; ``final`` fixes a share ``fixes`` of all cases
    (among those the base gets wrong) and breaks a share ``breaks`` (among those it gets right)."""
    base = rng.random(CASES) < BASE_ACCURACY
    draw = rng.random(CASES)
    final = np.where(base, draw >= breaks / BASE_ACCURACY, draw < fixes / (1 - BASE_ACCURACY))
    outcomes = [_RIGHT, _WRONG]  # shared, read-only: building 200 fresh records per suite is the slow part
    cases = [
        CaseRecord(
            id=f"case-{i}",
            line=None,
            input=_INPUT,
            reference="yes",
            results={"base": outcomes[not b], "final": outcomes[not f]},
        )
        for i, (b, f) in enumerate(zip(base.tolist(), final.tolist(), strict=True))
    ]
    metrics = {
        name: {"exact": Metric(float(right.mean()), CASES, None)}
        for name, right in (("base", base), ("final", final))
    }
    return replace(_RUN, cases=cases, metrics=metrics)


def _answer(output: str, exact: float) -> CaseResult:
    return CaseResult(
        output=output,
        error=None,
        scores={"exact": exact},
        usage=Usage(),
        latency_s=None,
        cached=False,
        finish_reason=None,
    )


_RIGHT = _answer("yes", 1.0)
_WRONG = _answer("no", 0.0)
_INPUT = PromptInput(prompt="question")
_RUN = build_results(
    scored_run(
        case_set=CaseSet([], "0" * 64, "inline"),
        targets=[
            Target(name="base", model="m", endpoint="chat", role="base", step=None),
            Target(name="final", model="ft:m", endpoint="chat", role="final", step=None),
        ],
        outcomes={},
        scores={},
        scorers=[{"kind": "exact", "name": "exact", "options": {}}],
    )
)
"""The run every simulated suite shares: its scorer and targets, no cases yet."""


def superior_rate(*, fixes: float, breaks: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    superior = 0
    for suite in range(SUITES):
        run = simulated_run(rng, fixes=fixes, breaks=breaks)
        comparison = compare(
            run, "final", "base", "exact", seed=suite, resamples=500
        )  # p is exact: no resampling
        assert comparison.test == "mcnemar-exact" and comparison.n == CASES
        assert comparison.p_value is not None and comparison.delta is not None
        superior += comparison.p_value < ALPHA and comparison.delta > 0
    return superior / SUITES


def test_equally_good_models_are_rarely_called_superior() -> None:
    rate = superior_rate(fixes=0.10, breaks=0.10, seed=1)
    message = f"equal accuracy: superior in {rate:.1%} of {SUITES} suites (allowed: at most 6.5%)"
    print(message)
    assert rate <= 0.065, message


def test_a_ten_point_gain_is_usually_called_superior() -> None:
    rate = superior_rate(fixes=0.15, breaks=0.05, seed=2)
    message = f"true gain of 10 points: superior in {rate:.1%} of {SUITES} suites (needed: at least 80%)"
    print(message)
    assert rate >= 0.80, message
