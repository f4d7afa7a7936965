"""Team: one team in depth — every metric against its target with its trend, and the
evidence behind any of them.

A team lead's page: what fails and why. Values and evidence rows come from the
metrics engine for the selected period; the sparklines from the daily
snapshots, so they reach back beyond what the sources still hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from metrics.dora import tier, tier_words
from metrics.engine import MetricResult
from pages.charts import show, sparkline_figure
from pages.common import (
    STATUS_BADGE,
    format_number,
    format_target,
    metric_history,
    metric_results,
    no_teams_message,
    page_setup,
    period_caption,
    section,
    selected_period,
    team_colour,
    team_picker,
)

page_setup()

ROW_WIDTHS = [3.0, 2.0, 1.8, 0.8, 2.4]


def _metric_row(result: MetricResult, history: pd.DataFrame) -> None:
    spec = result.spec
    name, value, target, status, trend = st.columns(ROW_WIDTHS, vertical_alignment="center")
    name.markdown(f"**{spec.name}**", help=f"`{spec.id}` — {spec.definition}")
    shown = format_number(result.value)
    value.markdown(f"{shown} {spec.unit}" if result.value is not None else shown)
    dora = tier(result.metric_id, result.value)
    if result.target is not None:
        target.markdown(f"target {format_target(spec, result.target)}")
    elif dora is not None:
        target.markdown(f"DORA {dora}", help=tier_words(result.metric_id, dora))
    else:
        target.markdown("no target")
    no_target = result.status == "ok" and result.target is None
    status.badge(result.status, color="blue" if no_target else STATUS_BADGE[result.status])
    points = history[history["metric_id"] == spec.id]
    with trend:
        if points["value"].notna().sum() >= 2:
            figure = sparkline_figure(points, team_colour(result.team), result.target)
            show(figure, key=f"team_spark_{spec.id}", spark=True)
        else:
            st.caption("no history yet")
    if result.value is None:
        st.caption(f"Unknown: {spec.unknown_when}.")


def _metrics(results: Sequence[MetricResult], history: pd.DataFrame) -> None:
    groups: dict[str, list[MetricResult]] = {}
    for result in results:
        groups.setdefault(result.spec.group, []).append(result)
    for group, members in groups.items():
        st.subheader(group)
        st.caption(
            "Value for the period, the team's target and status; the trend is the metric over "
            "the 90 days ending each snapshot day, the target dashed."
        )
        with st.container(border=True):
            for result in members:
                _metric_row(result, history)


def _evidence(results: Sequence[MetricResult]) -> None:
    st.subheader("Evidence")
    by_id = {result.metric_id: result for result in results}
    chosen = st.selectbox(
        "Metric",
        list(by_id),
        format_func=lambda metric_id: by_id[metric_id].spec.name,
        key="team_evidence_metric",
    )
    result = by_id[str(chosen)]
    rows = result.rows.drop(columns=["team"], errors="ignore")
    st.caption(f"`{result.metric_id}`: {result.spec.formula}.")
    if rows.empty:
        st.info(
            f"No evidence rows for the period: {result.spec.unknown_when}.",
            icon=":material/search_off:",
        )
        return
    st.dataframe(rows, hide_index=True, key="team_evidence_rows")


st.title("Team")
period = selected_period()
team = team_picker("team_page_team")
if team is None:
    no_teams_message()
else:
    period_caption(period, team)
    with section("The team's metrics"):
        results = metric_results(period, [team])
        history = metric_history([team])
        if history.empty:
            st.info(
                "No metric history yet: `python cli.py sync` stores a snapshot of every metric "
                "each day it runs, and the sparklines draw from them.",
                icon=":material/timeline:",
            )
        _metrics(results, history)
    with section("The evidence"):
        _evidence(metric_results(period, [team]))
