"""Models: the registry as the ModelOps metrics see it — which version serves, how old
it is, how often models are retrained and how long a new version takes to deploy.

Every figure comes from the evidence rows of the registry metrics; the version
timeline plots the registry's versions as loaded, without computing anything.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Final

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy.engine import Engine

from data.loaders import Period, model_versions
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
    current_engine,
    evidence,
    metric_results,
    no_teams_message,
    page_setup,
    period_caption,
    section,
    selected_period,
    show_metric_table,
    store_key,
    table_height,
    team_colour,
    team_colours,
    teams_in_view,
)
from pages.metric_sets import REGISTRY

page_setup()

MODELS_PER_ROW_LIMIT: Final = 30
MARKS: Final[dict[str, dict[str, object]]] = {
    "created": {"symbol": "circle-open", "size": 8, "line": {"width": 2}},
    "deployed": {"symbol": "diamond", "size": 10},
}


@st.cache_data(show_spinner=False, max_entries=16)
def _versions(
    _engine: Engine, key: StoreKey, team: str | None, since: date, until: date
) -> pd.DataFrame:
    """The versions created in the period (all teams' when `team` is None)."""
    return model_versions(_engine, team, Period(since, until))


def _no_models() -> None:
    st.info(
        "No registered model for these teams. Give each team its MLflow model names "
        '(`models = ["ranker-*"]` in its `[[teams]]` entry) and add an `[mlflow]` '
        "section to mlops.toml, then run `python cli.py sync --source mlflow`.",
        icon=":material/model_training:",
    )


def _registry(teams: list[str]) -> None:
    period = selected_period()
    results = metric_results(period, teams, list(REGISTRY))
    st.subheader("Registry metrics")
    show_metric_table(results, teams, REGISTRY, key="models_metrics")
    st.caption(STATUS_LEGEND)

    st.subheader("Registry")
    registry = evidence(results, "stale_models", teams)
    if registry.empty:
        _no_models()
        return
    cadence = evidence(results, "retrains_per_model_per_30d", teams)
    freshness = evidence(results, "models_meeting_retrain_target_pct", teams)
    registry = registry.merge(
        cadence[["team", "model", "versions_in_period"]],
        on=["team", "model"],
        how="left",
    ).merge(
        freshness[["team", "model", "meets_target"]],
        on=["team", "model"],
        how="left",
    )
    shown = pd.DataFrame(
        {
            "Team": registry["team"],
            "Model": registry["model"],
            "Serving version": registry["serving_version"].fillna("—"),
            "Basis": registry["basis"],
            "Serving since": registry["created_at"],
            "Age (days)": registry["age_days"],
            "Stale": registry["stale"].map({True: "stale", False: "—"}),
            "Versions in period": registry["versions_in_period"],
            "Within retrain target": registry["meets_target"].map({True: "yes", False: "no"}),
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="models_registry",
        height=table_height(len(shown)),
        column_config={
            "Serving since": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Age (days)": st.column_config.NumberColumn(format="%.1f"),
        },
    )
    st.caption(
        "Serving version: the version a production alias pointed to last, else the newest. "
        "Stale: older than the team's `stale_after_days` at the period end. Versions in "
        "period: the registry versions created in it (the cadence metric's count per model)."
    )


def _timeline(teams: list[str]) -> None:
    st.subheader("Versions")
    period = selected_period()
    team = teams[0] if len(teams) == 1 else None
    versions = _versions(current_engine(), store_key(), team, period.since, period.until)
    versions = versions[versions["team"].isin(teams)]
    deployments = evidence(
        metric_results(period, teams, list(REGISTRY)), "time_to_deploy_hours", teams
    )
    if versions.empty and deployments.empty:
        st.info(
            "No model version was created or deployed in the period.", icon=":material/event_busy:"
        )
        return
    models = pd.concat([versions["model"], deployments.get("model", pd.Series(dtype=str))])
    by_model = models.nunique() <= MODELS_PER_ROW_LIMIT
    axis = "model" if by_model else "team"
    build = partial(_timeline_figure, versions, deployments, axis, period)
    show(kept_figure("versions timeline", build, tuple(teams)), key="models_timeline")
    st.caption(
        "In the team's colour — rings: versions at their creation time; diamonds: versions "
        "deployed in the period, at their deployment (the `deployed_at` tag, else the "
        "first sync that saw a production alias)."
        + ("" if by_model else " Too many models for a row each: choose a team in the sidebar.")
    )


def _time_to_deploy(teams: list[str]) -> None:
    st.subheader("Time to deploy")
    period = selected_period()
    results = [
        r
        for r in metric_results(period, teams, list(REGISTRY))
        if r.metric_id == "time_to_deploy_hours"
    ]
    deployed = evidence(results, "time_to_deploy_hours", teams)
    if deployed.empty:
        st.info(
            "No model version was deployed in the period. A deployment is dated by the "
            "version's `deployed_at` tag or the first sync that saw a production alias on it.",
            icon=":material/rocket:",
        )
        return
    targets = {r.team: r.target for r in results}
    build = partial(_time_to_deploy_figure, deployed, targets)
    show(kept_figure("time to deploy", build, tuple(teams)), key="models_time_to_deploy")
    st.caption(
        "Each dot is a version deployed in the period; the box spans the middle half and "
        "its line is the median, which is the metric. Dashed: the target."
    )


def _timeline_figure(
    versions: pd.DataFrame, deployments: pd.DataFrame, axis: str, period: Period
) -> go.Figure:
    colours = team_colours()
    traces: list[go.Scatter] = []
    for name, frame, time_column in (
        ("created", versions, "created_at"),
        ("deployed", deployments, "deployed_at"),
    ):
        if frame.empty:
            continue
        style = MARKS[name]
        traces.append(
            go.Scatter(
                x=plain(frame[time_column]),
                y=plain(frame[axis]),
                mode="markers",
                name=name,
                showlegend=False,
                marker={**style, **point_colours(frame["team"], colours)},
                customdata=frame[["model", "version"]].astype(str).to_numpy(),
                hovertemplate=(
                    f"%{{customdata[0]}} version %{{customdata[1]}}<br>{name} "
                    "%{x|%Y-%m-%d %H:%M} UTC<extra></extra>"
                ),
            )
        )
        traces.append(legend_marker(name, style))
    figure = go.Figure(data=traces)
    rows = pd.concat([versions[axis], deployments.get(axis, pd.Series(dtype=str))]).nunique()
    figure.update_yaxes(categoryorder="category descending", rangemode="normal")
    figure.update_xaxes(range=[period.start, period.end], tickformat="%d %b %Y")
    styled(
        figure, height=max(240, min(900, 28 * rows + 140)), title="Versions created and deployed"
    )
    return figure


def _time_to_deploy_figure(deployed: pd.DataFrame, targets: dict[str, float | None]) -> go.Figure:
    figure = go.Figure()
    for team_name, group in deployed.groupby("team", sort=True):
        colour = team_colour(str(team_name))
        figure.add_trace(
            go.Box(
                x=plain(group["hours"]),
                y=[str(team_name)] * len(group),
                name=str(team_name),
                orientation="h",
                boxpoints="all",
                jitter=0.5,
                pointpos=0,
                marker={"color": colour, "size": 6, "opacity": 0.8},
                line={"color": colour},
                fillcolor="rgba(0, 0, 0, 0)",
                customdata=group[["model", "version"]].astype(str).to_numpy(),
                hovertemplate=(
                    "%{customdata[0]} version %{customdata[1]}: %{x:,.1f} h<extra></extra>"
                ),
            )
        )
    target_lines(figure, targets, team_colour, vertical=True, unit="h")
    rows = deployed["team"].nunique()
    styled(
        figure,
        height=max(220, min(900, 70 * rows + 110)),
        title="Hours from training start to deployment, per deployed version",
        legend=False,
    )
    figure.update_yaxes(categoryorder="category descending", rangemode="normal")
    figure.update_xaxes(title="hours", rangemode="tozero")
    return figure


st.title("Models")
teams = teams_in_view()
period_caption(selected_period())
if not teams:
    no_teams_message()
else:
    with section("The registry"):
        _registry(teams)
    with section("The versions timeline"):
        _timeline(teams)
    with section("The time to deploy"):
        _time_to_deploy(teams)
