"""evalkit.analysis.stats: the intervals, tests and corrections match the reference implementations (statsmodels,
scipy), cover what they claim, and give the same numbers for the same seed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import binom, binomtest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from evalkit.analysis.stats import (
    EXACT_SIGN_FLIP_MAX,
    MULTINOMIAL_MAX_KINDS,
    bootstrap_ci,
    bootstrap_means,
    bootstrap_p,
    bootstrap_tallies,
    holm,
    mcnemar_exact,
    percentile_ci,
    seeded,
    sign_flip_p,
    wilson_ci,
)

# --- Wilson -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 7, 30, 200, 1001])
@pytest.mark.parametrize("share", [0.0, 0.03, 0.5, 0.91, 1.0])
@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_wilson_matches_statsmodels(n: int, share: float, confidence: float) -> None:
    successes = round(share * n)
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    assert wilson_ci(successes, n, confidence=confidence) == pytest.approx((low, high), abs=1e-12)


def test_wilson_covers_the_true_proportion_about_95_percent_of_the_time() -> None:
    """Exact coverage (summed over the binomial distribution), not a simulation."""
    for p, n in [(0.3, 100), (0.9, 200), (0.5, 40), (0.05, 300)]:
        coverage = sum(
            binom.pmf(k, n, p) for k in range(n + 1) if wilson_ci(k, n)[0] <= p <= wilson_ci(k, n)[1]
        )
        assert 0.92 <= coverage <= 0.98, (p, n, coverage)


def test_wilson_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="n must be positive"):
        wilson_ci(0, 0)
    with pytest.raises(ValueError, match="between 0 and n=5"):
        wilson_ci(6, 5)
    with pytest.raises(ValueError, match="confidence"):
        wilson_ci(1, 5, confidence=1.5)


# --- McNemar ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fixed", "broken"), [(0, 0), (1, 0), (0, 7), (5, 5), (30, 10), (3, 17), (120, 95)])
def test_mcnemar_matches_statsmodels_exact(fixed: int, broken: int) -> None:
    table = [[50, broken], [fixed, 40]]  # rows: base right/wrong; columns: target right/wrong
    expected = mcnemar(table, exact=True).pvalue
    assert mcnemar_exact(fixed, broken) == pytest.approx(expected, rel=1e-12)
    if fixed + broken:
        assert mcnemar_exact(fixed, broken) == pytest.approx(
            binomtest(min(fixed, broken), fixed + broken, 0.5).pvalue, rel=1e-9
        )


def test_mcnemar_is_symmetric_and_ignores_agreement() -> None:
    assert mcnemar_exact(30, 10) == mcnemar_exact(10, 30)
    assert mcnemar_exact(0, 0) == 1.0
    with pytest.raises(ValueError, match="negative"):
        mcnemar_exact(-1, 3)


# --- Holm -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p_values",
    [
        [0.01, 0.04, 0.03, 0.005],
        [0.5],
        [0.02, 0.02, 0.02],
        [0.001, 0.9, 0.04, 0.04, 0.3, 0.0],
        [],
    ],
)
def test_holm_matches_statsmodels(p_values: list[float]) -> None:
    expected = multipletests(p_values, method="holm")[1] if p_values else []
    assert holm(p_values) == pytest.approx(list(expected), abs=1e-15)


def test_holm_on_random_families_matches_statsmodels() -> None:
    rng = np.random.default_rng(3)
    for size in range(1, 12):
        p_values = list(rng.uniform(0, 0.2, size))
        assert holm(p_values) == pytest.approx(list(multipletests(p_values, method="holm")[1]), abs=1e-15)


def test_holm_refuses_values_that_are_not_p_values() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        holm([0.2, 1.3])


# --- sign-flip permutation --------------------------------------------------------------------------


def _brute_force_sign_flip(differences: list[float]) -> float:
    nonzero = [d for d in differences if d != 0]
    observed = abs(sum(nonzero))
    patterns = list(itertools.product((1, -1), repeat=len(nonzero)))
    hits = sum(1 for signs in patterns if abs(sum(s * d for s, d in zip(signs, nonzero))) >= observed - 1e-9)
    return hits / len(patterns)


@pytest.mark.parametrize(
    "differences",
    [[0.5, 0.25, -0.1, 0.3], [1.0, 1.0, 1.0, 1.0, 1.0], [0.2, -0.2], [0.3, 0.0, 0.1, -0.4, 0.25, 0.0]],
)
def test_sign_flip_is_exact_for_small_samples(differences: list[float]) -> None:
    assert sign_flip_p(differences) == pytest.approx(_brute_force_sign_flip(differences), abs=1e-12)


def test_sign_flip_monte_carlo_agrees_with_full_enumeration() -> None:
    rng = np.random.default_rng(11)
    differences = np.round(rng.normal(0.15, 0.5, 20), 1)  # rounded: repeated values take the grouped path
    assert np.count_nonzero(differences) > EXACT_SIGN_FLIP_MAX
    nonzero = differences[differences != 0]
    patterns = 1 - 2 * ((np.arange(2**nonzero.size)[:, None] >> np.arange(nonzero.size)) & 1)
    exact = float(np.mean(np.abs(patterns @ nonzero) >= abs(nonzero.sum()) - 1e-9))
    estimate = sign_flip_p(list(differences), resamples=40000, seed=5)
    assert estimate == pytest.approx(exact, abs=0.01)


def test_sign_flip_detects_a_shift_and_not_noise() -> None:
    rng = np.random.default_rng(2)
    assert sign_flip_p(list(rng.normal(0.3, 1.0, 300)), seed=1) < 0.01
    assert sign_flip_p(list(rng.normal(0.0, 1.0, 300)), seed=1) > 0.05


def test_sign_flip_edge_cases() -> None:
    assert sign_flip_p([0.0, 0.0, 0.0]) == 1.0
    assert sign_flip_p([]) == 1.0
    with pytest.raises(ValueError, match="finite"):
        sign_flip_p([0.1, float("nan")])
    with pytest.raises(ValueError, match="resamples"):
        sign_flip_p([0.1], resamples=0)


def test_sign_flip_is_deterministic_per_seed() -> None:
    differences = list(np.random.default_rng(0).normal(0.1, 1.0, 100))
    assert sign_flip_p(differences, seed=4) == sign_flip_p(differences, seed=4)
    assert sign_flip_p(differences, seed=4) != sign_flip_p(differences, seed=5)


# --- bootstrap --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kinds", [3, MULTINOMIAL_MAX_KINDS + 40])
def test_bootstrap_tallies_resample_every_case_with_replacement(kinds: int) -> None:
    """Both ways of drawing (multinomial for few kinds, counted indices for many) give tallies that sum
    to the sample size and have the multinomial's mean and variance."""
    counts = np.arange(1, kinds + 1)
    n = int(counts.sum())
    tallies = np.concatenate(list(bootstrap_tallies(counts, resamples=4000, rng=seeded(0))))
    assert tallies.shape == (4000, kinds)
    assert np.all(tallies.sum(axis=1) == n)
    share = counts / n
    assert tallies.mean(axis=0) == pytest.approx(n * share, rel=0.1, abs=0.3)
    assert tallies.var(axis=0) == pytest.approx(n * share * (1 - share), rel=0.2, abs=0.3)


