"""The dashboard as a user meets it: `streamlit run app.py`, then headless Chromium.

AppTest cannot see what the browser does with the URL (bound widgets write the
query string client-side) nor whether the page renders, so this drives the
real server and a real browser. Screenshots land in test-artifacts/screenshots/
(one per page, and the Overview in the dark theme); with
MLOPS_UPDATE_DOCS_SCREENSHOTS=1 the Status page's also replaces
docs/screenshot-status.png and the Overview's docs/screenshot-overview.png.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from pages.common import PAGES
from tests.conftest import service_missing
from tests.services.streamlit import StreamlitServer as Server
from tests.services.streamlit import copy_settings, health, streamlit_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS_SCREENSHOT = ROOT / "docs" / "screenshot-status.png"
DOCS_OVERVIEW = ROOT / "docs" / "screenshot-overview.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
BANNER = "Demo organisation"


@contextmanager
def _streamlit(workdir: Path, *options: str) -> Iterator[Server]:
    """`streamlit run app.py` in `workdir`, its store `workdir/mlops.db`."""
    env = {name: value for name, value in os.environ.items() if name != "MLOPS_CONFIG"}
    env["DATABASE_URL"] = f"sqlite:///{workdir / 'mlops.db'}"
    with streamlit_server(workdir, env, *options) as running:
        yield running


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where no mlops.toml can be found, with the project's Streamlit settings."""
    folder = tmp_path_factory.mktemp("e2e")
    copy_settings(folder)
    return folder


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[Server]:
    """The dashboard on a fresh SQLite store and no mlops.toml: it generates the demo."""
    with _streamlit(workdir) as running:
        yield running


@pytest.fixture(scope="module")
def dark_server(server: Server, workdir: Path) -> Iterator[Server]:
    """A second server on the same store (the demo is there by then), in the dark theme."""
    with _streamlit(workdir, "--theme.base", "dark") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        service_missing(f"Debian's chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        service_missing("the playwright Python package is not installed")
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser tab; when the test fails, what it showed is kept for the CI log."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    failed_before = request.session.testsfailed
    yield opened
    if request.session.testsfailed > failed_before:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(SCREENSHOTS / f"failed-{request.node.name}.png"))
        print(f"URL at failure: {opened.url}\nserver log:\n{server.log.read_text()}")
    context.close()


def _settle(page: Page) -> None:
    """Wait until the script run is over and the app shell is drawn."""
    page.wait_for_selector(IDLE)
    page.get_by_text(BANNER).first.wait_for()
    page.wait_for_selector(IDLE)


