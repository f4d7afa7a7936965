"""The dashboard's Plotly figures: one look, one colour per team, targets as dashed lines.

Figures only draw what they are given (metric results, snapshots, loaded
frames); they compute nothing. Streamlit's chart theme supplies fonts and the
light or dark background, so no colour here depends on the theme except the
translucent ones, which read on both.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data.loaders import Period
from metrics.catalog import MetricSpec, catalog
from pages.common import (
    StoreKey,
    app_context,
    config_key,
    format_number,
    metric_history,
    selected_period,
    short_unit,
    store_key,
    team_colour,
)

TARGET_DASH: Final = "dash"
NEUTRAL: Final = "#64748B"
PERIOD_SHADE: Final = "rgba(100, 116, 139, 0.10)"
CONFIG: Final[dict[str, Any]] = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d"]}
SPARK_CONFIG: Final[dict[str, Any]] = {"displayModeBar": False, "staticPlot": True}
MARKED_TEAMS: Final = 8
"""Up to this many teams a trend marks each snapshot; beyond, lines only (lighter)."""


def styled(
    figure: go.Figure,
    *,
    height: int = 320,
    title: str | None = None,
    y_title: str | None = None,
    legend: bool = True,
) -> go.Figure:
    figure.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 36 if title else 12, "b": 8},
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}} if title else None,
        showlegend=legend,
        # Below the x tick labels, however short the chart (y is in plot heights).
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -min(0.6, 58 / max(height - 70, 80)),
            "x": 0,
            "title": None,
        },
        hovermode="closest",
    )
    figure.update_yaxes(title=y_title, rangemode="tozero")
    figure.update_xaxes(title=None)
    return figure


def show(figure: go.Figure, key: str | None = None, *, spark: bool = False) -> None:
    st.plotly_chart(figure, key=key, config=SPARK_CONFIG if spark else CONFIG)


@st.cache_resource(show_spinner=False, max_entries=128, ttl=3600)
def _kept(
    key: StoreKey,
    config: str,
    since: date,
    until: date,
    team: str | None,
    name: str,
    depends_on: tuple[Hashable, ...],
    _build: Callable[[], go.Figure],
) -> go.Figure:
    return _build()


def kept_figure(name: str, build: Callable[[], go.Figure], *depends_on: Hashable) -> go.Figure:
    """`build()`'s figure, built once per store version, config, sidebar (team and
    period) and whatever else it `depends_on` (the teams shown, a widget's choice),
    then reused by every rerun and session until one of them changes.

    Plotly validates every property of every trace as a figure is built, which was
    most of a warm rerun at 40 teams (bench/pages.py). The figure is shared, so it is
    never changed after `build` (`st.plotly_chart` copies it to draw it). Every page
    of the 40-team demo keeps 41 figures, 3.5 MB as JSON; at most 128 are kept, and
    none for more than an hour.
    """
    context = app_context()
    period = context.period
    return _kept(
        store_key(), config_key(), period.since, period.until, context.team, name, depends_on, build
    )


def plain(values: pd.Series | Sequence[Any]) -> np.ndarray:
    """An array as Plotly takes it fastest (a pandas Series goes through a slow
    conversion per trace); timestamps as naive UTC, which Plotly draws as given."""
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            return np.asarray(values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())
        return np.asarray(values.to_numpy())
    return np.asarray(values)


def _same_targets(targets: pd.DataFrame) -> bool:
    """Whether every team has the same target on every day (one dashed line suffices)."""
    return bool(targets.groupby("day")["target"].nunique().le(1).all())


def trend_figure(
    history: pd.DataFrame,
    spec: MetricSpec,
    colour_of: Callable[[str], str],
    period: Period | None = None,
    height: int = 320,
    title: str | None = None,
) -> go.Figure:
    """One line per team over the snapshot days, the target dashed (one line when every
    team has the same target, else one per team in its colour), the period shaded."""
    rows = history[history["metric_id"] == spec.id]
    unit = short_unit(spec.unit)
    traces: list[go.Scatter] = []
    many = rows["team"].nunique() > MARKED_TEAMS
    for team, group in rows.groupby("team", sort=True):
        traces.append(
            go.Scatter(
                x=plain(group["day"]),
                y=plain(group["value"]),
                name=str(team),
                mode="lines" if many else "lines+markers",
                marker=None if many else {"size": 4},
                line={"color": colour_of(str(team)), "width": 2},
                legendgroup=str(team),
                hovertemplate=f"{team}<br>%{{x|%d %b %Y}}: %{{y:,.2f}} {unit}<extra></extra>",
            )
        )
    targets = rows.dropna(subset=["target"])
    if not targets.empty and _same_targets(targets):
        first = targets.drop_duplicates("day")
        traces.append(
            go.Scatter(
                x=plain(first["day"]),
                y=plain(first["target"]),
                name="target",
                mode="lines",
                line={"color": NEUTRAL, "dash": TARGET_DASH, "width": 1.5},
                hovertemplate=f"target: %{{y:,.2f}} {unit}<extra></extra>",
            )
        )
    elif not targets.empty:
        for team, group in targets.groupby("team", sort=True):
            traces.append(
                go.Scatter(
                    x=plain(group["day"]),
                    y=plain(group["target"]),
                    name=f"{team} target",
                    mode="lines",
                    line={"color": colour_of(str(team)), "dash": TARGET_DASH, "width": 1.2},
                    opacity=0.75,
                    legendgroup=str(team),
                    showlegend=False,
                    hovertemplate=f"{team} target: %{{y:,.2f}} {unit}<extra></extra>",
                )
            )
    figure = go.Figure(data=traces)
    if period is not None:
        figure.add_vrect(
            x0=period.start.replace(tzinfo=None),
            x1=period.end.replace(tzinfo=None),
            fillcolor=PERIOD_SHADE,
            line_width=0,
            layer="below",
        )
    styled(figure, height=height, title=title or spec.name, y_title=unit)
    if spec.unit == "%" and spec.better == "higher":
        figure.update_yaxes(rangemode="normal")  # availability near 100 % needs the detail
    return figure


def point_colours(teams: pd.Series, colours: Mapping[str, str]) -> dict[str, Any]:
    """Marker colours for points of many teams in one trace: each point's team colour.

    Colours are given as each team's position on a colour scale made of exactly the
    team colours; a list of colour strings would be checked point by point, which is
    slow for thousands of points.
    """
    palette = list(colours.values()) or [NEUTRAL]
    position = {team: index for index, team in enumerate(colours)}
    last = max(len(palette) - 1, 1)
    scale = [[index / last, colour] for index, colour in enumerate(palette)]
    if len(palette) == 1:
        scale = [[0.0, palette[0]], [1.0, palette[0]]]
    return {
        "color": plain(teams.map(position).astype(float)),
        "colorscale": scale,
        "cmin": 0,
        "cmax": last,
        "showscale": False,
    }


def legend_marker(name: str, marker: Mapping[str, Any]) -> go.Scatter:
    """A legend entry only (no data), for traces whose points carry each team's colour."""
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        name=name,
        marker={**marker, "color": NEUTRAL},
        showlegend=True,
        hoverinfo="skip",
    )


