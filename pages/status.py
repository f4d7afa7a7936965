"""Settings / Status: is the dashboard set up, and how fresh is what it shows?

The first page an operator opens after editing mlops.toml or pointing
DATABASE_URL somewhere new, so it answers "what did it read, where does it
store, what is still missing" without showing a single secret: store URLs are
redacted, token variables are named but never read out, feed URLs are not shown.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from connectors.lock import SyncLockedError
from connectors.sync import configured_sources, run_sync
from data.db import redact_url
from data.loaders import latest_sync_runs
from data.store import row_counts
from pages.access import access_status, can_edit, read_only_note, refused
from pages.common import (
    StoreKey,
    current_config,
    current_demo,
    current_engine,
    current_loaded,
    page_setup,
    source_statuses,
    store_key,
)

page_setup()


def _when(moment: pd.Timestamp | None) -> str:
    """Loaders give UTC-aware timestamps, NaT where a run has no such time."""
    if moment is None or pd.isna(moment):
        return "—"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


@st.cache_data(show_spinner=False, max_entries=8)
def _row_counts(_engine: Engine, key: StoreKey) -> dict[str, int]:
    return row_counts(_engine)


def _teams_frame() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for team in current_config().teams:
        meetings = team.meetings
        feed = (
            "iCalendar feed"
            if meetings is not None and meetings.ics
            else "CSV file"
            if meetings is not None and meetings.csv
            else "—"
        )
        overrides = team.targets.model_dump(exclude_none=True)
        rows.append(
            {
                "Team": team.name,
                "Repositories": ", ".join(team.repos) or "—",
                "Models": ", ".join(team.models) or "—",
                "Endpoints": ", ".join(e.name for e in team.endpoints) or "—",
                "Meetings": feed,
                "Stakeholders": len(team.stakeholders),
                "Target overrides": ", ".join(f"{k} = {v:g}" for k, v in overrides.items()) or "—",
            }
        )
    return pd.DataFrame(rows)


def _config_section() -> None:
    loaded = current_loaded()
    demo = current_demo()
    st.subheader("Configuration")
    if loaded.is_demo:
        st.success(
            f"Valid: the demo setup `{loaded.source}`. No `mlops.toml` was found "
            "(`MLOPS_CONFIG` is unset and the working folder has none).",
            icon=":material/check_circle:",
        )
        if demo is not None and demo.size != "small":
            st.caption(f"The store holds the {demo.size} demo; its teams are listed below.")
    else:
        st.success(f"Valid: `{loaded.source}`", icon=":material/check_circle:")

    st.markdown("**Sources**")
    sources = pd.DataFrame(
        [
            {
                "Source": s.source,
                "Configured": "yes" if s.configured else "no",
                "Where": s.location or "—",
                "Missing": "; ".join(s.missing) or "nothing",
            }
            for s in source_statuses(current_config())
        ]
    )
    st.table(sources, hide_index=True, border="horizontal")
    if loaded.is_demo:
        st.caption(
            "The demo's data is generated, not synced, so no source is configured. "
            "A source whose section is absent is not synced and its metrics show as unknown."
        )

    teams = _teams_frame()
    st.markdown(f"**Teams configured** ({len(teams)})")
    if teams.empty:
        st.info("No team is configured: add a `[[teams]]` entry to mlops.toml.")
    else:
        st.table(teams, hide_index=True, border="horizontal")


def _store_section() -> None:
    engine = current_engine()
    key = store_key()
    st.subheader("Store")
    st.markdown(f"Location: `{redact_url(current_loaded().store_url)}`")
    st.caption(f"Store version {key.version} (moves on with every committed write).")
    counts = _row_counts(engine, key)
    frame = pd.DataFrame({"Entity": list(counts), "Rows": list(counts.values())})
    st.table(frame, hide_index=True, border="horizontal")


_SYNC_REQUESTED = "_mlops_sync_requested"


class _StatusProgress:
    """Sync progress as lines inside an `st.status` box: one line per repository or endpoint."""

    def __init__(self, box: Any) -> None:
        self._box = box

    def start(self, task: str, total: int | None = None) -> None:
        self._box.update(label=f"Syncing {task}…")

    def advance(self, task: str, step: int = 1) -> None:
        pass

    def message(self, text: str) -> None:
        self._box.write(text)


def _request_sync() -> None:
    if not refused("sync"):
        st.session_state[_SYNC_REQUESTED] = True


def _sync_now() -> None:
    config = current_config()
    sources = configured_sources(config)
    if current_loaded().is_demo or not sources:
        st.caption(
            "Sync now needs a source: configure `[github]`, `[prometheus]`, `[mlflow]` or a "
            "team's meetings feed in mlops.toml."
        )
        return
    if not can_edit():
        st.caption(read_only_note("sync"))
        return
    # A callback, not the button's return value: the request must survive a rerun that
    # happens before this line (page_setup's), which resets button values.
    st.button(
        "Sync now",
        key="sync_now",
        icon=":material/sync:",
        help=", ".join(sources),
        on_click=_request_sync,
    )
    if not st.session_state.pop(_SYNC_REQUESTED, False):
        return
    with st.status("Syncing…", expanded=True) as box:
        try:
            reports = run_sync(current_engine(), config, progress=_StatusProgress(box))
        except SyncLockedError as exc:  # another replica, session or CronJob is syncing
            box.update(label=f"Sync not started: {exc}", state="error", expanded=True)
            return
        failed = [r for r in reports if r.status != "ok"]
        for report in reports:
            box.write(
                f"**{report.source}**: {report.status}, {report.api_calls:,} requests, "
                f"{report.rows_written:,} rows, {report.seconds:.1f} s"
            )
            if report.error:
                box.text(report.error)
        box.update(
            label="Sync finished" + (" with problems" if failed else ""),
            state="error" if any(r.status == "failed" for r in reports) else "complete",
            expanded=bool(failed),
        )


def _sync_section() -> None:
    st.subheader("Last sync per source")
    _sync_now()
    runs = latest_sync_runs(current_engine())
    if runs.empty:
        st.info(
            "No sync has run yet. The last sync of each source will appear here once "
            "sources are configured in mlops.toml and synced.",
            icon=":material/sync:",
        )
        return
    shown = pd.DataFrame(
        {
            "Source": runs["source"],
            "Status": runs["status"],
            "Started": runs["started_at"].map(_when),
            "Ended": runs["ended_at"].map(_when),
            "API calls": runs["api_calls"],
            "Rows written": runs["rows_written"],
            "Read up to": runs["watermark"].map(_when),
            "Rate limited until": runs["rate_limited_until"].map(_when),
            "Error": runs["error"].fillna("—"),
        }
    )
    st.table(shown, hide_index=True, border="horizontal")


def _demo_section() -> None:
    demo = current_demo()
    if demo is None:
        return
    st.subheader("Demo data")
    st.markdown(
        f"The store holds the **{demo.size}** demo organisation, anchored on "
        f"**{demo.anchor.isoformat()}**: every generated time is an offset from that day."
    )


st.title("Settings / Status")
access_status()
_config_section()
left, right = st.columns([3, 2], gap="large")
with left:
    _sync_section()
    _demo_section()
with right:
    _store_section()
