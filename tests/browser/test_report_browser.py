"""report.html in a real headless Chromium: offline, quiet, filterable, linkable, and deaf to payloads.

Two reports: the synthetic job run of ``fixtures.sample`` (every section: CIs, comparisons, flips,
recommendation, cost, judge rationales) with markup and script planted in outputs, data, ids and errors;
and one written by the real ``evalkit run --job`` against the fake OpenAI server, the results.json of today
(no statistics yet), with a payload in a model's answer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fakeopenai import FakeOpenAI, FakeRequest
from fixtures.sample import XSS_FLAG, sample_results
from playwright.sync_api import Page, expect
from report_visit import Visit

from evalkit.records.cases import CaseRecord, ChatInput
from evalkit.records.results import RunResults
from evalkit.report import render_html

REPO = Path(__file__).resolve().parents[2]
CASES = 120
PAGE_SIZE = 50

Opener = Callable[..., Visit]


@pytest.fixture(scope="module")
def sample() -> RunResults:
    return sample_results(cases=CASES, hostile=True)


@pytest.fixture(scope="module")
def report(sample: RunResults, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "report.html"
    path.write_text(render_html(sample), encoding="utf-8")
    return path


def shown_ids(page: Page) -> list[str]:
    return page.locator("#cases-body tr.case td.id a").all_inner_texts()


def ids_where(sample: RunResults, keep: Callable[[CaseRecord], bool]) -> list[str]:
    return [case.id for case in sample.cases if keep(case)]


def flip_ids(sample: RunResults, target: str, kind: str) -> list[str]:
    flip = next(f for f in sample.flips if f.target == target)
    return list(flip.fixed_ids if kind == "fixed" else flip.broken_ids)


def last_message(case: CaseRecord) -> str:
    """The text of the case's last chat message (the ticket)."""
    assert isinstance(case.input, ChatInput)
    return str(case.input.messages[-1]["content"])


def expect_count(page: Page, shown: int) -> None:
    expect(page.locator("#f-count")).to_have_text(f"{shown} of {CASES} cases")


def test_opens_offline_without_errors_or_requests(open_report: Opener, report: Path, tmp_path: Path) -> None:
    visit = open_report(report)
    page = visit.page
    expect(page.locator("#verdict .word")).to_have_text("NO-GO")
    page.locator("#f-view").select_option("all")  # it opens on final's regressions (test_report_glance_browser)
    expect_count(page, CASES)
    assert len(shown_ids(page)) == PAGE_SIZE
    page.locator("#next").click()
    assert len(shown_ids(page)) == PAGE_SIZE
    page.locator("#curve svg").scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "report.png", full_page=False)
    page.locator("#verdict").screenshot(path=tmp_path / "verdict.png")
    assert visit.errors == []
    assert visit.off_page_requests() == []
    assert visit.requests == [visit.url]
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_filters_change_the_visible_rows(open_report: Opener, report: Path, sample: RunResults) -> None:
    page = open_report(report).page
    view, target = page.locator("#f-view"), page.locator("#f-target")
    assert target.input_value() == "final"

    view.select_option("regressions")
    broken = flip_ids(sample, "final", "broken")
    expect_count(page, len(broken))
    assert shown_ids(page) == broken

    target.select_option("step-30")
    assert shown_ids(page) == flip_ids(sample, "step-30", "broken")

    target.select_option("final")
    view.select_option("fixes")
    fixed = flip_ids(sample, "final", "fixed")
    expect_count(page, len(fixed))
    assert shown_ids(page) == fixed[:PAGE_SIZE] and len(fixed) > PAGE_SIZE

    view.select_option("errors")
    failed = ids_where(sample, lambda c: any(r.error or r.score_errors for r in c.results.values()))
    expect_count(page, len(failed))
    assert shown_ids(page) == failed and 0 < len(failed) < CASES

    view.select_option("all")
    page.locator("#f-label").select_option("shipping")
    shipping = ids_where(sample, lambda c: c.reference == "shipping")
    expect_count(page, len(shipping))
    assert shown_ids(page) == shipping[:PAGE_SIZE]

    page.locator("#f-label").select_option("")
    page.locator("#f-search").fill("CRUSHED")
    crushed = ids_where(sample, lambda c: "crushed" in last_message(c))
    expect_count(page, len(crushed))
    assert shown_ids(page) == crushed[:PAGE_SIZE] and 0 < len(crushed) < CASES


def test_a_flip_count_lists_those_cases(open_report: Opener, report: Path, sample: RunResults) -> None:
    page = open_report(report).page
    page.locator('#flips button[data-view="regressions"][data-target="step-60"]').click()
    assert page.locator("#f-view").input_value() == "regressions"
    assert page.locator("#f-target").input_value() == "step-60"
    assert shown_ids(page) == flip_ids(sample, "step-60", "broken")


