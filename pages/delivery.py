"""Delivery: the four DORA keys with their tiers, CI success and PR cycle time, the
period's production deployments and incidents, and the months behind them.

Tiers are the DORA 2023 report's, read from `metrics/dora_tiers.toml`; the
timeline draws the change-failure metric's evidence (each finished production
deployment and whether it failed or caused an incident) and the incidents
opened in the period.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Final

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy.engine import Engine

from data.loaders import Period, incidents
from metrics.catalog import catalog
from metrics.dora import TIERS, dora_metric_ids, tier, tier_words
from pages.charts import (
    kept_figure,
    legend_marker,
    plain,
    point_colours,
    show,
    show_trends,
    styled,
)
from pages.common import (
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
    team_colours,
    teams_in_view,
)
from pages.metric_sets import DELIVERY

page_setup()

ROWS_PER_REPO_LIMIT: Final = 30
OUTCOMES: Final[dict[str, dict[str, object]]] = {
    "succeeded": {"symbol": "circle", "size": 8},
    "failed": {"symbol": "x", "size": 11},
    "caused an incident": {"symbol": "triangle-up-open", "size": 11, "line": {"width": 2}},
}
INCIDENT: Final[dict[str, object]] = {
    "symbol": "star",
    "size": 13,
    "line": {"width": 1, "color": "#1E293B"},
}


@st.cache_data(show_spinner=False, max_entries=16)
def _incidents(
    _engine: Engine, key: StoreKey, team: str | None, since: date, until: date
) -> pd.DataFrame:
    """Incident issues opened in the period."""
    return incidents(_engine, team, Period(since, until))


def _no_github() -> None:
    st.info(
        "No delivery data for these teams. Give each team its repositories in mlops.toml "
        '(`repos = ["acme/ranker"]`), add a `[github]` section with `token_env`, then run '
        "`python cli.py sync --source github`.",
        icon=":material/rocket_launch:",
    )


def _keys(teams: list[str]) -> bool:
    results = metric_results(selected_period(), teams, list(DELIVERY))
    keys = set(dora_metric_ids())
    tiers = {
        (r.team, r.metric_id): tier(r.metric_id, r.value) for r in results if r.metric_id in keys
    }
    st.subheader("DORA keys, CI and pull requests")
    show_metric_table(results, teams, DELIVERY, tiers, key="delivery_metrics")
    st.caption(
        "The four DORA keys are coloured by tier (green elite, lime high, amber medium, red low) "
        "and name it after the value; CI success and PR cycle time have no target. "
        "A value shows — where the source has no data, never 0."
    )
    with st.expander("DORA tiers (2023 Accelerate State of DevOps report)"):
        words: dict[str, list[str]] = {
            "Key": [catalog()[metric_id].name for metric_id in dora_metric_ids()]
        }
        for name in TIERS:
            words[name] = [tier_words(metric_id, name) for metric_id in dora_metric_ids()]
        st.dataframe(pd.DataFrame(words), hide_index=True, key="delivery_tier_words")
        st.caption("Thresholds and sources: docs/metrics.md and metrics/dora_tiers.toml.")
    return any(result.value is not None for result in results)


def _timeline(teams: list[str]) -> None:
    st.subheader("Production deployments and incidents")
    period = selected_period()
    results = metric_results(period, teams, list(DELIVERY))
    deployments = evidence(results, "change_failure_rate_pct", teams)
    team = teams[0] if len(teams) == 1 else None
    opened = _incidents(current_engine(), store_key(), team, period.since, period.until)
    opened = opened[opened["team"].isin(teams)]
    if deployments.empty and opened.empty:
        st.info(
            "No production deployment finished and no incident was opened in the period. "
            "Deployments are GitHub Deployments to an environment matching "
            "`production_environment`, or runs of the `deploy_workflow`.",
            icon=":material/rocket:",
        )
        return
    repos = pd.concat([deployments.get("repo", pd.Series(dtype=str)), opened["repo"]])
    axis = "repo" if repos.nunique() <= ROWS_PER_REPO_LIMIT else "team"
    build = partial(_timeline_figure, deployments, opened, axis, period)
    show(kept_figure("deployments timeline", build, tuple(teams)), key="delivery_timeline")
    st.caption(
        "In the team's colour — dots: deployments that succeeded; crosses: failed; open "
        "triangles: succeeded but followed by an incident before the repository's next "
        "deployment; stars: incidents opened. These are the change failure rate's evidence."
        + ("" if axis == "repo" else " Too many repositories for a row each: choose a team.")
    )


def _timeline_figure(
    deployments: pd.DataFrame, opened: pd.DataFrame, axis: str, period: Period
) -> go.Figure:
    colours = team_colours()
    traces: list[go.Scatter] = []
    if not deployments.empty:
        outcome = pd.Series("succeeded", index=deployments.index)
        outcome[deployments["caused_incident"].astype(bool)] = "caused an incident"
        outcome[deployments["failed"].astype(bool)] = "failed"
        for kind, style in OUTCOMES.items():
            group = deployments[outcome == kind]
            if group.empty:
                continue
            traces.append(
                go.Scatter(
                    x=plain(group["created_at"]),
                    y=plain(group[axis]),
                    mode="markers",
                    name=kind,
                    showlegend=False,
                    marker={**style, **point_colours(group["team"], colours)},
                    customdata=group[["repo", "via", "ref", "final_state"]].astype(str).to_numpy(),
                    hovertemplate=(
                        "%{customdata[0]} (%{customdata[1]} %{customdata[2]})<br>"
                        f"started %{{x|%Y-%m-%d %H:%M}} UTC · {kind} "
                        "(final status %{customdata[3]})<extra></extra>"
                    ),
                )
            )
            traces.append(legend_marker(kind, style))
    if not opened.empty:
        traces.append(
            go.Scatter(
                x=plain(opened["created_at"]),
                y=plain(opened[axis]),
                mode="markers",
                name="incident opened",
                showlegend=False,
                marker={**INCIDENT, **point_colours(opened["team"], colours)},
                customdata=opened[["repo", "number", "title"]].astype(str).to_numpy(),
                hovertemplate=(
                    "%{customdata[0]}#%{customdata[1]}: %{customdata[2]}<br>"
                    "opened %{x|%Y-%m-%d %H:%M} UTC<extra></extra>"
                ),
            )
        )
        traces.append(legend_marker("incident opened", INCIDENT))
    figure = go.Figure(data=traces)
    rows = pd.concat([deployments.get(axis, pd.Series(dtype=str)), opened[axis]]).nunique()
    figure.update_yaxes(categoryorder="category descending", rangemode="normal")
    figure.update_xaxes(range=[period.start, period.end], tickformat="%d %b %Y")
    styled(figure, height=max(260, min(900, 40 * rows + 160)), title="Deployments by start time")
    return figure


st.title("Delivery")
teams = teams_in_view()
period_caption(selected_period())
if not teams:
    no_teams_message()
else:
    has_data = False
    with section("The delivery metrics"):
        has_data = _keys(teams)
        if not has_data:
            _no_github()
    if has_data:
        with section("The deployments timeline"):
            _timeline(teams)
    with section("The delivery trends"):
        show_trends(teams, list(DELIVERY), "delivery", key="delivery")
