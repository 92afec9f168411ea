"""The superiority gate's error rates, by simulation: 1,000 suites of 200 cases each.

A base model answers each case right with probability 0.70. The fine-tune answers half the cases the way
the base did (models that share weights agree on most easy and hard cases) and the other half
independently, right with the probability that makes its accuracy 0.70 (equally good) or 0.80 (a true
gain of 10 points). Each suite is a ``RunResults`` with its comparison filled in by ``analysis.compare``,
gated by ``{target: final, metric: exact, versus: base, superior: true, alpha: 0.05}``.

Required: go in at most 6.5% of the equally-good suites, and in at least 80% of the better ones.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fixtures.runs import build_results, scored_run

from evalkit.analysis import compare
from evalkit.gate import apply_gate
from evalkit.records import CaseSet, Metric, Target, Usage
from evalkit.records.cases import CaseRecord, CaseResult, PromptInput
from evalkit.records.results import RunResults
from evalkit.suite.model import GateRule

SUITES, CASES, BASE_ACCURACY, SHARED = 1000, 200, 0.70, 0.5
RULE = GateRule(target="final", metric="exact", versus="base", superior=True, alpha=0.05)


def _suite(base: np.ndarray, final: np.ndarray) -> RunResults:
    """A run's results as the gate and the paired statistics read them."""
    answers = [_WRONG, _RIGHT]  # shared, read-only
    cases = [
        CaseRecord(
            id=f"c{i}",
            line=None,
            input=_INPUT,
            reference="x",
            results={"base": answers[bool(b)], "final": answers[bool(f)]},
        )
        for i, (b, f) in enumerate(zip(base, final, strict=True))
    ]
    metrics = {
        name: {"exact": Metric(float(v.mean()), CASES, None)}
        for name, v in (("base", base), ("final", final))
    }
    results = replace(_RUN, cases=cases, metrics=metrics)
    # McNemar's p does not depend on the bootstrap; few resamples keep 2,000 suites fast
    return replace(results, comparisons=[compare(results, "final", "base", "exact", resamples=50)])


def _answer(exact: float) -> CaseResult:
    return CaseResult(
        output="x",
        error=None,
        scores={"exact": exact},
        usage=Usage(),
        latency_s=None,
        cached=False,
        finish_reason=None,
    )


_RIGHT, _WRONG = _answer(1.0), _answer(0.0)
_INPUT = PromptInput(prompt="question")
_RUN = replace(
    build_results(
        scored_run(
            suite_file="suite.yaml",
            case_set=CaseSet([], "0" * 64, "inline"),
            targets=[
                Target(name="base", model="gpt-4o-mini", endpoint="chat", role="base", step=None),
                Target(
                    name="final", model="ft:gpt-4o-mini:acme::x", endpoint="chat", role="final", step=None
                ),
            ],
            outcomes={},
            scores={},
            scorers=[{"kind": "exact", "name": "exact", "options": {}}],
        )
    ),
    usage={},
)
"""The run every simulated suite shares: its suite file, scorer and targets, no cases yet."""


def _go_rate(final_accuracy: float, rng: np.random.Generator) -> float:
    independent = (final_accuracy - SHARED * BASE_ACCURACY) / (1 - SHARED)
    go = 0
    for _ in range(SUITES):
        base = rng.random(CASES) < BASE_ACCURACY
        final = np.where(rng.random(CASES) < SHARED, base, rng.random(CASES) < independent)
        go += apply_gate([RULE], _suite(base, final)).verdict == "go"
    return go / SUITES


def test_the_superiority_gate_rarely_passes_an_equal_model_and_mostly_passes_a_better_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = np.random.default_rng(20250101)
    false_go = _go_rate(BASE_ACCURACY, rng)
    power = _go_rate(BASE_ACCURACY + 0.10, rng)
    with capsys.disabled():
        print(
            f"\nsuperiority gate over {SUITES} suites of {CASES} cases: go for an equally good fine-tune "
            f"{false_go:.1%} (at most 6.5%), for a +10-point fine-tune {power:.1%} (at least 80%)"
        )
    assert false_go <= 0.065
    assert power >= 0.80
