"""Login and rights: with `[auth]` in the secrets only a logged-in user sees anything, and
only mlops.toml `admins` may sync, import, answer or waive; without it, everyone may, and
Settings / Status says so.

AppTest cannot complete an OIDC flow, so a logged-in user is seeded through
`AppTest.user` (what `st.user` reads) and `[auth]` through `AppTest.secrets`, or
through a real secrets file where Streamlit's own login code must read it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit
import streamlit.auth_util
from sqlalchemy.engine import Engine
from streamlit.runtime.secrets import Secrets
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.util import patch_config_options

from config import DEMO_CONFIG_PATH, PROJECT_ROOT
from data.loaders import Period
from data.store import row_counts
from pages.access import AUTH_SNIPPET, SecretsUnreadable, auth_configured, is_admin
from tests.pages.apptest import APP, page_text

STATUS = "pages/status.py"
ASSESSMENT = "pages/assessment.py"
STAKEHOLDERS = "pages/stakeholders.py"
ROLLBACK = "modelops.rollback-procedure"
ADMIN = "Lead@Acme.example"
AUTH: dict[str, str] = tomllib.loads(AUTH_SNIPPET)["auth"]
READER = {"is_logged_in": True, "email": "reader@acme.example", "name": "Rita Reader"}
ADMIN_USER = {"is_logged_in": True, "email": "lead@acme.example", "name": "Lee Lead"}


# --- the rule and the secrets it reads ----------------------------------------------


def test_admins_are_matched_by_email_case_insensitively() -> None:
    admins = [" Lead@Acme.example ", "ops@acme.example"]
    assert is_admin("lead@acme.example", admins)
    assert is_admin("OPS@ACME.EXAMPLE", admins)
    assert not is_admin("reader@acme.example", admins)
    assert not is_admin(None, admins)
    assert not is_admin("lead@acme.example", [])


@pytest.fixture
def secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where `st.secrets` (and Streamlit's login code) read secrets from, for this test only:
    a private `Secrets` instance, so the process-wide one never caches a test's file."""
    path = tmp_path / "secrets" / "secrets.toml"
    private = Secrets()
    private._file_watchers_installed = True  # no polling thread for a throwaway instance
    monkeypatch.setattr(streamlit, "secrets", private)
    monkeypatch.setattr(streamlit.auth_util, "secrets_singleton", private)
    with patch_config_options({"secrets.files": [str(path)]}):
        yield path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_no_secrets_file_means_no_login(secrets_file: Path) -> None:
    assert not secrets_file.exists()
    assert auth_configured() is False


def test_a_secrets_file_without_auth_means_no_login(secrets_file: Path) -> None:
    _write(secrets_file, 'GITHUB_TOKEN_FOR_TEST = "x"\n')
    assert auth_configured() is False


def test_an_auth_block_switches_login_on(secrets_file: Path) -> None:
    _write(secrets_file, AUTH_SNIPPET)
    assert auth_configured() is True


def test_an_unreadable_secrets_file_is_an_error_not_an_open_door(secrets_file: Path) -> None:
    _write(secrets_file, "[auth\nredirect_uri = 'x'\n")
    with pytest.raises(SecretsUnreadable, match="Error parsing secrets file"):
        auth_configured()


def test_the_example_secrets_file_has_the_auth_block_the_page_shows() -> None:
    example = tomllib.loads((PROJECT_ROOT / ".streamlit" / "secrets.toml.example").read_text())
    assert example["auth"] == AUTH
    assert set(AUTH) == {
        "redirect_uri",
        "cookie_secret",
        "client_id",
        "client_secret",
        "server_metadata_url",
    }
    assert ".streamlit/secrets.toml" in (PROJECT_ROOT / ".gitignore").read_text().splitlines()


# --- the app under AppTest -------------------------------------------------------------


