"""Stakeholder update metrics from meetings (DESIGN §6; seed 004: every six weeks)."""

from __future__ import annotations

import pandas as pd

from metrics.catalog import Measured, metric
from metrics.context import Inputs, MetricContext

_DAY = pd.Timedelta(days=1)


@metric(
    id="days_since_stakeholder_update",
    name="Days since the last stakeholder update",
    unit="days",
    better="lower",
    group="Stakeholders",
    source="meetings",
    reads=("meetings",),
    formula="period end − start of the last team meeting",
    unknown_when="no team meeting is recorded",
    target=lambda t: t.meeting_every_days,
    target_text="meeting_every_days",
)
def days_since_stakeholder_update(data: Inputs, ctx: MetricContext) -> Measured:
    """Days from the start of the team's last meeting before the period end to
    the period end (the meeting may precede the period)."""
    meetings = data.meetings.sort_values("start")
    rows = meetings.groupby("team").tail(1)[["team", "title", "start"]]
    values = (pd.Timestamp(ctx.end) - rows.set_index("team")["start"]) / _DAY
    return Measured(values, rows.reset_index(drop=True))


@metric(
    id="stakeholder_update_cadence_pct",
    name="Stakeholder update cadence kept",
    unit="%",
    better="higher",
    group="Stakeholders",
    source="meetings",
    reads=("meetings",),
    formula="% of gaps between consecutive meetings (and last meeting → period end) "
    "≤ meeting_every_days",
    unknown_when="no team meeting is recorded",
)
def stakeholder_update_cadence_pct(data: Inputs, ctx: MetricContext) -> Measured:
    """Percentage of the gaps that are at most `meeting_every_days`, counting each
    gap that ends with a meeting in the period (from the meeting before it, which
    may precede the period) and the gap from the last meeting to the period end."""
    meetings = data.meetings[["team", "title", "start"]].sort_values(["team", "start"])
    closing = pd.DataFrame(
        {"team": meetings["team"].unique(), "title": "(period end)", "start": ctx.end}
    ).astype({"start": meetings["start"].dtype})
    points = pd.concat([meetings, closing], ignore_index=True).sort_values(
        ["team", "start"], kind="stable"
    )
    points["from"] = points.groupby("team")["start"].shift()
    gaps = points[points["from"].notna() & (points["start"] >= pd.Timestamp(ctx.start))]
    rows = gaps.rename(columns={"start": "to", "title": "to_meeting"})[
        ["team", "from", "to", "to_meeting"]
    ]
    rows = rows.assign(gap_days=(rows["to"] - rows["from"]) / _DAY)
    rows["kept"] = rows["gap_days"] <= rows["team"].map(ctx.target("meeting_every_days")).astype(
        float
    )
    values = 100 * rows.groupby("team")["kept"].mean()
    return Measured(values, rows.reset_index(drop=True))


@metric(
    id="stakeholder_attendance_pct",
    name="Stakeholder attendance",
    unit="%",
    better="higher",
    group="Stakeholders",
    source="meetings",
    reads=("meetings", "attendees"),
    formula="mean over meetings of the share of the team's stakeholders who attended",
    unknown_when="the team lists no stakeholders or had no meeting in the period",
    target=lambda t: t.stakeholder_attendance_pct,
    target_text="stakeholder_attendance_pct",
)
def stakeholder_attendance_pct(data: Inputs, ctx: MetricContext) -> Measured:
    """Mean, over the team's meetings in the period, of the share of the team's
    configured stakeholders who attended (e-mails compared case-insensitively)."""
    wanted = pd.DataFrame(
        [
            (team, email.casefold())
            for team, emails in ctx.stakeholders.items()
            for email in set(emails)
        ],
        columns=["team", "email"],
    )
    counts = wanted.drop_duplicates().groupby("team").size()
    meetings = data.meetings[data.meetings["start"] >= pd.Timestamp(ctx.start)]
    meetings = meetings[meetings["team"].isin(counts.index)]
    attendees = data.attendees[data.attendees["attended"]]
    present = attendees.assign(email=attendees["email"].str.casefold()).merge(
        wanted.drop_duplicates(), on=["team", "email"]
    )
    came = present.groupby("meeting_id")["email"].nunique()
    rows = meetings[["team", "id", "title", "start"]].copy()
    rows["stakeholders_present"] = rows["id"].map(came).fillna(0).astype(int)
    rows["share_pct"] = 100 * rows["stakeholders_present"] / rows["team"].map(counts).astype(float)
    values = rows.groupby("team")["share_pct"].mean()
    return Measured(values, rows.drop(columns="id").reset_index(drop=True))
