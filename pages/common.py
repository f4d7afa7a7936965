"""What every page shares: the store, the effective config and the sidebar selection.

`app.py` builds one `AppContext` per rerun, before the page runs, and pages read it
through these helpers. A page therefore never opens the store or parses the
config itself, and every page sees the same team and period.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from streamlit.navigation.page import StreamlitPage

from config import Config, LoadedConfig, resolve_secret
from connectors.snapshots import ensure_demo_with_history
from data.db import open_store_engine
from data.demo import DemoInfo, demo_config, demo_info
from data.loaders import Period, metric_snapshots, team_names
from data.store import store_version
from metrics.catalog import MetricSpec, Status, catalog
from metrics.context import Inputs
from metrics.dora import Tier
from metrics.engine import MetricResult, compute_from_inputs, compute_metrics, load_inputs
from metrics.maturity import TeamScore, score_from_inputs

_log = logging.getLogger(__name__)

ALL_TEAMS: Final = "All teams"
TEAM_KEY: Final = "team"
"""Widget key and URL query parameter of the team selector."""
PERIOD_KEY: Final = "period"
"""Widget key and URL query parameter of the period (two ISO dates)."""
DEFAULT_PERIOD_DAYS: Final = 90
_CONTEXT_KEY: Final = "_mlops_app_context"
_ENTERED_KEY: Final = "_mlops_entered_through_app"

PAGES: Final[dict[str, tuple[str, str]]] = {
    "pages/overview.py": ("Overview", ":material/dashboard:"),
    "pages/team.py": ("Team", ":material/groups:"),
    "pages/data.py": ("Data", ":material/database:"),
    "pages/models.py": ("Models", ":material/model_training:"),
    "pages/endpoints.py": ("Endpoints", ":material/speed:"),
    "pages/delivery.py": ("Delivery", ":material/rocket_launch:"),
    "pages/stakeholders.py": ("Stakeholders", ":material/event:"),
    "pages/assessment.py": ("Assessment", ":material/fact_check:"),
    "pages/reports.py": ("Reports", ":material/summarize:"),
    "pages/status.py": ("Settings / Status", ":material/settings:"),
}
"""Every page of the dashboard (path relative to app.py: title, icon), in menu order;
the first is the landing page.

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
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """What this run has already fetched (a new context, so an empty memo, every rerun)."""


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
    return [
        st.Page(path, title=title, icon=icon, default=index == 0)
        for index, (path, (title, icon)) in enumerate(PAGES.items())
    ]


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
    """Pass this to `st.cache_data` functions (with the engine as `_engine`).

    Read once per run: forms write in their callbacks, which run before the run starts.
    """
    context = app_context()
    if "store_key" not in context.memo:
        context.memo["store_key"] = StoreKey(
            context.loaded.store_url, store_version(context.engine)
        )
    key: StoreKey = context.memo["store_key"]
    return key


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


# --- what pages show: metric results and their history, cached per store version ----

MetricRecord = tuple[str, str, float | None, float | None, Status]


def config_key() -> str:
    """The effective config as a cache key: targets, teams and stakeholders come from
    the config, which can change without a store write."""
    context = app_context()
    if "config_key" not in context.memo:
        dumped = context.config.model_dump_json().encode()
        context.memo["config_key"] = hashlib.sha256(dumped).hexdigest()
    key: str = context.memo["config_key"]
    return key


@st.cache_resource(show_spinner=False, max_entries=2, ttl=3600)
def _inputs(
    _engine: Engine,
    key: StoreKey,
    _config: Config,
    config_hash: str,
    since: date,
    until: date,
    teams: tuple[str, ...] | None,
) -> Inputs:
    """Everything the metrics read for a period, loaded once for all of them and for the
    maturity scores, which read the same frames: loading is most of a cold page's time
    at 40 teams. Held by reference (read-only, never pickled) and few at a time, as
    they are the largest thing the app keeps; the results are cached on their own."""
    return load_inputs(_engine, Period(since, until), _config, teams)


