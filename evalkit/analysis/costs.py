"""Cost: tokens × price per target and per judge, from a built-in price table the suite can override.

Prices are US dollars per million tokens, input (prompt) and output (completion). A fine-tuned model is
priced at the fine-tuned inference rate of its base (OpenAI charges more for fine-tunes), found through
its id's lineage: ``ft:gpt-4o-mini-2024-07-18:org:suffix:abc:ckpt-step-30`` → ``gpt-4o-mini``
fine-tuned. A model neither the suite nor the table prices gets a null cost, never a guess.

A suite's ``prices:`` key is a model id (``gpt-4o-mini``), or ``ft:<base>`` for every fine-tune of that
base; a price for the exact id of a fine-tune wins over both.

Prices are the standard (live) rates. An answer obtained through the Batch API (``evalkit run --batch``;
``batch`` on the case's result, kept by the response cache so a re-run knows it too) is charged at the
batch rate: ``BATCH_RATE`` times the price's input and output rates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from evalkit.records.cases import CaseResult
from evalkit.records.results import RunResults
from evalkit.records.usage import JudgeUsage, PriceInfo, TargetUsage
from evalkit.suite.rules import Price

__all__ = [
    "BASE_PRICES",
    "BATCH_RATE",
    "FINE_TUNED_PRICES",
    "Price",
    "PriceMatch",
    "cost_usd",
    "lineage",
    "price_for",
    "target_cost",
    "with_costs",
]

# Source: https://platform.openai.com/docs/pricing ("Standard" text-token rates, and the "Fine-tuning"
# table's inference rates), as known to evalkit's authors in 2025. Prices change: check them against that
# page, and override them in the suite's `prices:` block when they differ.
BASE_PRICES: dict[str, Price] = {
    "gpt-5": Price(input=1.25, output=10.00),
    "gpt-5-mini": Price(input=0.25, output=2.00),
    "gpt-5-nano": Price(input=0.05, output=0.40),
    "gpt-4.1": Price(input=2.00, output=8.00),
    "gpt-4.1-mini": Price(input=0.40, output=1.60),
    "gpt-4.1-nano": Price(input=0.10, output=0.40),
    "gpt-4o": Price(input=2.50, output=10.00),
    "gpt-4o-2024-05-13": Price(input=5.00, output=15.00),
    "gpt-4o-mini": Price(input=0.15, output=0.60),
    "o4-mini": Price(input=1.10, output=4.40),
    "o3": Price(input=2.00, output=8.00),
    "o3-mini": Price(input=1.10, output=4.40),
    "o1": Price(input=15.00, output=60.00),
    "gpt-4-turbo": Price(input=10.00, output=30.00),
    "gpt-4": Price(input=30.00, output=60.00),
    "gpt-3.5-turbo": Price(input=0.50, output=1.50),
    "gpt-3.5-turbo-instruct": Price(input=1.50, output=2.00),
    "davinci-002": Price(input=2.00, output=2.00),
    "babbage-002": Price(input=0.40, output=0.40),
}
"""USD per 1M tokens of OpenAI's models, by id (dated ids fall back to their undated family)."""

FINE_TUNED_PRICES: dict[str, Price] = {
    "gpt-4.1": Price(input=3.00, output=12.00),
    "gpt-4.1-mini": Price(input=0.80, output=3.20),
    "gpt-4.1-nano": Price(input=0.20, output=0.80),
    "gpt-4o": Price(input=3.75, output=15.00),
    "gpt-4o-mini": Price(input=0.30, output=1.20),
    "o4-mini": Price(input=4.00, output=16.00),
    "gpt-3.5-turbo": Price(input=3.00, output=6.00),
    "davinci-002": Price(input=12.00, output=12.00),
    "babbage-002": Price(input=1.60, output=1.60),
}
"""USD per 1M tokens of inference on a fine-tune, by the base it was fine-tuned from."""

BATCH_RATE = 0.5
"""What OpenAI's Batch API charges per token as a share of the standard rate, for input and output tokens
alike. Source: https://platform.openai.com/docs/pricing ("Batch API: 50% off"; also the Batch API guide,
https://platform.openai.com/docs/guides/batch). Applied to every price, the suite's and fine-tunes' too."""

_DATED = re.compile(r"^(?P<family>.+?)-(?:\d{4}-\d{2}-\d{2}|\d{4})$")