@pytest.fixture
def meetings_csv(tmp_path: Path, period: Period) -> Path:
    path = tmp_path / "forecast-meetings.csv"
    day = period.until - timedelta(days=3)
    path.write_text(
        f"title,start,end,attendees\nForecast review,{day}T14:00:00Z,{day}T15:00:00Z,"
        "cfo@acme.example\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def configured(app_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, meetings_csv: Path):
    """The demo store with the demo's teams in an mlops.toml that names one admin and gives
    one team a meetings file, so Sync now has a source."""
    forecast = 'meetings = { title = "(?i)forecast" }'
    text = DEMO_CONFIG_PATH.read_text(encoding="utf-8")
    assert text.count(forecast) == 1
    text = text.replace(
        forecast, f'meetings = {{ csv = "{meetings_csv.as_posix()}", title = "(?i)forecast" }}'
    )
    config = tmp_path / "mlops.toml"
    config.write_text(f'admins = ["{ADMIN}"]\n\n{text}', encoding="utf-8")
    monkeypatch.setenv("MLOPS_CONFIG", str(config))
    return app_env


@pytest.fixture
def open_as(configured: str, period: Period) -> Callable[..., AppTest]:
    """Open `page` for `user` (a `st.user` dict), with login configured unless `auth=False`."""

    def start(page: str, user: dict[str, Any], team: str | None = None, auth: bool = True):
        at = AppTest.from_file(str(APP), default_timeout=90)
        if auth:
            at.secrets["auth"] = AUTH
        at.user = user
        if team is not None:
            at.query_params["team"] = team
        at.query_params["period"] = [period.since.isoformat(), period.until.isoformat()]
        at.run()
        at.switch_page(page).run()
        assert not at.exception, at.exception
        return at

    return start


def _labels(at: AppTest) -> list[str]:
    return [str(button.label) for button in at.button]


def _captions(at: AppTest) -> str:
    return "\n".join(str(caption.value) for caption in at.caption)


def _errors(at: AppTest) -> str:
    return "\n".join(str(error.value) for error in at.error)


def _sync_runs(store: Engine) -> int:
    return row_counts(store)["sync_run"]


def test_without_login_everyone_may_edit_and_settings_warns(open_as, store) -> None:
    at = open_as(STATUS, {}, auth=False)

    warning = "\n".join(str(w.value) for w in at.warning)
    assert "anyone who can reach this port can read and change everything" in warning
    assert "`make run` binds 127.0.0.1" in warning
    assert "docs/deploy.md" in warning
    assert any("redirect_uri" in str(code.value) for code in at.code)
    assert "Sync now" in _labels(at)
    assert "Log out" not in _labels(at)

    before = _sync_runs(store)
    at.button(key="sync_now").click().run()
    assert not at.exception
    assert _sync_runs(store) == before + 1

    at.switch_page(STAKEHOLDERS).run()
    assert "Save meeting" in _labels(at)
    assert at.file_uploader


@pytest.mark.parametrize("page", [None, STATUS, ASSESSMENT])
def test_the_login_screen_is_all_a_visitor_sees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str | None
) -> None:
    """Nothing is read before login: the config named here does not exist and the store's
    folder is never created, yet the screen shows no error."""
    store_file = tmp_path / "never" / "mlops.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{store_file}")
    monkeypatch.setenv("MLOPS_CONFIG", str(tmp_path / "missing.toml"))
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    at.run()
    if page is not None:
        at.switch_page(page).run()

    assert not at.exception
    assert not at.error
    assert [str(t.value) for t in at.title] == ["MLOps Maturity"]
    assert _labels(at) == ["Log in"]
    assert page_text(at) == "MLOps Maturity\nLog in to see the dashboard."
    assert not at.sidebar.children
    assert not at.selectbox
    assert "_mlops_app_context" not in at.session_state
    assert not store_file.parent.exists()


