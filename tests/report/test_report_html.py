"""report.html: one self-contained page whose only script is its own, with every datum as text, never markup.

``results`` (tests/report/conftest.py) is a run of today's shape with markup and script planted in outputs,
data, target names and errors; ``sample_results(hostile=True)`` is a full job run with payloads.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fixtures.runs import as_json, from_json
from fixtures.sample import sample_results

from evalkit.records.results import RunResults
from evalkit.report import render_html

DANGEROUS = {"img", "iframe", "object", "embed", "link", "base", "textarea", "b", "i", "form", "frame", "meta"}


class Page(HTMLParser):
    """What a browser would build from the page: elements with attributes, text, styles and scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)
        if tag == "script":
            self.scripts.append((dict(attrs), ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        where = self._open[-1] if self._open else ""
        if where == "script":
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        elif where == "style":
            self.styles.append(data)
        else:
            self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def cases(self) -> dict[str, Any]:
        """The cases' JSON document, as the page's script reads it."""
        [text] = [text for attrs, text in self.scripts if attrs.get("type") == "application/json"]
        return json.loads(text)  # type: ignore[no-any-return]

    def policy(self) -> dict[str, list[str]]:
        """The Content-Security-Policy, directive → sources."""
        [meta] = [a for a in self.named("meta") if a.get("http-equiv") == "Content-Security-Policy"]
        return {d.split()[0]: d.split()[1:] for d in str(meta["content"]).split(";") if d.strip()}


@pytest.fixture(scope="module")
def hostile() -> RunResults:
    return sample_results(cases=12, hostile=True)


@pytest.fixture(scope="module")
def hostile_page(hostile: RunResults) -> Page:
    return Page(render_html(hostile))


def test_the_only_elements_are_the_pages_own(results: RunResults, hostile_page: Page) -> None:
    for page in (Page(render_html(results)), hostile_page):
        assert not {name for name, _ in page.tags} & (DANGEROUS - {"meta", "link"})
        assert [a["rel"] for a in page.named("link")] == ["icon"]
        handlers = [(tag, name) for tag, attrs in page.tags for name in attrs if name.startswith("on")]
        assert handlers == []
        assert [attrs for attrs, _ in page.scripts] == [{"type": "application/json", "id": "evalkit-cases"}, {}]


def test_the_policy_runs_exactly_the_pages_script_and_allows_no_request(hostile_page: Page) -> None:
    policy = hostile_page.policy()
    [(_, script)] = [(a, text) for a, text in hostile_page.scripts if not a]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert policy["script-src"] == [f"'sha256-{digest}'"]
    assert policy["default-src"] == ["'none'"]  # so no connect, frame, font, media, object, worker
    assert policy["img-src"] == ["data:"] and policy["form-action"] == ["'none'"]
    assert "'unsafe-eval'" not in str(policy) and "http" not in str(policy)


def test_nothing_points_off_the_page(results: RunResults, hostile_page: Page) -> None:
    for page in (Page(render_html(results)), hostile_page):
        for tag, attrs in page.tags:
            for name in ("src", "href", "xlink:href", "action", "formaction", "srcset", "poster", "data"):
                value = attrs.get(name)
                assert value is None or value.startswith(("#", "data:")), (tag, name, value)
        style = "".join(page.styles)
        assert style and "url(" not in style and "@import" not in style
        svg_styles = [a.get("style") or "" for _, a in page.tags]
        assert not any("url(http" in s or "url(//" in s for s in svg_styles)


def test_payloads_reach_the_page_only_as_escaped_text(results: RunResults, payloads: tuple[str, ...]) -> None:
    html = render_html(results)
    page = Page(html)
    assert "&lt;script&gt;alert(" in html  # the suite description, the warning
    assert "</textarea><b>" not in html
    [data] = [text for attrs, text in page.scripts if attrs.get("type") == "application/json"]
    assert "<" not in data and ">" not in data and "&" not in data, "the JSON must not end its element"
    shown = page.all_text + "\n".join(_strings(page.cases()))
    for payload in payloads:
        assert payload in shown


def _strings(value: Any) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_case_json_escapes_what_could_end_a_script(hostile: RunResults) -> None:
    html = render_html(hostile)
    start = html.index('<script type="application/json" id="evalkit-cases">')
    block = html[start : html.index("</script>", start)]
    assert "\u2028" not in block and "\u2029" not in block
    assert "\\u003c/script\\u003e" in block and "\\u2028" in block
    cases = Page(html).cases()["cases"]
    assert cases[1]["ref"] == hostile.cases[1].reference  # </script><script>…
    assert "\u2028line\u2029para" in cases[2]["input"]
    assert cases[3]["id"] == hostile.cases[3].id  # <img onerror=…> as an id


def test_the_script_never_writes_markup() -> None:
    from evalkit.report.html import TEMPLATE_DIR

    script = (TEMPLATE_DIR / "report.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", script)
    assert "textContent" in script


def test_the_page_is_the_same_every_time(hostile: RunResults) -> None:
    first, again = render_html(hostile), render_html(from_json(as_json(hostile)))  # read back from results.json
    assert first == again
    ids = re.findall(r'\bid="([^"]+)"', first)
    assert len(ids) == len(set(ids)), "element ids (charts included) are unique on the page"
