"""Overview: every team's headline metrics against targets, their trends, what changed.

The landing page for a platform lead: one row per team with the numbers that
say whether its models are retrained, deployed, served and reported on; the
months behind them from the daily snapshots; and the period compared with the
one before it. Maturity scores join the page once they are stored.
"""

from __future__ import annotations

import textwrap
from functools import partial
from typing import Final

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy.engine import Engine

from data.loaders import score_snapshots
from metrics.catalog import catalog
from metrics.dora import tier
from metrics.engine import results_from_snapshots
from metrics.maturity import TeamScore
from pages.charts import kept_figure, plain, show, styled, trend_figure
from pages.common import (
    CHECK_STATUS_COLOUR,
    NO_VALUE,
    STATUS_LEGEND,
    StoreKey,
    by_team_and_metric,
    coloured_table,
    current_engine,
    format_number,
    metric_history,
    metric_results,
    no_teams_message,
    only_metrics,
    page_setup,
    period_caption,
    section,
    selected_period,
    show_metric_table,
    status_background,
    store_key,
    table_height,
    team_colour,
    team_scores,
    teams_in_view,
)
from pages.metric_sets import HEADLINE

page_setup()

TREND_DEFAULT: Final = ["endpoint_latency_p95_ms", "deployment_frequency_per_week"]
SCORE_COLUMNS: Final = {
    "overall": "Overall",
    "DataOps": "DataOps",
    "DevOps": "DevOps",
    "ModelOps": "ModelOps",
}
LEVEL_BACKGROUND: Final = (
    "rgba(239, 68, 68, 0.25)",
    "rgba(245, 158, 11, 0.25)",
    "rgba(132, 204, 22, 0.22)",
    "rgba(34, 197, 94, 0.25)",
    "rgba(34, 197, 94, 0.40)",
)


@st.cache_data(show_spinner=False, max_entries=8)
def _scores(_engine: Engine, key: StoreKey) -> pd.DataFrame:
    frame = score_snapshots(_engine)
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def _headline(teams: list[str]) -> None:
    period = selected_period()
    results = only_metrics(metric_results(period, teams), list(HEADLINE))
    tiers = {
        (r.team, r.metric_id): tier(r.metric_id, r.value)
        for r in results
        if r.metric_id == "deployment_frequency_per_week"
    }
    st.subheader("Headline metrics against targets")
    show_metric_table(results, teams, HEADLINE, tiers, key="overview_headline")
    st.caption(
        STATUS_LEGEND + " Deployment frequency is coloured by its DORA tier "
        "(elite, high, medium, low; see the Delivery page)."
    )


def _scores_section(teams: list[str]) -> None:
    """Drawn only once maturity scores have been stored (by the daily snapshot)."""
    period = selected_period()
    scores = _scores(current_engine(), store_key())
    scores = scores[scores["team"].isin(teams)]
    as_of = scores[scores["day"] <= pd.Timestamp(period.until)]
    if as_of.empty:
        return
    st.subheader("Maturity scores")
    latest = as_of[as_of["day"] == as_of.groupby("team")["day"].transform("max")]
    pillars = [p for p in SCORE_COLUMNS if p in set(latest["pillar"])]
    table = pd.DataFrame({"Team": sorted(latest["team"].unique())})
    colours = pd.DataFrame({"Team": [""] * len(table)})
    for name in pillars:
        cells = latest[latest["pillar"] == name].set_index("team").reindex(table["Team"])
        table[SCORE_COLUMNS[name]] = [
            NO_VALUE if pd.isna(score) else f"{format_number(score)} % · level {int(level)}"
            for score, level in zip(cells["score"], cells["level"], strict=True)
        ]
        colours[SCORE_COLUMNS[name]] = [
            "" if pd.isna(level) else LEVEL_BACKGROUND[min(int(level), 4)]
            for level in cells["level"]
        ]
    overall = latest[latest["pillar"] == "overall"].set_index("team").reindex(table["Team"])
    table["Evidence coverage (%)"] = [format_number(value) for value in overall["coverage"]]
    table["As of"] = [
        f"{day:%Y-%m-%d}" for day in latest.groupby("team")["day"].max().reindex(table["Team"])
    ]
    st.dataframe(coloured_table(table, colours), hide_index=True, key="overview_scores")
    st.caption(
        "Score: the weighted share of a pillar's checks that pass; level: the highest level "
        "whose checks all pass (the overall level is the lowest pillar's). From the newest "
        "stored score snapshot up to the period end."
    )
    picked = st.segmented_control(
        "Score over time",
        pillars,
        default=pillars[0],
        format_func=lambda name: SCORE_COLUMNS[name],
        key="overview_score_pillar",
    )
    pillar = str(picked or pillars[0])
    build = partial(_score_trend, scores, pillar)
    show(kept_figure("score trend", build, tuple(teams), pillar), key="overview_score_trend")


