"""What the analysis and the gate found: paired comparisons, flips, the recommended checkpoint, the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from evalkit.records.values import SCHEMA_CONFIG, Interval, NonNegative, WhenSet

RuleKind = Literal["bound", "non-inferiority", "superiority", "budget"]
"""What a gate rule checks (``evalkit.suite.rules``)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """A paired comparison of `target` against `versus` on `metric`, over the cases both scored."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    target: str
    """The target compared."""
    versus: str
    """The reference: another target, or a saved run's target."""
    metric: str
    """The metric compared."""
    delta: float | None = None
    """target minus versus; null when no case was scored by both."""
    ci: Interval | None = None
    """95% confidence interval of the delta (paired bootstrap over cases); null when it cannot be computed."""
    p_value: float | None = None
    """Two-sided p-value of the paired test."""
    p_adjusted: float | None = None
    """p_value Holm-corrected over the comparisons that share `versus` and `metric` (several checkpoints
    against one base)."""
    test: Literal["mcnemar-exact", "sign-flip-permutation", "paired-bootstrap"] | None = None
    """The paired test: exact McNemar for 0/1 scores, sign-flip permutation for other per-case scores,
    paired bootstrap for aggregates."""
    n: NonNegative = 0
    """Cases scored by both."""
    mde: float | None = None
    """Minimum detectable effect: the smallest true |delta| this test would detect with 80% power at the
    gate's alpha (Holm-adjusted across the targets a rule covers), for this n and the observed discordance
    (McNemar) or spread (bootstrap, permutation); null when it cannot be computed."""


@dataclass(frozen=True, slots=True)
class Flip:
    """How one 0/1 scorer's verdicts moved from `versus` to `target`, case by case."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    target: str
    """The target."""
    versus: str
    """Its reference."""
    scorer: str
    """The 0/1 scorer."""
    fixed: NonNegative
    """Wrong in `versus`, right in `target`."""
    broken: NonNegative
    """Right in `versus`, wrong in `target`."""
    both_right: NonNegative
    """Right in both."""
    both_wrong: NonNegative
    """Wrong in both."""
    fixed_ids: list[str]
    """Ids of the fixed cases."""
    broken_ids: list[str]
    """Ids of the broken cases."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Recommendation:
    """The model to ship by the headline metric, and whether the final model looks overfitted: the final
    model, unless a checkpoint trained for fewer steps is significantly better than it (paired test,
    Holm-adjusted across those checkpoints, p < 0.05)."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    metric: str
    """The metric the checkpoints are ranked by."""
    best: str
    """The target with the best value (ties: the later step, then the final model)."""
    best_step: int | None = None
    """Its training step; null for the final model."""
    value: float | None
    """Its value."""
    final: str | None
    """The final model's target name."""
    final_value: float | None
    """The final model's value."""
    overfitting: bool
    """True when a checkpoint trained for fewer steps than the final model is significantly better than it
    on `metric`: Δ > 0 and its `versus_final` p_adjusted < 0.05."""
    reason: str
    """One sentence saying why, with the figures of the comparison it rests on."""
    recommended: str | None = None
    """The target to ship: the final model; when `overfitting`, the significantly better checkpoint with
    the best value; without a final model (or its value), `best`. Null in files written before evalkit
    recorded it (`best` was the advice then)."""
    versus_final: list[Comparison] = field(default_factory=list)
    """Each checkpoint trained for fewer steps than the final model against it on `metric` (Δ = checkpoint
    − final, paired by case id), p_adjusted Holm-corrected across them: what `overfitting` is decided
    from. Empty without a final model."""


