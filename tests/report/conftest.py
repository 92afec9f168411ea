"""A small run whose outputs and data carry markup and injection attempts, as the reports receive it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fixtures.runs import Scored, build_results, scored_run

from evalkit.gate import apply_gate
from evalkit.records import Case, CaseSet, Metric, Outcome, Score, Target, Usage
from evalkit.records.results import RunResults
from evalkit.suite.model import GateRule

SCRIPT = "<script>alert('xss')</script>"
IMG = '<img src="https://evil.example/x.png" onerror="alert(1)">'
TEXTAREA = "</textarea><b>bold</b>"
JS_LINK = "javascript:alert(document.cookie)"
PAYLOADS = (SCRIPT, IMG, TEXTAREA, JS_LINK)


def make_record() -> Scored:
    """``base`` and ``final`` (plus a target with markup in its name) on four cases full of payloads."""
    cases = [
        Case(id="c1", reference="billing", messages=({"role": "user", "content": SCRIPT},), line=1),
        Case(
            id="c2<b>",
            reference=TEXTAREA,
            messages=(
                {"role": "system", "content": IMG},
                {"role": "user", "content": [{"type": "text", "text": "why " + JS_LINK}]},
            ),
            line=2,
        ),
        Case(id="c3", reference="account", prompt="Reset my password", line=3),
        Case(id="c4", reference="shipping", messages=({"role": "user", "content": "Where is my parcel?"},)),
    ]
    targets = [
        Target("base", "gpt-4o-mini", "chat", "base"),
        Target("final", "ft:gpt-4o-mini:org::abc", "chat", "final"),
        Target("odd|<i>name</i>", "ft:gpt-4o-mini:org::odd", "chat", "model"),
    ]
    outcomes = {
        "base": [
            Outcome(SCRIPT, usage=Usage(5, 5), latency_s=0.4, finish_reason="stop"),
            Outcome(None, error=f"500 server said {IMG}"),
            Outcome(JS_LINK, usage=Usage(5, 5), latency_s=0.6, finish_reason="length"),
            Outcome("shipping", usage=Usage(5, 1), latency_s=0.5, finish_reason="stop"),
        ],
        "final": [
            Outcome("billing", usage=Usage(5, 1), latency_s=0.3, cached=True, finish_reason="stop"),
            Outcome(TEXTAREA, usage=Usage(5, 1), latency_s=0.2, finish_reason="stop"),
            Outcome("account", usage=Usage(5, 1), latency_s=0.3, finish_reason="stop"),
            Outcome("shipping", usage=Usage(5, 1), latency_s=0.3, finish_reason="stop"),
        ],
        "odd|<i>name</i>": [Outcome("billing"), Outcome("x"), Outcome("account"), Outcome("shipping")],
    }
    hit, miss = Score(1.0, answer="billing"), Score(0.0, explanation=f'said "{SCRIPT}"')
    odd = Score(0.5, answer=IMG, explanation='"><script>alert(2)</script>')
    scores: dict[str, dict[str, list[Score | None]]] = {
        "base": {"exact": [Score(0.0), None, Score(0.0), Score(1.0)], "classify": [miss, None, miss, hit]},
        "final": {
            "exact": [Score(1.0), Score(1.0), Score(1.0), Score(1.0)],
            "classify": [hit, hit, hit, hit],
        },
        "odd|<i>name</i>": {"exact": [Score(1.0), Score(0.0), Score(1.0), Score(1.0)], "classify": [odd] * 4},
    }
    metrics = {
        "base": {
            "exact": Metric(1 / 3, 3, (0.01, 0.9)),
            "classify": Metric(1 / 3, 3),
            "classify.accuracy": Metric(1 / 3, 3),
            "classify.macro_f1": Metric(None, 0),
            "error_rate": Metric(0.25, 4),
        },
        "final": {
            "exact": Metric(1.0, 4),
            "classify": Metric(1.0, 4),
            "classify.accuracy": Metric(1.0, 4),
            "classify.macro_f1": Metric(1.0, 4),
            "error_rate": Metric(0.0, 4),
        },
        "odd|<i>name</i>": {
            "exact": Metric(0.75, 4),
            "classify": Metric(0.5, 4),
            "error_rate": Metric(0.0, 4),
        },
    }
    return scored_run(
        suite_name="triage",
        suite_description=f"Route tickets {SCRIPT}",
        suite_file="suites/triage.yaml",
        suite_sha256="a" * 64,
        case_set=CaseSet(cases, "b" * 64, "data/triage.jsonl"),
        targets=targets,
        generation={"temperature": 0.0, "max_tokens": 16},
        completions={},
        outcomes=outcomes,
        scores=scores,
        metrics=metrics,
        details={},
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:01:30+00:00",
        warnings=[f"case c2: odd data {SCRIPT}"],
    )


RULES = [
    GateRule(target="final", metric="classify.macro_f1", min=0.8),
    GateRule(target="base", metric="exact", min=0.5),
    GateRule(target="base", metric="classify", min=0.5),
]


def build(rules: list[GateRule] | None = None) -> RunResults:
    """The results of the run above, gated by ``rules`` (default ``RULES``: one pass, two fails)."""
    results = build_results(make_record())
    return replace(results, gate=apply_gate(RULES if rules is None else rules, results))


@pytest.fixture
def results() -> RunResults:
    return build()


@pytest.fixture
def results_without_rules() -> RunResults:
    return build([])


@pytest.fixture
def payloads() -> tuple[str, ...]:
    """The hostile strings planted in outputs, data, names and errors."""
    return PAYLOADS