def _score_trend(scores: pd.DataFrame, pillar: str) -> go.Figure:
    figure = go.Figure()
    shown = scores[scores["pillar"] == pillar].sort_values("day")
    for team, group in shown.groupby("team", sort=True):
        figure.add_trace(
            go.Scatter(
                x=plain(group["day"]),
                y=plain(group["score"]),
                name=str(team),
                mode="lines",
                line={"color": team_colour(str(team)), "width": 2},
                customdata=group[["level"]].to_numpy(),
                hovertemplate=f"{team}<br>%{{x|%d %b %Y}}: %{{y:.1f}} %, level %{{customdata[0]}}"
                "<extra></extra>",
            )
        )
    figure.update_yaxes(range=[0, 100])
    return styled(figure, height=300, title=f"{SCORE_COLUMNS[pillar]} score", y_title="%")


CHECK_STATES: Final = ("fail", "unknown", "waived", "pass")


def _heatmap(teams: list[str]) -> None:
    """Teams × checks, each cell the check's status for the period (from metrics.maturity)."""
    scores = team_scores(selected_period(), teams)
    if not scores:
        return
    st.subheader("Checks by team")
    figure = kept_figure("checks heatmap", partial(_heatmap_figure, scores), tuple(teams))
    show(figure, key="overview_checks_heatmap")
    st.caption(
        "Each cell is a rubric check for the selected period: green passes, red fails, grey is "
        "unknown (no source could decide), blue is waived. Hover for the check and its evidence."
    )


def _heatmap_figure(scores: list[TeamScore]) -> go.Figure:
    columns = [status.check for status in scores[0].checks]  # grouped by pillar, then level
    codes = {state: index for index, state in enumerate(CHECK_STATES)}
    rows = sorted(scores, key=lambda score: score.team, reverse=True)  # first team on top
    z, hover = [], []
    for score in rows:
        by_id = {status.check.id: status for status in score.checks}
        z.append([codes[by_id[check.id].status] for check in columns])
        hover.append(
            [
                f"<b>{score.team}</b> · {check.id}<br>{check.title}<br>"
                f"{by_id[check.id].status} ({by_id[check.id].provenance}): "
                f"{_wrapped(by_id[check.id].evidence)}"
                for check in columns
            ]
        )
    steps = len(CHECK_STATES)
    scale = []
    for index, state in enumerate(CHECK_STATES):
        scale += [[index / steps, CHECK_STATUS_COLOUR[state]]]
        scale += [[(index + 1) / steps, CHECK_STATUS_COLOUR[state]]]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[check.id for check in columns],
            y=[score.team for score in rows],
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            colorscale=scale,
            zmin=-0.5,
            zmax=steps - 0.5,
            xgap=2,
            ygap=2,
            colorbar={
                "tickvals": list(range(steps)),
                "ticktext": list(CHECK_STATES),
                "thickness": 12,
                "len": 1.0 if len(rows) > 3 else 1.4,
            },
        )
    )
    starts: dict[str, int] = {}
    for index, check in enumerate(columns):
        starts.setdefault(check.pillar, index)
    bounds = [*starts.values(), len(columns)]
    for (pillar, start), end in zip(starts.items(), bounds[1:], strict=True):
        figure.add_annotation(
            x=(start + end - 1) / 2,
            y=1.0,
            yref="paper",
            yanchor="bottom",
            text=f"<b>{pillar}</b>",
            showarrow=False,
        )
        if start:
            figure.add_vline(x=start - 0.5, line={"color": "#64748B", "width": 2})
    styled(figure, height=max(260, 34 * len(rows) + 200), legend=False)
    figure.update_xaxes(
        tickangle=-60,
        tickfont={"size": 9},
        showgrid=False,
        tickvals=[check.id for check in columns],
        ticktext=[check.id.split(".", 1)[-1] for check in columns],
    )
    figure.update_yaxes(showgrid=False, rangemode="normal")
    figure.update_layout(margin={"l": 8, "r": 8, "t": 30, "b": 8})
    return figure


