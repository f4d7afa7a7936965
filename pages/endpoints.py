"""Endpoints: how the teams' model endpoints serve — latency quantiles, traffic, failed
calls and availability against their targets, over months and per endpoint.

The team-level history is the daily metric snapshots (latency quantiles of pooled
buckets cannot be added up afterwards, so none is recomputed here); the
per-endpoint view is the evidence rows of the period's endpoint metrics.
"""

from __future__ import annotations

from functools import partial
from typing import Final

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.catalog import catalog
from pages.charts import kept_figure, plain, show, show_trends, styled
from pages.common import (
    STATUS_LEGEND,
    by_team_and_metric,
    evidence,
    format_target,
    metric_results,
    no_teams_message,
    page_setup,
    period_caption,
    section,
    selected_period,
    show_metric_table,
    table_height,
    team_colour,
    teams_in_view,
)
from pages.metric_sets import ENDPOINTS

page_setup()

QUANTILES: Final = {
    "endpoint_latency_p50_ms": "p50 (ms)",
    "endpoint_latency_p95_ms": "p95 (ms)",
    "endpoint_latency_p99_ms": "p99 (ms)",
}


def _no_endpoints() -> None:
    st.info(
        "No endpoint data for these teams. List each team's endpoints in mlops.toml "
        '(`endpoints = [{ name = "ranker-api", selector = \'{job="ranker-api"}\' }]`), add a '
        "`[prometheus]` section, then run `python cli.py sync --source prometheus`.",
        icon=":material/speed:",
    )


def _summary(teams: list[str]) -> bool:
    results = metric_results(selected_period(), teams, list(ENDPOINTS))
    st.subheader("Endpoint metrics")
    show_metric_table(results, teams, ENDPOINTS, key="endpoints_metrics")
    st.caption(
        STATUS_LEGEND + " Latency quantiles pool the buckets of all the team's endpoints; "
        "failed calls and availability weigh each endpoint by its requests."
    )
    return any(result.value is not None for result in results)


def _per_endpoint(teams: list[str]) -> None:
    st.subheader("Per endpoint, this period")
    results = metric_results(selected_period(), teams, list(ENDPOINTS))
    found = by_team_and_metric(results)
    table = evidence(results, "endpoint_requests", teams)
    if table.empty:
        st.info("No endpoint served a request in the period.", icon=":material/speed:")
        return
    table = table[
        ["team", "endpoint", "requests", "failures", "failure_pct", "availability_pct", "days"]
    ]
    for metric_id, label in QUANTILES.items():
        latency = evidence(results, metric_id, teams)
        if latency.empty:
            table[label] = None
        else:
            table = table.merge(
                latency.rename(columns={"latency_ms": label})[["team", "endpoint", label]],
                on=["team", "endpoint"],
                how="left",
            )
    shown = table.rename(
        columns={
            "team": "Team",
            "endpoint": "Endpoint",
            "requests": "Requests",
            "failures": "Failed calls",
            "failure_pct": "Failed (%)",
            "availability_pct": "Availability (%)",
            "days": "Days with data",
        }
    )
    order = [
        "Team",
        "Endpoint",
        *QUANTILES.values(),
        "Requests",
        "Failed calls",
        "Failed (%)",
        "Availability (%)",
        "Days with data",
    ]
    number = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(
        shown[order],
        hide_index=True,
        key="endpoints_per_endpoint",
        height=table_height(len(shown)),
        column_config={
            **dict.fromkeys(QUANTILES.values(), number),
            "Failed (%)": number,
            "Availability (%)": number,
            "Requests": st.column_config.NumberColumn(format="localized"),
            "Failed calls": st.column_config.NumberColumn(format="localized"),
        },
    )
    p95 = table.dropna(subset=["p95 (ms)"])
    if p95.empty:
        return
    targets = {
        team: found[(team, "endpoint_latency_p95_ms")].target
        for team in teams
        if (team, "endpoint_latency_p95_ms") in found
    }
    figure = kept_figure("p95 bars", partial(_p95_figure, p95, targets), tuple(teams))
    show(figure, key="endpoints_p95_bars")


def _p95_figure(p95: pd.DataFrame, targets: dict[str, float | None]) -> go.Figure:
    figure = go.Figure()
    labels = p95["team"] + " · " + p95["endpoint"]
    figure.add_trace(
        go.Bar(
            x=plain(p95["p95 (ms)"]),
            y=plain(labels),
            orientation="h",
            marker={"color": [team_colour(team) for team in p95["team"]]},
            name="p95 latency",
            hovertemplate="%{y}: %{x:,.2f} ms<extra></extra>",
        )
    )
    target_x = [targets.get(team) for team in p95["team"]]
    figure.add_trace(
        go.Scatter(
            x=target_x,
            y=plain(labels),
            mode="markers",
            name="team target",
            marker={"symbol": "line-ns", "size": 22, "line": {"width": 3, "color": "#64748B"}},
            hovertext=[
                f"target {format_target(catalog()['endpoint_latency_p95_ms'], t)} ms"
                for t in target_x
            ],
            hoverinfo="text",
        )
    )
    figure.update_yaxes(categoryorder="array", categoryarray=list(labels)[::-1], rangemode="normal")
    figure.update_xaxes(title="ms")
    styled(
        figure,
        height=max(220, min(900, 34 * len(p95) + 120)),
        title="p95 latency per endpoint against the team target",
    )
    return figure


st.title("Endpoints")
teams = teams_in_view()
period_caption(selected_period())
if not teams:
    no_teams_message()
else:
    has_data = False
    with section("The endpoint metrics"):
        has_data = _summary(teams)
        if not has_data:
            _no_endpoints()
    with section("The endpoint trends"):
        show_trends(teams, list(ENDPOINTS), "endpoint", key="endpoints")
    if has_data:
        with section("The per-endpoint view"):
            _per_endpoint(teams)
