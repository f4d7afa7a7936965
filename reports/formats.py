"""The export formats, for the CLI and the Reports page: one name, one renderer, one media type.

Renderers are imported when used, so writing a CSV does not load matplotlib and
fpdf2, and `cli.py --help` stays quick.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from reports.model import Report


class ReportFormat(StrEnum):
    pdf = "pdf"
    html = "html"
    csv = "csv"
    xlsx = "xlsx"
    md = "md"


MEDIA_TYPES: Final[dict[ReportFormat, str]] = {
    ReportFormat.pdf: "application/pdf",
    ReportFormat.html: "text/html",
    ReportFormat.csv: "text/csv",
    ReportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.md: "text/markdown",
}


def render(report: Report, output_format: ReportFormat) -> bytes:
    if output_format is ReportFormat.pdf:
        from reports.pdf import render_pdf

        return render_pdf(report)
    if output_format is ReportFormat.html:
        from reports.html import render_html

        return render_html(report)
    if output_format is ReportFormat.md:
        from reports.markdown import render_markdown

        return render_markdown(report)
    from reports.tabular import render_csv, render_xlsx

    return render_csv(report) if output_format is ReportFormat.csv else render_xlsx(report)
