"""Data: the DataOps checks of the rubric for each team in view — status, provenance,
evidence, why the practice matters and how to fix it — with the pillar's score,
level and evidence coverage, as `metrics.maturity` scores them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.maturity import TeamScore
from pages.common import (
    format_percent,
    no_teams_message,
    page_setup,
    period_caption,
    section,
    selected_period,
    table_height,
    team_colour,
    team_scores,
    teams_in_view,
)
from pages.maturity_view import PROVENANCE_WORDS, checks_frame, level_badge, show_checks

page_setup()

PILLAR = "DataOps"
# Beyond this many teams, one summary row each and the checks of one chosen team: forty
# stacked tables are neither readable nor quick to draw. (A comment, not a docstring: a
# page script shows a bare string, as Streamlit's "magic" writes every bare expression.)
MAX_TEAMS_IN_FULL = 6


def _team(score: TeamScore) -> None:
    pillar = score.pillars[PILLAR]
    colour = team_colour(score.team)
    st.markdown(
        f'<span style="color:{colour}; font-size:1.4em">●</span> '
        f"<span style='font-size:1.25em; font-weight:600'>{score.team}</span>",
        unsafe_allow_html=True,
    )
    score_column, level_column, coverage_column, counts_column = st.columns(4)
    score_column.metric(f"{PILLAR} score", format_percent(pillar.score))
    with level_column:
        st.caption(f"{PILLAR} level")
        level_badge(pillar.level)
    coverage_column.metric("Evidence coverage", format_percent(pillar.coverage))
    counts = {s: sum(c.status == s for c in pillar.checks) for s in ("pass", "fail", "unknown")}
    counts_column.metric(
        "Checks passing",
        f"{counts['pass']} of {len(pillar.checks)}",
        help=f"{counts['fail']} fail, {counts['unknown']} unknown, the rest waived.",
    )
    show_checks(checks_frame(pillar.checks, details=True), key=f"data_checks_{score.team}")


def _summary(scores: list[TeamScore]) -> None:
    rows = []
    for score in scores:
        pillar = score.pillars[PILLAR]
        rows.append(
            {
                "Team": score.team,
                "Score": format_percent(pillar.score),
                "Level": pillar.level,
                "Evidence coverage": format_percent(pillar.coverage),
                "Passing": f"{sum(c.status == 'pass' for c in pillar.checks)} of "
                f"{len(pillar.checks)}",
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        height=table_height(len(rows)),
        key="data_summary",
    )


def _picked(scores: list[TeamScore]) -> TeamScore:
    by_team = {score.team: score for score in scores}
    team = st.selectbox("Checks of", list(by_team), key="data_detail_team")
    return by_team[team or scores[0].team]


st.title("Data")
period = selected_period()
period_caption(period)
teams = teams_in_view()
if not teams:
    no_teams_message()
else:
    st.caption(
        "The rubric's DataOps checks: documented, versioned, validated and reviewed data. "
        "Provenance: "
        + "; ".join(PROVENANCE_WORDS.values())
        + ". Unknown checks can be answered on the Assessment page."
    )
    with section("The DataOps checks"):
        st.subheader("DataOps checks")
        scores = team_scores(period, teams)
        if len(scores) > MAX_TEAMS_IN_FULL:
            _summary(scores)
        for team_score in scores if len(scores) <= MAX_TEAMS_IN_FULL else [_picked(scores)]:
            with st.container(border=True):
                _team(team_score)
