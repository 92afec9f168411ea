"""Power and the minimum detectable effect (mde) of the paired tests, and the cases a suite needs.

The exact McNemar power is checked against a brute-force sum over every outcome with statsmodels' own
exact McNemar test, the normal approximation against statsmodels' power solver, and both the reported
``mde`` and ``evalkit plan`` against 1,000 simulated suites: at n = 200 and the observed disagreement of
a fixture run, a true Δ equal to the ``mde`` must be detected by the gate's test (exact McNemar, p < α and
Δ > 0) in 80% ± 4% of suites. The simulated rates are printed (``pytest -s``) and in any failure message.
"""

from __future__ import annotations

import io
import itertools
import re
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fixtures.runs import exact_run
from scipy.stats import binom
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.power import NormalIndPower

from evalkit.analysis import analyse
from evalkit.analysis.power import (
    Spread,
    cases_needed,
    independent_discordance,
    mcnemar_power,
    mde,
    normal_power,
    power_at,
)
from evalkit.analysis.stats import mcnemar_exact
from evalkit.cli import main
from evalkit.gate import apply_gate, rule_levels
from evalkit.records.findings import Comparison
from evalkit.records.results import RunResults
from evalkit.records.results_json import write_results
from evalkit.suite.model import GateRule

SUITES, CASES = 1000, 200
TOLERANCE = 0.04
BASE_RIGHT, FIXED, BROKEN = 140, 24, 10
"""The fixture run: base right on 140 of 200 cases; the fine-tune fixes 24 of the others, breaks 10."""


BASE = [True] * BASE_RIGHT + [False] * (CASES - BASE_RIGHT)
FINAL = [i >= BROKEN for i in range(BASE_RIGHT)] + [i < FIXED for i in range(CASES - BASE_RIGHT)]


def fixture_run(*checkpoints: str) -> RunResults:
    """200 cases scored by exact: the base, and a fine-tune (and ``checkpoints`` answering as it does)
    that disagrees with it on 34 (17%) of them."""
    return exact_run({"base": BASE, **{name: FINAL for name in checkpoints}, "final": FINAL})


def analysed(rules: list[GateRule]) -> tuple[RunResults, Comparison]:
    """The fixture run analysed as ``evalkit run`` does it under ``rules``, and its exact comparison."""
    results = fixture_run()
    results = analyse(results, alphas=rule_levels(rules, results.target_names)).into(results)
    comparison = next(c for c in results.comparisons if c.metric == "exact")
    return results, comparison


def detected(counts: np.ndarray, alpha: float) -> np.ndarray:
    """Per simulated suite (fixed, broken, agreeing counts), whether the gate's test finds Δ > 0 with
    p < alpha: ``stats.mcnemar_exact``'s p, computed for every suite at once."""
    fixed, broken = counts[:, 0], counts[:, 1]
    p = np.minimum(1.0, 2.0 * binom.cdf(np.minimum(fixed, broken), fixed + broken, 0.5))
    p[fixed + broken == 0] = 1.0
    return (p < alpha) & (fixed > broken)


def simulate(n: int, delta: float, discordance: float, alpha: float, seed: int) -> tuple[float, np.ndarray]:
    """The share of ``SUITES`` simulated suites of ``n`` cases in which a true ``delta`` is detected."""
    rng = np.random.default_rng(seed)
    shares = [(discordance + delta) / 2, (discordance - delta) / 2, 1.0 - discordance]
    counts = rng.multinomial(n, shares, size=SUITES)
    return float(detected(counts, alpha).mean()), counts


def suite_of(fixed: int, broken: int) -> RunResults:
    """A simulated suite as results: ``fixed`` cases only the fine-tune gets right, ``broken`` the reverse."""
    same = CASES - fixed - broken
    base = [False] * fixed + [True] * broken + [i % 2 == 0 for i in range(same)]
    final = [True] * fixed + [False] * broken + [i % 2 == 0 for i in range(same)]
    return exact_run({"base": base, "final": final})


# --- the figures -----------------------------------------------------------------------------------


def test_the_mde_shrinks_as_the_suite_grows() -> None:
    sizes = [24, 50, 100, 200, 500, 2000]
    exact = [mde(Spread(n, discordance=0.17)) for n in sizes]
    normal = [mde(Spread(n, sd=0.3)) for n in sizes]
    for found in (exact, normal):
        assert all(value is not None for value in found)
        assert all(a > b for a, b in itertools.pairwise(found)), found  # type: ignore[operator]
    assert normal[3] == pytest.approx(normal[0] * (24 / 200) ** 0.5)  # the normal mde goes as 1/√n


