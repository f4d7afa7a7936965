"""The app shell under Streamlit's AppTest: first start on the demo, the shared
sidebar, the Status page, and the messages for a bad config or store.

AppTest runs the real `app.py` in-process. Each test gets its own SQLite store
and a working folder without `mlops.toml`, so the app takes the demo path a
new user takes.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from data.db import open_store_engine
from data.loaders import Period
from data.store import row_counts
from pages.common import ALL_TEAMS, PAGES, AppContext
from tests.conftest import demo_store_at

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
STATUS = "pages/status.py"
DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]


def context_of(at: AppTest) -> AppContext:
    context = at.session_state["_mlops_app_context"]
    assert isinstance(context, AppContext)
    return context


def page_text(at: AppTest) -> str:
    """Everything a reader sees, tables included, as one string."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "success", "warning"):
        parts += [str(element.value) for element in getattr(at, kind)]
    parts += [str(element.value) for element in at.error]
    parts += [element.value.to_string() for element in at.table]
    return "\n".join(parts)


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    for element in at.table:
        frame = element.value
        if list(frame.columns[: len(columns)]) == list(columns):
            return frame
    raise AssertionError(f"no table with columns {columns} on the page")


def cell(frame: pd.DataFrame, row: str, column: str) -> str:
    return str(frame.loc[row, column])


