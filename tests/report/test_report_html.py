"""report.html: one self-contained page, with every model output and datum shown as text, never markup."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from evalkit.report import render_html


class Page(HTMLParser):
    """What a browser would build from the page: elements with attributes, text, and style sheets."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        (self.styles if self._open and self._open[-1] == "style" else self.text).append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def test_payloads_are_shown_as_text(results: dict[str, Any], payloads: tuple[str, ...]) -> None:
    html = render_html(results)
    page = Page(html)
    for payload in payloads:
        assert payload in page.all_text
    assert "&lt;script&gt;alert(" in html
    assert "<script" not in html.lower()
    assert "</textarea><b>" not in html


def test_no_element_or_handler_comes_from_the_data(results: dict[str, Any]) -> None:
    page = Page(render_html(results))
    tags = {name for name, _ in page.tags}
    assert not tags & {"script", "img", "textarea", "b", "i", "iframe", "object", "embed", "link", "base"}
    handlers = [(tag, name) for tag, attrs in page.tags for name in attrs if name.startswith("on")]
    assert handlers == []


def test_nothing_points_off_the_page(results: dict[str, Any]) -> None:
    page = Page(render_html(results))
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "formaction", "srcset", "poster", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith(("#", "data:")), (tag, name, value)
        if tag != "meta" and attrs.get("title") is None:
            assert not any(v and ("://" in v or "javascript:" in v) for v in attrs.values()), (tag, attrs)
    style = "".join(page.styles)
    assert style and "url(" not in style and "@import" not in style
    policy = [a for a in page.named("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert policy and "default-src 'none'" in str(policy[0]["content"])


def test_payloads_do_not_break_the_case_table(results: dict[str, Any]) -> None:
    page = Page(render_html(results))
    rows = [attrs["id"] for attrs in page.named("tr") if (attrs.get("id") or "").startswith("case-")]
    assert rows == ["case-1", "case-2", "case-3", "case-4"]


def test_verdict_banner_gives_every_rules_reason(results: dict[str, Any]) -> None:
    text = Page(render_html(results)).all_text
    assert "NO-GO" in text
    for rule in results["gate"]["rules"]:
        assert rule["reason"] in text
    assert "final classify.macro_f1 = 1.000 ≥ 0.800 (min)" in text
    assert "base classify.macro_f1: no scored cases" in text


def test_go_without_rules(results_without_rules: dict[str, Any]) -> None:
    page = Page(render_html(results_without_rules))
    verdict = [a for a in page.named("section") if a.get("id") == "verdict"]
    assert verdict and "go" in str(verdict[0]["class"]).split()
    assert "No gate rules" in page.all_text


def test_metrics_targets_and_cases_are_all_there(results: dict[str, Any]) -> None:
    text = Page(render_html(results)).all_text
    for metric in ("exact", "classify.accuracy", "classify.macro_f1", "error_rate"):
        assert metric in text
    assert "0.333" in text and "[0.010, 0.900]" in text  # base exact with its CI
    for model in ("gpt-4o-mini", "ft:gpt-4o-mini:org::abc", "ft:gpt-4o-mini:org::odd"):
        assert model in text
    assert "error: 500 server said" in text  # the errored call is visible
    assert "cached" in text
    assert "Where is my parcel?" in text and "Reset my password" in text
    assert "finish: length" in text


def test_input_shows_the_last_user_message_with_earlier_ones_folded(results: dict[str, Any]) -> None:
    text = Page(render_html(results)).all_text
    assert "why javascript:alert(document.cookie)" in text  # c2's user message, from its content parts
    assert "1 earlier message" in text and "system:" in text  # c2's system message, folded