def test_more_disagreement_and_a_stricter_level_need_a_larger_difference() -> None:
    found = [mde(Spread(200, discordance=d)) for d in (0.05, 0.1, 0.2, 0.4)]
    assert all(a < b for a, b in itertools.pairwise(found)), found  # type: ignore[operator]
    spread = Spread(200, discordance=0.17)
    stricter, usual, weaker = (mde(spread, alpha=0.05 / 3), mde(spread), mde(spread, power=0.5))
    assert stricter > usual > weaker  # type: ignore[operator]


def test_the_mde_is_where_the_power_reaches_80_percent() -> None:
    for spread in (Spread(200, discordance=0.17), Spread(37, discordance=0.4), Spread(200, sd=0.25)):
        found = mde(spread)
        assert found is not None
        assert power_at(spread, found) == pytest.approx(0.80, abs=1e-5)
        assert power_at(spread, found * 0.9) < 0.80 < power_at(spread, found * 1.1)


def test_exact_mcnemar_power_equals_a_sum_over_every_outcome_with_statsmodels_test() -> None:
    """Every (fixed, broken) outcome of n = 30 cases, weighted by its multinomial probability, judged
    by statsmodels' exact McNemar test: the power the formula gives, to rounding."""
    from scipy.stats import multinomial

    n, discordance, delta, alpha = 30, 0.3, 0.15, 0.05
    shares = [(discordance + delta) / 2, (discordance - delta) / 2, 1 - discordance]
    total = 0.0
    for fixed in range(n + 1):
        for broken in range(n + 1 - fixed):
            if fixed <= broken:
                continue
            p = mcnemar([[0, broken], [fixed, 0]], exact=True).pvalue
            if p < alpha:
                total += multinomial.pmf([fixed, broken, n - fixed - broken], n, shares)
    assert mcnemar_power(n, delta, discordance=discordance, alpha=alpha) == pytest.approx(total, abs=1e-12)


def test_the_normal_approximation_matches_statsmodels() -> None:
    solver = NormalIndPower()  # ratio=0: one sample, here the per-case differences
    for n, sd, alpha in ((200, 0.3, 0.05), (48, 1.2, 0.01), (1000, 0.05, 0.025)):
        effect = solver.solve_power(nobs1=n, alpha=alpha / 2, power=0.8, ratio=0, alternative="larger")
        # rel 1e-4: the tolerance of statsmodels' root finder
        assert mde(Spread(n, sd=sd), alpha=alpha) == pytest.approx(effect * sd, rel=1e-4)
        assert normal_power(n, effect * sd, sd=sd, alpha=alpha) == pytest.approx(0.8, abs=1e-5)
        needed = solver.solve_power(
            effect_size=0.04 / sd, alpha=alpha / 2, power=0.8, ratio=0, alternative="larger"
        )
        assert cases_needed(0.04, sd=sd, alpha=alpha) == int(np.ceil(needed))


def test_what_cannot_be_said_is_none() -> None:
    assert mde(Spread(0, discordance=0.2)) is None  # no case
    assert mde(Spread(5, discordance=0.9)) is None  # 5 disagreements never give p < 0.05
    assert mde(Spread(200, discordance=0.0)) is None  # the two never disagreed
    assert mde(Spread(200, sd=0.0)) is None  # every per-case difference the same
    with pytest.raises(ValueError, match="not both"):
        Spread(10, discordance=0.1, sd=0.2)


def test_cases_needed_grows_as_the_difference_shrinks_and_has_bounds() -> None:
    found = [cases_needed(delta, discordance=0.15) for delta in (0.1, 0.05, 0.02)]
    assert found[0] < found[1] < found[2]
    at, below = (mcnemar_power(n, 0.05, discordance=0.15) for n in (found[1], found[1] - 1))
    assert at >= 0.8 > below
    assert independent_discordance(0.8, 0.85) == pytest.approx(0.8 * 0.15 + 0.85 * 0.2)
    with pytest.raises(ValueError, match="other than 0"):
        cases_needed(0.0, sd=0.3)
    with pytest.raises(ValueError, match="more than"):
        cases_needed(1e-6, sd=1.0)


# --- every comparison carries its mde, at the gate's level ----------------------------------------


