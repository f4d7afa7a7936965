"""The dashboard's entry point: `streamlit run app.py`.

It runs before every page on every rerun, so it is where login is required (when
`[auth]` is configured, nothing else is read before it), the config is read,
the store opened (and, on a first start with no config, filled with the demo),
and the sidebar selection taken from the URL. A problem with the config or the
store ends the run with a message saying how to fix it, never a traceback.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from config import ConfigError, LoadedConfig, load_config
from data.db import StoreError, redact_url
from data.demo import DemoError, DemoInfo
from data.loaders import Period, team_names
from data.store import store_version
from pages.access import account, require_login
from pages.common import (
    ALL_TEAMS,
    DEFAULT_PERIOD_DAYS,
    PERIOD_KEY,
    TEAM_KEY,
    AppContext,
    demo_state,
    enter_page,
    navigation_pages,
    open_store,
    seed_demo,
)


def _load() -> LoadedConfig:
    try:
        return load_config()
    except ConfigError as exc:
        st.error(
            f"**The configuration cannot be used.** {exc}\n\n"
            "Fix that key in the file and reload this page. "
            "`python cli.py init` writes a commented example of every key; "
            "unset `MLOPS_CONFIG` and remove `./mlops.toml` to see the demo instead.",
            icon=":material/error:",
        )
        st.stop()


def _open(loaded: LoadedConfig) -> Engine:
    try:
        return open_store(loaded.store_url)
    except StoreError as exc:
        st.error(
            f"**The store cannot be opened.** {exc}\n\n"
            "Check `DATABASE_URL` (or `[store] url` in the config) and that the "
            "database is reachable, then reload this page.",
            icon=":material/error:",
        )
        st.stop()


def _seed(loaded: LoadedConfig) -> None:
    try:
        with st.spinner("First start: generating the demo organisation and a year of history…"):
            seed_demo(loaded.store_url)
    except (DemoError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        st.error(
            f"**The demo could not be written** into `{redact_url(loaded.store_url)}`: "
            f"{reason}\n\nRun `python cli.py demo --reset` to rebuild it, or point "
            "`DATABASE_URL` at an empty database.",
            icon=":material/error:",
        )
        st.stop()


def _sidebar(engine: Engine, demo: DemoInfo | None) -> tuple[str | None, Period]:
    """Team and period live in the URL, so a link reopens the same view.

    The default period ends today, or on the demo's anchor day when an older
    demo is shown, so the demo's data stays in view.
    """
    today = datetime.now(UTC).date()
    last_day = min(today, demo.anchor) if demo is not None else today
    default = Period.last_days(DEFAULT_PERIOD_DAYS, today=last_day)
    with st.sidebar:
        st.markdown("### MLOps Maturity")
        team = st.selectbox(
            "Team",
            [ALL_TEAMS, *team_names(engine)],
            key=TEAM_KEY,
            bind="query-params",
        )
        picked = st.date_input(
            "Period (UTC days)",
            value=(default.since, default.until),
            max_value=today,
            key=PERIOD_KEY,
            bind="query-params",
        )
    dates = [d for d in (picked if isinstance(picked, tuple) else (picked,)) if isinstance(d, date)]
    if len(dates) == 2:
        period = Period(since=dates[0], until=dates[1])
    elif len(dates) == 1:
        period = Period(since=dates[0], until=today)
        st.sidebar.caption("Pick an end date; until then the period runs to today.")
    else:
        period = default
    return (None if team in (None, ALL_TEAMS) else str(team)), period


def _demo_banner(demo: DemoInfo, loaded: LoadedConfig) -> None:
    text = (
        f"**Demo organisation.** Every number here is generated data anchored on "
        f"{demo.anchor:%d %B %Y} ({demo.size} demo). "
        "To see your own teams, run `python cli.py init`, then edit `mlops.toml` "
        "(teams, `[github]`, `[prometheus]`, `[mlflow]`)"
    )
    if loaded.is_demo:
        text += "."
    else:
        text += f" and point the store at a fresh database: `{redact_url(loaded.store_url)}` "
        text += "holds the demo."
    st.info(text, icon=":material/science:")


def main() -> None:
    st.set_page_config(page_title="MLOps Maturity", layout="wide")
    require_login()
    loaded = _load()
    engine = _open(loaded)
    if loaded.is_demo:
        _seed(loaded)
    demo, generated = demo_state(loaded.store_url, store_version(engine))
    config = generated if loaded.is_demo and generated is not None else loaded.config
    team, period = _sidebar(engine, demo)
    page = st.navigation(navigation_pages())
    if demo is not None:
        _demo_banner(demo, loaded)
    enter_page(AppContext(loaded, engine, config, demo, team, period))
    account()
    page.run()


main()
