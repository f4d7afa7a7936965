"""The report as a PDF for leadership's mail: made with fpdf2 and matplotlib, no browser.

Layout: a summary page (key figures, every team's maturity over the year, one
row per team), one page per team (pillar scores with their change, a maturity
chart, every metric against its target with a sparkline, next steps, missed
targets, stale models), then the methods appendix.

A 40-team report holds thousands of table cells, so text is placed with
`FPDF.text` at computed positions rather than with `cell`, `multi_cell` or
`table`, which lay out every string again and cost several times more; wrapped
text is split once per distinct string (next steps repeat across teams).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

import matplotlib
import numpy as np
from fpdf import FPDF
from PIL import Image

from metrics.rubric import LEVELS
from reports.formatting import (
    INK,
    LEGEND_TEAMS,
    LEVEL_TINT,
    NEUTRAL,
    NO_VALUE,
    PILLAR_STYLE,
    STATUS_COLOUR,
    STATUS_TINT,
    format_change,
    format_level,
    format_level_change,
    format_number,
    format_score,
    format_target,
    improved,
)
from reports.model import MetricLine, PillarLine, Report, TeamSection
from reports.sparklines import Sparkline, sparklines
from reports.static_charts import MaturityCharts, organisation_chart

FONT: Final = "DejaVu"
FONT_DIR: Final = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
"""matplotlib ships DejaVu Sans, so the PDF needs no system font and matches its charts."""
PAGE_WIDTH: Final = 210.0
MARGIN: Final = 14.0
WIDTH: Final = PAGE_WIDTH - 2 * MARGIN
TOP: Final = 16.0
BOTTOM: Final = 281.0
PAD: Final = 1.0
PT: Final = 0.3528
"""Millimetres per typographic point."""
ROW: Final = 4.8
METRIC_ROW: Final = 4.4
RULE: Final = "#E2E8F0"
HEADER_FILL: Final = "#F1F5F9"
GOOD: Final = "#15803D"
BAD: Final = "#B91C1C"
BAND: Final = "#0F172A"
CHART_WIDTH: Final = 96.0
CHART_HEIGHT: Final = 34.0
SQUEEZE: Final = 0.88
"""Text up to this much too wide for its box is set smaller rather than cut."""
SHORT_LABEL: Final = 10
"""A previous period's label longer than this is headed "Previous" in narrow columns."""

Align = Literal["L", "R", "C"]
Drawing = Callable[["_Document", float, float, float, float], None]


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    align: Align = "L"


@dataclass(frozen=True)
class Cell:
    text: str = ""
    fill: str | None = None
    colour: str = INK
    bold: bool = False
    size: float | None = None
    """A smaller face than the table's, for long units."""
    link: str = ""
    """A named destination ("#team-3") the cell jumps to."""
    indent: float = 0.0
    """Room kept before the text, for a drawing (a colour swatch)."""
    drawing: Drawing | None = None
    """Drawn into the cell after its text (a sparkline, a colour swatch)."""


Row = Sequence[Cell] | str
"""A table row, or a group heading spanning the table."""