def test_a_case_link_opens_that_case(open_report: Opener, report: Path, sample: RunResults) -> None:
    wanted = sample.cases[77]  # on the second page
    visit = open_report(report, f"#case={wanted.id}")
    page = visit.page
    assert shown_ids(page) == [wanted.id]
    expect(page.locator("#single")).to_be_visible()
    row = page.locator("#cases-body tr.case")
    expect(row).to_contain_text(last_message(wanted))
    answer = wanted.results["final"].output
    assert answer is not None
    expect(row).to_contain_text(answer)

    page.locator("#show-all").click()
    expect_count(page, CASES)
    expect(page.locator("#single")).to_be_hidden()

    hostile = sample.cases[3].id  # an id full of markup: its link is still a link to the case
    page.locator("#cases-body tr.case td.id a").nth(3).click()
    expect(page.locator("#cases-body tr.case")).to_have_count(1)  # hashchange fires after the click
    assert shown_ids(page) == [hostile]
    assert page.evaluate("location.hash").startswith("#case=")
    assert visit.errors == []


@pytest.mark.parametrize("policy", ["kept", "removed"])
def test_payloads_render_as_text_and_never_run(
    open_report: Opener, report: Path, sample: RunResults, tmp_path: Path, policy: str
) -> None:
    """With the page's Content-Security-Policy, and without it: the script itself never makes markup."""
    if policy == "removed":
        html = report.read_text(encoding="utf-8")
        html, found = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        assert found == 1
        report = tmp_path / "no-csp.html"
        report.write_text(html, encoding="utf-8")
    visit = open_report(report)
    page = visit.page
    page.locator("#f-view").select_option("all")
    body = page.locator("#cases-body")
    planted = sample.cases[0].results["final"].output
    assert planted is not None
    expect(body).to_contain_text(planted)  # <img onerror=…>
    expect(body).to_contain_text("</script><script>window.")
    expect(body).to_contain_text("javascript:window.")
    page.locator("#f-search").fill("onload")
    expect(body).to_contain_text('<svg onload="window.')
    assert body.locator("img, svg, script, iframe, b, textarea").count() == 0
    assert page.evaluate(f"typeof window.{XSS_FLAG}") == "undefined"
    assert page.locator("script").count() == 2  # the cases' JSON and the page's own script
    assert visit.errors == []


def _job_answer(labels: dict[str, str]) -> Callable[[FakeRequest], str]:
    def answer(request: FakeRequest) -> str:
        label = labels[request.last_user]
        if ":ckpt-step-" not in request.model and request.model.startswith("ft:"):
            if "charged twice" in request.last_user:
                return f'<img src="x" onerror="window.{XSS_FLAG}=1">'
            return label
        return label if request.model.startswith("ft:") and len(request.last_user) % 3 else "billing"

    return answer


def test_a_report_from_todays_pipeline_opens_cleanly(
    open_report: Opener, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    rows = [json.loads(line) for line in (REPO / "suites/data/ticket-triage/test.jsonl").read_text().splitlines()]
    fake_openai.script("*", _job_answer({r["messages"][1]["content"]: r["messages"][2]["content"] for r in rows}))
    fake_openai.add_job("ftjob-browser1", model="gpt-4o-mini", checkpoint_steps=[10, 20, 30])
    suite = REPO / "suites" / "ticket-triage-job.yaml"
    # A subprocess, as a user runs it (and Playwright's sync API holds this thread's event loop).
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit", "run", str(suite), "--job", "ftjob-browser1", "--out", "out", "--quiet"],
        cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode in (0, 1) and (tmp_path / "out" / "report.html").exists(), proc.stderr

    visit = open_report(tmp_path / "out" / "report.html")
    page = visit.page
    expect(page.locator("#f-view")).to_have_value("regressions")  # final broke some cases the base got right
    assert 0 < len(shown_ids(page)) < len(rows)
    page.locator("#f-view").select_option("all")
    expect(page.locator("#f-count")).to_have_text(f"{len(rows)} of {len(rows)} cases")
    expect(page.locator("#curve svg")).to_be_visible()
    expect(page.locator("#cases-body")).to_contain_text(f'<img src="x" onerror="window.{XSS_FLAG}=1">')
    assert page.evaluate(f"typeof window.{XSS_FLAG}") == "undefined"
    page.screenshot(path=tmp_path / "pipeline-report.png")
    assert visit.errors == [] and visit.off_page_requests() == []


def test_many_targets_start_with_base_best_and_final_and_show_the_one_compared(
    open_report: Opener, tmp_path: Path
) -> None:
    run = sample_results(cases=20, checkpoints=8, steps_per_checkpoint=10)
    path = tmp_path / "report.html"
    path.write_text(render_html(run), encoding="utf-8")
    page = open_report(path).page
    columns = page.locator("#cases-head th[data-target]")

    def shown() -> list[str | None]:
        return [columns.nth(i).get_attribute("data-target") for i in range(columns.count())]

    assert run.recommendation is not None
    best = run.recommendation.best
    assert shown() == ["base", best, "final"]
    page.locator("#f-target").select_option("step-30")
    page.locator("#f-view").select_option("fixes")
    assert shown() == ["base", "step-30", best, "final"]
    page.locator("#f-columns label", has_text="final").locator("input").uncheck()
    assert shown() == ["base", "step-30", best]