@pytest.fixture
def empty_app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty private store and a working folder with no mlops.toml; returns the store URL."""
    url = f"sqlite:///{tmp_path / 'store' / 'mlops.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("MLOPS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_template: Path) -> str:
    """A private copy of the demo store (with history) and no mlops.toml; returns its URL."""
    url = demo_store_at(demo_template, tmp_path / "store" / "mlops.db")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("MLOPS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


@pytest.fixture
def store(app_env: str) -> Iterator[Engine]:
    engine = open_store_engine(app_env)
    yield engine
    engine.dispose()


@pytest.fixture
def open_app(app_env: str) -> Callable[[], AppTest]:
    def start() -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        # The first run executes app.py as the main page; the second lands on the
        # default page the way a browser's first load does. Interactions after
        # that behave as in a live session.
        at.run().run()
        assert not at.exception, at.exception
        return at

    return start


def test_first_start_generates_the_demo_and_says_so(empty_app_env):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run().run()
    assert not at.exception, at.exception
    store = open_store_engine(empty_app_env)
    assert row_counts(store)["metric_snapshot"] > 0  # a year of history comes with the demo

    banner = " ".join(str(info.value) for info in at.info)
    assert "Demo organisation" in banner
    assert "python cli.py init" in banner
    assert "mlops.toml" in banner
    assert row_counts(store)["team"] == 4
    context = context_of(at)
    assert context.loaded.is_demo
    assert context.demo is not None
    assert context.demo.anchor.strftime("%d %B %Y") in banner
    assert [team.name for team in context.config.teams] == [
        "Search Ranking",
        "Fraud Detection",
        "Recommendations",
        "Demand Forecasting",
    ]


def test_the_landing_page_is_the_overview(open_app):
    at = open_app()

    assert [title.value for title in at.title] == ["Overview"]
    assert not at.error


def test_sidebar_lists_the_store_teams_and_a_90_day_period(open_app):
    at = open_app()

    team = at.sidebar.selectbox(key="team")
    assert team.options == [ALL_TEAMS, *DEMO_TEAMS]
    assert team.value == ALL_TEAMS
    context = context_of(at)
    today = dt.datetime.now(dt.UTC).date()
    assert context.team is None
    assert context.period == Period.last_days(90, today=today)
    assert at.sidebar.date_input(key="period").value == (
        context.period.since,
        context.period.until,
    )


def test_switching_team_and_period_reaches_the_page_and_the_url(open_app):
    at = open_app()

    at.sidebar.selectbox(key="team").set_value("Fraud Detection").run()
    assert not at.exception
    assert context_of(at).team == "Fraud Detection"
    assert at.query_params["team"] == "Fraud Detection"

    at.sidebar.date_input(key="period").set_value((dt.date(2026, 1, 1), dt.date(2026, 3, 31))).run()
    assert not at.exception
    assert context_of(at).period == Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert at.query_params["period"] == ["2026-01-01", "2026-03-31"]
    assert context_of(at).team == "Fraud Detection"

    at.sidebar.selectbox(key="team").set_value(ALL_TEAMS).run()
    assert context_of(at).team is None


def test_a_start_date_alone_runs_the_period_to_today(open_app):
    at = open_app()
    start = dt.date(2026, 2, 1)

    at.sidebar.date_input(key="period").set_value((start,)).run()

    assert not at.exception
    today = dt.datetime.now(dt.UTC).date()
    assert context_of(at).period == Period(start, today)
    assert any("end date" in str(caption.value) for caption in at.sidebar.caption)


def test_a_shared_link_opens_the_same_selection(app_env):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["team"] = "Recommendations"
    at.query_params["period"] = ["2026-02-01", "2026-02-28"]
    at.run().run()

    assert not at.exception
    assert at.sidebar.selectbox(key="team").value == "Recommendations"
    assert context_of(at).team == "Recommendations"
    assert context_of(at).period == Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def test_an_unknown_team_in_the_link_falls_back_to_all_teams(app_env):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["team"] = "No Such Team"
    at.run().run()

    assert not at.exception
    assert context_of(at).team is None


def test_status_page_shows_config_store_counts_and_sync_state(open_app, store, app_env):
    at = open_app()
    at.switch_page(STATUS).run()

    assert not at.exception
    assert [title.value for title in at.title] == ["Settings / Status"]
    counts = row_counts(store)
    shown = frame_with(at, "Entity", "Rows").set_index("Entity")["Rows"].to_dict()
    for entity in ("team", "repo", "pull_request", "model_version", "endpoint_daily", "meeting"):
        assert shown[entity] == counts[entity]
    assert shown == counts

    text = page_text(at)
    assert "data/demo/mlops.toml" in text
    assert f"`{app_env}`" in text  # a SQLite URL carries no password: shown whole
    assert "No sync has run yet" in text
    assert "once sources are configured in mlops.toml and synced" in text
    assert "anchored on" in text
    teams = frame_with(at, "Team")
    assert sorted(teams["Team"]) == DEMO_TEAMS
    sources = frame_with(at, "Source", "Configured").set_index("Source")
    assert list(sources.index) == ["GitHub", "Prometheus", "MLflow", "Meetings"]
    assert cell(sources, "GitHub", "Configured") == "no"
    assert "add a [github] section" in cell(sources, "GitHub", "Missing")
    # The banner stays on every page, the sidebar too.
    assert any("Demo organisation" in str(info.value) for info in at.info)
    assert at.sidebar.selectbox(key="team").options == [ALL_TEAMS, *DEMO_TEAMS]


def test_status_page_follows_the_store_when_it_changes(open_app, store):
    from data.store import set_meta, write_transaction
    from data.tables import Team

    at = open_app()
    at.switch_page(STATUS).run()
    before = frame_with(at, "Entity", "Rows").set_index("Entity")["Rows"]["team"]

    with write_transaction(store) as connection:
        connection.execute(Team.__table__.insert().values(name="Platform"))  # type: ignore[attr-defined]
        set_meta(connection, "note", "test")
    at.run()

    after = frame_with(at, "Entity", "Rows").set_index("Entity")["Rows"]["team"]
    assert (before, after) == (4, 5)
    assert "Platform" in at.sidebar.selectbox(key="team").options


def test_real_config_names_missing_pieces_but_never_a_secret(empty_app_env, tmp_path, monkeypatch):
    config = tmp_path / "team.toml"
    config.write_text(
        '[github]\nbase_url = "https://bot:hunter2@ghe.example.com/api/v3"\n'
        'token_env = "TEST_GH_TOKEN"\n\n'
        '[mlflow]\ntracking_uri = "http://mlflow.internal:5000"\n\n'
        '[[teams]]\nname = "Alpha"\nrepos = ["acme/alpha"]\n\n'
        '[[teams]]\nname = "Beta"\n'
        'meetings = { ics = "https://calendar.example/private-abc123/basic.ics" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MLOPS_CONFIG", str(config))
    monkeypatch.setenv("TEST_GH_TOKEN", "ghp_do_not_show_me")

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run().run()
    at.switch_page(STATUS).run()

    assert not at.exception
    assert row_counts(open_store_engine(empty_app_env))["team"] == 0  # never the demo
    assert not any("Demo organisation" in str(info.value) for info in at.info)
    assert at.sidebar.selectbox(key="team").options == [ALL_TEAMS]
    text = page_text(at)
    assert str(config) in text
    for secret in ("ghp_do_not_show_me", "hunter2", "private-abc123"):
        assert secret not in text
    sources = frame_with(at, "Source", "Configured").set_index("Source")
    assert cell(sources, "GitHub", "Configured") == "yes"
    assert cell(sources, "GitHub", "Where") == "https://***@ghe.example.com/api/v3"
    assert "TEST_GH_TOKEN" not in cell(sources, "GitHub", "Missing")
    assert "repos for Beta" in cell(sources, "GitHub", "Missing")
    assert "models for Alpha, Beta" in cell(sources, "MLflow", "Missing")
    assert cell(sources, "Prometheus", "Configured") == "no"
    assert cell(sources, "Meetings", "Where") == "1 of 2 teams have a feed"

    monkeypatch.delenv("TEST_GH_TOKEN")
    at.run()
    sources = frame_with(at, "Source", "Configured").set_index("Source")
    assert "set the environment variable TEST_GH_TOKEN" in cell(sources, "GitHub", "Missing")


def test_bad_config_is_an_error_message_not_a_traceback(app_env, tmp_path, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text('[targets]\nlatency_p95_ms = "fast"\n', encoding="utf-8")
    monkeypatch.setenv("MLOPS_CONFIG", str(bad))

    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert not at.exception
    assert len(at.error) == 1
    message = str(at.error[0].value)
    assert "targets.latency_p95_ms" in message
    assert str(bad) in message
    assert "python cli.py init" in message
    assert not at.sidebar.selectbox


def test_missing_config_file_is_an_error_message(app_env, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_CONFIG", str(tmp_path / "nowhere.toml"))

    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert not at.exception
    assert "config file not found" in str(at.error[0].value)


def test_unreachable_store_is_an_error_without_the_password(app_env, monkeypatch):
    monkeypatch.setenv(
        "DATABASE_URL", "postgresql+psycopg://mlops:s3cr3t-pw@127.0.0.1:9/mlops?connect_timeout=2"
    )

    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert not at.exception
    assert len(at.error) == 1
    message = str(at.error[0].value)
    assert "The store cannot be opened" in message
    assert "127.0.0.1:9" in message
    assert "s3cr3t-pw" not in message
    assert "s3cr3t-pw" not in page_text(at)


def test_status_page_shows_the_newest_run_of_each_source(open_app, store):
    from data.tables import SyncRun

    started = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)
    with store.begin() as connection:
        for run in [
            {
                "source": "github",
                "started_at": started,
                "status": "failed",
                "error": "old failure",
            },
            {
                "source": "github",
                "started_at": started + dt.timedelta(hours=1),
                "ended_at": started + dt.timedelta(hours=1, minutes=5),
                "status": "ok",
                "api_calls": 42,
                "rows_written": 7,
            },
            {"source": "mlflow", "started_at": started, "status": "running"},
        ]:
            connection.execute(SyncRun.__table__.insert().values(**run))  # type: ignore[attr-defined]

    at = open_app()
    at.switch_page(STATUS).run()

    assert not at.exception
    runs = frame_with(at, "Source", "Status").set_index("Source")
    assert list(runs.index) == ["github", "mlflow"]
    assert cell(runs, "github", "Status") == "ok"
    assert cell(runs, "github", "Started") == "2026-03-01 07:00 UTC"
    assert cell(runs, "github", "Ended") == "2026-03-01 07:05 UTC"
    assert cell(runs, "github", "API calls") == "42"
    assert cell(runs, "github", "Error") == "—"
    assert cell(runs, "mlflow", "Ended") == "—"
    assert "No sync has run yet" not in page_text(at)


def test_real_config_on_a_demo_store_still_says_the_data_is_demo(
    open_app, app_env, tmp_path, monkeypatch
):
    open_app()  # first start: the store gets the demo
    config = tmp_path / "team.toml"
    config.write_text('[[teams]]\nname = "Alpha"\n', encoding="utf-8")
    monkeypatch.setenv("MLOPS_CONFIG", str(config))

    at = open_app()

    banner = " ".join(str(info.value) for info in at.info)
    assert "Demo organisation" in banner
    assert f"`{app_env}` holds the demo" in banner
    context = context_of(at)
    assert not context.loaded.is_demo
    assert [team.name for team in context.config.teams] == ["Alpha"]
    assert at.sidebar.selectbox(key="team").options == [ALL_TEAMS, *DEMO_TEAMS]


@pytest.mark.parametrize("script", ["app.py", *PAGES])
def test_no_page_script_has_a_bare_string_that_magic_would_show(script: str) -> None:
    """Streamlit writes every bare expression of the script it runs ("magic"), so an
    attribute docstring in a page script appears on the page; the module docstring is
    the one it leaves out."""
    tree = ast.parse((ROOT / script).read_text())
    shown = [
        node.lineno
        for node in tree.body[1:]
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    ]
    assert shown == [], f"{script}: a bare string at line(s) {shown}; make it a comment"
