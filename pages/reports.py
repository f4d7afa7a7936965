"""Reports: the leadership report for the sidebar's team (or every team), previewed, and a
download per format (PDF, HTML, XLSX, CSV, Markdown).

The report is the one `cli.py report` writes: the same model from
`reports.model`, the same renderers. It is built once per store version,
config, period and team, once asked for (opening the page computes nothing); each
file is rendered only when its button is pressed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Final

import streamlit as st
from sqlalchemy.engine import Engine

from config import Config
from pages.common import (
    StoreKey,
    current_config,
    current_engine,
    no_teams_message,
    page_setup,
    section,
    selected_period,
    store_key,
    teams_in_view,
)
from reports.formats import MEDIA_TYPES, ReportFormat, render
from reports.markdown import render_markdown
from reports.model import Report, build_report
from reports.period import ReportPeriods, parse_period

page_setup()

SIDEBAR: Final = "sidebar"
PREPARED_KEY: Final = "_reports_prepared"
# Period specs of `reports.period`; the sidebar's period becomes an explicit range.
# (No attribute docstrings in a page script: Streamlit would show them.)
CHOICES: Final[dict[str, str]] = {
    "quarter": "This quarter so far, against the last",
    "last-quarter": "The last whole quarter, against the one before",
    SIDEBAR: "The sidebar's period, against as many days before",
}
LABELS: Final[dict[ReportFormat, str]] = {
    ReportFormat.pdf: "PDF",
    ReportFormat.html: "HTML",
    ReportFormat.xlsx: "Excel (XLSX)",
    ReportFormat.csv: "CSV",
    ReportFormat.md: "Markdown",
}


@st.cache_data(show_spinner=False, max_entries=8)
def _report(
    _engine: Engine,
    key: StoreKey,
    _config: Config,
    config_json: str,
    _periods: ReportPeriods,
    period_key: tuple[date, date, date, date],
    teams: tuple[str, ...],
) -> Report:
    return build_report(_engine, _config, _periods, teams)


def _periods(choice: str) -> ReportPeriods:
    """Quarters are counted back from the sidebar's last day, so the demo stays in view."""
    sidebar = selected_period()
    spec = f"{sidebar.since}..{sidebar.until}" if choice == SIDEBAR else choice
    return parse_period(spec, sidebar.until)


def _file_name(periods: ReportPeriods, output_format: ReportFormat) -> str:
    current = periods.current
    return f"mlops-report-{current.since}-{current.until}.{output_format.value}"


def _renderer(report: Report, output_format: ReportFormat) -> Callable[[], bytes]:
    """Runs on the button press, in its own thread, with the report already built."""
    return lambda: render(report, output_format)


def _prepare() -> None:
    """A callback, so the request survives the hand-over to app.py (`page_setup`)."""
    st.session_state[PREPARED_KEY] = True


def _downloads(report: Report) -> None:
    columns = st.columns(len(LABELS))
    for column, (output_format, label) in zip(columns, LABELS.items(), strict=True):
        column.download_button(
            label,
            data=_renderer(report, output_format),
            file_name=_file_name(report.periods, output_format),
            mime=MEDIA_TYPES[output_format],
            on_click="ignore",
            icon=":material/download:",
            key=f"report_download_{output_format.value}",
            width="stretch",
        )


st.title("Reports")
teams = teams_in_view()
if not teams:
    no_teams_message()
else:
    choice = st.segmented_control(
        "Period",
        list(CHOICES),
        format_func=CHOICES.__getitem__,
        default="quarter",
        key="report_period",
    )
    periods = _periods(str(choice or "quarter"))
    scope = teams[0] if len(teams) == 1 else f"all {len(teams)} teams"
    st.caption(
        f"{periods.description} · {scope} (change the team in the sidebar) · the same report "
        "as `cli.py report`"
    )
    # Building every team's report for two periods takes seconds for a large organisation,
    # so it starts on request; once asked for, it follows the period and team chosen.
    st.button("Prepare the report", type="primary", key="report_prepare", on_click=_prepare)
    if not st.session_state.get(PREPARED_KEY):
        st.info(
            "Prepare the report to preview it and download it as PDF, HTML, XLSX, CSV or "
            "Markdown. It takes a few seconds for many teams.",
            icon=":material/summarize:",
        )
    else:
        with section("The report"):
            with st.spinner("Computing the report…"):
                config = current_config()
                report = _report(
                    current_engine(),
                    store_key(),
                    config,
                    config.model_dump_json(),
                    periods,
                    (
                        periods.current.since,
                        periods.current.until,
                        periods.previous.since,
                        periods.previous.until,
                    ),
                    tuple(teams),
                )
            st.subheader("Download")
            _downloads(report)
            st.subheader("Preview")
            st.caption(
                "The Markdown report; the PDF and HTML add charts, every metric and the checks."
            )
            with st.container(height=720, border=True):
                st.markdown(render_markdown(report).decode("utf-8"))
