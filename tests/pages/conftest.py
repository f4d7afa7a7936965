"""Fixtures for the page tests: the demo store (with its year of snapshots) behind the real
app.py under AppTest, and what `cli.py metrics` prints for the same store and period.

Every page test opens a link with a team and a period in it, as a user sharing
a view would, so the numbers compared do not depend on today's date.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from data.db import make_engine, open_store_engine
from data.demo import demo_info
from data.loaders import Period
from tests.conftest import demo_store_at
from tests.helpers import run_cli
from tests.pages.apptest import APP, assert_clean

CliRecords = dict[tuple[str, str], dict[str, Any]]


@pytest.fixture(scope="session")
def demo_anchor(demo_template: Path):
    engine = make_engine(f"sqlite:///{demo_template}")
    info = demo_info(engine)
    engine.dispose()
    assert info is not None
    return info.anchor


@pytest.fixture(scope="session")
def period(demo_anchor) -> Period:
    """The 90 days ending on the demo's anchor day (the app's default on a fresh demo)."""
    return Period.last_days(90, today=demo_anchor)


@pytest.fixture(scope="session")
def earlier_period(demo_anchor) -> Period:
    """Another period, to check that changing it in the sidebar reaches the page."""
    return Period(demo_anchor - timedelta(days=150), demo_anchor - timedelta(days=61))


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_template: Path) -> str:
    """A private copy of the demo store and a working folder without mlops.toml."""
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
def open_page(app_env: str) -> Callable[..., AppTest]:
    """Open `page` through a link carrying the team (None: all teams) and the period."""

    def start(page: str, team: str | None, period: Period) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=90)
        if team is not None:
            at.query_params["team"] = team
        at.query_params["period"] = [period.since.isoformat(), period.until.isoformat()]
        at.run().run()
        at.switch_page(page).run()
        assert_clean(at)
        return at

    return start


@pytest.fixture(scope="session")
def cli_metrics(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, Period], CliRecords]:
    """`cli.py metrics --format json` for a team and period, on a copy of the same demo."""
    folder = tmp_path_factory.mktemp("cli-metrics")
    url = demo_store_at(demo_template, folder / "store" / "mlops.db")
    printed: dict[tuple[str, Period], CliRecords] = {}

    def run(team: str, period: Period) -> CliRecords:
        if (team, period) not in printed:
            result = run_cli(
                "metrics",
                "--format",
                "json",
                "--team",
                team,
                "--since",
                period.since.isoformat(),
                "--until",
                period.until.isoformat(),
                cwd=folder,
                env={"DATABASE_URL": url},
            )
            assert result.returncode == 0, result.stderr
            printed[(team, period)] = {
                (record["team"], record["metric"]): record for record in json.loads(result.stdout)
            }
        return printed[(team, period)]

    return run
