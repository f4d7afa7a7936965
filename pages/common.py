"""What every page shares: the store, the effective config and the sidebar selection.

`app.py` builds one `AppContext` per rerun, before the page runs, and pages read it
through these helpers. A page therefore never opens the store or parses the
config itself, and every page sees the same team and period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.navigation.page import StreamlitPage

from config import Config, LoadedConfig, resolve_secret
from connectors.snapshots import ensure_demo_with_history
from data.db import open_store_engine
from data.demo import DemoInfo, demo_config, demo_info
from data.loaders import Period
from data.store import store_version

ALL_TEAMS: Final = "All teams"
TEAM_KEY: Final = "team"
"""Widget key and URL query parameter of the team selector."""
PERIOD_KEY: Final = "period"
"""Widget key and URL query parameter of the period (two ISO dates)."""
DEFAULT_PERIOD_DAYS: Final = 90
_CONTEXT_KEY: Final = "_mlops_app_context"
_ENTERED_KEY: Final = "_mlops_entered_through_app"

PAGES: Final[dict[str, tuple[str, str]]] = {
    "pages/status.py": ("Settings / Status", ":material/settings:"),
}
"""Every page of the dashboard (path relative to app.py: title, icon), in menu order.

Only pages that work are listed: a page for a metric that does not exist yet
would only show an empty frame.
"""


class StoreKey(NamedTuple):
    """A hashable stand-in for the store in `st.cache_data` arguments.

    The version moves on with every committed write, so a cached frame keyed by
    it is recomputed exactly when the store has changed.
    """

    url: str
    version: int


@dataclass(frozen=True)
class AppContext:
    loaded: LoadedConfig
    engine: Engine
    config: Config
    demo: DemoInfo | None
    team: str | None
    period: Period


# --- resources shared by every session of the server ------------------------------


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> Engine:
    """One engine, and one migration check, per store URL for the whole server.

    A `StoreError` is not cached, so a database that comes up later is picked up
    on the next rerun.
    """
    return open_store_engine(url)


@st.cache_resource(show_spinner=False)
def seed_demo(url: str) -> bool:
    """Fill an empty store with the demo and its year of snapshots once; the resource
    lock stops two sessions that start together from both generating it."""
    return ensure_demo_with_history(open_store(url))


@st.cache_resource(show_spinner=False, max_entries=8)
def demo_state(url: str, version: int) -> tuple[DemoInfo | None, Config | None]:
    """The demo the store holds and its config (the large demo's teams are generated,
    which is worth doing once per store version, not on every rerun)."""
    engine = open_store(url)
    return demo_info(engine), demo_config(engine)


# --- navigation --------------------------------------------------------------------


def navigation_pages() -> list[StreamlitPage]:
    return [st.Page(path, title=title, icon=icon) for path, (title, icon) in PAGES.items()]


def enter_page(context: AppContext) -> None:
    """Called by app.py just before it runs the page: hands the page its context."""
    st.session_state[_CONTEXT_KEY] = context
    st.session_state[_ENTERED_KEY] = True


def page_setup() -> None:
    """Every page calls this before it shows anything.

    Because a `pages/` folder sits next to app.py, Streamlit runs a page file on
    its own, without app.py, while it still takes the app for an old-style
    "pages folder" app: for a server's first request when that request is a
    link to a page, and for every rerun under AppTest. Calling `st.navigation`
    ends that mode for the process, and the rerun (same page, same query
    string) then goes through app.py as usual.
    """
    if st.session_state.pop(_ENTERED_KEY, False):
        return
    st.navigation(navigation_pages(), position="hidden")
    st.rerun()


# --- what pages read ---------------------------------------------------------------


def app_context() -> AppContext:
    context = st.session_state.get(_CONTEXT_KEY)
    if not isinstance(context, AppContext):
        raise RuntimeError(
            "pages run inside app.py: start the dashboard with `streamlit run app.py`"
        )
    return context


def current_engine() -> Engine:
    return app_context().engine


def current_config() -> Config:
    """The effective config: the demo's when the demo organisation is shown."""
    return app_context().config


def current_loaded() -> LoadedConfig:
    """The config as loaded, with where it came from (for the Status page)."""
    return app_context().loaded


def current_demo() -> DemoInfo | None:
    return app_context().demo


def selected_team() -> str | None:
    """The sidebar's team, or None for every team."""
    return app_context().team


def selected_period() -> Period:
    return app_context().period


def store_key() -> StoreKey:
    """Pass this to `st.cache_data` functions (with the engine as `_engine`)."""
    context = app_context()
    return StoreKey(context.loaded.store_url, store_version(context.engine))


# --- display helpers ---------------------------------------------------------------


def redact_http_url(url: str) -> str:
    """An HTTP URL without any `user:password@` part, as it may be shown."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _secret_gap(env_name: str | None, what: str) -> list[str]:
    """Says that a token is missing, never what it is."""
    if env_name and resolve_secret(env_name) is None:
        return [f"{what}: set the environment variable {env_name} (or a secrets.toml key)"]
    return []


@dataclass(frozen=True)
class SourceStatus:
    source: str
    configured: bool
    location: str
    missing: list[str]


def source_statuses(config: Config) -> list[SourceStatus]:
    """Which sources will be synced, and what each still lacks, in the words of mlops.toml."""
    teams = config.teams
    rows: list[SourceStatus] = []

    if config.github is None:
        rows.append(SourceStatus("GitHub", False, "", ["add a [github] section"]))
    else:
        gaps = _secret_gap(config.github.token_env, "token")
        bare = [t.name for t in teams if not t.repos]
        if bare:
            gaps.append(f"repos for {_names(bare)}")
        rows.append(SourceStatus("GitHub", True, redact_http_url(config.github.base_url), gaps))

    if config.prometheus is None:
        rows.append(SourceStatus("Prometheus", False, "", ["add a [prometheus] section"]))
    else:
        gaps = _secret_gap(config.prometheus.token_env, "token")
        bare = [t.name for t in teams if not t.endpoints]
        if bare:
            gaps.append(f"endpoints for {_names(bare)}")
        rows.append(SourceStatus("Prometheus", True, redact_http_url(config.prometheus.url), gaps))

    if config.mlflow is None:
        rows.append(SourceStatus("MLflow", False, "", ["add an [mlflow] section"]))
    else:
        bare = [t.name for t in teams if not t.models]
        gaps = [f"models for {_names(bare)}"] if bare else []
        rows.append(SourceStatus("MLflow", True, redact_http_url(config.mlflow.tracking_uri), gaps))

    fed = [t for t in teams if t.meetings is not None and (t.meetings.ics or t.meetings.csv)]
    bare = [t.name for t in teams if t not in fed]
    rows.append(
        SourceStatus(
            "Meetings",
            bool(fed),
            f"{len(fed)} of {len(teams)} teams have a feed" if teams else "",
            [f"meetings.ics or meetings.csv for {_names(bare)}"] if bare else [],
        )
    )
    if not teams:
        for row in rows:
            row.missing.append("at least one [[teams]] entry")
    return rows
