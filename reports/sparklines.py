"""Each metric's year of snapshots, scaled to a unit box, for the sparklines every format draws
(PDF vector lines, HTML inline SVG, Markdown block characters)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.model import Report, TeamSection

BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Sparkline:
    x: tuple[float, ...]
    """0 at the trend year's first day, 1 at the period's last."""
    y: tuple[float, ...]
    """0 at the lowest value or target drawn, 1 at the highest."""
    target: float | None
    """The last snapshot's target on the same scale, if the metric has one."""

    def blocks(self, width: int = 12) -> str:
        """The last `width` snapshots as block characters, for chat and wikis."""
        return "".join(BLOCKS[round(share * (len(BLOCKS) - 1))] for share in self.y[-width:])


def sparklines(section: TeamSection, report: Report) -> dict[str, Sparkline]:
    """A sparkline per metric with at least two snapshots, from one pass over the history."""
    history = section.metric_history.dropna(subset=["value"])
    since = pd.Timestamp(report.trend_since)
    span = (pd.Timestamp(report.periods.current.until) - since).total_seconds() or 1.0
    shares = ((history["day"] - since).dt.total_seconds() / span).to_numpy(dtype=float)
    values = history["value"].to_numpy(dtype=float)
    targets = history["target"].to_numpy(dtype=float)
    lines = {}
    for metric_id, positions in history.groupby("metric_id", sort=False).indices.items():
        if len(positions) < 2:
            continue
        shown = values[positions]
        known = targets[positions][~np.isnan(targets[positions])]
        bounds = np.concatenate([shown, known])
        low, high = float(bounds.min()), float(bounds.max())
        scale = high - low or 1.0
        lines[str(metric_id)] = Sparkline(
            x=tuple(shares[positions].tolist()),
            y=tuple(((shown - low) / scale).tolist()),
            target=(float(known[-1]) - low) / scale if len(known) else None,
        )
    return lines