class _Document(FPDF):
    def __init__(self, report: Report) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report = report
        self.running_title = ""
        for style, name in (
            ("", "DejaVuSans"),
            ("B", "DejaVuSans-Bold"),
            ("I", "DejaVuSans-Oblique"),
        ):
            self.add_font(FONT, style, FONT_DIR / f"{name}.ttf")
        self.set_margins(MARGIN, TOP, MARGIN)
        self.set_auto_page_break(False)
        self.set_title(report.title)
        self.set_subject(report.subtitle)
        self.set_creator("MLOps Maturity Dashboard")
        self.set_lang("en")
        self.set_creation_date(report.generated_at)
        self.alias_nb_pages()
        self.y_at = TOP
        """Where the next block starts on the current page."""
        self.wraps: dict[tuple[str, float, str, str, float], list[str]] = {}
        self.widths: dict[tuple[str, str, str, float], float] = {}

    # --- page furniture ----------------------------------------------------------------

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.font(7, colour=NEUTRAL)
        self.write_at(
            MARGIN - PAD, 8, WIDTH / 2, 4, f"{self.report.title} · {self.report.periods.label}"
        )
        self.write_at(MARGIN + WIDTH / 2 + PAD, 8, WIDTH / 2, 4, self.running_title, "R")
        self.rule(12.5)

    def footer(self) -> None:
        report = self.report
        self.font(6.5, colour=NEUTRAL)
        generated = f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC"
        rubric = f" · rubric {report.rubric_version}" if report.rubric_version else ""
        demo = " · demo organisation (generated data)" if report.demo_anchor else ""
        self.write_at(MARGIN - PAD, 286, WIDTH * 0.8, 4, generated + rubric + demo)
        # cell(), not text(): only cell() replaces the total page count's alias.
        self.set_xy(MARGIN + WIDTH * 0.8, 286)
        self.cell(WIDTH * 0.2, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    def new_page(self) -> None:
        self.add_page()
        self.y_at = TOP

    # --- text ---------------------------------------------------------------------------

    def font(self, size: float, style: str = "", colour: str = INK) -> None:
        """Face, size and colour together: every block sets all three."""
        self.set_font(FONT, style, size)
        self.set_text_color(colour)

    def measure(self, text: str) -> float:
        """The width of `text` in the current font; names, units and statuses repeat on every
        team's page, so widths are remembered."""
        key = (text, self.font_family, self.font_style, self.font_size_pt)
        width = self.widths.get(key)
        if width is None:
            width = self.widths[key] = self.get_string_width(text)
        return width

    def fitted(self, text: str, width: float) -> tuple[str, float]:
        """`text` cut with an ellipsis to fit `width` mm in the current font, and its width."""
        room = width - 2 * PAD
        shown = self.measure(text)
        if shown <= room:
            return text, shown
        while text and self.measure(text + "…") > room:
            text = text[:-1]
        text = text.rstrip() + "…"
        return text, self.measure(text)

    def write_at(
        self, x: float, y: float, width: float, height: float, text: str, align: Align = "L"
    ) -> None:
        """One line of text in the box (x, y, width, height), vertically centred; a little
        too long, it is set a little smaller, much too long, it is cut."""
        if not text:
            return
        size = self.font_size_pt
        squeeze = (width - 2 * PAD) / self.measure(text)
        if SQUEEZE <= squeeze < 1:
            self.set_font_size(size * squeeze)
        shown, used = self.fitted(text, width)
        left = {"L": x + PAD, "R": x + width - PAD - used, "C": x + (width - used) / 2}[align]
        self.text(left, y + height / 2 + 0.35 * self.font_size, shown)
        self.set_font_size(size)

    def wrapped(self, text: str, width: float) -> list[str]:
        """`text` split into lines of `width` mm, once per distinct string and face."""
        key = (text, width, self.font_family, self.font_style, self.font_size_pt)
        if key not in self.wraps:
            lines = self.multi_cell(width, text=text, dry_run=True, output="LINES")
            self.wraps[key] = [str(line) for line in lines] if isinstance(lines, list) else [text]
        return self.wraps[key]

    def paragraph(
        self,
        text: str,
        size: float = 7.5,
        colour: str = NEUTRAL,
        width: float = WIDTH,
        x: float = MARGIN,
        style: str = "",
        leading: float = 1.3,
    ) -> None:
        self.font(size, style, colour)
        line_height = size * PT * leading
        for line in self.wrapped(text, width):
            self.room(line_height)
            self.write_at(x - PAD, self.y_at, width + 2 * PAD, line_height, line)
            self.y_at += line_height

    def heading(self, text: str, size: float = 10, space: float = 3.5) -> None:
        self.room(size * PT * 1.6 + space + 14)
        self.y_at += space
        self.font(size, "B")
        self.write_at(MARGIN - PAD, self.y_at, WIDTH, size * PT * 1.4, text)
        self.y_at += size * PT * 1.4 + 1.2

    # --- drawing ------------------------------------------------------------------------

    def room(self, height: float) -> None:
        """Start a new page unless `height` mm still fit on this one."""
        if self.y_at + height > BOTTOM:
            self.new_page()

    def rule(self, y: float, x: float = MARGIN, width: float = WIDTH) -> None:
        self.set_draw_color(RULE)
        self.set_line_width(0.15)
        self.line(x, y, x + width, y)

    def box(self, x: float, y: float, width: float, height: float, fill: str) -> None:
        self.set_fill_color(fill)
        self.rect(x, y, width, height, style="F")

    def picture(
        self, image: Image.Image | None, x: float, y: float, width: float, height: float, empty: str
    ) -> None:
        if image is None:
            self.font(7.5, "I", NEUTRAL)
            self.write_at(x, y, width, height, empty, "C")
            return
        self.image(image, x=x, y=y, w=width, h=height)

    def swatch(self, colour: str) -> Drawing:
        def draw(document: _Document, x: float, y: float, _width: float, height: float) -> None:
            document.box(x + 0.6, y + 1.1, 1.6, height - 2.2, colour)

        return draw

    def draw_table(
        self,
        columns: Sequence[Column],
        rows: Sequence[Row],
        size: float = 7.2,
        left: float = MARGIN,
        row_height: float = ROW,
    ) -> None:
        """Rows of single-line cells, cut to fit; the heading repeats on every page."""
        total = sum(column.width for column in columns)

        def header() -> None:
            self.box(left, self.y_at, total, row_height, HEADER_FILL)
            self.font(size - 0.4, "B", NEUTRAL)
            x = left
            for column in columns:
                self.write_at(x, self.y_at, column.width, row_height, column.title, column.align)
                x += column.width
            self.y_at += row_height

        self.room(3 * row_height)
        header()
        for row in rows:
            if self.y_at + row_height > BOTTOM:
                self.new_page()
                header()
            y = self.y_at
            if isinstance(row, str):
                self.font(size - 0.2, "B")
                self.write_at(left, y, total, row_height, row)
            else:
                x = left
                for column, cell in zip(columns, row, strict=True):
                    if cell.fill:
                        self.box(x, y, column.width, row_height, cell.fill)
                    self.font(cell.size or size, "B" if cell.bold else "", cell.colour)
                    self.write_at(
                        x + cell.indent,
                        y,
                        column.width - cell.indent,
                        row_height,
                        cell.text,
                        column.align,
                    )
                    if cell.link:
                        self.link(x, y, column.width, row_height, cell.link)
                    if cell.drawing is not None:
                        cell.drawing(self, x, y, column.width, row_height)
                    x += column.width
            self.rule(y + row_height, left, total)
            self.y_at = y + row_height


# --- cells -----------------------------------------------------------------------------


def _change_cell(change: float | None, better: str) -> Cell:
    verdict = improved(change, better)
    colour = NEUTRAL if verdict is None else GOOD if verdict else BAD
    return Cell(format_change(change), colour=colour)


def _pillar_cell(line: PillarLine) -> Cell:
    return Cell(
        f"{format_score(line.score)} · {format_level(line.level)}", fill=LEVEL_TINT[line.level]
    )


def _level_cell(line: PillarLine) -> Cell:
    return Cell(
        format_level_change(line.level, line.previous_level),
        fill=LEVEL_TINT[line.level],
    )


def _status_cell(status: str) -> Cell:
    return Cell(
        status, fill=STATUS_TINT[status], colour=STATUS_COLOUR[status], bold=status == "breach"
    )


def _sparkline(line: Sparkline, colour: str) -> Drawing:
    """The metric's year of snapshots as a line scaled to the cell, its last target dashed."""
    xs_share, ys_share = np.array(line.x), np.array(line.y)

    def draw(document: _Document, x: float, y: float, width: float, height: float) -> None:
        left, right, top, bottom = x + 1, x + width - 2, y + 0.9, y + height - 0.9
        if line.target is not None:
            level = bottom - line.target * (bottom - top)
            document.set_draw_color(NEUTRAL)
            document.set_line_width(0.15)
            document.set_dash_pattern(dash=0.5, gap=0.5)
            document.line(left, level, right, level)
            document.set_dash_pattern()
        xs = (left + xs_share * (right - left)).tolist()
        ys = (bottom - ys_share * (bottom - top)).tolist()
        document.set_draw_color(colour)
        document.set_line_width(0.3)
        document.polyline(list(zip(xs, ys, strict=True)))
        document.set_fill_color(colour)
        document.circle(xs[-1], ys[-1], 0.45, style="F")

    return draw


# --- the summary page ------------------------------------------------------------------


def _destination(index: int) -> str:
    return f"team-{index}"


def _title_band(document: _Document, report: Report) -> None:
    document.box(0, 0, PAGE_WIDTH, 38, BAND)
    document.font(20, "B", "#FFFFFF")
    document.write_at(MARGIN - PAD, 10, WIDTH, 9, report.title)
    document.font(9.5, "", "#CBD5E1")
    document.write_at(MARGIN - PAD, 19.5, WIDTH, 5, report.periods.current_text)
    document.font(8, "", "#CBD5E1")
    document.write_at(MARGIN - PAD, 24.5, WIDTH, 4.5, f"against {report.periods.previous_text}")
    document.font(7, "", "#94A3B8")
    teams = f"{len(report.teams)} team{'s' if len(report.teams) != 1 else ''}"
    generated = f"{teams} · generated {report.generated_at:%d %B %Y, %H:%M} UTC"
    document.write_at(MARGIN - PAD, 30, WIDTH, 4, generated)
    document.y_at = 44
    if report.demo_anchor is not None:
        text = (
            "Demo organisation: every number in this report is generated data anchored on "
            f"{report.demo_anchor:%d %B %Y}. Configure your teams in mlops.toml and sync to "
            "report on your own."
        )
        document.font(7.5, "", "#92400E")
        lines = document.wrapped(text, WIDTH - 6)
        height = 4.0 * len(lines) + 3
        document.box(MARGIN, document.y_at, WIDTH, height, "#FEF3C7")
        for index, line in enumerate(lines):
            document.write_at(MARGIN + 2, document.y_at + 1.5 + 4 * index, WIDTH - 4, 4, line)
        document.y_at += height + 3


def _tiles(document: _Document, report: Report) -> None:
    met, judged = report.targets_met
    stale = sum(len(section.stale_models) for section in report.teams)
    tiles = [
        (str(len(report.teams)), "teams reported"),
        (f"{met} of {judged}", "targets met"),
        (str(judged - met), "targets missed"),
        (str(stale), "stale models"),
    ]
    gap = 4.0
    width = (WIDTH - gap * (len(tiles) - 1)) / len(tiles)
    top = document.y_at
    for index, (figure, caption) in enumerate(tiles):
        x = MARGIN + index * (width + gap)
        document.set_fill_color("#F8FAFC")
        document.set_draw_color(RULE)
        document.set_line_width(0.3)
        document.rect(x, top, width, 17, style="DF", round_corners=True, corner_radius=1.5)
        document.font(15, "B")
        document.write_at(x + 2, top + 2.5, width - 4, 7, figure)
        document.font(7, "", NEUTRAL)
        document.write_at(x + 2, top + 10.5, width - 4, 4, caption)
    document.y_at = top + 21
    _level_bar(document, report)


def _level_bar(document: _Document, report: Report) -> None:
    """How many teams stand at each overall level, as one bar split by level."""
    counts = report.level_counts
    total = sum(counts.values())
    if not total:
        return
    label = 38.0
    document.font(7.5, "B")
    document.write_at(MARGIN - PAD, document.y_at, label, 4.6, "Teams by overall level")
    x, width = MARGIN + label, WIDTH - label
    for level, count in counts.items():
        if not count:
            continue
        share = width * count / total
        document.box(x, document.y_at, share, 4.6, LEVEL_TINT[level])
        document.font(6.8)
        document.write_at(x, document.y_at, share, 4.6, f"L{level}: {count}", "C")
        x += share
    document.y_at += 6.5
    document.paragraph(
        "Levels: " + "; ".join(f"L{level} {words}" for level, words in LEVELS.items()) + ".",
        size=6.5,
    )


def _organisation(document: _Document, report: Report) -> None:
    document.heading("Overall maturity over the year")
    height = 50.0
    document.room(height + 12)
    document.picture(
        organisation_chart(report, WIDTH, height),
        MARGIN,
        document.y_at,
        WIDTH,
        height,
        "No maturity history yet: the daily snapshot stores it.",
    )
    document.y_at += height + 1
    if len(report.teams) <= LEGEND_TEAMS:
        x = MARGIN
        document.font(6.8)
        for section in report.teams:
            document.box(x, document.y_at + 1.6, 4, 1.2, section.colour)
            width = document.get_string_width(section.team) + 10
            document.write_at(x + 4.5, document.y_at, width, 4.4, section.team)
            x += width
        document.y_at += 5
    document.paragraph(
        "Each point is a team's overall score over the 90 days ending that day, from the "
        "stored snapshots; the shaded band is this report's period.",
        size=6.5,
    )


def _glance(document: _Document, report: Report) -> None:
    document.heading("Teams at a glance")
    columns = [
        Column("Team", 44),
        Column("Level", 16),
        Column("Overall", 20, "R"),
        Column("Change", 14, "R"),
        Column("DataOps", 22, "R"),
        Column("DevOps", 22, "R"),
        Column("ModelOps", 22, "R"),
        Column("Missed", 12, "R"),
        Column("Stale", 10, "R"),
    ]
    rows: list[Row] = []
    for index, section in enumerate(report.teams):
        overall = section.overall
        pillars = {line.pillar: line for line in section.pillars[1:]}
        rows.append(
            [
                Cell(
                    section.team,
                    link=f"#{_destination(index)}",
                    drawing=document.swatch(section.colour),
                    indent=2.6,
                ),
                _level_cell(overall),
                Cell(format_score(overall.score), bold=True),
                _change_cell(overall.change, "higher"),
                *(_pillar_cell(pillars[name]) for name in ("DataOps", "DevOps", "ModelOps")),
                Cell(str(len(section.breaches)), colour=BAD if section.breaches else INK),
                Cell(str(len(section.stale_models)), colour=BAD if section.stale_models else INK),
            ]
        )
    document.draw_table(columns, rows)
    document.y_at += 1.5
    document.paragraph(
        f"Level: overall level, in brackets its change since {report.periods.previous_label}. "
        "Change: overall score points since then. Pillar cells: score · level, coloured from "
        "L0 (red) to L4 (green). Missed: metrics that miss their target. Stale: models whose "
        "serving version is older than the team's stale_after_days. Click a team for its page.",
        size=6.5,
    )


def _summary(document: _Document, report: Report) -> None:
    document.running_title = "Summary"
    document.new_page()
    document.start_section("Summary")
    _title_band(document, report)
    _tiles(document, report)
    _organisation(document, report)
    _glance(document, report)


# --- a team's page ---------------------------------------------------------------------


def _team_heading(document: _Document, section: TeamSection, report: Report) -> None:
    top = document.y_at
    overall = section.overall
    document.box(MARGIN, top, 2.2, 13, section.colour)
    document.font(16, "B")
    document.write_at(MARGIN + 4, top, WIDTH - 42, 7.5, section.team)
    document.box(MARGIN + WIDTH - 34, top + 0.5, 34, 7, LEVEL_TINT[overall.level])
    document.font(10, "B")
    document.write_at(MARGIN + WIDTH - 34, top + 0.5, 34, 7, f"Level {overall.level} overall", "C")
    document.font(8, "", NEUTRAL)
    document.write_at(
        MARGIN + 4,
        top + 8,
        WIDTH - 4,
        5,
        f"Overall score {format_score(overall.score)} ({format_change(overall.change)} since "
        f"{report.periods.previous_label}) · evidence coverage {format_score(overall.coverage)}"
        f" · {report.periods.label}",
    )
    document.y_at = top + 17


def _pillar_legend(document: _Document, x: float, y: float, colour: str) -> None:
    """The maturity chart's legend, drawn as text beside its title."""
    document.font(6.3, "", NEUTRAL)
    entries = [
        ("Overall", colour, "solid", 0.8),
        *[(p, c, d, 0.3) for p, (c, d) in PILLAR_STYLE.items()],
    ]
    for name, line_colour, dash, width in reversed(entries):
        label = document.get_string_width(name) + 2 * PAD + 0.5
        x -= label
        document.write_at(x, y, label, 4, name)
        x -= 5
        document.set_draw_color(line_colour)
        document.set_line_width(width)
        if dash != "solid":
            document.set_dash_pattern(dash=0.9 if dash == "dashed" else 0.3, gap=0.5)
        document.line(x, y + 2, x + 4.5, y + 2)
        document.set_dash_pattern()
        x -= 2.5


def _pillars(
    document: _Document, section: TeamSection, charts: MaturityCharts, previous_label: str
) -> None:
    columns = [
        Column("Pillar", 20),
        Column("Score", 18, "R"),
        Column("Change", 14, "R"),
        Column("Level", 17),
        Column("Coverage", 17, "R"),
    ]
    table_width = sum(column.width for column in columns)
    chart_x = MARGIN + WIDTH - CHART_WIDTH
    top = document.y_at
    document.font(9, "B")
    document.write_at(MARGIN - PAD, top, table_width, 5, "Maturity")
    document.write_at(chart_x - PAD, top, CHART_WIDTH, 5, "Maturity over the year")
    document.y_at = top + 6
    rows: list[Row] = [
        [
            Cell(line.pillar, bold=True),
            Cell(format_score(line.score), bold=line is section.overall),
            _change_cell(line.change, "higher"),
            _level_cell(line),
            Cell(format_score(line.coverage)),
        ]
        for line in section.pillars
    ]
    document.draw_table(columns, rows, size=7.4, left=MARGIN)
    document.font(6.3, "", NEUTRAL)
    document.write_at(
        MARGIN - PAD,
        document.y_at + 0.5,
        table_width,
        3.4,
        f"Change: score points and levels since {previous_label}.",
    )
    document.picture(
        charts.image(section),
        chart_x,
        top + 6,
        CHART_WIDTH,
        CHART_HEIGHT,
        "No maturity history yet",
    )
    _pillar_legend(document, MARGIN + WIDTH, top + 6 + CHART_HEIGHT + 0.3, section.colour)
    document.y_at = top + 6 + CHART_HEIGHT + 5.5
    if section.crosswalk:
        document.font(6.5, "", NEUTRAL)
        document.write_at(
            MARGIN - PAD, document.y_at, WIDTH, 3.6, f"Public models: {section.crosswalk}."
        )
        document.y_at += 4


def _metrics(document: _Document, section: TeamSection, report: Report) -> None:
    document.heading("Metrics against targets", size=9, space=2.5)
    previous = report.periods.previous_label
    columns = [
        Column("Metric", 56),
        Column("Value", 18, "R"),
        Column("Unit", 22),
        Column("Target", 17, "R"),
        Column("Status", 14),
        Column(previous if len(previous) <= SHORT_LABEL else "Previous", 18, "R"),
        Column("Change", 20, "R"),
        Column("Trend", 17),
    ]
    lines = sparklines(section, report)
    rows: list[Row] = []
    group = ""
    for line in section.metrics:
        if line.group != group:
            group = line.group
            rows.append(group)
        spark = lines.get(line.metric_id)
        rows.append(_metric_row(line, None if spark is None else _sparkline(spark, section.colour)))
    document.draw_table(columns, rows, size=7.0, row_height=METRIC_ROW)
    document.font(6.3, "", NEUTRAL)
    document.write_at(
        MARGIN - PAD,
        document.y_at + 0.5,
        WIDTH,
        3.6,
        f"Bold: headline metrics · after a DORA key, its tier · previous: {previous} · "
        "trend: a year of snapshots, the target dashed · definitions in the methods appendix",
    )
    document.y_at += 4.5


def _metric_row(line: MetricLine, sparkline: Drawing | None) -> list[Cell]:
    trend = (
        Cell("no history", colour=NEUTRAL, size=6.2)
        if sparkline is None
        else Cell(drawing=sparkline)
    )
    tier = f" · {line.tier}" if line.tier else ""
    return [
        Cell(line.name + tier, bold=line.headline),
        Cell(format_number(line.value), bold=line.headline),
        Cell(line.unit, colour=NEUTRAL, size=6.1),
        Cell(format_target(line.better, line.target), colour=NEUTRAL),
        _status_cell(line.status),
        Cell(format_number(line.previous), colour=NEUTRAL),
        _change_cell(line.change, line.better),
        trend,
    ]


def _steps(
    document: _Document, section: TeamSection, width: float
) -> list[tuple[list[str], list[str]]]:
    """Each next step's title and how-to-fix, already split into lines of `width`."""
    steps = []
    for index, step in enumerate(section.top_steps, start=1):
        document.font(7.4, "B")
        title = document.wrapped(
            f"{index}. {step.title} ({step.pillar} L{step.level}, {step.status})", width
        )
        document.font(6.8)
        steps.append((title, document.wrapped(step.how_to_fix, width)))
    return steps


def _side_table(
    document: _Document, left: float, title: str, columns: Sequence[Column], rows: Sequence[Row]
) -> None:
    document.font(9, "B")
    document.write_at(left - PAD, document.y_at, 80, 6, title)
    document.y_at += 6
    if rows:
        document.draw_table(columns, rows, size=6.8, left=left, row_height=4.2)
    else:
        document.font(7.2, "I", NEUTRAL)
        document.write_at(left - PAD, document.y_at, 40, 4, "None.")
        document.y_at += 4
    document.y_at += 2


def _actions(document: _Document, section: TeamSection) -> None:
    """Next steps beside the missed targets and the stale models, kept on one page."""
    left_width, gap = 92.0, 8.0
    right = MARGIN + left_width + gap
    right_width = WIDTH - left_width - gap
    steps = _steps(document, section, left_width)
    missed: list[Row] = [
        [
            Cell(line.name),
            Cell(format_number(line.value), colour=BAD),
            Cell(format_target(line.better, line.target), colour=NEUTRAL),
        ]
        for line in section.breaches
    ]
    stale: list[Row] = [
        [Cell(model.model), Cell(model.serving_version), Cell(f"{model.age_days:.0f}", colour=BAD)]
        for model in section.stale_models
    ]
    steps_height = 7 + sum(3.7 * len(title) + 3.4 * len(fix) + 1.4 for title, fix in steps)
    side_height = sum(8 + (4.2 * (len(rows) + 1) if rows else 4) for rows in (missed, stale))
    document.room(max(steps_height, side_height) + 4)
    document.y_at += 3
    top = document.y_at
    document.font(9, "B")
    document.write_at(MARGIN - PAD, top, left_width, 6, "Next steps to the next level")
    y = top + 6
    if not steps:
        document.font(7.2, "I", NEUTRAL)
        document.write_at(
            MARGIN - PAD, y, left_width, 4, "None: no failing check blocks a next level."
        )
        y += 4
    for title, fix in steps:
        document.font(7.4, "B")
        for line in title:
            document.write_at(MARGIN - PAD, y, left_width + 2 * PAD, 3.7, line)
            y += 3.7
        document.font(6.8, "", NEUTRAL)
        for line in fix:
            document.write_at(MARGIN - PAD, y, left_width + 2 * PAD, 3.4, line)
            y += 3.4
        y += 1.4
    document.y_at = top
    metric_width = right_width - 34
    _side_table(
        document,
        right,
        "Targets missed",
        [Column("Metric", metric_width), Column("Value", 16, "R"), Column("Target", 18, "R")],
        missed,
    )
    _side_table(
        document,
        right,
        "Stale models",
        [Column("Model", metric_width), Column("Version", 16, "R"), Column("Age (days)", 18, "R")],
        stale,
    )
    document.y_at = max(y, document.y_at)


def _team(
    document: _Document, section: TeamSection, report: Report, index: int, charts: MaturityCharts
) -> None:
    document.running_title = section.team
    document.new_page()
    document.add_link(name=_destination(index))
    document.start_section(section.team)
    _team_heading(document, section, report)
    _pillars(document, section, charts, report.periods.previous_label)
    _metrics(document, section, report)
    _actions(document, section)


# --- the methods appendix --------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    return NO_VALUE if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _methods_text(report: Report) -> list[str]:
    periods = report.periods
    current, previous = periods.current, periods.previous
    return [
        f"Period: {periods.label}, {current.since:%d %b %Y} to {current.until:%d %b %Y} "
        f"({current.days} whole UTC days), compared with {periods.previous_label}, "
        f"{previous.since:%d %b %Y} to {previous.until:%d %b %Y} ({previous.days} days). Every "
        "metric is computed as of its period's end by the same engine as the dashboard and "
        "cli.py metrics; rates, medians and percentages compare across periods of different "
        "length, counts such as requests do not. A metric without data is unknown, never 0.",
        f"Maturity: rubric {report.rubric_version or NO_VALUE}. A pillar's score is the weighted "
        "share of its checks that pass (waived checks leave the denominator); its level is the "
        "highest level whose checks all pass or are waived; the overall level is the lowest "
        "pillar level; coverage is the weighted share of checks that evidence or an answer "
        "decides. Checks are decided by evidence (repositories, the model registry, Prometheus "
        "alert rules, meetings, metrics) or by a questionnaire answer, which expires; a check "
        "nothing decides is unknown. Next steps are the checks that block each pillar's next "
        "level, failing before undecided, heaviest first; the public models (Google, "
        "Microsoft, ML Test Score) are mapped from the same checks.",
        f"Trends: the stored daily snapshots from {report.trend_since:%d %b %Y}, each the metric "
        "or score over the 90 days ending that day, so history outlives the sources' retention. "
        "Status: ok meets the target (or none is set), breach misses it, unknown has no data.",
    ]


def _methods(document: _Document, report: Report) -> None:
    document.running_title = "Methods"
    document.new_page()
    document.start_section("Methods")
    document.font(16, "B")
    document.write_at(MARGIN - PAD, document.y_at, WIDTH, 8, "Methods")
    document.y_at += 9
    for text in _methods_text(report):
        document.paragraph(text, colour=INK)
        document.y_at += 1.5
    document.heading("Data freshness per source")
    columns = [
        Column("Source", 24),
        Column("Configured", 18),
        Column("Last sync", 22),
        Column("Finished", 34),
        Column("Read up to", 34),
        Column("Error", 50),
    ]
    rows: list[Row] = [
        [
            Cell(line.source, bold=True),
            Cell("yes" if line.configured else "no"),
            Cell(line.status, colour=INK if line.status in ("success", "never synced") else BAD),
            Cell(_when(line.finished_at)),
            Cell(_when(line.read_up_to)),
            Cell(line.error or NO_VALUE, colour=BAD if line.error else NEUTRAL),
        ]
        for line in report.freshness
    ]
    document.draw_table(columns, rows)
    if report.demo_anchor is not None:
        document.y_at += 1
        document.paragraph(
            f"The demo organisation is generated, not synced: its data runs to "
            f"{report.demo_anchor:%d %B %Y}.",
            size=6.8,
        )
    document.heading("Metric definitions")
    for definition in report.definitions:
        document.room(14)
        document.font(7.6, "B")
        document.write_at(MARGIN - PAD, document.y_at, WIDTH, 4, definition.name)
        offset = document.get_string_width(definition.name) + 3
        document.font(6.8, "", NEUTRAL)
        target = definition.target_text or "none"
        document.write_at(
            MARGIN - PAD + offset,
            document.y_at,
            WIDTH - offset,
            4,
            f"{definition.metric_id} · {definition.unit} · {definition.source} · target: {target}",
        )
        document.y_at += 4.2
        document.paragraph(definition.definition.replace("`", ""), size=6.8, colour=INK)
        document.y_at += 1.5


def render_pdf(report: Report) -> bytes:
    document = _Document(report)
    _summary(document, report)
    charts = MaturityCharts(report, CHART_WIDTH, CHART_HEIGHT)
    for index, section in enumerate(report.teams):
        _team(document, section, report, index, charts)
    _methods(document, report)
    return bytes(document.output())
