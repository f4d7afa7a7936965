"""Team: one team in depth — its maturity (pillar scores and levels, a radar, the
crosswalk to public models, next steps, contradictions, the checks that do not
pass), every metric against its target with its trend, and the evidence behind
any of them.

A team lead's page: what fails and why. Values and evidence rows come from the
metrics engine for the selected period; the sparklines from the daily
snapshots, so they reach back beyond what the sources still hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.dora import tier, tier_words
from metrics.engine import MetricResult
from metrics.maturity import PILLARS, TeamScore
from pages.charts import kept_figure, show, sparkline_figure, styled
from pages.common import (
    STATUS_BADGE,
    format_number,
    format_percent,
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
    team_scores,
)
from pages.maturity_view import checks_frame, pillar_card, show_checks

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
            build = partial(sparkline_figure, points, team_colour(result.team), result.target)
            figure = kept_figure(f"sparkline {spec.id}", build, result.team)
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


def _radar(score: TeamScore) -> None:
    show(kept_figure("radar", partial(_radar_figure, score), score.team), key="team_radar")


def _radar_figure(score: TeamScore) -> go.Figure:
    values = [score.pillars[p].score or 0.0 for p in PILLARS]
    colour = team_colour(score.team)
    figure = go.Figure(
        go.Scatterpolar(
            r=[*values, values[0]],
            theta=[*PILLARS, PILLARS[0]],
            fill="toself",
            name=score.team,
            line={"color": colour, "width": 2},
            marker={"color": colour, "size": 8},
            hovertemplate="%{theta}: %{r:.1f} %<extra></extra>",
        )
    )
    styled(figure, height=300, title="Pillar scores (%)", legend=False)
    figure.update_layout(
        polar={"radialaxis": {"range": [0, 100], "ticksuffix": " %", "angle": 90}},
        margin={"l": 40, "r": 40, "t": 40, "b": 20},
    )
    return figure


def _crosswalk(score: TeamScore) -> None:
    walk = score.crosswalk
    if not walk:
        return
    google, microsoft, test = walk["google"], walk["microsoft"], walk["ml_test_score"]
    st.markdown("**Where the team stands on the public models**")
    left, middle, right = st.columns(3)
    left.metric("Google MLOps level (0–2)", str(google["level"]), help=str(google["name"]))
    left.caption(str(google["name"]))
    middle.metric("Microsoft MLOps maturity (0–4)", str(microsoft["level"]))
    middle.caption(str(microsoft["name"]))
    right.metric(
        "ML Test Score (estimate)",
        f"{test['final']:g}",
        help=(
            f"Data {test['data']:g} · model {test['model']:g} · infrastructure "
            f"{test['infrastructure']:g} · monitoring {test['monitoring']:g}; the final score "
            "is the lowest section's."
        ),
    )
    right.caption(str(test["reading"]))


def _next_steps(score: TeamScore) -> None:
    st.markdown("**Next steps**")
    steps = score.next_steps[:5]
    if not steps:
        st.success("Every pillar is at the top level: nothing blocks the next one.")
        return
    for step in steps:
        check = step.check
        with st.container(border=True):
            st.markdown(
                f"**{check.title}** · {check.pillar} · unblocks level {step.unblocks_level} "
                f"· {step.status}",
                help=f"`{check.id}` (weight {check.weight})",
            )
            st.caption(f"How to fix: {check.how_to_fix}")
    if len(score.next_steps) > len(steps):
        st.caption(f"{len(score.next_steps) - len(steps)} more in the table of checks below.")


def _maturity(score: TeamScore) -> None:
    st.header("Maturity", divider="gray")
    overall, *_rest = st.columns([3, 1])
    overall.markdown(
        f"Overall level **{score.overall_level}** · score {format_percent(score.overall_score)} "
        f"· evidence coverage {format_percent(score.overall_coverage)} · "
        f"rubric {score.rubric_version}"
    )
    cards, radar = st.columns([3, 2], vertical_alignment="center")
    with cards:
        for column, pillar in zip(st.columns(3), PILLARS, strict=True):
            with column:
                pillar_card(score.pillars[pillar])
        st.caption(
            "Level: the highest level whose checks all pass or are waived (the weakest link "
            "decides); coverage: the weighted share of checks that evidence or an answer decides."
        )
    with radar:
        _radar(score)
    _crosswalk(score)
    for status in score.contradictions:
        st.warning(
            f"**{status.check.title}** (`{status.check.id}`): {status.contradiction}",
            icon=":material/report:",
        )
    _next_steps(score)
    st.markdown("**Checks that do not pass**")
    open_checks = [s for s in score.checks if s.status in ("fail", "unknown")]
    pillars = st.multiselect(
        "Pillars", list(PILLARS), default=list(PILLARS), key="team_checks_pillars"
    )
    shown = checks_frame([s for s in open_checks if s.check.pillar in pillars])
    if shown.empty:
        st.info("Every check of these pillars passes or is waived.", icon=":material/check:")
    else:
        show_checks(shown, key="team_open_checks")
        st.caption(
            "Unknown: no source could decide; answer it on the Assessment page. "
            "Provenance: automated (read from a source), attested, or stale (expired)."
        )


st.title("Team")
period = selected_period()
team = team_picker("team_page_team")
if team is None:
    no_teams_message()
else:
    period_caption(period, team)
    with section("The team's maturity"):
        (team_score,) = team_scores(period, [team])
        _maturity(team_score)
    st.header("Metrics", divider="gray")
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
