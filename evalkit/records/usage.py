"""What the calls cost: tokens, cache hits, latency and price per target, and the judge's apart."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Field

from evalkit.records.values import SCHEMA_CONFIG, NonNegative, Outcome


@dataclass(frozen=True, slots=True)
class PriceInfo:
    """The price a model was charged at, and where it came from."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    key: str
    """The entry that matched (`gpt-4o-mini`, `ft:gpt-4o-mini`, or a model id)."""
    source: Literal["suite", "evalkit"]
    """The suite's `prices:` block, or evalkit's built-in table."""
    input: Annotated[float, Field(ge=0)]
    """USD per 1M input (prompt) tokens."""
    output: Annotated[float, Field(ge=0)]
    """USD per 1M output (completion) tokens."""


@dataclass(frozen=True, slots=True)
class TargetUsage:
    """What calling one target cost in this run."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    calls: NonNegative
    """Requests made in this run (cache hits excluded, failed calls included)."""
    cached: NonNegative
    """Answers served from the cache."""
    errors: NonNegative
    """Cases whose call failed after all retries."""
    prompt_tokens: NonNegative
    """Prompt tokens spent by this run's requests (cache hits excluded)."""
    completion_tokens: NonNegative
    """Completion tokens spent by this run's requests (cache hits excluded)."""
    latency_p50_s: Annotated[float, Field(ge=0)] | None
    """Median latency of this run's successful calls; null if none."""
    latency_p95_s: Annotated[float, Field(ge=0)] | None
    """95th-percentile latency of this run's successful calls; null if none."""
    cost_usd: Annotated[float, Field(ge=0)] | None = None
    """What the run's cases cost on this target in USD: every answered case's tokens, cached answers
    included (what the cases cost, whether or not this run paid again), at `price` — answers obtained
    through the Batch API (`batch` on the case's result) at the batch rate, half of `price`; null when the
    model's price is unknown."""
    cost_per_1000_cases_usd: float | None = None
    """`cost_usd` per 1,000 answered cases; null when the price is unknown."""
    price: PriceInfo | None = None
    """The price applied; null when unknown."""


@dataclass(slots=True)
class JudgeUsage:
    """What one judge scorer's calls consumed, apart from the targets' usage."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    model: str
    """The judge model's id."""
    calls: NonNegative = 0
    """Judge requests made in this run (cache hits excluded)."""
    cached: NonNegative = 0
    """Verdicts that needed no call: from the response cache, or shared with the same question asked at the
    same time (two targets that gave the same answer)."""
    prompt_tokens: NonNegative = 0
    """Prompt tokens of the judge's requests made in this run."""
    completion_tokens: NonNegative = 0
    """Completion tokens of the judge's requests made in this run."""
    cost_usd: float | None = None
    """What those tokens cost in USD; null when the judge model's price is unknown."""


def usage_summary(outcomes: Sequence[Outcome]) -> TargetUsage:
    """Calls, cache hits, errors, tokens spent and latency percentiles of one target's outcomes.

    Calls and tokens count only requests made in this run (cache hits cost nothing); latency percentiles
    are over the calls that succeeded, null when there were none.
    """
    made = [o for o in outcomes if not o.cached]
    latencies = [o.latency_s for o in made if o.error is None and o.latency_s is not None]
    p50, p95 = _percentiles(latencies)
    return TargetUsage(
        calls=len(made),
        cached=len(outcomes) - len(made),
        errors=sum(1 for o in outcomes if o.error is not None),
        prompt_tokens=sum(o.usage.prompt_tokens for o in made),
        completion_tokens=sum(o.usage.completion_tokens for o in made),
        latency_p50_s=p50,
        latency_p95_s=p95,
    )


def _percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]
