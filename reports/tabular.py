"""The report as rows for spreadsheets: CSV and XLSX with the same columns and cells.

One row per team × pillar score, team × metric and team × check. Text that a
spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or
a carriage return, as OWASP lists them) is prefixed with an apostrophe in both
formats: team, model and check texts come from configuration and sources, and
"=HYPERLINK(…)" in a team name must reach a reader as text. Numbers stay numbers
(a negative change is not a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Final

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.model import Report

Value = str | float | int | None
COLUMNS: Final = (
    "team",
    "kind",
    "group",
    "id",
    "title",
    "status",
    "value",
    "unit",
    "target",
    "previous_value",
    "change",
    "level",
    "previous_level",
    "coverage",
    "weight",
    "provenance",
    "evidence",
    "since",
    "until",
    "previous_since",
    "previous_until",
)
"""`kind` is score, metric or check; `group` the pillar or the metric's group."""
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
SHEET: Final = "Report"
WIDE_COLUMNS: Final = {"title": 44, "evidence": 60, "team": 22, "id": 34}


def neutralised(value: Value) -> Value:
    """A text cell a spreadsheet could run as a formula, made plain text; control characters
    that XLSX cannot hold are dropped from both formats, so they stay equal."""
    if not isinstance(value, str):
        return value
    text = str(ILLEGAL_CHARACTERS_RE.sub("", value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def report_rows(report: Report) -> Iterator[tuple[Value, ...]]:
    """Every row of the spreadsheet exports, already neutralised, in column order."""
    periods = report.periods
    dates = (
        periods.current.since.isoformat(),
        periods.current.until.isoformat(),
        periods.previous.since.isoformat(),
        periods.previous.until.isoformat(),
    )
    for section in report.teams:
        for pillar in section.pillars:
            row: tuple[Value, ...] = (
                section.team,
                "score",
                pillar.pillar,
                pillar.pillar.lower(),
                f"{pillar.pillar} maturity score",
                None,
                pillar.score,
                "%",
                None,
                pillar.previous_score,
                pillar.change,
                pillar.level,
                pillar.previous_level,
                pillar.coverage,
                None,
                None,
                None,
                *dates,
            )
            yield tuple(neutralised(cell) for cell in row)
        for line in section.metrics:
            row = (
                section.team,
                "metric",
                line.group,
                line.metric_id,
                line.name,
                line.status,
                line.value,
                line.unit,
                line.target,
                line.previous,
                line.change,
                None,
                None,
                None,
                None,
                None,
                line.unknown_reason or line.tier,
                *dates,
            )
            yield tuple(neutralised(cell) for cell in row)
        for check in section.checks:
            evidence = check.evidence
            if check.contradiction:
                evidence += f" | contradiction: {check.contradiction}"
            row = (
                section.team,
                "check",
                check.pillar,
                check.check_id,
                check.title,
                check.status,
                None,
                None,
                None,
                None,
                None,
                check.level,
                None,
                None,
                check.weight,
                check.provenance,
                evidence,
                *dates,
            )
            yield tuple(neutralised(cell) for cell in row)


def csv_text(value: Value) -> str:
    """A cell as the CSV writes it: floats with the 16 significant digits XLSX keeps (as
    openpyxl writes them), so both formats hold the same numbers."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.16g}"
    return str(value)


def render_csv(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in report_rows(report):
        writer.writerow([csv_text(cell) for cell in row])
    # A byte order mark, so spreadsheet programs read "≥" and "—" as UTF-8.
    return buffer.getvalue().encode("utf-8-sig")


def render_xlsx(report: Report) -> bytes:
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = SHEET
    sheet.append(list(COLUMNS))
    for row in report_rows(report):
        sheet.append(list(row))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="F1F5F9")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDE_COLUMNS.get(column, 13)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    about = workbook.create_sheet("About")
    lines = [
        ("report", report.title),
        ("period", report.periods.current_text),
        ("compared with", report.periods.previous_text),
        ("generated (UTC)", f"{report.generated_at:%Y-%m-%d %H:%M}"),
        ("rubric version", report.rubric_version),
        ("demo organisation", "yes" if report.demo_anchor is not None else "no"),
        ("rows", "kind: score (team × pillar), metric (team × metric), check (team × check)"),
    ]
    for name, text in lines:
        about.append([name, neutralised(text)])
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 90
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
