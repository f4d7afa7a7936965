"""How every export writes numbers and colours, so a PDF, a web page and a wiki table agree
with each other, with `cli.py` and with the dashboard."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

NO_VALUE: Final = "—"

TEAM_PALETTE: Final[tuple[str, ...]] = (
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#B279A2",
    "#E45756",
    "#72B7B2",
    "#EECA3B",
    "#9D755D",
    "#FF9DA6",
    "#6C7A89",
    "#1F9E89",
    "#D4A6C8",
    "#8CD17D",
    "#B6992D",
    "#499894",
    "#86BCB6",
    "#F1CE63",
    "#A0CBE8",
    "#FFBE7D",
    "#D37295",
)
"""The dashboard's team palette (`pages.common.TEAM_PALETTE`, which reports may not import;
a test keeps the two equal), so a team has the same colour on screen and on paper."""
NO_TEAM_COLOUR: Final = "#94A3B8"
LEGEND_TEAMS: Final = 8
"""Up to this many teams an organisation chart has a legend and bold lines; beyond, thin
lines, and the summary table's colour swatches name them."""
NEUTRAL: Final = "#64748B"
INK: Final = "#1E293B"

STATUS_COLOUR: Final[dict[str, str]] = {
    "ok": "#16A34A",
    "breach": "#DC2626",
    "unknown": "#94A3B8",
    "pass": "#16A34A",
    "fail": "#DC2626",
    "waived": "#2563EB",
}
STATUS_TINT: Final[dict[str, str]] = {
    "ok": "#DCFCE7",
    "breach": "#FEE2E2",
    "unknown": "#F1F5F9",
    "pass": "#DCFCE7",
    "fail": "#FEE2E2",
    "waived": "#DBEAFE",
}
LEVEL_TINT: Final[tuple[str, ...]] = ("#FEE2E2", "#FEF3C7", "#ECFCCB", "#DCFCE7", "#BBF7D0")
"""Level 0 to 4, red to green, light enough for black text."""
PILLAR_STYLE: Final[dict[str, tuple[str, str]]] = {
    "DataOps": ("#94A3B8", "solid"),
    "DevOps": ("#64748B", "dashed"),
    "ModelOps": ("#334155", "dotted"),
}
"""Pillar lines beside a team's overall score: greys told apart by dash, so that the team's
own colour marks only its overall score (the palette has no grey)."""


def team_colour(team: str, teams: Sequence[str]) -> str:
    """The colour of `team` by its place in the sorted team list, as on the dashboard."""
    ordered = sorted(teams)
    if team not in ordered:
        return NO_TEAM_COLOUR
    return TEAM_PALETTE[ordered.index(team) % len(TEAM_PALETTE)]


def known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def format_number(value: float | None) -> str:
    """As `cli.py metrics` prints a value: thousands without decimals, else two decimals."""
    if value is None or not known(value):
        return NO_VALUE
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"


def format_score(value: float | None) -> str:
    return NO_VALUE if value is None or not known(value) else f"{format_number(value)} %"


def format_change(value: float | None) -> str:
    """A signed difference; "±0" when nothing moved, "—" when either side is unknown."""
    if value is None or not known(value):
        return NO_VALUE
    if round(value, 2) == 0:
        return "±0"
    sign = "+" if value > 0 else "−"
    return sign + format_number(abs(value))


def format_target(better: str, target: float | None) -> str:
    """The target with the direction that meets it, e.g. "≤ 300.00"."""
    if target is None or not known(target):
        return NO_VALUE
    return f"{'≥' if better == 'higher' else '≤'} {format_number(target)}"


def format_level(level: int | None) -> str:
    return NO_VALUE if level is None else f"L{level}"


def level_change(level: int | None, previous: int | None) -> str:
    if level is None or previous is None:
        return NO_VALUE
    if level == previous:
        return "="
    return f"{'+' if level > previous else '−'}{abs(level - previous)}"


def format_level_change(level: int, previous: int | None) -> str:
    """A level with its change in brackets, e.g. "L2 (+1)"."""
    return f"{format_level(level)} ({level_change(level, previous)})"


def improved(change: float | None, better: str) -> bool | None:
    """Whether a change is for the better (None when unknown or nothing moved)."""
    if change is None or not known(change) or round(change, 2) == 0:
        return None
    return change > 0 if better == "higher" else change < 0
