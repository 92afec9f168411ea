"""What every OpenAI grader object has — its ``type`` and ``name`` — and the rule that makes a grader's name
a metric name. The objects themselves: ``evalkit.suite.grader_options``.

Metric names: a grader's ``name`` may hold spaces and punctuation; its metrics are reported under
``metric_name(name)``: lowercased, every run of characters other than ``a-z 0-9 _ -`` made one ``_``,
``_`` trimmed from both ends, and ``_`` put first when it would start with a digit or ``-`` ("Exact match
(strict)" → ``exact_match_strict``).
"""

from __future__ import annotations

import re
from typing import Annotated, Self

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from evalkit.suite.grader_templates import check_template
from evalkit.suite.located import located_error
from evalkit.suite.scorer_base import RESERVED_NAMES, ScorerOptions

__all__ = ["GraderOptions", "Template", "metric_name"]

Template = Annotated[str, AfterValidator(check_template)]
"""Text that may hold ``{{sample.…}}`` and ``{{item.…}}`` (parsed when the suite is loaded)."""


def metric_name(name: str) -> str:
    """The metric name a grader named ``name`` reports under (see the module docstring); may be empty."""
    text = re.sub(r"[^a-z0-9_\-]+", "_", name.lower()).strip("_")
    return f"_{text}" if text[:1].isdigit() or text[:1] == "-" else text


class GraderOptions(ScorerOptions):
    """What every grader object has: its ``type`` and ``name``. Any grader object is read by
    ``evalkit.suite.grader_options.parse_grader``, which picks the class of its type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    """Which grader: string_check, text_similarity, score_model, label_model, python or multi."""
    name: str | None = Field(default=None, min_length=1)
    """The grader's name (any text; its metrics use ``metric_name(name)``). Required, but for a grader
    inside a ``multi``, which its key names."""

    @model_validator(mode="after")
    def _usable_name(self) -> Self:
        if self.name is not None:
            metric = metric_name(self.name)
            if not metric:
                raise located_error(
                    ("name",), f"{self.name!r} keeps no letter or digit a metric name can use (a-z, 0-9, _, -)", self.name
                )
            if metric in RESERVED_NAMES:
                raise located_error(("name",), f"metric name {metric!r} is reserved for evalkit's own metric", self.name)
        return self

    @property
    def metric_name(self) -> str | None:
        return metric_name(self.name) if self.name is not None else None

    @property
    def threshold(self) -> float | None:
        """The score a case must reach to pass (``pass_threshold``), for graders that take one."""
        return None

    def templates(self) -> list[tuple[str, str]]:
        """Every template of the object: (its key path in the object, e.g. ``input[1].content[0].text``, text)."""
        return []

    def called_models(self) -> list[str]:
        """The models grading calls (the grading model, the embedding model of ``cosine``), if any."""
        return []