@st.cache_data(show_spinner=False, max_entries=32)
def _computed(
    _engine: Engine,
    key: StoreKey,
    _config: Config,
    config_hash: str,
    since: date,
    until: date,
    teams: tuple[str, ...] | None,
    metric_ids: tuple[str, ...] | None,
) -> tuple[list[MetricRecord], dict[str, pd.DataFrame]]:
    """The engine's results in a picklable form: a result holds its spec, whose rules
    are functions, so the values and each metric's evidence rows are cached instead.
    A few metrics load only what they read; all of them share the loaded inputs."""
    period = Period(since, until)
    if metric_ids is not None:
        return _picklable(compute_metrics(_engine, _config, period, teams, metric_ids))
    inputs = _inputs(_engine, key, _config, config_hash, since, until, teams)
    return _picklable(compute_from_inputs(inputs, _config, period))


def _picklable(
    results: Sequence[MetricResult],
) -> tuple[list[MetricRecord], dict[str, pd.DataFrame]]:
    records = [(r.team, r.metric_id, r.value, r.target, r.status) for r in results]
    rows = {r.metric_id: r.all_rows for r in results}
    return records, rows


def _results_of(
    period: Period, records: list[MetricRecord], rows: dict[str, pd.DataFrame]
) -> list[MetricResult]:
    specs = catalog()
    return [
        MetricResult(team, specs[metric_id], period, value, target, status, rows[metric_id])
        for team, metric_id, value, target, status in records
    ]


def _memo_key(
    period: Period, teams: Sequence[str] | None, metric_ids: Sequence[str] | None
) -> tuple[Any, ...]:
    return (
        "metric_results",
        period.since,
        period.until,
        None if teams is None else tuple(teams),
        None if metric_ids is None else tuple(metric_ids),
    )


def metric_results(
    period: Period,
    teams: Sequence[str] | None = None,
    metric_ids: Sequence[str] | None = None,
) -> list[MetricResult]:
    """`metrics.engine.compute_metrics` for the effective config, cached until the store
    or the config changes. Treat the results' frames as read-only: they are shared."""
    context = app_context()
    memo_key = _memo_key(period, teams, metric_ids)
    if memo_key not in context.memo:
        records, rows = _computed(
            context.engine,
            store_key(),
            context.config,
            config_key(),
            *memo_key[1:],
        )
        context.memo[memo_key] = _results_of(period, records, rows)
    results: list[MetricResult] = context.memo[memo_key]
    return results


def only_metrics(results: Sequence[MetricResult], metric_ids: Sequence[str]) -> list[MetricResult]:
    """The results of `metric_ids`, in the engine's order for them (team by team, each in
    the order asked): for a page that needs every metric anyway (the maturity scores
    read them all) and shows a few, so the engine runs once, not twice."""
    wanted = {metric_id: rank for rank, metric_id in enumerate(metric_ids)}
    team_rank = {team: rank for rank, team in enumerate(dict.fromkeys(r.team for r in results))}
    chosen = [r for r in results if r.metric_id in wanted]
    return sorted(chosen, key=lambda r: (team_rank[r.team], wanted[r.metric_id]))


def by_team_and_metric(results: Sequence[MetricResult]) -> dict[tuple[str, str], MetricResult]:
    return {(result.team, result.metric_id): result for result in results}


def evidence(results: Sequence[MetricResult], metric_id: str, teams: Sequence[str]) -> pd.DataFrame:
    """The evidence rows of one metric for the given teams, in one frame."""
    for result in results:
        if result.metric_id == metric_id:
            rows = result.all_rows
            if rows.empty or "team" not in rows:
                return rows
            return rows[rows["team"].isin(list(teams))].reset_index(drop=True)
    return pd.DataFrame()


