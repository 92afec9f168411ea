"""report.html: the one self-contained page a reviewer decides from.

Verdict banner first (go, no-go, or error with why the run cannot be judged; partial results said so; the
model to ship and why), then targets × metrics (value, 95% CI, Δ vs base with its significance, the best
and the recommended checkpoint marked), the checkpoint curve with losses, the paired comparisons (the
headline metrics' rows, the rest folded: ``report.paired_table``), flips vs base and confusion heatmaps,
cost, tokens and latency, every case side by side (filterable, one link per case; opened on the focus
target's regressions against the base when it has any), and the manifest (each target's model, endpoint,
role, step and, when one is announced, shutdown date). A figure computed on fewer cases than the run has
says ``n of N`` beside it (``report.counts``). Rendered by jinja2 with autoescaping on, from views built out
of the run's ``RunResults`` alone.

Safety: model outputs and test data are untrusted. The static parts reach the page as escaped text. The
cases travel as JSON inside ``<script type="application/json">`` (``<``, ``>``, ``&``, U+2028/9 escaped, so
nothing in them can end the element) and the page's one script puts them in the document with
``textContent`` only. The Content-Security-Policy allows exactly that script, by its SHA-256 hash (a
nonce would be a constant in a saved file), inline styles and ``data:`` images — and no request of any
kind: no fetch, no frame, no form, no font or image by URL.

Untrusted text never moves the text around it: each sits in its own ``<bdi>`` (the template's ``bdi``
filter; ``dir="auto"`` on the elements the script makes), so a U+202E stays in its cell, and wraps anywhere,
so a long unbroken string cannot widen the page. What UTF-8 cannot hold (a lone surrogate) and control
characters are written as visible escapes (``report.escapes``), in the page and in the cases' JSON alike.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from evalkit.records.jobs import JobChecks
from evalkit.records.results import RunResults
from evalkit.report.cases import case_data, script_json
from evalkit.report.counts import figure_note
from evalkit.report.escapes import visible
from evalkit.report.figures import confusion_chart, curve_charts
from evalkit.report.paired_table import paired_table
from evalkit.report.tables import (
    base_target,
    flip_rows,
    focus_target,
    metrics_table,
    usage_rows,
)
from evalkit.report.verdict import error_lines, partial_note, rule_state, rule_text, rules_tally, verdict_word
from evalkit.targets.lifecycle import shutdown_text
from evalkit.text import number, signed

if TYPE_CHECKING:
    from jinja2 import Template

__all__ = ["TEMPLATE_DIR", "prepare", "render_html"]

TEMPLATE_DIR = Path(__file__).with_name("templates")
"""Where the report's jinja2 templates, style sheet and script live."""

_CASES_SLOT = "\u2063evalkit-cases\u2063"
"""Where the cases' JSON goes in the page, put in after the rest is made visible (``visible`` leaves
U+2063 as it is). Its last occurrence is the slot: the cases' script comes after any text on the page."""
_TEMPLATE = "report.html.j2"
_SCRIPT = "report.js"
_STYLE = "report.css"


def render_html(results: RunResults) -> str:
    """The HTML report of a run, as one string."""
    script, digest = _script()
    view = _view(results)
    cases, view["cases"] = view["cases"], Markup(_CASES_SLOT)
    page = _template().render(report=view, script=Markup(script), script_hash=digest, style=Markup(_asset(_STYLE)))
    # The rest of the page made visible; the cases' JSON (most of it) has its escapes already.
    head, _, tail = visible(page).rpartition(_CASES_SLOT)
    return head + str(cases) + tail  # str: a Markup would escape what it is added to


def prepare() -> None:
    """Compile the template now (once per process): the CLI's sidecar does it while the calls are in flight."""
    _template()


@cache
def _template() -> Template:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,  # always: the template's name does not end in .html
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = number
    env.filters["signed"] = signed
    env.filters["tojson_text"] = _json_text
    env.filters["bdi"] = _bdi
    return env.get_template(_TEMPLATE)


def _view(results: RunResults) -> dict[str, Any]:
    base = base_target(results)
    focus = focus_target(results, base)
    recommendation = results.recommendation
    best = recommendation.best if recommendation is not None else None
    data = case_data(results, base=base, focus=focus, best=best)
    gate = results.gate
    return {
        "suite": results.suite,
        "evalkit_version": results.evalkit_version,
        "started_at": results.started_at,
        "finished_at": results.finished_at,
        "gate": gate,
        "word": verdict_word(gate),
        "tally": rules_tally(gate),
        "rules": [{"state": rule_state(rule), "text": rule_text(rule)} for rule in gate.rules],
        "errors": error_lines(results),
        "partial": partial_note(results),
        "recommendation": recommendation,
        "recommended": _recommended(results),
        "recommendation_notes": _recommendation_notes(results),
        "warnings": [*results.gate.warnings, *results.warnings],
        "targets": results.targets,
        "shutdowns": {t.name: text for t in results.targets if (text := shutdown_text(t)) is not None},
        "base": base,
        "focus": focus,
        "metrics": metrics_table(results, base=base, best=best, recommended=_recommended(results)),
        "curves": curve_charts(results),
        "comparisons": paired_table(results),
        "flips": flip_rows(results, data),
        "confusion": confusion_chart(results, base=base, focus=focus),
        "usage": usage_rows(results),
        "cases": Markup(script_json(data)),
        "case_count": len(data["cases"]),
        "scorer": data["scorer"],
        "jobs": results.jobs,
        "contamination": _contamination(results.checks),
        "settings": {"generation": _compact(results.generation), "completions": _compact(results.completions)},
    }


def _recommended(results: RunResults) -> str | None:
    """The target to ship (``best`` in files written before evalkit recorded the advice)."""
    found = results.recommendation
    if found is None:
        return None
    return found.best if found.recommended is None else found.recommended


def _recommendation_notes(results: RunResults) -> dict[str, str | None]:
    """``n of N`` (and ties) beside the best-scoring checkpoint's figure and the final model's."""
    found = results.recommendation
    if found is None:
        return {"best": None, "final": None}
    final = None if found.final is None else figure_note(results, found.final, found.metric)
    return {"best": figure_note(results, found.best, found.metric), "final": final}


def _contamination(checks: Mapping[str, JobChecks]) -> list[dict[str, Any]]:
    """Per job and file, how many test cases also appear in it (verbatim, near-duplicate)."""
    rows = []
    for job, found in checks.items():
        for kind, overlap in found.contamination.items():
            if overlap.exact or overlap.near:
                rows.append({"job": job, "file": kind, "exact": list(overlap.exact), "near": list(overlap.near)})
    return rows


def _compact(settings: Mapping[str, Any]) -> str:
    shown = {key: value for key, value in settings.items() if value not in (None, {}, [])}
    return json.dumps(shown, ensure_ascii=False) if shown else "defaults"


def _bdi(value: Any) -> Markup:
    """Untrusted text escaped inside ``<bdi>``: isolated, so its direction controls end with it."""
    return Markup("<bdi>{}</bdi>").format(value)


def _json_text(value: Any) -> str:
    """A value as one line of JSON text (to be escaped by the template like any text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@cache
def _asset(name: str) -> str:
    return (TEMPLATE_DIR / name).read_text(encoding="utf-8")


@cache
def _script() -> tuple[str, str]:
    """The page's script and its CSP source expression (``'sha256-…'``)."""
    script = _asset(_SCRIPT)
    if "</script" in script.lower() or "<!--" in script:
        raise RuntimeError(f"{_SCRIPT} must not contain '</script' or '<!--'")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return script, f"'sha256-{digest}'"
