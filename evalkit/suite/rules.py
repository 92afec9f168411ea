"""The suite's ``gate:`` rules and ``prices:`` entries: what each key means and which keys go together.

A gate rule is one of four kinds, told apart by its keys:

    bound            {target, metric, min|max, on: value|ci_low|ci_high}
    non-inferiority  {target, metric, versus: base | baseline: run/results.json, margin: 0.02}
    superiority      {target, metric, versus: base | baseline: run/results.json, superior: true, alpha}
    budget           {target, max_error_rate | max_cost_usd | max_latency_p95_s}

``target`` is a name, a list of names, or a glob (``step-*``); a rule covering several targets holds only
if it holds for each. Keys that do not belong to a rule's kind are refused, located at the key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evalkit.suite.located import located_error

__all__ = ["BUDGETS", "GateRule", "Price", "RuleKind", "is_glob"]

RuleKind = Literal["bound", "non-inferiority", "superiority", "budget"]
"""What a rule checks: a metric's value, Δ's CI against a margin, Δ's p-value, or a budget."""

BUDGETS: dict[str, str] = {
    "max_error_rate": "error_rate",
    "max_cost_usd": "cost_usd",
    "max_latency_p95_s": "latency_p95_s",
}
"""Budget keys and the figure each one caps."""

_GLOB_CHARS = frozenset("*?[")
_COMPARISON_KEYS = ("margin", "superior", "alpha", "allow_changed", "baseline_target")


def is_glob(pattern: str) -> bool:
    """True when a target pattern is a glob (``step-*``) rather than a name."""
    return any(char in _GLOB_CHARS for char in pattern)


