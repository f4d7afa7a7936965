"""Stakeholders: when each team last updated its stakeholders, whether it kept its
cadence, who came — a form to record a meeting no calendar feed knows about, and
an upload of a calendar (.ics) or CSV file.

The gaps and the attendance are the evidence rows of the stakeholder metrics;
the timeline and the table are the stored meetings. The form writes through
`data.entry.add_meeting` and the upload through `connectors.imports`; both
validate everything before they write anything.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Final

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from connectors.imports import PreparedImport, prepare_import, skipped_text, write_import
from connectors.meetings import preview_table
from data.entry import add_meeting
from data.loaders import Period, meetings
from pages.access import can_edit, read_only_note, refused
from pages.charts import (
    kept_figure,
    legend_marker,
    plain,
    point_colours,
    show,
    styled,
    target_lines,
)
from pages.common import (
    STATUS_LEGEND,
    StoreKey,
    by_team_and_metric,
    current_config,
    current_engine,
    evidence,
    metric_results,
    no_teams_message,
    page_setup,
    period_caption,
    section,
    selected_period,
    selected_team,
    show_metric_table,
    store_key,
    store_teams,
    table_height,
    team_colour,
    team_colours,
    teams_in_view,
)
from pages.metric_sets import STAKEHOLDERS

page_setup()

SAVED_KEY: Final = "_stakeholders_saved_meeting"
FORM_ERROR_KEY: Final = "_stakeholders_form_error"
IMPORTED_KEY: Final = "_stakeholders_imported"
IMPORT_ERROR_KEY: Final = "_stakeholders_import_error"
# How many files were imported: part of the uploader's key, so a new one starts empty.
UPLOADS_KEY: Final = "_stakeholders_uploads"
BY_TITLE: Final = "Each team's meetings.title pattern"
PROBLEMS_SHOWN: Final = 20


@st.cache_data(show_spinner=False, max_entries=16)
def _meetings(
    _engine: Engine, key: StoreKey, team: str | None, since: date, until: date
) -> pd.DataFrame:
    """The meetings that started in the period."""
    return meetings(_engine, team, Period(since, until))


def _summary(teams: list[str]) -> None:
    results = metric_results(selected_period(), teams, list(STAKEHOLDERS))
    st.subheader("Stakeholder updates")
    show_metric_table(results, teams, STAKEHOLDERS, key="stakeholders_metrics")
    st.caption(
        STATUS_LEGEND + " The cadence is kept when a gap between meetings (or from the last "
        "one to the period end) is at most the team's `meeting_every_days`."
    )


def _timeline(teams: list[str]) -> None:
    period = selected_period()
    team = teams[0] if len(teams) == 1 else None
    held = _meetings(current_engine(), store_key(), team, period.since, period.until)
    held = held[held["team"].isin(teams)]
    st.subheader("Meetings")
    if held.empty:
        st.info(
            "No meeting in the period. Meetings come from each team's calendar feed "
            '(`meetings = { ics = "…" }` in mlops.toml, then `python cli.py sync --source '
            "meetings`) or from the form below.",
            icon=":material/event_busy:",
        )
        return
    build = partial(_timeline_figure, held, period)
    show(kept_figure("meetings timeline", build, tuple(teams)), key="stakeholders_timeline")
    listed = held.sort_values("start", ascending=False)
    st.dataframe(
        pd.DataFrame(
            {
                "Team": listed["team"],
                "Title": listed["title"],
                "Start (UTC)": listed["start"],
                "End (UTC)": listed["end"],
                "Source": listed["source"],
            }
        ),
        hide_index=True,
        key="stakeholders_meetings",
        height=table_height(len(listed), limit=10),
        column_config={
            "Start (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "End (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )


def _timeline_figure(held: pd.DataFrame, period: Period) -> go.Figure:
    colours = team_colours()
    traces: list[go.Scatter] = []
    for source, group in held.groupby("source", sort=True):
        style = {
            "symbol": "diamond" if source == "form" else "circle",
            "size": 13,
            "line": {"width": 1, "color": "#1E293B"},
        }
        traces.append(
            go.Scatter(
                x=plain(group["start"]),
                y=plain(group["team"]),
                mode="markers",
                name=str(source),
                showlegend=False,
                marker={**style, **point_colours(group["team"], colours)},
                customdata=group[["title"]].to_numpy(),
                hovertemplate="%{customdata[0]}<br>%{x|%Y-%m-%d %H:%M} UTC<extra></extra>",
            )
        )
        traces.append(legend_marker(f"from {source}", style))
    figure = go.Figure(data=traces)
    figure.update_yaxes(categoryorder="category descending", rangemode="normal")
    figure.update_xaxes(
        range=[period.start - timedelta(days=1), period.end + timedelta(days=1)],
        tickformat="%d %b %Y",
    )
    rows = held["team"].nunique()
    styled(figure, height=max(240, min(900, 40 * rows + 160)), title="Meetings in the period")
    return figure


def _gaps_and_attendance(teams: list[str]) -> None:
    results = metric_results(selected_period(), teams, list(STAKEHOLDERS))
    found = by_team_and_metric(results)

    def rows_of(metric_id: str) -> pd.DataFrame:
        return evidence(results, metric_id, teams)

    st.subheader("Cadence gaps")
    gaps = rows_of("stakeholder_update_cadence_pct")
    if gaps.empty:
        st.info("No meeting recorded, so there is no gap to show.", icon=":material/event:")
    else:
        build = partial(_gaps_figure, gaps, selected_period())
        show(kept_figure("cadence gaps", build, tuple(teams)), key="stakeholders_gaps")
        st.caption(
            "Each span runs from one update to the next (the last to the period end); "
            "hatched spans are longer than the team's `meeting_every_days`."
        )
    st.subheader("Attendance")
    attendance = rows_of("stakeholder_attendance_pct")
    if attendance.empty:
        st.info(
            "No attendance to show: list each team's `stakeholders` (e-mails) in "
            "mlops.toml and record who came to the meetings.",
            icon=":material/groups:",
        )
    else:
        targets = {
            t: found[(t, "stakeholder_attendance_pct")].target
            for t in teams
            if (t, "stakeholder_attendance_pct") in found
        }
        build = partial(_attendance_figure, attendance, targets, selected_period())
        figure = kept_figure("attendance", build, tuple(teams))
        show(figure, key="stakeholders_attendance")


def _gaps_figure(gaps: pd.DataFrame, period: Period) -> go.Figure:
    """Each gap as a span from one update to the next (or to the period end)."""
    figure = go.Figure()
    day_ms = 86_400_000
    for team_name, group in gaps.groupby("team", sort=True):
        colour = team_colour(str(team_name))
        figure.add_trace(
            go.Bar(
                base=plain(group["from"]),
                x=plain(group["gap_days"] * day_ms),
                y=[str(team_name)] * len(group),
                orientation="h",
                name=str(team_name),
                marker={
                    "color": colour,
                    "line": {"color": "rgba(255, 255, 255, 0.9)", "width": 2},
                    "pattern": {
                        "shape": ["" if kept else "/" for kept in group["kept"]],
                        "fillmode": "replace",
                        "fgcolor": colour,
                        "bgcolor": "rgba(0, 0, 0, 0)",
                    },
                },
                text=[f"{days:.0f} d" for days in group["gap_days"]],
                textposition="inside",
                insidetextanchor="middle",
                customdata=group[["from", "to", "to_meeting"]].astype(str).to_numpy(),
                hovertemplate=(
                    "%{text} from %{customdata[0]}<br>to %{customdata[1]} "
                    "(%{customdata[2]})<extra></extra>"
                ),
            )
        )
    figure.update_layout(barmode="overlay")
    figure.update_yaxes(categoryorder="category descending", rangemode="normal")
    figure.update_xaxes(
        type="date",
        range=[period.start - timedelta(days=1), period.end + timedelta(days=1)],
        tickformat="%d %b %Y",
    )
    rows = gaps["team"].nunique()
    return styled(
        figure,
        height=max(220, min(900, 48 * rows + 130)),
        title="Gaps between updates",
        legend=False,
    )


def _attendance_figure(
    attendance: pd.DataFrame, targets: dict[str, float | None], period: Period
) -> go.Figure:
    figure = go.Figure()
    for team_name, group in attendance.groupby("team", sort=True):
        figure.add_trace(
            go.Scatter(
                x=plain(group["start"]),
                y=plain(group["share_pct"]),
                name=str(team_name),
                mode="lines+markers",
                marker={"color": team_colour(str(team_name)), "size": 10},
                line={"color": team_colour(str(team_name)), "width": 1.5},
                customdata=group[["title", "stakeholders_present"]].astype(str).to_numpy(),
                hovertemplate=(
                    "%{customdata[0]} (%{x|%Y-%m-%d})<br>%{y:.0f} % of stakeholders, "
                    "%{customdata[1]} present<extra></extra>"
                ),
            )
        )
    target_lines(figure, targets, team_colour, unit="%")
    figure.update_xaxes(
        range=[period.start - timedelta(days=1), period.end + timedelta(days=1)],
        tickformat="%d %b %Y",
    )
    styled(figure, title="Share of the team's stakeholders present, per meeting", y_title="%")
    figure.update_yaxes(range=[-5, 105])
    return figure


def _emails(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _stakeholders_of(team: str) -> list[str]:
    configured = {t.name: t for t in current_config().teams}
    return list(configured[team].stakeholders) if team in configured else []


def _save_meeting() -> None:
    """The form's submit callback: it runs before the page does, so the page drawn after
    a save already reads the new store version.

    Listed attendees count as present, except the team's stakeholders, who are all
    recorded as invited and count as present only when ticked.
    """
    if refused("add meetings"):
        return
    state = st.session_state
    team = str(state.get("meeting_form_team") or "")
    day, at = state.get("meeting_date"), state.get("meeting_time")
    if not isinstance(day, date) or not isinstance(at, time):
        state[FORM_ERROR_KEY] = "give the meeting's date and start time"
        return
    start = datetime.combine(day, at, tzinfo=UTC)
    end = start + timedelta(minutes=int(state.get("meeting_minutes") or 0))
    stakeholders = _stakeholders_of(team)
    known = {email.casefold() for email in stakeholders}
    listed = _emails(str(state.get("meeting_attendees") or ""))
    ticked = [str(email) for email in state.get("meeting_attended") or []]
    title = str(state.get("meeting_title") or "")
    try:
        add_meeting(
            current_engine(),
            team,
            title,
            start,
            end,
            attendee_emails=[*listed, *stakeholders],
            attended=[*ticked, *(email for email in listed if email.casefold() not in known)],
        )
    except ValueError as exc:
        state[FORM_ERROR_KEY] = str(exc)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        state[FORM_ERROR_KEY] = f"the store refused the write ({reason})"
    else:
        state[SAVED_KEY] = f"Saved “{title.strip()}” for {team} on {start:%Y-%m-%d %H:%M} UTC."
        # A clean form for the next meeting; after an error the entry stays to be fixed.
        state["meeting_title"] = ""
        state["meeting_attendees"] = ""
        state["meeting_attended"] = []


def _form() -> None:
    st.subheader("Add a meeting")
    if not can_edit():
        st.caption(read_only_note("add meetings"))
        return
    teams = store_teams()
    default = selected_team()
    team = st.selectbox(
        "Team of the meeting",
        teams,
        index=teams.index(default) if default in teams else 0,
        key="meeting_form_team",
    )
    if team is None:
        return
    stakeholders = _stakeholders_of(str(team))
    with st.form("meeting_form", clear_on_submit=False, enter_to_submit=False):
        st.text_input("Title", key="meeting_title", placeholder="Quarterly model review")
        day, start_time, minutes = st.columns([2, 2, 1])
        day.date_input(
            "Date (UTC)",
            value=selected_period().until,
            max_value=datetime.now(UTC).date(),
            key="meeting_date",
        )
        start_time.time_input("Start (UTC)", value=time(14, 0), step=900, key="meeting_time")
        minutes.number_input(
            "Minutes", min_value=5, max_value=600, value=60, step=5, key="meeting_minutes"
        )
        st.text_area(
            "Attendees (e-mails, one per line)",
            key="meeting_attendees",
            placeholder="analyst@acme.com\nlead@acme.com",
        )
        st.multiselect(
            "Stakeholders who attended",
            stakeholders,
            key="meeting_attended",
            placeholder="none" if stakeholders else "this team lists no stakeholders",
            disabled=not stakeholders,
        )
        st.caption(
            "Everyone listed counts as present. The team's stakeholders "
            f"({', '.join(stakeholders) or 'none in mlops.toml'}) are recorded as invited and "
            "count as present only when ticked."
        )
        st.form_submit_button("Save meeting", type="primary", on_click=_save_meeting)
    problem = st.session_state.pop(FORM_ERROR_KEY, None)
    if problem:
        st.error(f"The meeting was not saved: {problem}.", icon=":material/error:")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _prepared(name: str, data: bytes, team: str | None) -> PreparedImport:
    return prepare_import("meetings", name, data, current_config(), datetime.now(UTC), team)


def _import_upload(name: str, data: bytes, team: str | None) -> None:
    """The Import button's callback: like the form's, it runs before the page is drawn."""
    if refused("import meetings"):
        return
    state = st.session_state
    prepared = _prepared(name, data, team)
    try:
        written = write_import(current_engine(), prepared, current_config())
    except ValueError as exc:
        state[IMPORT_ERROR_KEY] = str(exc)
        return
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        state[IMPORT_ERROR_KEY] = f"the store refused the write ({reason})"
        return
    state[IMPORTED_KEY] = (
        f"Imported {_count(written['meeting'], 'meeting')} "
        f"({_count(written['meeting_attendee'], 'attendee')}) from {name}."
    )
    state[UPLOADS_KEY] = int(state.get(UPLOADS_KEY, 0)) + 1


def _preview(prepared: PreparedImport) -> None:
    if prepared.errors:
        shown = [f"- {problem}" for problem in prepared.errors[:PROBLEMS_SHOWN]]
        if len(prepared.errors) > PROBLEMS_SHOWN:
            shown.append(f"- … and {len(prepared.errors) - PROBLEMS_SHOWN} more")
        st.error(
            f"**{prepared.source} cannot be imported** — fix these and upload it again; "
            "nothing was written:\n" + "\n".join(shown),
            icon=":material/error:",
        )
        return
    rows = pd.DataFrame(preview_table(prepared), columns=["team", "title", "start", "attendees"])
    st.dataframe(
        rows.rename(
            columns={
                "team": "Team",
                "title": "Title",
                "start": "Start (UTC)",
                "attendees": "Attendees (✓ accepted)",
            }
        ),
        hide_index=True,
        key="meetings_upload_preview",
        height=table_height(len(rows), limit=10),
        column_config={
            "Start (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    skipped = skipped_text(prepared.skipped)
    st.caption(
        f"{_count(len(rows), 'meeting')} to import from {prepared.source}"
        + (f"; left out: {skipped}." if skipped else ".")
        + " Importing the same file again updates them instead of adding copies."
    )


def _upload() -> None:
    st.subheader("Import meetings")
    if not can_edit():
        st.caption(read_only_note("import meetings"))
        return
    st.caption(
        "A calendar export (.ics: recurring meetings are expanded over the last two years, "
        "an accepted invitation counts as attended) or a CSV with the columns "
        "`title, start` and optionally `team, end, attendees, absent, uid` (times in ISO 8601 "
        "with a zone, e-mails separated by `;`). Nothing is written until you import."
    )
    teams = current_config().team_names()
    whose = st.selectbox(
        "Whose meetings",
        [BY_TITLE, *teams],
        key="meetings_upload_team",
        help="By pattern, each meeting goes to the teams whose `meetings.title` matches its "
        "title; a team takes every meeting of the file.",
    )
    uploaded = st.file_uploader(
        "Calendar (.ics) or CSV file",
        type=["ics", "csv"],
        key=f"meetings_upload_{st.session_state.get(UPLOADS_KEY, 0)}",
    )
    problem = st.session_state.pop(IMPORT_ERROR_KEY, None)
    if problem:
        st.error(f"The meetings were not imported: {problem}.", icon=":material/error:")
    if uploaded is None:
        return
    data, team = uploaded.getvalue(), None if whose in (None, BY_TITLE) else str(whose)
    prepared = _prepared(uploaded.name, data, team)
    _preview(prepared)
    st.button(
        f"Import {_count(len(prepared.preview), 'meeting')}" if prepared.ok else "Import",
        type="primary",
        disabled=not prepared.ok,
        on_click=_import_upload,
        args=(uploaded.name, data, team),
        key="meetings_upload_import",
    )


st.title("Stakeholders")
teams = teams_in_view()
period_caption(selected_period())
for done_key in (SAVED_KEY, IMPORTED_KEY):
    done = st.session_state.pop(done_key, None)
    if done:
        st.success(done, icon=":material/check_circle:")
if not teams:
    no_teams_message()
else:
    with section("The stakeholder metrics"):
        _summary(teams)
    with section("The meetings"):
        _timeline(teams)
    with section("The gaps and the attendance"):
        _gaps_and_attendance(teams)
    with section("The meeting form"):
        _form()
    with section("The meeting import"):
        _upload()
