"""A real headless chromium (the system's, never a downloaded one) that opens local pages, offline."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Viewed:
    """A page open in chromium and what it wrote to its console."""

    page: Page
    console: list[str] = field(default_factory=list)


@contextmanager
def open_page(path: Path, width: int = 1000, height: int = 900) -> Iterator[Viewed]:
    """A local file shown at this viewport; requests that would leave this machine are refused."""
    chromium = shutil.which("chromium")
    assert chromium is not None, "no chromium on PATH: install Debian's chromium package (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            viewed = Viewed(page)
            page.on("console", lambda m: viewed.console.append(f"{m.type}: {m.text}"))
            page.goto(path.resolve().as_uri())
            yield viewed
        finally:
            browser.close()


def overflow(page: Page) -> dict:
    """How far the page and its widest shown table reach past the viewport, in CSS pixels (0: nothing overflows)."""
    return page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth - window.innerWidth,
            table: Math.max(0, ...[...document.querySelectorAll('table')].filter(t => t.checkVisibility())
                .map(t => Math.ceil(t.getBoundingClientRect().right) - window.innerWidth)),
        })"""
    )
