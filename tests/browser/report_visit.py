"""What a browser test records about one open report page."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import Page


@dataclass
class Visit:
    """An open report page and what it did while a test drove it."""

    page: Page
    url: str
    errors: list[str] = field(default_factory=list)
    """Console errors and uncaught exceptions."""
    requests: list[str] = field(default_factory=list)
    """Every URL the page requested, the page itself included."""

    def off_page_requests(self) -> list[str]:
        """Requests for anything but the report file itself."""
        return [url for url in self.requests if url.split("#", 1)[0] != self.url.split("#", 1)[0]]