def _names(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("name at least one target")
    for item in value:
        if not item.strip():
            raise ValueError("target names must not be empty")
    if len(set(value)) != len(value):
        raise ValueError(f"a target is listed twice: {value}")
    return value


class Price(BaseModel):
    """What a model costs, in US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    """USD per 1M input (prompt) tokens."""
    output: float = Field(ge=0)
    """USD per 1M output (completion) tokens."""


class GateRule(BaseModel):
    """One rule of the go/no-go gate (see the module docstring for the four kinds)."""

    model_config = ConfigDict(extra="forbid")

    target: str | list[str]
    """A target name (``final``), a list of names, or a glob (``step-*``)."""
    metric: str | None = None
    """``<scorer>`` (mean score) or ``<scorer>.<aggregate>`` (``classify.macro_f1``); not for budgets."""
    min: float | None = None
    """Bound rule: the figure must be at least this."""
    max: float | None = None
    """Bound rule: the figure must be at most this."""
    on: Literal["value", "ci_low", "ci_high"] = "value"
    """Bound rule: which figure is bounded — the value, or the low / high end of its 95% CI."""
    versus: str | None = None
    """Compare with this target of the same run, paired by case (Δ = target − versus)."""
    baseline: str | None = None
    """Compare with a saved run's results.json (relative to the suite file), paired by case id."""
    baseline_target: str | None = None
    """The target of the saved run to compare with (default: the same name, or its only target)."""
    allow_changed: bool = False
    """Compare with the saved run even when its suite file or data differ from this run's."""
    margin: float | None = Field(default=None, ge=0)
    """Non-inferiority: the low end of Δ's 95% CI must be at least −margin."""
    superior: bool = False
    """Superiority: Δ > 0 with p < alpha (Holm-corrected when the rule covers several targets)."""
    alpha: float = Field(default=0.05, gt=0, lt=1)
    """Superiority: the significance level."""
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    """Budget: the share of cases whose call failed must be at most this."""
    max_cost_usd: float | None = Field(default=None, ge=0)
    """Budget: the target's cost for the run's cases, in USD, must be at most this."""
    max_latency_p95_s: float | None = Field(default=None, gt=0)
    """Budget: the target's 95th-percentile latency, in seconds, must be at most this."""

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 reads an unquoted ``on:`` key as the boolean true; it means the ``on`` field here."""
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    @field_validator("target")
    @classmethod
    def _check_targets(cls, value: str | list[str]) -> str | list[str]:
        _names([value] if isinstance(value, str) else value)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> GateRule:
        budgets = [key for key in BUDGETS if getattr(self, key) is not None]
        if budgets:
            self._check_budget(budgets)
            return self
        if self.metric is None:
            raise located_error(
                (),
                "a gate rule needs 'metric' (e.g. exact, classify.macro_f1) with min/max, versus or "
                f"baseline — or a budget: {', '.join(BUDGETS)}",
                None,
            )
        if self.versus is not None or self.baseline is not None:
            self._check_comparison()
        else:
            self._check_bound()
        return self

    def _check_budget(self, budgets: list[str]) -> None:
        if len(budgets) > 1:
            raise located_error(
                (budgets[1],), f"one budget per rule: put {budgets[1]} in a rule of its own", None
            )
        for key in ("metric", "min", "max", "versus", "baseline", *_COMPARISON_KEYS, "on"):
            if key in self.model_fields_set:
                raise located_error(
                    (key,),
                    f"does not go with {budgets[0]}: a budget rule has only target and one max_…",
                    None,
                )

    def _check_comparison(self) -> None:
        if self.versus is not None and self.baseline is not None:
            raise located_error(
                ("baseline",),
                "give 'versus' (a target of this run) or 'baseline' (a saved results.json), not both",
                self.baseline,
            )
        for key in ("min", "max", "on"):
            if key in self.model_fields_set:
                raise located_error(
                    (key,),
                    "a comparison bounds the difference with 'margin' or 'superior: true'; bound the "
                    "metric's own value in a rule of its own",
                    None,
                )
        if self.margin is not None and self.superior:
            raise located_error(
                ("margin",), "give 'margin' (non-inferiority) or 'superior: true', not both", self.margin
            )
        if self.margin is None and not self.superior:
            raise located_error(
                (),
                "a comparison needs 'margin: M' (non-inferior: the low end of Δ's 95% CI ≥ −M) "
                "or 'superior: true' (Δ > 0 with p < alpha)",
                None,
            )
        if "alpha" in self.model_fields_set and not self.superior:
            raise located_error(("alpha",), "'alpha' is the level of 'superior: true'", self.alpha)
        if self.baseline is None:
            self._no_baseline_keys()
            if self.versus is not None and not is_glob(self.versus) and self.versus in self.target_patterns:
                raise located_error(("versus",), "a target cannot be compared with itself", self.versus)
            if self.versus is not None and is_glob(self.versus):
                raise located_error(
                    ("versus",), "name one target to compare with, not a pattern", self.versus
                )
        elif not self.baseline.strip():
            raise located_error(("baseline",), "must be the path of a results.json", self.baseline)

    def _check_bound(self) -> None:
        if self.min is None and self.max is None:
            raise located_error(
                (),
                "a gate rule needs 'min' or 'max' (a bound), 'versus'/'baseline' with 'margin' or "
                f"'superior: true' (a comparison), or a budget ({', '.join(BUDGETS)})",
                None,
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise located_error(("max",), f"max {self.max:g} is below min {self.min:g}", self.max)
        for key in _COMPARISON_KEYS:
            if key in self.model_fields_set:
                raise located_error((key,), "goes with 'versus' or 'baseline' (a comparison rule)", None)

    def _no_baseline_keys(self) -> None:
        for key in ("allow_changed", "baseline_target"):
            if key in self.model_fields_set:
                raise located_error((key,), "goes with 'baseline' (a saved run)", None)

    @property
    def kind(self) -> RuleKind:
        """What the rule checks."""
        if any(getattr(self, key) is not None for key in BUDGETS):
            return "budget"
        if self.versus is None and self.baseline is None:
            return "bound"
        return "superiority" if self.superior else "non-inferiority"

    @property
    def target_patterns(self) -> list[str]:
        """``target`` as a list of names and globs."""
        return [self.target] if isinstance(self.target, str) else list(self.target)

    @property
    def budget(self) -> tuple[str, float] | None:
        """For a budget rule: the figure it caps (``error_rate``, ``cost_usd``, ``latency_p95_s``) and the cap."""
        for key, figure in BUDGETS.items():
            cap = getattr(self, key)
            if cap is not None:
                return figure, float(cap)
        return None

    @property
    def figure(self) -> str:
        """The metric the rule is about; for a budget, the figure it caps."""
        budget = self.budget
        if budget is not None:
            return budget[0]
        assert self.metric is not None  # validated: every other kind has a metric
        return self.metric

    def to_json(self) -> dict[str, Any]:
        """The rule as written (defaults left out), to store in results.json and rebuild from it."""
        return self.model_dump(exclude_defaults=True)
