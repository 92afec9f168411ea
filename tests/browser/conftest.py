"""A real headless Chromium (Debian's ``chromium``, driven by Playwright) to open generated reports in.

``make test`` installs both (``apt-get install chromium`` when it is missing, ``playwright`` from the test
extra); ``playwright install`` is never used. ``open_report`` opens a page from disk and records what a
reviewer would never see: console errors, uncaught exceptions, and every request the page makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Request, sync_playwright
from report_visit import Visit

CHROMIUM = Path("/usr/lib/chromium/chromium")  # /usr/bin/chromium is a wrapper that adds flags and noise
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser per test module: Playwright's sync API runs an event loop on the main thread while it
    is open, which would break every later test that calls ``asyncio.run``."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_report(browser: Browser) -> Iterator[Callable[..., Visit]]:
    """``open_report(path, fragment="")``: the report opened from disk in a fresh page."""
    contexts = []

    def opener(path: Path, fragment: str = "") -> Visit:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        visit = Visit(page, path.resolve().as_uri() + fragment)
        page.on("console", lambda message: _console(visit, message))
        page.on("pageerror", lambda error: visit.errors.append(f"uncaught: {error}"))
        page.on("request", lambda request: _request(visit, request))
        page.goto(visit.url)
        return visit

    yield opener
    for context in contexts:
        context.close()


def _console(visit: Visit, message: ConsoleMessage) -> None:
    if message.type == "error":
        visit.errors.append(message.text)


def _request(visit: Visit, request: Request) -> None:
    visit.requests.append(request.url)
