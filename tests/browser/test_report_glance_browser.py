"""report.html at a glance, in a real headless Chromium: the comparisons open on the headline metrics with
the per-class rows folded (a click unfolds them, with or without JavaScript), and the cases open on the
final model's regressions against the base when it has any."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures.sample import sample_results
from playwright.sync_api import Browser, expect
from report_visit import Visit

from evalkit.records.results import RunResults
from evalkit.report import render_html

CASES = 120

Opener = Callable[..., Visit]


@pytest.fixture(scope="module")
def sample() -> RunResults:
    return sample_results(cases=CASES)


def written(run: RunResults, folder: Path) -> Path:
    path = folder / "report.html"
    path.write_text(render_html(run), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def report(sample: RunResults, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return written(sample, tmp_path_factory.mktemp("glance"))


def test_per_class_rows_are_folded_and_unfold_on_a_click(open_report: Opener, report: Path) -> None:
    visit = open_report(report)
    page = visit.page
    per_class = page.locator("#comparisons tr", has_text="classify.f1.billing")
    headline = page.locator("#comparisons tr", has_text="classify.macro_f1")
    expect(per_class).to_have_count(4)  # one per target
    expect(headline.first).to_be_visible()
    for i in range(4):
        expect(per_class.nth(i)).to_be_hidden()
    expect(page.locator("#comparisons")).to_contain_text("< 0.001")
    page.locator("#comparisons-more > summary").click()
    for i in range(4):
        expect(per_class.nth(i)).to_be_visible()
    page.locator("#comparisons-more > summary").click()
    expect(per_class.first).to_be_hidden()
    assert visit.errors == []


def test_the_disclosure_needs_no_script(browser: Browser, report: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(report.resolve().as_uri())
    per_class = page.locator("#comparisons tr", has_text="classify.f1.shipping").first
    expect(per_class).to_be_hidden()
    page.locator("#comparisons-more > summary").click()
    expect(per_class).to_be_visible()
    context.close()


def test_the_cases_open_on_the_final_models_regressions(open_report: Opener, report: Path, sample: RunResults) -> None:
    page = open_report(report).page
    broken = next(f for f in sample.flips if f.target == "final").broken_ids
    assert 0 < len(broken) < CASES
    expect(page.locator("#f-view")).to_have_value("regressions")
    assert page.locator("#f-target").input_value() == "final"
    expect(page.locator("#f-count")).to_have_text(f"{len(broken)} of {CASES} cases")
    assert page.locator("#cases-body tr.case td.id a").all_inner_texts() == list(broken)
    expect(page.locator('#cases-head th[data-target="final"]')).to_be_visible()
    page.locator("#f-view").select_option("all")
    expect(page.locator("#f-count")).to_have_text(f"{CASES} of {CASES} cases")


def test_without_regressions_the_cases_open_on_all_of_them(
    open_report: Opener, sample: RunResults, tmp_path: Path
) -> None:
    clean = [replace(f, broken=0, broken_ids=[]) if f.target == "final" else f for f in sample.flips]
    page = open_report(written(replace(sample, flips=clean), tmp_path)).page
    expect(page.locator("#f-count")).to_have_text(f"{CASES} of {CASES} cases")
    assert page.locator("#f-view").input_value() == "all"


def test_a_case_link_opens_that_case_and_show_all_shows_every_case(
    open_report: Opener, report: Path, sample: RunResults
) -> None:
    wanted = sample.cases[5].id
    page = open_report(report, f"#case={wanted}").page
    assert page.locator("#cases-body tr.case td.id a").all_inner_texts() == [wanted]
    page.locator("#show-all").click()
    expect(page.locator("#f-count")).to_have_text(f"{CASES} of {CASES} cases")
