"""What the maturity pages share: level badges, check tables and check cells.

Every number comes from `metrics.maturity` (through `pages.common.team_scores`);
these helpers only lay it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

import pandas as pd
import streamlit as st

from metrics.maturity import CheckStatus, PillarScore
from pages.common import (
    CHECK_BADGE,
    CHECK_STATUS_BACKGROUND,
    coloured_table,
    format_percent,
    table_height,
)

LevelColour = Literal["red", "orange", "yellow", "blue", "green"]
LEVEL_BADGE: Final[tuple[LevelColour, ...]] = ("red", "orange", "yellow", "blue", "green")
LEVEL_WORDS: Final = (
    "no practice",
    "foundations",
    "automated training and data",
    "automated deployment and monitoring",
    "full operations",
)
PROVENANCE_WORDS: Final = {
    "automated": "automated (read from a source)",
    "attested": "attested (questionnaire)",
    "stale": "stale (expired)",
}


def score_text(pillar: PillarScore) -> str:
    return format_percent(pillar.score)


def level_badge(level: int, prefix: str = "level") -> None:
    st.badge(
        f"{prefix} {level}",
        color=LEVEL_BADGE[min(max(level, 0), len(LEVEL_BADGE) - 1)],
        help=f"Level {level}: {LEVEL_WORDS[min(max(level, 0), len(LEVEL_WORDS) - 1)]}.",
    )


def pillar_card(pillar: PillarScore) -> None:
    """A pillar's score, level badge and evidence coverage."""
    with st.container(border=True):
        st.metric(
            pillar.pillar,
            score_text(pillar),
            help="The weighted share of the pillar's checks that pass (waived checks left out).",
        )
        level_badge(pillar.level)
        st.caption(f"Evidence coverage {format_percent(pillar.coverage)}")


def status_badge(status: str) -> None:
    st.badge(status, color=CHECK_BADGE.get(status, "gray"))


def checks_frame(statuses: Sequence[CheckStatus], *, details: bool = False) -> pd.DataFrame:
    """One row per check: id, pillar, level, title, status, provenance, evidence
    (with `details`, why and how to fix too)."""
    rows = []
    for status in statuses:
        check = status.check
        row = {
            "Check": check.id,
            "Pillar": check.pillar,
            "Level": check.level,
            "Title": check.title,
            "Status": status.status,
            "Provenance": status.provenance,
            "Evidence": status.evidence,
        }
        if details:
            row["Why"] = check.why
            row["How to fix"] = check.how_to_fix
        rows.append(row)
    columns = ["Check", "Pillar", "Level", "Title", "Status", "Provenance", "Evidence"]
    if details:
        columns += ["Why", "How to fix"]
    return pd.DataFrame(rows, columns=columns)


def show_checks(frame: pd.DataFrame, key: str) -> None:
    """The checks table with the status cell coloured."""
    colours = pd.DataFrame("", index=frame.index, columns=frame.columns)
    colours["Status"] = [CHECK_STATUS_BACKGROUND.get(s, "") for s in frame["Status"]]
    st.dataframe(
        coloured_table(frame, colours),
        hide_index=True,
        key=key,
        height=table_height(len(frame)),
        column_config={
            "Check": st.column_config.TextColumn(width="medium"),
            "Pillar": st.column_config.TextColumn(width="small"),
            "Level": st.column_config.NumberColumn(width="small"),
            "Title": st.column_config.TextColumn(width="medium"),
            "Status": st.column_config.TextColumn(width="small"),
            "Provenance": st.column_config.TextColumn(width="small"),
            "Evidence": st.column_config.TextColumn(width="large"),
            "Why": st.column_config.TextColumn(width="large"),
            "How to fix": st.column_config.TextColumn(width="large"),
        },
    )
