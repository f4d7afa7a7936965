"""`cli.py report` in every format for the demo organisation: the numbers of `cli.py score`
and `cli.py metrics`, PDF pages that render, spreadsheets that agree and run no formula,
and one-line errors for bad input."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from metrics.catalog import catalog
from metrics.rubric import load_rubric
from reports.formatting import format_number, format_score
from reports.period import parse_period
from reports.tabular import COLUMNS, SHEET, Value, csv_text
from tests.conftest import service_missing
from tests.helpers import error_lines
from tests.reports.conftest import DEMO_TEAMS, DemoStore

ROOT = Path(__file__).resolve().parents[2]
PAGE_IMAGES = ROOT / "test-artifacts" / "reports"


def _pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def _team_pages(pages: list[str]) -> dict[str, str]:
    """Each team's page text: its page is headed by its name (the running title)."""
    found = {}
    for text in pages:
        first = text.splitlines()[0]
        for team in DEMO_TEAMS:
            if first.endswith(team):
                found[team] = text
    return found


def _line_starting(text: str, start: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith(start + " ")]
    assert lines, f"no line starts with {start!r}"
    return lines[0]


def test_every_format_is_written(exports: dict[str, Path]) -> None:
    assert exports["pdf"].read_bytes().startswith(b"%PDF-")
    assert exports["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert zipfile.is_zipfile(exports["xlsx"])
    header = exports["csv"].read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == ",".join(COLUMNS)
    markdown = exports["md"].read_text(encoding="utf-8")
    assert markdown.startswith("# MLOps maturity report\n")
    for team in DEMO_TEAMS:
        assert f"## {team}\n" in markdown


def test_pdf_holds_each_teams_scores_and_metrics_as_the_cli_prints_them(
    exports: dict[str, Path], cli_json
) -> None:
    pages = _team_pages(_pdf_pages(exports["pdf"]))
    assert sorted(pages) == DEMO_TEAMS
    scores = {record["team"]: record for record in cli_json("score")}
    for team, text in pages.items():
        record = scores[team]
        assert f"Level {record['overall']['level']} overall" in text
        for pillar, values in [("Overall", record["overall"]), *record["pillars"].items()]:
            line = _line_starting(text, f"{pillar} {format_score(values['score'])}")
            assert f" L{values['level']} (" in line, (team, pillar)
            assert line.endswith(format_score(values["coverage"]))
    specs = catalog()
    for record in cli_json("metrics"):
        line = _line_starting(pages[record["team"]], specs[record["metric"]].name)
        value = line.removeprefix(specs[record["metric"]].name).split()
        shown = value[value.index("·") + 2] if value and value[0] == "·" else value[0]
        assert shown == format_number(record["value"]), (record["team"], record["metric"])


def test_pdf_summary_and_appendix(exports: dict[str, Path], cli_json) -> None:
    pages = _pdf_pages(exports["pdf"])
    summary = pages[0]
    assert "MLOps maturity report" in summary
    assert "Demo organisation" in summary
    for record in cli_json("score"):
        overall = record["overall"]
        row = _line_starting(summary, f"{record['team']} L{overall['level']}")
        assert format_score(overall["score"]) in row
    appendix = "\n".join(pages[-3:])
    assert "Data freshness per source" in appendix
    assert f"rubric {load_rubric().version}" in appendix
    for spec in catalog().values():
        assert spec.id in appendix
    outline = [
        item.title for item in PdfReader(exports["pdf"]).outline if not isinstance(item, list)
    ]
    assert outline == ["Summary", *DEMO_TEAMS, "Methods"]


def test_pdf_pages_render_with_pdftoppm(exports: dict[str, Path]) -> None:
    """Every page rasterises; the PNGs are kept in test-artifacts/reports/ to look at."""
    if shutil.which("pdftoppm") is None:
        service_missing("pdftoppm (Debian package poppler-utils) is not installed")
    shutil.rmtree(PAGE_IMAGES, ignore_errors=True)
    PAGE_IMAGES.mkdir(parents=True)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", str(exports["pdf"]), str(PAGE_IMAGES / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    images = sorted(PAGE_IMAGES.glob("page-*.png"))
    assert len(images) == len(PdfReader(exports["pdf"]).pages)
    for path in images:
        with Image.open(path) as image:
            assert image.size[0] < image.size[1]  # A4 portrait
            darkest, lightest = cast(tuple[int, int], image.convert("L").getextrema())
            assert darkest < 80 < lightest, f"{path.name} looks blank"


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_xlsx_reads_back_as_the_csv(exports: dict[str, Path]) -> None:
    workbook = load_workbook(exports["xlsx"])
    sheet = workbook[SHEET]
    read_back = [
        [csv_text(cast(Value, cell)) for cell in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert read_back == _csv_rows(exports["csv"])
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_csv_has_a_row_per_team_and_metric_and_check_with_the_cli_numbers(
    exports: dict[str, Path], cli_json
) -> None:
    header, *rows = _csv_rows(exports["csv"])
    records = [dict(zip(header, row, strict=True)) for row in rows]
    checks = load_rubric().checks
    for team in DEMO_TEAMS:
        mine = [r for r in records if r["team"] == team]
        assert [r["id"] for r in mine if r["kind"] == "metric"] == list(catalog())
        assert sorted(r["id"] for r in mine if r["kind"] == "check") == sorted(c.id for c in checks)
        assert [r["group"] for r in mine if r["kind"] == "score"] == [
            "Overall",
            "DataOps",
            "DevOps",
            "ModelOps",
        ]
    by_key = {(r["team"], r["kind"], r["id"]): r for r in records}
    for record in cli_json("metrics"):
        row = by_key[(record["team"], "metric", record["metric"])]
        if record["value"] is None:
            assert row["value"] == ""
        else:  # to the 16 significant digits a spreadsheet keeps
            assert float(row["value"]) == pytest.approx(record["value"], rel=1e-15, abs=1e-300)
        assert row["status"] == record["status"]
        assert (row["since"], row["until"]) == (record["since"], record["until"])
    for record in cli_json("score"):
        overall = by_key[(record["team"], "score", "overall")]
        assert float(overall["value"]) == pytest.approx(record["overall"]["score"], rel=1e-15)
        for pillar in record["pillars"].values():
            for check in pillar["checks"]:
                assert by_key[(record["team"], "check", check["id"])]["status"] == check["status"]


def test_html_and_markdown_carry_the_cli_scores(exports: dict[str, Path], cli_json) -> None:
    html = exports["html"].read_text(encoding="utf-8")
    markdown = exports["md"].read_text(encoding="utf-8")
    assert html.count('<section class="team"') == len(DEMO_TEAMS)
    assert "<script>" in html  # plotly.js inlined, nothing fetched
    assert "<script src=" not in html
    assert "<link" not in html
    for record in cli_json("score"):
        score = format_score(record["overall"]["score"])
        assert score in html
        assert f"| **{record['team']}** | L{record['overall']['level']} (" in markdown
        assert score in _line_starting(markdown, f"| **{record['team']}** |")


def test_the_default_period_is_this_quarter_against_the_last(
    demo_store: DemoStore, tmp_path: Path
) -> None:
    out = tmp_path / "report.md"
    result = demo_store.cli("report", "--format", "md", "--out", str(out))

    assert result.returncode == 0, result.stderr
    expected = parse_period("quarter", datetime.now(UTC).date())
    assert expected.description in result.stdout
    assert out.read_text(encoding="utf-8").splitlines()[2].startswith(expected.current_text)


def test_one_team_only(demo_store: DemoStore, period_spec: str, tmp_path: Path) -> None:
    out = tmp_path / "fraud.csv"
    result = demo_store.cli(
        "report", "--format", "csv", "--out", str(out), "--team", "Fraud Detection",
        "--period", period_spec,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert {row[0] for row in _csv_rows(out)[1:]} == {"Fraud Detection"}


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--period", "2026Q7"], "period '2026Q7' is not understood"),
        (["--period", "last-0d"], "at least one day"),
        (["--team", "Nobody"], "unknown team 'Nobody'"),
        (
            ["--out", "/nonexistent-folder/report.pdf"],
            "cannot write /nonexistent-folder/report.pdf",
        ),
        (["--format", "docx"], "docx"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    demo_store: DemoStore, tmp_path: Path, args: list[str], reason: str
) -> None:
    options = {"--format": "pdf", "--out": str(tmp_path / "r.pdf")} | dict(
        zip(args[::2], args[1::2], strict=True)
    )
    result = demo_store.cli("report", *[part for pair in options.items() for part in pair])

    assert result.returncode == 2, result.stdout
    assert reason in result.stderr
    assert not list(tmp_path.iterdir())
    if "--format" not in args:  # Typer words its own choice errors
        assert len(error_lines(result)) == 1
