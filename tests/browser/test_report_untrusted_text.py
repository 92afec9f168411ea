"""Untrusted text in report.html, in a real Chromium: a U+202E (right-to-left override) in an answer, a case
id or a target name stays inside its own element — the text after it and the cells around it render as they
would without it — and a 5,000-character unbroken string wraps inside its cell instead of widening the page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fixtures.runs import build_results, scored_run
from playwright.sync_api import Page, expect
from report_visit import Visit

from evalkit.records import Case, CaseSet, Metric, Outcome, Score, Target
from evalkit.records.results import RunResults
from evalkit.report import render_html

Opener = Callable[..., Visit]

RLO = "\u202e"
"""RIGHT-TO-LEFT OVERRIDE: every character after it, up to the end of its embedding, is laid out reversed."""
LONG = "W" * 5000

_CHARACTER_LEFTS = """([root, needle]) => {
  const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(needle);
    if (at < 0) { continue; }
    return Array.from(needle, (_, i) => {
      const range = document.createRange();
      range.setStart(node, at + i);
      range.setEnd(node, at + i + 1);
      return range.getBoundingClientRect().left;
    });
  }
  return null;
}"""

_HOLDER = """([root, needle]) => {
  const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.data.includes(needle)) { continue; }
    const style = getComputedStyle(node.parentElement);
    return [node.parentElement.textContent === node.data, style.unicodeBidi, style.display];
  }
  return null;
}"""

_BOXES = """(selector) => Array.from(document.querySelectorAll(selector), (node) => {
  const box = node.getBoundingClientRect();
  return [node.textContent, box.left, box.top, box.width, box.height];
})"""


def _run(*, answer: str, base: str = "base", case_id: str = "c0", long: str = "") -> RunResults:
    """``base`` and ``final`` on three cases; ``answer`` is final's answer to the first, ``long`` (when given)
    goes everywhere untrusted text goes."""
    cases = [
        Case(id=case_id + long, reference="billing" + long, messages=({"role": "user", "content": "refund" + long},)),
        Case(id="c1", reference="shipping", prompt="where is my parcel"),
        Case(id="c2", reference="account", prompt="reset my password"),
    ]
    final = "final" + long
    scored = scored_run(
        case_set=CaseSet(cases, "b" * 64, "inline"),
        targets=[Target(base, "gpt-4o-mini", "chat", "base"), Target(final, "ft:gpt-4o-mini:o::x", "chat", "final")],
        outcomes={
            base: [Outcome("billing"), Outcome(None, error="500 boom" + long), Outcome("account")],
            final: [Outcome(answer), Outcome("shipping"), Outcome("account")],
        },
        scores={
            base: {"exact": [Score(1.0), None, Score(1.0)]},
            final: {"exact": [Score(0.0, answer=answer, explanation="said " + answer), Score(1.0), Score(1.0)]},
        },
        metrics={base: {"exact": Metric(1.0, 2)}, final: {"exact": Metric(2 / 3, 3)}},
        scorers=[{"kind": "exact", "name": "exact", "options": {}}],
        warnings=["odd data" + long] if long else [],
    )
    return build_results(scored)


def _open(open_report: Opener, tmp_path: Path, name: str, run: RunResults, fragment: str = "") -> Page:
    path = tmp_path / f"{name}.html"
    path.write_text(render_html(run), encoding="utf-8")
    visit = open_report(path, fragment)
    expect(visit.page.locator("#cases-body tr.case").first).to_be_visible()
    assert visit.errors == []
    return visit.page


def _in_order(lefts: Sequence[float] | None) -> bool:
    """Whether characters were laid out left to right (each one right of the one before)."""
    return lefts is not None and len(lefts) > 1 and all(a < b for a, b in pairwise(lefts))


def _boxes(page: Page, selector: str) -> list[Any]:
    return page.evaluate(_BOXES, selector)  # type: ignore[no-any-return]


def test_an_override_in_an_answer_stays_inside_its_cell(open_report: Opener, tmp_path: Path) -> None:
    plain = _open(open_report, tmp_path, "plain", _run(answer="\u2060evil answer"))  # a zero-width joiner instead
    hostile = _open(open_report, tmp_path, "hostile", _run(answer=f"{RLO}evil answer"))
    row = "#cases-body tr.case:first-child"

    # The answer is alone in an inline element that isolates it (its <bdi>, not the <pre> it shares with the
    # verdict mark), so its override ends with it …
    assert hostile.evaluate(_HOLDER, [f"{row} td:last-child pre", f"{RLO}evil"]) == [True, "isolate", "inline"]
    # … and nothing around it moved: the header, the row's other cells, the next row, the answer's scores.
    neighbours = ("#cases-head th", f"{row} td:not(:last-child)", "#cases-body tr.case:nth-child(2) td")
    for selector in neighbours:
        assert _boxes(hostile, selector) == _boxes(plain, selector), selector
    checked = (("#cases-head", "reference"), (row, "billing"), (row, "refund"), (f"{row} td:last-child", "exact"))
    for root, text in checked:
        assert _in_order(hostile.evaluate(_CHARACTER_LEFTS, [root, text])), text


def test_an_override_in_a_target_name_does_not_move_the_tag_after_it(open_report: Opener, tmp_path: Path) -> None:
    page = _open(open_report, tmp_path, "name", _run(answer="billing", base=f"base{RLO}xyz"))
    for header in ("#cases-head th:nth-child(4)", "#metrics tbody tr:first-child th"):
        tag = page.locator(f"{header} .tag").first.bounding_box()
        lefts = page.evaluate(_CHARACTER_LEFTS, [header, f"base{RLO}xyz"])
        assert tag is not None and lefts is not None
        assert tag["x"] >= max(lefts), f"{header}: the 'base' tag moved into the name"


def test_an_override_in_a_case_id_does_not_reverse_the_sentence_around_it(open_report: Opener, tmp_path: Path) -> None:
    case_id = f"c0{RLO}xyz"
    page = _open(open_report, tmp_path, "id", _run(answer="billing", case_id=case_id), f"#case={quote(case_id)}")
    expect(page.locator("#single")).to_be_visible()
    assert _in_order(page.evaluate(_CHARACTER_LEFTS, ["#single-text", "only."]))
    assert _in_order(page.evaluate(_CHARACTER_LEFTS, ["#single-text", "Showing"]))


def test_a_long_unbroken_answer_wraps_inside_its_cell(open_report: Opener, tmp_path: Path) -> None:
    page = _open(open_report, tmp_path, "long", _run(answer=LONG, long=LONG))
    viewport = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport
    table = page.locator("#cases-table")
    box = table.bounding_box()
    assert box is not None and box["width"] <= viewport
    for scroll in page.locator(".scroll").all():  # no table needs scrolling sideways either
        assert scroll.evaluate("(node) => node.scrollWidth <= node.clientWidth + 1"), scroll.inner_html()[:200]
    answer = page.locator("#cases-body tr.case:first-child td").last
    answer_box = answer.bounding_box()
    assert answer_box is not None and answer_box["width"] < viewport / 2
    assert LONG in answer.inner_text().replace("\n", "")