def test_bootstrap_means_draw_alike_whatever_the_number_of_distinct_values() -> None:
    """Continuous scores (every value distinct) and coarse ones (few values) give the same spread."""
    rng = np.random.default_rng(7)
    fine = rng.uniform(0, 1, 400)
    coarse = np.round(fine, 1)
    spread_fine = bootstrap_means(fine, resamples=3000, rng=seeded(1)).std()
    spread_coarse = bootstrap_means(coarse, resamples=3000, rng=seeded(1)).std()
    expected = fine.std() / np.sqrt(fine.size)
    assert spread_fine == pytest.approx(expected, rel=0.1)
    assert spread_coarse == pytest.approx(coarse.std() / np.sqrt(coarse.size), rel=0.1)


def test_bootstrap_ci_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(42)
    trials = 300
    covered = 0
    for trial in range(trials):
        sample = rng.exponential(1.0, 80)  # skewed, true mean 1.0
        low, high = bootstrap_ci(list(sample), resamples=1000, seed=trial)
        covered += low <= 1.0 <= high
    assert 0.88 <= covered / trials <= 0.99, covered / trials


def test_bootstrap_ci_is_deterministic_per_seed() -> None:
    values = list(np.random.default_rng(0).uniform(size=50))
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3) != bootstrap_ci(values, seed=4)


def test_seeded_streams_depend_on_the_key_not_on_call_order() -> None:
    first = seeded(0, "final", "exact").integers(0, 1000, 5)
    seeded(0, "other").integers(0, 1000, 5)
    assert list(seeded(0, "final", "exact").integers(0, 1000, 5)) == list(first)
    assert list(seeded(0, "base", "exact").integers(0, 1000, 5)) != list(first)


def test_percentile_ci_skips_undefined_replicates() -> None:
    replicates = np.array([np.nan, *np.linspace(0, 1, 101), np.nan])
    assert percentile_ci(replicates) == pytest.approx((0.025, 0.975))
    assert percentile_ci(np.array([np.nan, np.nan])) is None


def test_bootstrap_p_is_small_exactly_when_zero_is_outside_the_interval() -> None:
    rng = np.random.default_rng(9)
    for center in np.linspace(-0.3, 0.3, 25):
        replicates = rng.normal(center, 0.1, 1999)
        low, high = np.percentile(replicates, [2.5, 97.5])
        p = bootstrap_p(replicates)
        assert p is not None
        if low > 0.005 or high < -0.005:  # clearly outside (the two differ by one replicate at the edge)
            assert p < 0.05
        if low < -0.005 and high > 0.005:
            assert p > 0.05
    assert bootstrap_p(np.zeros(100)) == 1.0
    assert bootstrap_p(np.array([np.nan])) is None