def _assert_no_error(page: Page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    assert "Traceback" not in page.inner_text("body")


def _screenshot(page: Page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its main block, not the document, so
    the viewport is stretched to the content's height for the shot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    viewport = page.viewport_size or {"width": 1440, "height": 1000}
    height = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll("
        "'[data-testid=stMain], [data-testid=stMainBlockContainer]'), e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], height)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(viewport)
    return path


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _team_box(page: Page) -> Locator:
    """The sidebar's team selector; its value is the team shown as chosen."""
    return page.locator("[data-testid='stSidebar']").get_by_role("combobox", name="Team")


def test_health_probe_answers_exactly_ok(server: Server) -> None:
    assert health(server.base_url) == "ok"


def test_dashboard_status_page_and_shareable_selection(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    page.goto(server.base_url)
    _settle(page)
    _assert_no_error(page)
    assert "python cli.py init" in page.inner_text("[data-testid='stAlert']")
    _screenshot(page, "home")

    # The Status page, through the sidebar menu once there is more than one page
    # (Streamlit hides the menu for a single page, which is then the landing page).
    link = page.locator("[data-testid='stSidebarNav'] a", has_text="Settings / Status")
    if link.count():
        link.first.click()
        _settle(page)
    page.get_by_role("heading", name="Settings / Status").wait_for()
    page.get_by_text("No sync has run yet").wait_for()
    page.get_by_text("team_repo").first.wait_for()  # the row counts table is drawn
    _settle(page)
    _assert_no_error(page)
    status_png = _screenshot(page, "status")
    if os.environ.get("MLOPS_UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(status_png, DOCS_SCREENSHOT)

    # Choosing a team writes it into the URL ...
    _team_box(page).click()
    page.get_by_role("option", name="Fraud Detection").click()
    page.wait_for_url(lambda url: "team=Fraud" in url)
    _settle(page)
    assert _query(page)["team"] == ["Fraud Detection"]
    expect(_team_box(page)).to_have_value("Fraud Detection")
    _assert_no_error(page)
    _screenshot(page, "team-selected")

    # ... so reloading (or sharing) the link restores it.
    page.reload()
    _settle(page)
    assert _query(page)["team"] == ["Fraud Detection"]
    expect(_team_box(page)).to_have_value("Fraud Detection")
    _assert_no_error(page)


def test_a_link_with_team_and_period_opens_that_view(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    today = dt.datetime.now(dt.UTC).date()
    since, until = today - dt.timedelta(days=29), today - dt.timedelta(days=1)
    page.goto(
        f"{server.base_url}/?team=Recommendations"
        f"&period={since.isoformat()}&period={until.isoformat()}"
    )
    _settle(page)
    _assert_no_error(page)

    expect(_team_box(page)).to_have_value("Recommendations")
    dates = page.locator("[data-testid='stSidebar'] [data-testid='stDateInput'] input[type=date]")
    expect(dates).to_have_count(2)
    expect(dates.nth(0)).to_have_value(since.isoformat())
    expect(dates.nth(1)).to_have_value(until.isoformat())
    assert _query(page)["period"] == [since.isoformat(), until.isoformat()]


# --- every page ------------------------------------------------------------------

PAGE_CONTENT = {
    "pages/overview.py": "Headline metrics against targets",
    "pages/team.py": "Evidence",
    "pages/data.py": "DataOps checks",
    "pages/models.py": "Registry",
    "pages/endpoints.py": "Per endpoint, this period",
    "pages/delivery.py": "Production deployments and incidents",
    "pages/stakeholders.py": "Add a meeting",
    "pages/assessment.py": "Questionnaire",
    "pages/reports.py": "Reports",
    "pages/status.py": "Last sync per source",
}
"""A heading each page draws once its data is shown."""
NO_CHARTS = {"pages/status.py", "pages/data.py", "pages/assessment.py", "pages/reports.py"}
"""Pages made of tables and forms."""


def _slug(path: str) -> str:
    return Path(path).stem


def _open_from_menu(page: Page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    page.wait_for_selector(IDLE)


def _charts_drawn(page: Page) -> int:
    """Wait until Plotly has drawn every chart of the page; returns how many there are."""
    charts = page.locator("[data-testid='stPlotlyChart']")
    count = charts.count()
    for index in range(count):
        charts.nth(index).locator(".main-svg").first.wait_for()
    return count


def _pick_period(page: Page, since: dt.date, until: dt.date) -> None:
    """Type both dates into the sidebar's date segments; leaving the field applies them."""
    segments = page.locator(
        "[data-testid='stSidebar'] [data-testid='stDateInputField'] [role=spinbutton]"
    )
    segments.nth(0).click()
    page.keyboard.type(since.strftime("%Y%m%d"))
    segments.nth(3).click()
    page.keyboard.type(until.strftime("%Y%m%d"))
    page.locator("[data-testid='stMain'] h1").first.click()


def test_every_page_through_the_menu(page: Page, server: Server) -> None:
    page.goto(server.base_url)
    _settle(page)
    page.get_by_role("heading", name="Overview", exact=True).wait_for()  # the landing page
    menu = page.locator("[data-testid='stSidebarNav'] a")
    # Each link reads "<icon name>\n\n<title>": the icon is a Material Symbols ligature.
    assert [menu.nth(i).inner_text().split()[-1] for i in range(menu.count())] == [
        title.split()[-1] for title, _icon in PAGES.values()
    ]

    for path, (title, _icon) in PAGES.items():
        _open_from_menu(page, title)
        page.get_by_role("heading", name=PAGE_CONTENT[path], exact=True).wait_for()
        _assert_no_error(page)
        assert page.locator("[data-testid='stAlertContentError']").count() == 0
        if path not in NO_CHARTS:
            assert _charts_drawn(page) >= 1, path
        shot = _screenshot(page, _slug(path))
        if path == "pages/overview.py" and os.environ.get("MLOPS_UPDATE_DOCS_SCREENSHOTS") == "1":
            DOCS_OVERVIEW.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, DOCS_OVERVIEW)


def test_overview_in_the_dark_theme(page: Page, server: Server, dark_server: Server) -> None:
    page.goto(server.base_url)  # the first server has generated the demo by now
    _settle(page)
    page.goto(dark_server.base_url)
    _settle(page)
    page.get_by_role("heading", name="Headline metrics against targets").wait_for()
    _assert_no_error(page)
    _charts_drawn(page)
    background = page.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
    )
    red, green, blue = (
        int(part) for part in background[background.index("(") + 1 : -1].split(",")[:3]
    )
    assert red + green + blue < 3 * 80, f"not a dark background: {background}"
    _screenshot(page, "overview-dark")


def test_team_and_period_chosen_in_the_sidebar_reach_the_page(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.base_url}/team")
    _settle(page)
    page.get_by_role("heading", name="Team", exact=True).wait_for()
    # all teams: the page offers its own picker (wait: it may draw after the heading)
    expect(page.get_by_role("combobox", name="Team to show")).to_have_count(1)

    _team_box(page).click()
    page.get_by_role("option", name="Fraud Detection").click()
    page.wait_for_url(lambda url: "team=Fraud" in url)
    _settle(page)
    page.get_by_text("· Fraud Detection ·").first.wait_for()
    expect(page.get_by_role("combobox", name="Team to show")).to_have_count(0)  # sidebar's team

    today = dt.datetime.now(dt.UTC).date()
    since, until = today - dt.timedelta(days=60), today - dt.timedelta(days=31)
    _pick_period(page, since, until)
    page.wait_for_url(lambda url: f"period={until.isoformat()}" in url)
    _settle(page)
    assert _query(page)["period"] == [since.isoformat(), until.isoformat()]
    caption = f"{since:%d %b %Y} – {until:%d %b %Y} (30 days, UTC) · Fraud Detection"
    page.get_by_text(caption).wait_for()
    _assert_no_error(page)
    _charts_drawn(page)
    _screenshot(page, "team-fraud-detection-period")

    page.reload()
    _settle(page)
    page.get_by_text(caption).wait_for()
    expect(_team_box(page)).to_have_value("Fraud Detection")


def test_a_meeting_from_the_form_is_there_after_a_reload(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    title = f"Browser test review {dt.datetime.now(dt.UTC):%H%M%S%f}"
    page.goto(f"{server.base_url}/stakeholders?team=Fraud+Detection")
    _settle(page)
    page.get_by_role("heading", name="Add a meeting").wait_for()

    page.get_by_label("Title").fill(title)
    page.get_by_label("Attendees (e-mails, one per line)").fill("analyst@acme.example\n")
    page.get_by_role("combobox", name="Stakeholders who attended").click()
    page.get_by_role("option", name="cro@acme.example").click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Save meeting").click()
    page.get_by_text(f"Saved “{title}” for Fraud Detection").wait_for()
    _settle(page)
    _assert_no_error(page)
    _screenshot(page, "stakeholders-saved")

    page.reload()
    _settle(page)
    page.get_by_role("heading", name="Meetings", exact=True).wait_for()
    expect(page.get_by_text(title).first).to_be_attached()
    assert page.get_by_text(f"Saved “{title}”").count() == 0  # the message was for that run


def test_an_uploaded_calendar_is_there_after_a_reload(
    page: Page, server: Server, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    now = dt.datetime.now(dt.UTC)
    title = f"Fraud model update {now:%H%M%S%f}"  # Fraud Detection's meetings.title
    start = now - dt.timedelta(days=2)
    calendar = tmp_path / "fraud.ics"
    calendar.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//browser test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{title.replace(' ', '-')}@acme.example\r\nSUMMARY:{title}\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:cro@acme.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    page.goto(f"{server.base_url}/stakeholders?team=Fraud+Detection")
    _settle(page)
    page.get_by_role("heading", name="Import meetings").wait_for()

    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(calendar)
    import_button = page.get_by_role("button", name="Import 1 meeting")
    import_button.wait_for()
    _settle(page)
    import_button.click()
    page.get_by_text("Imported 1 meeting (1 attendee) from fraud.ics").wait_for()
    _settle(page)
    _assert_no_error(page)
    _screenshot(page, "stakeholders-imported")

    page.reload()
    _settle(page)
    page.get_by_role("heading", name="Meetings", exact=True).wait_for()
    expect(page.get_by_text(title).first).to_be_attached()


def test_a_bad_meeting_is_refused_with_the_reason(page: Page, server: Server) -> None:
    page.goto(f"{server.base_url}/stakeholders?team=Fraud+Detection")
    _settle(page)
    page.get_by_role("heading", name="Add a meeting").wait_for()

    page.get_by_label("Title").fill("Refused review")
    page.get_by_label("Attendees (e-mails, one per line)").fill("not an address\n")
    page.get_by_role("button", name="Save meeting").click()
    page.get_by_text("The meeting was not saved: attendees: not an e-mail address").wait_for()
    assert "Traceback" not in page.inner_text("body")


def test_an_attestation_from_the_questionnaire_is_there_after_a_reload(
    page: Page, server: Server
) -> None:
    from playwright.sync_api import expect

    who = f"browser-{dt.datetime.now(dt.UTC):%H%M%S%f}@acme.example"
    page.goto(f"{server.base_url}/?team=Recommendations")
    _settle(page)
    _open_from_menu(page, "Assessment")
    page.get_by_role("heading", name="Questionnaire").wait_for()
    _settle(page)
    _screenshot(page, "assessment-questions")

    question = page.locator("[data-testid='stExpander']").filter(
        has_text="Model rollback is a standard, rehearsed procedure"
    )
    question.locator("summary").click()
    question.get_by_text("yes", exact=True).click()
    question.get_by_label("Your name or e-mail").fill(who)
    question.get_by_label("Link to evidence (optional)").fill("https://wiki.acme.example/rollback")
    question.get_by_role("button", name="Save answer").click()
    page.get_by_text("Saved the answer “yes” to modelops.rollback-procedure").wait_for()
    _settle(page)
    _assert_no_error(page)
    expect(page.locator("summary").filter(has_text="Model rollback is a standard")).to_contain_text(
        "pass (attested)"
    )
    _screenshot(page, "assessment-saved")

    page.reload()
    _settle(page)
    page.get_by_role("heading", name="Answers", exact=True).wait_for()
    expect(page.get_by_text(who).first).to_be_attached()  # the answers' history
    assert page.get_by_text("Saved the answer").count() == 0  # the message was for that run
    expect(page.locator("summary").filter(has_text="Model rollback is a standard")).to_contain_text(
        "pass (attested)"
    )


def test_the_data_page_shows_each_team(page: Page, server: Server) -> None:
    page.goto(f"{server.base_url}/data?team=Fraud+Detection")
    _settle(page)
    page.get_by_role("heading", name="DataOps checks").wait_for()
    _assert_no_error(page)
    page.get_by_text("DataOps score").first.wait_for()
    _screenshot(page, "data-fraud-detection")