@dataclass(frozen=True, slots=True)
class PriceMatch:
    """The price a model was charged at, and where it came from."""

    price: Price
    """USD per 1M input/output tokens."""
    key: str
    """The entry that matched (``gpt-4o-mini``, ``ft:gpt-4o-mini``, or an exact model id)."""
    source: Literal["suite", "evalkit"]
    """The suite's ``prices:`` block, or evalkit's built-in table."""

    def info(self) -> PriceInfo:
        """As stored beside a target's usage in results.json."""
        return PriceInfo(key=self.key, source=self.source, input=self.price.input, output=self.price.output)


def lineage(model: str) -> tuple[str, bool]:
    """The model's base id and whether it is a fine-tune (or a checkpoint of one).

    ``ft:gpt-4o-mini-2024-07-18:org::abc:ckpt-step-10`` → ``("gpt-4o-mini-2024-07-18", True)``;
    ``gpt-4o`` → ``("gpt-4o", False)``.
    """
    if model.startswith("ft:"):
        base = model.split(":")[1]
        return base, True
    return model, False


def price_for(model: str, prices: Mapping[str, Price] | None = None) -> PriceMatch | None:
    """The price of ``model``: the suite's entry, else evalkit's table, else None (unknown)."""
    base, fine_tuned = lineage(model)
    names = _names(base)
    if fine_tuned:
        suite_keys = [model, *(f"ft:{name}" for name in names)]
        table = FINE_TUNED_PRICES
    else:
        suite_keys = names
        table = BASE_PRICES
    for key in suite_keys:
        if prices is not None and key in prices:
            return PriceMatch(prices[key], key, "suite")
    for name in names:
        if name in table:
            return PriceMatch(table[name], f"ft:{name}" if fine_tuned else name, "evalkit")
    return None


def cost_usd(price: Price, prompt_tokens: int, completion_tokens: int, *, batch: bool = False) -> float:
    """What the tokens cost at ``price``, in USD; at the batch rate (``BATCH_RATE``) when ``batch``."""
    rate = BATCH_RATE if batch else 1.0
    return (prompt_tokens * price.input * rate + completion_tokens * price.output * rate) / 1_000_000


def with_costs(
    results: RunResults, prices: Mapping[str, Price] | None = None
) -> tuple[dict[str, TargetUsage], dict[str, JudgeUsage]]:
    """Every target's usage with ``cost_usd``, ``cost_per_1000_cases_usd`` and ``price``, and every judge
    scorer's usage with ``cost_usd`` (None wherever the model's price is unknown).

    A target's cost counts the tokens of every case it answered in this run, cached answers included:
    that is what the cases cost, whether or not this run paid for them again. Answers obtained through the
    Batch API are charged at the batch rate (``BATCH_RATE``), the others at ``price``.
    """
    usage = {}
    for target in results.targets:
        own = results.usage.get(target.name) or TargetUsage(0, 0, 0, 0, 0, None, None)
        usage[target.name] = _target_cost(results, target.name, own, price_for(target.model, prices))
    judges = {}
    for name, judge in results.judge_usage.items():
        match = price_for(judge.model, prices) if judge.model else None
        cost = None if match is None else cost_usd(match.price, judge.prompt_tokens, judge.completion_tokens)
        judges[name] = replace(judge, cost_usd=cost)
    return usage, judges


def _target_cost(results: RunResults, name: str, usage: TargetUsage, match: PriceMatch | None) -> TargetUsage:
    answered = [result for _, result in results.answers(name)]
    if match is None or not answered:
        price = None if match is None else match.info()
        return replace(usage, cost_usd=None, cost_per_1000_cases_usd=None, price=price)
    total = sum(
        cost_usd(match.price, *_tokens(r for r in answered if r.batch == batch), batch=batch)
        for batch in (False, True)
    )
    return replace(usage, cost_usd=total, cost_per_1000_cases_usd=total / len(answered) * 1000, price=match.info())


def _tokens(results: Iterable[CaseResult]) -> tuple[int, int]:
    """The prompt and completion tokens of ``results``, summed."""
    prompt = completion = 0
    for result in results:
        prompt += result.usage.prompt_tokens
        completion += result.usage.completion_tokens
    return prompt, completion


def _names(base: str) -> list[str]:
    """The id itself, then its undated family (``gpt-4o-mini-2024-07-18`` → ``gpt-4o-mini``)."""
    dated = _DATED.match(base)
    return [base, dated.group("family")] if dated else [base]


def target_cost(results: RunResults, target: str, prices: Mapping[str, Price] | None = None) -> float | None:
    """One target's cost for the run's cases in USD (None when its model's price is unknown)."""
    model = next(t.model for t in results.targets if t.name == target)
    usage = TargetUsage(0, 0, 0, 0, 0, None, None)
    return _target_cost(results, target, usage, price_for(model, prices)).cost_usd
