"""report.html's sections, as a reviewer reads them: verdict first, metrics with CIs and Δ vs base, the
checkpoint curve, comparisons, flips and confusion, cost and latency, the cases' data, the manifest — and
the same page, minus what the run did not compute, for a run of today's shape."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures.sample import sample_results
from test_report_html import Page

from evalkit.cli import main
from evalkit.records.cases import ChatInput
from evalkit.records.results import RunResults
from evalkit.records.results_json import write_results
from evalkit.report import render_html


def section(html: str, name: str) -> str:
    """The HTML of ``<section … id=name>``, or "" when the page has none."""
    found = re.search(rf'<section[^>]*\bid="{name}"', html)
    return "" if found is None else html[found.start() : html.index("</section>", found.start())]


def text(html: str) -> str:
    """The visible text, one space between elements' texts."""
    return re.sub(r"\s+", " ", " ".join(Page(html).text)).strip()


@pytest.fixture(scope="module")
def sample() -> RunResults:
    return sample_results(cases=40)


@pytest.fixture(scope="module")
def html(sample: RunResults) -> str:
    return render_html(sample)


def test_the_verdict_banner_comes_first_with_every_rules_reason(results: RunResults) -> None:
    html = render_html(results)
    body = html[html.index("<body>") :]
    assert body.index('id="verdict"') < min(body.index('id="metrics"'), body.index('id="cases"'))
    banner = text(section(html, "verdict"))
    assert banner.startswith("NO-GO triage 1 of 3 gate rules passed · 4 cases · 3 targets")
    for rule in results.gate.rules:
        assert rule.reason in banner
    assert "<title>NO-GO · triage · evalkit</title>" in html


def test_go_without_rules(results_without_rules: RunResults) -> None:
    html = render_html(results_without_rules)
    assert '<section class="verdict go" id="verdict">' in html
    assert "No gate rules: the verdict is go." in text(section(html, "verdict"))


def test_the_recommendation_says_what_to_ship_why_and_which_checkpoint_scored_best(
    html: str, sample: RunResults
) -> None:
    rec = sample.recommendation
    assert rec is not None and rec.recommended == "final" and not rec.overfitting
    banner = text(section(html, "verdict"))
    scored = sample.metrics["final"][rec.metric].n  # a failed call: "n of N" beside the figure
    assert scored < len(sample.cases) and sample.metrics[rec.best][rec.metric].n == len(sample.cases)
    assert f"Recommendation: ship final {rec.reason} Best score: {rec.best} (step {rec.best_step})" in banner
    assert (
        f"— classify.macro_f1 {rec.value:.3f}, final {rec.final_value:.3f} ({scored} of {len(sample.cases)})"
    ) in banner
    assert "possible overfitting" not in banner
    ship = re.search(r"<tr[^>]*>(?:(?!</tr>).)*class=\"tag ship\"", section(html, "metrics"), re.DOTALL)
    assert ship and '<bdi class="name">final</bdi>' in ship.group(0)


def test_a_significantly_better_earlier_checkpoint_is_recommended_and_flagged(sample: RunResults) -> None:
    assert sample.recommendation is not None
    reason = "step-60 is significantly better than final (…): training past step 60 may have overfitted"
    flagged = replace(sample.recommendation, overfitting=True, recommended="step-60", reason=reason)
    html = render_html(replace(sample, recommendation=flagged))
    banner = text(section(html, "verdict"))
    assert f"Recommendation: ship step-60 possible overfitting {reason}" in banner
    assert section(html, "metrics").count('class="tag ship"') == 1


