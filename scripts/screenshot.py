"""Make the README's screenshots of report.html: render a report, open it in headless Chromium, save PNGs.

    .venv/bin/python scripts/screenshot.py [--out-dir docs]

The report is ``fixtures.sample``'s ticket-triage job (base, three checkpoints, final; 200 cases),
rendered by ``render_html`` exactly as ``evalkit run`` writes it. Two pictures: the top of the page
(verdict, metrics, checkpoint curve) and the cases listed by the "regressions vs base" filter. Needs
Debian's chromium at /usr/lib/chromium/chromium and Playwright (``make test`` installs both).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # ``fixtures`` lives in the repo's tests/

from fixtures.sample import sample_results
from playwright.sync_api import Page, sync_playwright

from evalkit.report import render_html

CHROMIUM = "/usr/lib/chromium/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTH = 1280


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.html"
        report.write_text(render_html(sample_results(cases=200)), encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = browser.new_page(viewport={"width": WIDTH, "height": 1500})
            page.goto(report.as_uri())
            top = args.out_dir / "report.png"
            page.screenshot(path=top)
            cases = args.out_dir / "report-cases.png"
            _regressions(page).screenshot(path=cases)
            browser.close()
    for path in (top, cases):
        print(f"{path} ({path.stat().st_size / 1024:.0f} KB)")
    return 0


def _regressions(page: Page) -> Page:
    """The page scrolled to the cases, filtered to the final model's regressions against the base."""
    page.locator("#f-view").select_option("regressions")
    page.locator("#cases").scroll_into_view_if_needed()
    page.set_viewport_size({"width": WIDTH, "height": 900})
    page.evaluate("document.getElementById('cases').scrollIntoView()")
    return page


if __name__ == "__main__":
    raise SystemExit(main())