@dataclass(frozen=True, slots=True)
class Check:
    """One rule's verdict on one target (the comparison's figures only where the rule compares)."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    target: str
    """The target checked."""
    value: float | None
    """The figure compared with the bar (the metric or a CI end, the low end of Δ's CI, a p-value, a cost,
    …); null when there was none."""
    passed: bool
    """Whether the rule holds for it."""
    versus: WhenSet[str] = None
    """Comparisons: the reference (another target, or a saved run's target)."""
    delta: WhenSet[float] = None
    """Comparisons: target minus reference."""
    ci: WhenSet[Interval] = None
    """Comparisons: 95% confidence interval of the delta."""
    p_value: WhenSet[float] = None
    """Comparisons: the paired test's p-value."""
    p_holm: WhenSet[float] = None
    """Superiority over several targets: the p-value Holm-corrected across them."""
    test: WhenSet[str] = None
    """Comparisons: the paired test."""
    n: WhenSet[int] = None
    """Comparisons: cases scored by both."""
    baseline_changed: WhenSet[list[str]] = None
    """Saved-run comparisons allowed to differ: what differs (`data`, `scorers`, `generation settings`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleResult:
    """One gate rule and its outcome."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    rule: dict[str, Any] | None = None
    """The rule as written in the suite (defaults left out), so `evalkit gate` can re-apply it."""
    kind: RuleKind | None = None
    """What it checks: a bound on a metric, non-inferiority or superiority against a reference (a target or
    a saved run), or a budget."""
    target: str | list[str]
    """The target(s) the rule is about: a name, a glob (`step-*`) or a list of names."""
    metric: str
    """The metric it is about; for a budget, the capped figure (`error_rate`, `cost_usd`, `latency_p95_s`)."""
    value: float | None
    """The figure compared with the bar when the rule covers one target; null when it covers several or
    nothing was scored."""
    passed: bool
    """Whether the rule held for every target it covers."""
    reason: str
    """One line with the figure and the bar."""
    checks: list[Check] = field(default_factory=list)
    """Per target covered: the figure compared, whether it held, and for comparisons delta, ci, p_value
    (p_holm when Holm-corrected across the rule's targets), test and n."""
    error: WhenSet[str] = None
    """Set when the rule could not be evaluated because calls or scoring failed (no scored case, no
    paired case): why. Such a rule neither passes nor fails; it makes the verdict `error`."""
    min: Annotated[float | None, Field(exclude=True)] = None
    """A bound rule's lower bound, as files of the first evalkit versions held it (read, never written)."""
    max: Annotated[float | None, Field(exclude=True)] = None
    """A bound rule's upper bound, as files of the first evalkit versions held it (read, never written)."""


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """The go/no-go verdict and every rule that decided it."""

    __pydantic_config__: ClassVar[ConfigDict] = SCHEMA_CONFIG

    verdict: Literal["go", "no-go", "not-gated", "error"]
    """`error` when the run is broken (see `errors`): `evalkit run` exits 2. Otherwise `go` when every rule
    passed (or there are none), else `no-go`: exit 0 or 1; `not-gated` when the run was made without its
    gate (`evalkit run --no-gate`): no rule was checked (`rules` is empty), exit 0."""
    rules: list[RuleResult] = field(default_factory=list)
    """Each rule, in suite order."""
    errors: list[str] = field(default_factory=list)
    """Why the run cannot be judged, one line each naming the target (and rule) and the cause: a target
    with no successful answer, an error rate above the suite's bound, a rule that could not be evaluated.
    Empty unless the verdict is `error`."""
    warnings: Annotated[list[str], Field(exclude_if=lambda value: not value)] = field(default_factory=list)
    """What the verdict should be read with, one line each, naming the rule and the target: a
    non-inferiority margin smaller than the comparison's `mde` (a difference that small cannot be told
    from noise on this many cases). The verdict stands as the rules decided it. Absent when there is none."""
    max_error_rate: WhenSet[float] = None
    """The suite's bound on a target's share of failed calls, kept so `evalkit gate` applies it again."""
    max_scoring_error_rate: WhenSet[float] = None
    """The suite's bound on a scorer's share of answers it could not score, kept likewise."""


GO = GateVerdict("go")
"""The verdict of a run with no gate rules (and of a run before its gate is applied)."""