def test_metrics_show_value_ci_delta_with_significance_and_the_best_row(html: str, sample: RunResults) -> None:
    metrics = section(html, "metrics")
    final = sample.metrics["final"]["exact"]
    exact = next(c for c in sample.comparisons if (c.target, c.metric) == ("final", "exact"))
    assert final.value is not None and final.ci is not None
    assert f'<span class="value">{final.value:.3f}</span>' in metrics
    assert f'<span class="ci">[{final.ci[0]:.3f}, {final.ci[1]:.3f}]</span>' in metrics
    assert exact.p_adjusted is not None and exact.p_adjusted < 0.001
    assert exact.delta is not None
    assert f'Δ +{exact.delta:.3f}<sup>***</sup>' in metrics
    best = re.search(r'<tr class="is-best">.*?</tr>', metrics, re.DOTALL)
    assert sample.recommendation is not None
    assert best and f'<bdi class="name">{sample.recommendation.best}</bdi>' in best.group(0)
    assert metrics.count("★ best") == 1
    assert "classify.f1.billing" in metrics  # the other metrics, in the folded table


def test_a_change_that_is_not_significant_is_grey_and_unmarked(sample: RunResults) -> None:
    run = replace(sample, comparisons=[replace(c, p_value=0.2, p_adjusted=0.2) for c in sample.comparisons])
    metrics = section(render_html(run), "metrics")
    assert "<sup>" not in metrics.split("<p class=\"legend\">")[0]
    assert 'class="delta better"' not in metrics.split("<p class=\"legend\">")[0]
    assert 'class="delta same" title="95% CI' in metrics


def test_a_regression_is_red(sample: RunResults) -> None:
    regressed = {"delta": -0.12, "ci": (-0.2, -0.04), "p_value": 0.003, "p_adjusted": 0.009}
    run = replace(sample, comparisons=[
        replace(c, **regressed) if (c.target, c.metric) == ("final", "judge") else c for c in sample.comparisons
    ])
    assert '<span class="delta worse" title="95% CI [−0.200, −0.040]; p = 0.0090">Δ −0.120<sup>**</sup>' in render_html(run)


def test_the_checkpoint_curve_has_metrics_losses_and_the_best_step(html: str) -> None:
    curve = section(html, "curve")
    assert curve.count("<svg") == 1
    legend = text(curve)
    for label in ("classify.macro_f1", "exact", "train loss", "valid loss", "best: step-90", "training step"):
        assert label in legend, label


def test_flips_and_confusion_heatmaps(html: str, sample: RunResults) -> None:
    flips = section(html, "flips")
    for flip in sample.flips:
        row = re.search(rf'<th scope="row"><bdi>{flip.target}</bdi></th>.*?</tr>', flips, re.DOTALL)
        assert row, flip.target
        cells = re.findall(r">(\+?-?\d+)</(?:button|td|span)>", row.group(0))
        assert cells == [str(flip.fixed), str(flip.broken), str(flip.both_right),
                         str(flip.both_wrong), f"{flip.fixed - flip.broken:+d}"]
    heatmaps = text(flips.split("Confusion matrices", 1)[1])
    for target in sample.targets:
        assert target.name in heatmaps
    assert "predicted" in heatmaps and "true" in heatmaps


def test_cost_tokens_and_latency_per_target_and_for_the_judge(html: str, sample: RunResults) -> None:
    cost = text(section(html, "cost"))
    assert "cost (USD) per 1,000 cases latency p50 (s) latency p95 (s)" in cost
    usage = sample.usage["final"]
    assert usage.cost_usd is not None and usage.latency_p50_s is not None
    per_1k = usage.cost_usd * 1000 / len(sample.cases)
    assert (
        f"final {usage.calls} {usage.cached} {usage.errors} {usage.prompt_tokens:,} "
        f"{usage.completion_tokens:,} {usage.cost_usd:.4f} {per_1k:.4f} {usage.latency_p50_s:.2f}"
    ) in cost
    assert f"judge: judge gpt-4o {sample.judge_usage['judge'].calls}" in cost


