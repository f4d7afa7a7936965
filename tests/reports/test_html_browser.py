"""The HTML report in headless Chromium: it opens from a file with no console error, draws
every chart offline, and prints to A4 with each team on a new page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pypdf import PdfReader

from tests.conftest import service_missing
from tests.reports.conftest import DEMO_TEAMS

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        service_missing(f"Debian's chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def test_html_report_opens_without_console_errors(
    browser: Browser, exports: dict[str, Path], tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # No network: the file must carry everything it needs.
    context.route(
        "**/*",
        lambda route: (
            route.abort() if not route.request.url.startswith("file:") else route.continue_()
        ),
    )
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.goto(exports["html"].as_uri())
    page.wait_for_load_state("load")
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
        arg=1 + 2 * len(DEMO_TEAMS),
    )

    assert problems == []
    assert page.locator(".js-plotly-plot").count() == 1 + 2 * len(DEMO_TEAMS)
    assert page.locator("section.team h2").all_inner_texts() == DEMO_TEAMS
    printed = tmp_path / "printed.pdf"
    page.pdf(path=str(printed), format="A4", print_background=True)
    context.close()
    pages = [p.extract_text() for p in PdfReader(printed).pages]
    starts = [next((t for t in DEMO_TEAMS if text.lstrip().startswith(t)), None) for text in pages]
    assert [team for team in starts if team] == DEMO_TEAMS  # each team opens a printed page