def test_each_comparison_carries_its_mde_at_the_level_its_gate_rule_tests() -> None:
    results, plain = analysed([])
    assert plain.mde == pytest.approx(mde(Spread(CASES, discordance=0.17)))
    one = [GateRule(target="final", metric="exact", versus="base", superior=True, alpha=0.01)]
    _, strict = analysed(one)
    assert strict.mde == pytest.approx(mde(Spread(CASES, discordance=0.17), alpha=0.01))
    # a rule over several targets tests each at alpha / their number (Holm's first step)
    targets = ["step-1", "step-2", "final"]
    assert rule_levels(
        [GateRule(target=targets, metric="exact", versus="base", superior=True, alpha=0.06)],
        ["base", *targets],
    ) == {(name, "base", "exact"): pytest.approx(0.02) for name in targets}
    # a non-inferiority rule's 95% CI: 0.05; the strictest level wins where two rules compare one pair
    both = [GateRule(target="final", metric="exact", versus="base", margin=0.05), *one]
    assert rule_levels(both, results.target_names) == {("final", "base", "exact"): 0.01}


# --- the simulation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "level"),
    [
        (GateRule(target="final", metric="exact", versus="base", superior=True, alpha=0.05), 0.05),
        (GateRule(target=["step-1", "final"], metric="exact", versus="base", superior=True), 0.025),
    ],
    ids=["one target", "two targets (Holm)"],
)
def test_a_true_effect_equal_to_the_mde_is_detected_in_80_percent_of_suites(
    rule: GateRule, level: float
) -> None:
    results = fixture_run(*(["step-1"] if isinstance(rule.target, list) else []))
    results = analyse(results, alphas=rule_levels([rule], results.target_names)).into(results)
    comparison = next(c for c in results.comparisons if (c.target, c.metric) == ("final", "exact"))
    assert comparison.mde is not None and comparison.n == CASES
    discordance = (FIXED + BROKEN) / CASES
    rate, counts = simulate(CASES, comparison.mde, discordance, level, seed=7)
    message = (
        f"{rule.target!s} at α {level:g}: n = {CASES}, observed disagreement {discordance:.0%}, "
        f"reported mde {comparison.mde:.4f}; a true Δ of the mde detected in {rate:.1%} of {SUITES} suites "
        f"(needed: 80% ± {TOLERANCE:.0%})"
    )
    print(message)
    assert abs(rate - 0.80) <= TOLERANCE, message
    # the vectorised decision is the gate's own: a rule at that level on real results, for the first suites
    single = rule.model_copy(update={"target": "final", "alpha": level})
    for fixed, broken, _ in counts[:25]:
        suite = suite_of(int(fixed), int(broken))
        gate = apply_gate([single], analyse(suite).into(suite))
        assert gate.rules[0].passed == bool(mcnemar_exact(int(fixed), int(broken)) < level and fixed > broken)
        assert bool(detected(np.array([[fixed, broken, 0]]), level)[0]) == gate.rules[0].passed


def test_evalkit_plan_agrees_with_the_simulation(tmp_path: Path) -> None:
    rule = GateRule(target="final", metric="exact", versus="base", superior=True, alpha=0.05)
    results, comparison = analysed([rule])
    assert comparison.mde is not None
    discordance = (FIXED + BROKEN) / CASES
    gated = replace(results, gate=apply_gate([rule], results))
    saved = write_results(tmp_path / "run" / "results.json", gated)
    stated = _plan("--delta", f"{comparison.mde:.6f}", "--discordance", f"{discordance}")
    from_run = _plan(str(saved), "--delta", f"{comparison.mde:.6f}", "--metric", "exact")
    found = re.search(r"([\d,]+) cases\.$", stated.strip())
    assert found is not None, stated
    needed = int(found.group(1).replace(",", ""))
    row = next(line for line in from_run.splitlines() if line.startswith("final"))
    assert int(row.split()[-1].replace(",", "")) == needed
    rate, _ = simulate(needed, comparison.mde, discordance, 0.05, seed=11)
    smaller, _ = simulate(needed // 2, comparison.mde, discordance, 0.05, seed=12)
    message = (
        f"evalkit plan: {needed} cases for a Δ of {comparison.mde:.4f} (the mde at {CASES}); simulated at "
        f"{needed} cases: detected in {rate:.1%} of {SUITES} suites (needed: 80% ± {TOLERANCE:.0%}); "
        f"at {needed // 2}: {smaller:.1%}"
    )
    print(message)
    assert abs(needed - CASES) <= 0.05 * CASES, message  # the plan for the mde is the suite it came from
    assert abs(rate - 0.80) <= TOLERANCE, message
    assert smaller < 0.80 - TOLERANCE, message


def _plan(*argv: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["plan", *argv]) == 0
    return out.getvalue()