@st.cache_data(show_spinner=False, max_entries=32)
def _scored(
    _engine: Engine,
    key: StoreKey,
    _config: Config,
    config_hash: str,
    since: date,
    until: date,
    teams: tuple[str, ...] | None,
    _metric_results: Sequence[MetricResult],
) -> list[TeamScore]:
    inputs = _inputs(_engine, key, _config, config_hash, since, until, teams)
    return score_from_inputs(_engine, _config, Period(since, until), inputs, list(_metric_results))


def team_scores(period: Period, teams: Sequence[str] | None = None) -> list[TeamScore]:
    """`metrics.maturity.score_teams` for the effective config, cached until the store
    (an answer, a waiver, a sync) or the config changes."""
    context = app_context()
    memo_key = ("team_scores", period.since, period.until, None if teams is None else tuple(teams))
    if memo_key not in context.memo:
        context.memo[memo_key] = _scored(
            context.engine,
            store_key(),
            context.config,
            config_key(),
            *memo_key[1:],
            metric_results(period, teams),  # scoring reuses the period's metrics
        )
    scores: list[TeamScore] = context.memo[memo_key]
    return scores


CHECK_STATUS_BACKGROUND: Final[Mapping[str, str]] = {
    "pass": "rgba(34, 197, 94, 0.22)",
    "fail": "rgba(239, 68, 68, 0.28)",
    "unknown": "rgba(148, 163, 184, 0.25)",
    "waived": "rgba(59, 130, 246, 0.22)",
}
"""Check results by status, as table cells (translucent for both themes)."""
CHECK_STATUS_COLOUR: Final[Mapping[str, str]] = {
    "pass": "#22C55E",
    "fail": "#EF4444",
    "unknown": "#94A3B8",
    "waived": "#3B82F6",
}
"""Check results by status, as chart cells."""
CHECK_BADGE: Final[Mapping[str, BadgeColour]] = {
    "pass": "green",
    "fail": "red",
    "unknown": "gray",
    "waived": "blue",
}


def format_percent(value: float | None) -> str:
    return NO_VALUE if value is None or pd.isna(value) else f"{value:.0f} %"


@st.cache_data(show_spinner=False, max_entries=8)
def _snapshots(_engine: Engine, key: StoreKey) -> pd.DataFrame:
    frame = metric_snapshots(_engine)
    frame["day"] = pd.to_datetime(frame["day"])
    columns = ["team", "day", "metric_id", "value", "unit", "target", "status"]
    return frame[columns].sort_values(["team", "metric_id", "day"], ignore_index=True)