def sparkline_figure(points: pd.DataFrame, colour: str, target: float | None) -> go.Figure:
    """A small line of one team's snapshots of one metric, the target dashed."""
    figure = go.Figure(
        go.Scatter(
            x=plain(points["day"]),
            y=plain(points["value"]),
            mode="lines",
            line={"color": colour, "width": 2},
            hoverinfo="skip",
        )
    )
    if target is not None and not points.empty:
        figure.add_hline(y=target, line={"color": NEUTRAL, "dash": TARGET_DASH, "width": 1})
    figure.update_layout(
        height=56,
        margin={"l": 0, "r": 0, "t": 4, "b": 4},
        showlegend=False,
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return figure


def target_lines(
    figure: go.Figure,
    targets: Mapping[str, float | None],
    colour_of: Callable[[str], str],
    *,
    vertical: bool = False,
    unit: str = "",
) -> None:
    """Dashed target lines: one grey line when every team shares the target, else one per
    team in its colour."""
    known = {team: value for team, value in targets.items() if value is not None}
    if not known:
        return
    add = figure.add_vline if vertical else figure.add_hline
    if len(set(known.values())) == 1:
        value = next(iter(known.values()))
        add(
            value,
            line={"color": NEUTRAL, "dash": TARGET_DASH, "width": 1.5},
            annotation_text=f"target {format_number(value)} {unit}".rstrip(),
            annotation_font_color=NEUTRAL,
        )
        return
    for team, value in sorted(known.items()):
        add(value, line={"color": colour_of(team), "dash": TARGET_DASH, "width": 1.2}, opacity=0.8)


def show_trends(teams: list[str], metric_ids: Sequence[str], what: str, key: str) -> None:
    """Two columns of snapshot trends, one chart per metric, with an empty state."""
    st.subheader("Over time")
    history = metric_history(teams, list(metric_ids))
    if history.empty:
        st.info(
            f"No {what} history yet: `python cli.py sync` snapshots every metric daily.",
            icon=":material/timeline:",
        )
        return
    st.caption(
        "Each point is the metric over the 90 days ending that day, from the daily snapshots; "
        "targets dashed; the shaded band is the selected period."
    )
    specs = catalog()
    columns = st.columns(2)
    for index, metric_id in enumerate(metric_ids):
        with columns[index % 2]:
            build = partial(
                trend_figure, history, specs[metric_id], team_colour, selected_period(), height=300
            )
            figure = kept_figure(f"trend {metric_id}", build, tuple(teams))
            show(figure, key=f"{key}_trend_{metric_id}")