def _wrapped(text: str, width: int = 80) -> str:
    return "<br>".join(textwrap.wrap(text, width)[:6])


def _trends(teams: list[str]) -> None:
    st.subheader("Trends")
    history = metric_history(teams)
    if history.empty:
        st.info(
            "No metric history yet. `python cli.py sync` stores a snapshot of every metric "
            "each day it runs (schedule it daily), and trends draw from those snapshots.",
            icon=":material/timeline:",
        )
        return
    specs = catalog()
    chosen = st.multiselect(
        "Metrics",
        list(specs),
        default=TREND_DEFAULT,
        format_func=lambda metric_id: specs[metric_id].name,
        key="overview_trend_metrics",
    )
    st.caption(
        "Each point is the metric over the 90 days ending that day, as snapshotted; "
        "the shaded band is the selected period."
    )
    columns = st.columns(2)
    for index, metric_id in enumerate(chosen):
        with columns[index % 2]:
            build = partial(trend_figure, history, specs[metric_id], team_colour, selected_period())
            figure = kept_figure(f"trend {metric_id}", build, tuple(teams))
            show(figure, key=f"overview_trend_{metric_id}")


def _changes(teams: list[str]) -> None:
    period = selected_period()
    before = period.previous()
    st.subheader("What changed since the previous period")
    now = by_team_and_metric(only_metrics(metric_results(period, teams), list(HEADLINE)))
    recorded = results_from_snapshots(
        metric_history(teams, list(HEADLINE)), before, teams, list(HEADLINE)
    )
    then = by_team_and_metric(recorded or metric_results(before, teams, list(HEADLINE)))
    st.caption(
        f"{before.since:%d %b %Y} – {before.until:%d %b %Y}"
        + (f" (as recorded on {before.until:%d %b %Y})" if recorded else "")
        + f" against {period.since:%d %b %Y} – {period.until:%d %b %Y}; "
        "rows whose status changed first."
    )
    pairs = [
        (now[(team, metric_id)], then[(team, metric_id)])
        for team in teams
        for metric_id in HEADLINE
        if (team, metric_id) in now and (team, metric_id) in then
    ]
    if not pairs:
        st.info("Nothing to compare.")
        return
    # Rows whose status changed first, otherwise in the table's order.
    pairs.sort(key=lambda pair: pair[0].status == pair[1].status)
    shown = pd.DataFrame(
        [
            {
                "Team": current.team,
                "Metric": current.spec.name,
                "Unit": current.spec.unit,
                "Previous period": format_number(earlier.value),
                "This period": format_number(current.value),
                "Status": f"{earlier.status} → {current.status}",
            }
            for current, earlier in pairs
        ]
    )
    backgrounds = pd.DataFrame(
        [
            {
                "Previous period": status_background(earlier),
                "This period": status_background(current),
            }
            for current, earlier in pairs
        ]
    )
    st.dataframe(
        coloured_table(shown, backgrounds.fillna("")),
        hide_index=True,
        height=table_height(len(shown), limit=14),
        key="overview_changes",
    )
    if (shown["Previous period"] == NO_VALUE).all():
        st.caption("The previous period has no data: the store starts after it.")


st.title("Overview")
period_caption(selected_period())
teams = teams_in_view()
if not teams:
    no_teams_message()
else:
    with section("The headline metrics"):
        _headline(teams)
    with section("The maturity scores"):
        _scores_section(teams)
    with section("The checks by team"):
        _heatmap(teams)
    with section("The trends"):
        _trends(teams)
    with section("The comparison with the previous period"):
        _changes(teams)