def metric_history(
    teams: Sequence[str] | None = None, metric_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """The stored daily snapshots (each the metric over the 90 days ending that day):
    team, day, metric_id, value, unit, target, status."""
    frame = _snapshots(current_engine(), store_key())
    if teams is not None:
        frame = frame[frame["team"].isin(list(teams))]
    if metric_ids is not None:
        frame = frame[frame["metric_id"].isin(list(metric_ids))]
    return frame


@st.cache_data(show_spinner=False, max_entries=8)
def _store_teams(_engine: Engine, key: StoreKey) -> list[str]:
    return team_names(_engine)


def store_teams() -> list[str]:
    """The store's teams, sorted by name (the order of the sidebar and of the colours)."""
    context = app_context()
    if "store_teams" not in context.memo:
        context.memo["store_teams"] = _store_teams(context.engine, store_key())
    teams: list[str] = context.memo["store_teams"]
    return teams


def teams_in_view() -> list[str]:
    """The sidebar's team, or every team of the store."""
    team = selected_team()
    return [team] if team is not None else store_teams()


def team_picker(key: str) -> str | None:
    """The sidebar's team; with "All teams" there, a selector on the page picks one."""
    team = selected_team()
    if team is not None:
        return team
    teams = store_teams()
    if not teams:
        return None
    picked = st.selectbox("Team to show", teams, key=key, help="Or choose a team in the sidebar.")
    return None if picked is None else str(picked)


# --- team colours -------------------------------------------------------------------

TEAM_PALETTE: Final[tuple[str, ...]] = (
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#B279A2",
    "#E45756",
    "#72B7B2",
    "#EECA3B",
    "#9D755D",
    "#FF9DA6",
    "#6C7A89",
    "#1F9E89",
    "#D4A6C8",
    "#8CD17D",
    "#B6992D",
    "#499894",
    "#86BCB6",
    "#F1CE63",
    "#A0CBE8",
    "#FFBE7D",
    "#D37295",
)
"""A qualitative palette (Tableau 10, then 10 more) readable on light and dark themes."""
NO_TEAM_COLOUR: Final = "#94A3B8"


def palette_colour(team: str, teams: Sequence[str]) -> str:
    """The colour of `team` by its position in the sorted team list; beyond the palette's
    length colours repeat, and a team that is not listed is grey."""
    ordered = sorted(teams)
    if team not in ordered:
        return NO_TEAM_COLOUR
    return TEAM_PALETTE[ordered.index(team) % len(TEAM_PALETTE)]


def team_colours() -> dict[str, str]:
    """Every store team's colour."""
    context = app_context()
    if "team_colours" not in context.memo:
        teams = store_teams()
        context.memo["team_colours"] = {team: palette_colour(team, teams) for team in teams}
    colours: dict[str, str] = context.memo["team_colours"]
    return colours


def team_colour(team: str) -> str:
    """One colour per team on every page and chart."""
    return team_colours().get(team, NO_TEAM_COLOUR)


# --- numbers as the pages show them -------------------------------------------------

NO_VALUE: Final = "—"


def format_number(value: float | None) -> str:
    """As `cli.py metrics` prints a value: thousands without decimals, else two decimals."""
    if value is None or pd.isna(value):
        return NO_VALUE
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"


def format_target(spec: MetricSpec, target: float | None) -> str:
    """The target with the direction that meets it, e.g. "≤ 300.00"."""
    if target is None or pd.isna(target):
        return NO_VALUE
    return f"{'≥' if spec.better == 'higher' else '≤'} {format_number(target)}"


def short_unit(unit: str) -> str:
    """A unit as a column header or axis shows it."""
    return {"versions/model/30d": "versions / model / 30 d", "deploys/week": "per week"}.get(
        unit, unit
    )


STATUS_BACKGROUND: Final[Mapping[str, str]] = {
    "ok": "rgba(34, 197, 94, 0.22)",
    "breach": "rgba(239, 68, 68, 0.28)",
    "unknown": "rgba(148, 163, 184, 0.25)",
}
"""Cell backgrounds by status: translucent, so text stays readable on both themes."""
BadgeColour = Literal["green", "red", "gray", "blue"]
STATUS_BADGE: Final[Mapping[str, BadgeColour]] = {"ok": "green", "breach": "red", "unknown": "gray"}
STATUS_LEGEND: Final = (
    "Green: meets the target · red: misses it · grey: unknown (no data for the period) · "
    "uncoloured: no target. In brackets: the team's target."
)
TIER_BACKGROUND: Final[Mapping[Tier, str]] = {
    "elite": "rgba(34, 197, 94, 0.30)",
    "high": "rgba(132, 204, 22, 0.25)",
    "medium": "rgba(245, 158, 11, 0.28)",
    "low": "rgba(239, 68, 68, 0.28)",
}


def status_background(result: MetricResult) -> str:
    """The cell colour of a result: by status, none for a known value without a target."""
    if result.status == "ok" and result.target is None:
        return ""
    return STATUS_BACKGROUND[result.status]


def metric_cell(result: MetricResult, tier: str | None = None) -> str:
    """A value with the team's target in brackets (and a DORA tier after a dot)."""
    text = format_number(result.value)
    if result.target is not None and result.value is not None:
        text += f" ({format_target(result.spec, result.target)})"
    if tier:
        text += f" · {tier}"
    return text


def coloured_table(shown: pd.DataFrame, backgrounds: pd.DataFrame) -> Styler:
    """`shown` with each cell's background from the same cell of `backgrounds` ("" = none)."""
    css = backgrounds.reindex_like(shown).astype(object).fillna("")
    return shown.style.apply(
        lambda _frame: css.map(lambda colour: f"background-color: {colour}" if colour else ""),
        axis=None,
    )


def metric_table(
    results: Sequence[MetricResult],
    teams: Sequence[str],
    columns: Mapping[str, str],
    tiers: Mapping[tuple[str, str], Tier | None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows teams, columns the given metric ids (labelled), and the status colour of each
    cell; with `tiers`, a DORA tier is shown beside the value and colours the cell."""
    found = by_team_and_metric(results)
    shown: dict[str, list[str]] = {"Team": list(teams)}
    colours: dict[str, list[str]] = {"Team": [""] * len(teams)}
    for metric_id, label in columns.items():
        shown[label], colours[label] = [], []
        for team in teams:
            result = found.get((team, metric_id))
            if result is None:
                shown[label].append(NO_VALUE)
                colours[label].append(STATUS_BACKGROUND["unknown"])
                continue
            tier = (tiers or {}).get((team, metric_id))
            shown[label].append(metric_cell(result, tier))
            colours[label].append(TIER_BACKGROUND[tier] if tier else status_background(result))
    return pd.DataFrame(shown), pd.DataFrame(colours)


def table_height(rows: int, limit: int = 12) -> Literal["auto"] | int:
    """Short tables show every row; long ones scroll inside a fixed height."""
    return "auto" if rows <= limit else 460


def show_metric_table(
    results: Sequence[MetricResult],
    teams: Sequence[str],
    columns: Mapping[str, str],
    tiers: Mapping[tuple[str, str], Tier | None] | None = None,
    key: str | None = None,
) -> None:
    shown, colours = metric_table(results, teams, columns, tiers)
    st.dataframe(
        coloured_table(shown, colours), hide_index=True, height=table_height(len(teams)), key=key
    )
    unknown = unknown_reasons(results, teams, columns)
    if unknown:
        with st.expander(f"Why {len(unknown)} value(s) are unknown"):
            st.markdown("\n".join(f"- {line}" for line in unknown))


def unknown_reasons(
    results: Sequence[MetricResult], teams: Sequence[str], metric_ids: Iterable[str]
) -> list[str]:
    """One line per unknown value: team, metric and what is missing."""
    wanted, shown = set(metric_ids), set(teams)
    return [
        f"**{r.team}** · {r.spec.name}: {r.spec.unknown_when}"
        for r in results
        if r.value is None and r.metric_id in wanted and r.team in shown
    ]


def period_caption(period: Period, teams: str | None = None) -> None:
    scope = teams or (selected_team() or "all teams")
    st.caption(
        f"{period.since:%d %b %Y} – {period.until:%d %b %Y} ({period.days} days, UTC) · "
        f"{scope} · change both in the sidebar"
    )


def no_teams_message() -> None:
    st.info(
        "No team is in the store yet. Add `[[teams]]` entries (with their repos, models, "
        "endpoints and stakeholders) to mlops.toml and run `python cli.py sync`, or run "
        "`python cli.py demo` to look around with the demo organisation.",
        icon=":material/group_add:",
    )


@contextmanager
def section(what: str) -> Iterator[None]:
    """Draw one part of a page; if it fails, say so there and draw the rest.

    Streamlit's own rerun and stop signals are not `Exception`s and pass through.
    """
    try:
        yield
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _log.exception("the store could not be read for %s", what)
        st.error(
            f"**{what}** cannot be shown: the store could not be read ({reason}). "
            "Check that the database is reachable, then reload.",
            icon=":material/error:",
        )
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0]
        _log.exception("failed to draw %s", what)
        st.error(
            f"**{what}** cannot be shown: {type(exc).__name__}: {reason}. "
            "The server log has the details.",
            icon=":material/error:",
        )