def test_the_manifest_says_what_ran_where_and_on_what_data(html: str, sample: RunResults) -> None:
    manifest = text(section(html, "manifest"))
    for target in sample.targets:
        assert f"{target.name} {target.model} chat {target.role}" in manifest
    assert sample.suite.data.sha256 in manifest and sample.suite.sha256 in manifest
    assert '{"max_tokens": 16, "temperature": 0.0}' in manifest or '"temperature": 0.0' in manifest
    assert f"evalkit {sample.evalkit_version}" in manifest and sample.started_at in manifest
    assert f"{sample.jobs[0].id} · succeeded · base {sample.jobs[0].base_model}" in manifest
    assert '"learning_rate_multiplier": 1.8' in manifest
    assert "1 test case also in ftjob-7Fq2sample 's training file (verbatim: t00001 )" in manifest


def test_the_cases_data_carries_answers_verdicts_rationales_and_flips(html: str, sample: RunResults) -> None:
    data = Page(html).cases()
    assert data["targets"] == [t.name for t in sample.targets]
    assert (data["base"], data["focus"], data["best"], data["scorer"]) == ("base", "final", "step-90", "exact")
    assert data["labels"] == ["billing", "technical", "account", "shipping"]
    first, case = data["cases"][0], sample.cases[0]
    assert isinstance(case.input, ChatInput)
    assert first["ctx"] == [["system", case.input.messages[0]["content"]]]
    assert first["input"] == case.input.messages[1]["content"] and first["label"] == case.reference
    for name, result in zip(data["targets"], first["res"], strict=True):
        original = case.results[name]
        assert result.get("out") == original.output
        exact = original.scores.get("exact")
        assert result.get("ok") == (None if original.error else exact is not None and exact >= 0.5)
        if "judge" in original.explanations:
            assert ["judge", original.scores["judge"], None, original.explanations["judge"]] in result["s"]
    for flip in sample.flips:
        assert data["flips"][flip.target] == {"fixed": flip.fixed_ids, "broken": flip.broken_ids}
    failed = [r for c in data["cases"] for r in c["res"] if r.get("serr")]
    assert failed and failed[0]["serr"][0][0] == "judge"


def test_todays_results_render_without_the_statistics(results: RunResults) -> None:
    html = render_html(results)
    assert section(html, "comparisons") == "" and section(html, "curve") == ""
    assert "cost (USD)" not in html
    assert "plain difference: no paired test in this run" in section(html, "metrics")
    assert "<sup>" not in section(html, "metrics").split('<p class="legend">')[0]
    flips = text(section(html, "flips"))
    assert "final base 2 0 1 0 +2" in flips  # counted from the cases: c1 and c3 fixed, c4 right twice
    data = Page(html).cases()
    assert data["scorer"] == "exact" and data["base"] == "base" and data["focus"] == "final"
    folded = data["cases"][1]  # c2: a system message, then a user message made of content parts
    assert folded["input"] == "why javascript:alert(document.cookie)"
    c2 = results.cases[1]
    assert isinstance(c2.input, ChatInput)
    assert folded["ctx"] == [["system", c2.input.messages[0]["content"]]]
    failed = data["cases"][1]["res"][0]  # base's call on c2 failed: an error, no answer, no verdict
    assert failed["err"] == c2.results["base"].error
    assert "out" not in failed and "ok" not in failed


def test_many_checkpoints_keep_the_page_readable() -> None:
    run = sample_results(cases=16, checkpoints=11)
    html = render_html(run)
    assert len(run.targets) == 13 and run.recommendation is not None
    heatmaps = text(section(html, "flips").split("Confusion matrices", 1)[1])
    shown = [t.name for t in run.targets if re.search(rf"(?<![\w-]){re.escape(t.name)}(?![\w-])", heatmaps)]
    assert shown == ["base", run.recommendation.best, "final"]
    assert Page(html).cases()["targets"] == [t.name for t in run.targets]  # every column can be shown


def test_evalkit_report_rerenders_from_results_json_alone(sample: RunResults, tmp_path: Path) -> None:
    path = write_results(tmp_path / "results.json", sample)
    assert main(["report", str(path)]) == 1  # the sample's verdict is no-go
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == render_html(sample)
