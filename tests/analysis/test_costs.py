"""Cost: prices by model lineage (fine-tunes cost more than their base), suite overrides, null when unknown."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fixtures.runs import exact_run as run
from fixtures.runs import marks, plain

from evalkit.analysis.costs import (
    BASE_PRICES,
    BATCH_RATE,
    FINE_TUNED_PRICES,
    cost_usd,
    lineage,
    price_for,
    target_cost,
    with_costs,
)
from evalkit.records.results_json import write_results
from evalkit.records.usage import JudgeUsage, PriceInfo
from evalkit.suite.model import Price

FT_MINI = "ft:gpt-4o-mini-2024-07-18:acme:triage:7p4lURel"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (FT_MINI, ("gpt-4o-mini-2024-07-18", True)),
        (FT_MINI + ":ckpt-step-30", ("gpt-4o-mini-2024-07-18", True)),
        ("ft:gpt-4o-mini:openai::7p4lURel", ("gpt-4o-mini", True)),
        ("gpt-4o", ("gpt-4o", False)),
    ],
)
def test_lineage_of_fine_tunes_and_checkpoints(model: str, expected: tuple[str, bool]) -> None:
    assert lineage(model) == expected


@pytest.mark.parametrize(
    ("model", "key", "price"),
    [
        ("gpt-4o-mini", "gpt-4o-mini", (0.15, 0.60)),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini", (0.15, 0.60)),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13", (5.00, 15.00)),
        (FT_MINI, "ft:gpt-4o-mini", (0.30, 1.20)),
        (FT_MINI + ":ckpt-step-30", "ft:gpt-4o-mini", (0.30, 1.20)),
        ("ft:gpt-4.1-2025-04-14:acme::x", "ft:gpt-4.1", (3.00, 12.00)),
        ("ft:davinci-002:acme:triage:9xk2b1", "ft:davinci-002", (12.00, 12.00)),
        ("ft:babbage-002:acme::b1", "ft:babbage-002", (1.60, 1.60)),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo", (0.50, 1.50)),
    ],
)
def test_built_in_prices_follow_the_lineage(model: str, key: str, price: tuple[float, float]) -> None:
    match = price_for(model)
    assert match is not None
    assert (match.key, match.source, (match.price.input, match.price.output)) == (key, "evalkit", price)


def test_every_fine_tune_costs_more_than_its_base() -> None:
    for base, tuned in FINE_TUNED_PRICES.items():
        assert tuned.input > BASE_PRICES[base].input and tuned.output > BASE_PRICES[base].output, base


@pytest.mark.parametrize(
    "model", ["my-azure-deployment", "ft:some-open-model:acme::x", "SmolLM2-135M-Instruct"]
)
def test_an_unknown_model_has_no_price_not_a_guess(model: str) -> None:
    assert price_for(model) is None


def test_suite_prices_override_the_table_most_specific_first() -> None:
    prices = {
        "gpt-4o-mini": Price(input=1, output=2),
        "ft:gpt-4o-mini": Price(input=3, output=4),
        FT_MINI: Price(input=5, output=6),
    }
    assert price_for("gpt-4o-mini-2024-07-18", prices).price == Price(input=1, output=2)  # type: ignore[union-attr]
    assert price_for("ft:gpt-4o-mini:acme::other", prices).price == Price(input=3, output=4)  # type: ignore[union-attr]
    exact = price_for(FT_MINI, prices)
    assert exact is not None and (exact.price, exact.key, exact.source) == (
        Price(input=5, output=6),
        FT_MINI,
        "suite",
    )


def test_a_base_price_is_never_used_for_its_fine_tunes() -> None:
    prices = {"my-base": Price(input=1, output=1)}
    assert price_for("my-base", prices) is not None
    assert price_for("ft:my-base:acme::x", prices) is None


def test_with_costs_counts_every_answered_case_cached_or_not(tmp_path: Path) -> None:
    results = run(
        {"base": marks(3, 1), "final": marks(2, 1, 1), "local": marks(4, 0)},
        models={"base": "gpt-4o-mini", "final": FT_MINI, "local": "smollm2"},
        tokens=(1000, 100),
    )
    results.cases[0].results["final"].cached = True  # cached: no call, but the case still costs that
    results.judge_usage = {
        "judge": JudgeUsage(
            model="gpt-4o",
            calls=8,
            cached=0,
            prompt_tokens=20_000,
            completion_tokens=2_000,
        ),
        "local_judge": JudgeUsage(
            model="smollm2",
            calls=8,
            cached=0,
            prompt_tokens=5,
            completion_tokens=5,
        ),
    }
    usage, judges = with_costs(results)
    results = replace(results, usage=usage, judge_usage=judges)
    base, final, local = (results.usage[name] for name in ("base", "final", "local"))
    assert base.cost_usd == pytest.approx(4 * (1000 * 0.15 + 100 * 0.60) / 1e6)
    assert base.cost_per_1000_cases_usd == pytest.approx(1000 * (1000 * 0.15 + 100 * 0.60) / 1e6)
    # three answered cases (the failed call reported no tokens), at the fine-tuned rate
    assert final.cost_usd == pytest.approx(3 * (1000 * 0.30 + 100 * 1.20) / 1e6)
    assert final.cost_per_1000_cases_usd == pytest.approx(final.cost_usd / 4 * 1000)
    assert final.price == PriceInfo(key="ft:gpt-4o-mini", source="evalkit", input=0.30, output=1.20)
    assert plain(final.price) == {"key": "ft:gpt-4o-mini", "source": "evalkit", "input": 0.30, "output": 1.20}
    assert (local.cost_usd, local.cost_per_1000_cases_usd, local.price) == (None, None, None)
    assert results.judge_usage["judge"].cost_usd == pytest.approx((20_000 * 2.5 + 2_000 * 10) / 1e6)
    assert results.judge_usage["local_judge"].cost_usd is None
    write_results(tmp_path / "results.json", results)  # and the schema accepts it (checked after the test)


def test_with_costs_uses_the_suites_prices() -> None:
    results = run({"local": marks(2, 0)}, models={"local": "smollm2"}, tokens=(500_000, 500_000))
    usage, _ = with_costs(results, {"smollm2": Price(input=0.1, output=0.2)})
    assert usage["local"].cost_usd == pytest.approx(2 * (0.05 + 0.1))
    assert usage["local"].price is not None and usage["local"].price.source == "suite"


def test_the_batch_rate_is_half_the_standard_rate_on_input_and_output() -> None:
    price = Price(input=2.5, output=10)
    assert BATCH_RATE == 0.5  # OpenAI's pricing page: "Batch API: 50% off"
    assert cost_usd(price, 1_000_000, 0, batch=True) == 1.25
    assert cost_usd(price, 0, 1_000_000, batch=True) == 5.0
    assert cost_usd(price, 1234, 567, batch=True) == cost_usd(price, 1234, 567) / 2


def test_answers_from_the_batch_api_are_charged_at_the_batch_rate(tmp_path: Path) -> None:
    results = run(
        {"live": marks(4, 0), "batched": marks(4, 0), "mixed": marks(3, 0, 1)},
        models={"live": FT_MINI, "batched": FT_MINI, "mixed": "gpt-4o-mini"},
        tokens=(1000, 100),
    )
    for case in results.cases:
        case.results["batched"].batch = True
    mixed = [case.results["mixed"] for case in results.cases]
    mixed[0].batch = True
    mixed[1].batch = mixed[1].cached = True  # a batch answer that a re-run found in the cache
    usage, _ = with_costs(results)
    one_live = (1000 * 0.30 + 100 * 1.20) / 1e6
    assert usage["live"].cost_usd == pytest.approx(4 * one_live)
    assert usage["batched"].cost_usd == pytest.approx(4 * one_live / 2)
    assert usage["batched"].cost_per_1000_cases_usd == pytest.approx(1000 * one_live / 2)
    assert usage["batched"].price == usage["live"].price  # the price shown is the standard one
    # two batch answers (one of them cached) at half price, one live answer, a failed call that cost nothing
    one_mini = (1000 * 0.15 + 100 * 0.60) / 1e6
    assert usage["mixed"].cost_usd == pytest.approx(2 * one_mini / 2 + one_mini)
    assert target_cost(results, "batched") == pytest.approx(4 * one_live / 2)  # what a cost budget reads
    write_results(tmp_path / "results.json", replace(results, usage=usage))


def test_the_batch_rate_applies_to_the_suites_prices_too() -> None:
    results = run({"local": marks(2, 0)}, models={"local": "smollm2"}, tokens=(500_000, 500_000))
    for case in results.cases:
        case.results["local"].batch = True
    usage, _ = with_costs(results, {"smollm2": Price(input=0.1, output=0.2)})
    assert usage["local"].cost_usd == pytest.approx(2 * (0.05 + 0.1) / 2)