def test_logging_in_and_out(secrets_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """With a real secrets file Streamlit's own login code reads: "Log in" starts the OIDC
    redirect without complaint; "Log out" returns to the login screen."""
    _write(secrets_file, AUTH_SNIPPET)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never' / 'mlops.db'}")
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = {}  # st.user reads as logged out, as Streamlit makes it once [auth] exists
    at.run()
    assert _labels(at) == ["Log in"]

    at.button(key="login").click().run()
    assert not at.exception
    assert not at.error, _errors(at)
    assert _labels(at) == ["Log in"]


def test_an_incomplete_auth_block_is_explained_on_log_in(
    secrets_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(secrets_file, '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n')
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = {}
    at.run()
    at.button(key="login").click().run()
    assert not at.exception
    assert "Login is not set up correctly" in _errors(at)
    assert "cookie_secret" in _errors(at)


def test_an_unreadable_secrets_file_keeps_the_dashboard_closed(
    secrets_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(secrets_file, "[auth\n")
    store_file = tmp_path / "never" / "mlops.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{store_file}")
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert not at.exception
    assert "The secrets file cannot be read" in _errors(at)
    assert not at.button
    assert not store_file.parent.exists()


def test_a_reader_sees_everything_and_can_change_nothing(open_as) -> None:
    at = open_as(STATUS, READER)
    assert "Logged in as **reader@acme.example** · read-only" in [
        str(c.value) for c in at.sidebar.caption
    ]
    assert "Log out" in _labels(at)
    assert "Login is on" in "\n".join(str(s.value) for s in at.success)
    assert not at.warning
    assert "Sync now" not in _labels(at)
    assert (
        "Only admins listed in mlops.toml `admins` can sync. "
        "You are logged in as reader@acme.example."
    ) in _captions(at)
    assert "Store" in [str(s.value) for s in at.subheader]

    at.query_params["team"] = "Recommendations"
    at.switch_page(ASSESSMENT).run()
    assert not at.exception
    assert "Questionnaire" in [str(s.value) for s in at.subheader]
    assert at.expander, "the questions and their evidence are shown"
    assert not [label for label in _labels(at) if label.startswith("Save")]
    assert not at.radio
    assert "can answer the questionnaire" in _captions(at)
    assert "can waive checks" in _captions(at)

    at.switch_page(STAKEHOLDERS).run()
    assert not at.exception
    assert "Meetings" in [str(s.value) for s in at.subheader]
    assert "Save meeting" not in _labels(at)
    assert not at.file_uploader
    assert "can add meetings" in _captions(at)
    assert "can import meetings" in _captions(at)


def test_an_admin_may_sync_and_edit(open_as, store) -> None:
    at = open_as(STATUS, ADMIN_USER)
    assert "Logged in as **lead@acme.example** · admin" in [
        str(c.value) for c in at.sidebar.caption
    ]
    before = _sync_runs(store)
    at.button(key="sync_now").click().run()
    assert not at.exception
    assert _sync_runs(store) == before + 1

    at.query_params["team"] = "Recommendations"
    at.switch_page(ASSESSMENT).run()
    answers = row_counts(store)["attestation"]
    at.radio(key=f"att_{ROLLBACK}_answer").set_value("yes")
    at.text_input(key=f"att_{ROLLBACK}_by").input("lead@acme.example")
    at.button(key=f"att_{ROLLBACK}_save").click().run()
    assert not at.exception
    assert row_counts(store)["attestation"] == answers + 1

    at.switch_page(STAKEHOLDERS).run()
    assert "Save meeting" in _labels(at)
    assert at.file_uploader


def test_an_unverified_email_is_not_an_admin(open_as) -> None:
    at = open_as(STATUS, {**ADMIN_USER, "email_verified": False})
    assert "Sync now" not in _labels(at)
    assert "can sync" in _captions(at)


def _lose_rights(at: AppTest) -> None:
    """The forms stay on screen from the last run; the next click comes from a reader."""
    at.user = READER


def _refused(at: AppTest, action: str) -> None:
    assert not at.exception
    assert f"Not done: Only admins listed in mlops.toml `admins` can {action}" in _errors(at)


def test_a_stale_sync_click_is_refused(open_as, store) -> None:
    at = open_as(STATUS, ADMIN_USER)
    before = _sync_runs(store)
    _lose_rights(at)
    at.button(key="sync_now").click().run()
    _refused(at, "sync")
    assert _sync_runs(store) == before
    assert "Sync now" not in _labels(at)


def test_stale_assessment_forms_are_refused(open_as, store) -> None:
    at = open_as(ASSESSMENT, ADMIN_USER, team="Recommendations")
    before = row_counts(store)
    _lose_rights(at)
    at.radio(key=f"att_{ROLLBACK}_answer").set_value("yes")
    at.text_input(key=f"att_{ROLLBACK}_by").input("reader@acme.example")
    at.button(key=f"att_{ROLLBACK}_save").click().run()
    _refused(at, "answer the questionnaire")

    at.user = ADMIN_USER
    at.run()
    waivable = at.selectbox(key="waiver_check").options[0]
    _lose_rights(at)
    at.selectbox(key="waiver_check").set_value(waivable)
    at.text_area(key="waiver_reason").input("Not applicable.")
    at.text_input(key="waiver_by").input("reader@acme.example")
    at.button(key="waiver_save").click().run()
    _refused(at, "waive checks")
    assert row_counts(store) == before


def test_stale_meeting_form_and_import_are_refused(open_as, store, period: Period) -> None:
    at = open_as(STAKEHOLDERS, ADMIN_USER, team="Fraud Detection")
    before = row_counts(store)
    _lose_rights(at)
    at.text_input(key="meeting_title").input("Fraud model update")
    at.date_input(key="meeting_date").set_value(period.until)
    next(button for button in at.button if button.label == "Save meeting").click().run()
    _refused(at, "add meetings")

    at.user = ADMIN_USER
    at.run()
    csv = f"title,start\nFraud model update,{period.until}T10:00:00Z\n".encode()
    at.selectbox(key="meetings_upload_team").set_value("Fraud Detection").run()
    at.file_uploader[0].set_value(("fraud.csv", csv, "text/csv")).run()
    assert not at.button(key="meetings_upload_import").disabled
    _lose_rights(at)
    at.button(key="meetings_upload_import").click().run()
    _refused(at, "import meetings")
    assert row_counts(store) == before
