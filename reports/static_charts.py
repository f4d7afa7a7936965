"""The PDF's charts as images, drawn with matplotlib's Agg canvas: no browser, no display.

Figures are built with `matplotlib.figure.Figure` rather than pyplot, so no global
figure state is kept between reports or threads. Fonts are DejaVu Sans, the
same as the PDF's text. Team maturity charts share their axes (the same year,
0–100 %), so the axes are drawn once and each team's lines are blitted onto a
copy: drawing a fresh figure per team would cost most of a 40-team report's
time budget. Legends are left to the PDF, which draws them as text.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from reports.formatting import LEGEND_TEAMS, NEUTRAL, PILLAR_STYLE
from reports.model import Report, TeamSection

DPI: Final = 200
MM_PER_INCH: Final = 25.4
PERIOD_SHADE: Final = "#E2E8F0"
GRID: Final = "#E5E7EB"
AXIS: Final = "#CBD5E1"
OVERALL_SNAPSHOT: Final = "overall"
"""The `score_snapshot.pillar` value of a team's overall score."""


def _figure(width_mm: float, height_mm: float) -> tuple[Figure, FigureCanvasAgg]:
    figure = Figure(figsize=(width_mm / MM_PER_INCH, height_mm / MM_PER_INCH), dpi=DPI)
    return figure, FigureCanvasAgg(figure)


def _percent_axes(figure: Figure, box: tuple[float, float, float, float], report: Report) -> Axes:
    """A year of snapshots against 0–100 %, the report's period shaded."""
    period = report.periods.current
    axes = figure.add_axes(box)
    until = pd.Timestamp(period.until)
    # History that begins on the period's last day would make an empty axis: show a day.
    axes.set_xlim(min(pd.Timestamp(report.trend_since), until - pd.Timedelta(days=1)), until)
    axes.set_ylim(0, 100)
    axes.axvspan(
        pd.Timestamp(period.since), pd.Timestamp(period.until), color=PERIOD_SHADE, linewidth=0
    )
    quarters = pd.date_range(report.trend_since, period.until, freq="QS")
    axes.set_xticks(list(quarters), labels=[f"{day:%b %Y}" for day in quarters])
    axes.yaxis.set_major_locator(MaxNLocator(4))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:.0f} %"))
    axes.tick_params(labelsize=6, colors=NEUTRAL, length=2, pad=1.5)
    axes.grid(axis="y", color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(AXIS)
        axes.spines[side].set_linewidth(0.6)
    return axes


def _rgb(canvas: FigureCanvasAgg) -> Image.Image:
    """The canvas as an RGB image; fpdf2 takes it without a PNG round trip."""
    return Image.fromarray(np.asarray(canvas.buffer_rgba())[:, :, :3])  # type: ignore[no-untyped-call]


class MaturityCharts:
    """Each team's overall score (its colour, bold) and pillar scores over the report's year."""

    def __init__(self, report: Report, width_mm: float, height_mm: float) -> None:
        self.figure, self.canvas = _figure(width_mm, height_mm)
        self.axes = _percent_axes(self.figure, (0.085, 0.14, 0.905, 0.82), report)
        self.pillars: dict[str, Line2D] = {}
        for pillar, (colour, dash) in PILLAR_STYLE.items():
            (line,) = self.axes.plot(
                [], [], color=colour, linestyle=dash, linewidth=1.0, animated=True
            )
            self.pillars[pillar] = line
        (self.overall,) = self.axes.plot(
            [], [], linewidth=2.2, marker="o", markersize=2.2, animated=True
        )
        self.canvas.draw()  # type: ignore[no-untyped-call]
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)  # type: ignore[no-untyped-call]

    def image(self, section: TeamSection) -> Image.Image | None:
        history = section.score_history
        if history.empty:
            return None
        self.canvas.restore_region(self.background)  # type: ignore[no-untyped-call]
        by_pillar = dict(tuple(history.groupby("pillar", sort=False)))
        empty = history.iloc[0:0]
        for pillar, line in self.pillars.items():
            rows = by_pillar.get(pillar, empty)
            line.set_data(rows["day"].to_numpy(), rows["score"].to_numpy())
            self.axes.draw_artist(line)
        rows = by_pillar.get(OVERALL_SNAPSHOT, empty)
        self.overall.set_data(rows["day"].to_numpy(), rows["score"].to_numpy())
        self.overall.set_color(section.colour)
        self.axes.draw_artist(self.overall)
        return _rgb(self.canvas)


def organisation_chart(report: Report, width_mm: float, height_mm: float) -> Image.Image | None:
    """Every team's overall maturity score over the year, in its colour (thinner when many)."""
    teams = [section for section in report.teams if not section.score_history.empty]
    if not teams:
        return None
    figure, canvas = _figure(width_mm, height_mm)
    axes = _percent_axes(figure, (0.05, 0.12, 0.94, 0.84), report)
    width = 1.8 if len(teams) <= LEGEND_TEAMS else 0.9
    for section in teams:
        history = section.score_history
        overall = history[history["pillar"] == OVERALL_SNAPSHOT]
        axes.plot(
            overall["day"].to_numpy(),
            overall["score"].to_numpy(),
            color=section.colour,
            linewidth=width,
        )
    canvas.draw()  # type: ignore[no-untyped-call]
    return _rgb(canvas)
