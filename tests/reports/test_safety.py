"""What must never come out of an export: a spreadsheet formula made of a team's name, a
token from the environment, credentials in a URL, or markup that breaks out of its page."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text
from sqlmodel import Session

from config import DEMO_CONFIG_PATH
from data.db import make_engine
from data.tables import SyncRun
from reports.model import scrub_text
from reports.tabular import SHEET, neutralised
from tests.conftest import demo_store_at
from tests.helpers import run_cli
from tests.reports.conftest import FORMATS

HOSTILE_TEAMS = {
    "Demand Forecasting": '=HYPERLINK("http://127.0.0.1/x","click")',
    "Fraud Detection": "+1+2",
    "Recommendations": "-1+2",
    "Search Ranking": "@SUM(1)</script><script>alert(1)</script>",
}
SENTINEL = "sentinel-token-5f0c2b9e7d"
TOKEN_VARIABLES = (
    "GITHUB_TOKEN",
    "MLFLOW_TRACKING_TOKEN",
    "PROMETHEUS_TOKEN",
    "GH_ENTERPRISE_TOKEN",
)


def _report(url: str, folder: Path, output_format: str, env: dict[str, str] | None = None) -> Path:
    out = folder / f"report.{output_format}"
    result = run_cli(
        "report", "--format", output_format, "--out", str(out), "--period", "last-90d",
        cwd=folder,
        env={"DATABASE_URL": url, **(env or {})},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("bell\x07", "bell"),
        (-3.5, -3.5),
        (None, None),
    ],
)
def test_neutralised_cells(cell, written) -> None:
    assert neutralised(cell) == written


@pytest.fixture(scope="module")
def hostile_store(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    url = demo_store_at(demo_template, folder / "store" / "mlops.db")
    engine = make_engine(url)
    with engine.begin() as connection:
        for name, hostile in HOSTILE_TEAMS.items():
            connection.execute(
                text("update team set name = :hostile where name = :name"),
                {"hostile": hostile, "name": name},
            )
    engine.dispose()
    return url, folder


def test_team_names_that_look_like_formulas_stay_text_in_spreadsheets(hostile_store) -> None:
    url, folder = hostile_store
    rows = list(csv.reader(io.StringIO(_report(url, folder, "csv").read_text("utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == {"'" + name for name in HOSTILE_TEAMS.values()}

    sheet = load_workbook(_report(url, folder, "xlsx"))[SHEET]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert {row[0].value for row in sheet.iter_rows(min_row=2)} == {
        "'" + name for name in HOSTILE_TEAMS.values()
    }
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert not [value for value in texts if value.startswith(("=", "+", "-", "@"))]


def test_markup_in_names_is_shown_not_run(hostile_store) -> None:
    url, folder = hostile_store
    html = _report(url, folder, "html").read_text("utf-8")
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = _report(url, folder, "md").read_text("utf-8")
    assert r"\<script\>alert(1)\</script\>" in markdown
    pdf = "\n".join(page.extract_text() for page in PdfReader(_report(url, folder, "pdf")).pages)
    assert '=HYPERLINK("http://127.0.0.1/x","click")' in pdf


def test_scrub_text_blots_out_secrets_and_url_credentials() -> None:
    assert scrub_text(f"401 for Bearer {SENTINEL}", [SENTINEL]) == "401 for Bearer ***"
    assert (
        scrub_text("GET https://user:pa55@127.0.0.1:5000/api failed", [])
        == "GET https://***@127.0.0.1:5000/api failed"
    )
    assert scrub_text("mail vp@acme.example", []) == "mail vp@acme.example"


def _all_text(path: Path) -> str:
    """Everything a reader of the file could get at: raw bytes, PDF text, XLSX parts."""
    raw = path.read_bytes()
    parts = [raw.decode("latin-1")]
    if path.suffix == ".pdf":
        parts += [page.extract_text() for page in PdfReader(path).pages]
        parts += [str(value) for value in (PdfReader(path).metadata or {}).values()]
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            parts += [archive.read(name).decode("utf-8") for name in archive.namelist()]
    return "\n".join(parts)


def test_no_token_reaches_any_export(demo_template: Path, tmp_path: Path) -> None:
    """Every token variable holds the sentinel, sources are configured to use them, and a
    sync error (as a careless connector might write it) even contains it."""
    url = demo_store_at(demo_template, tmp_path / "store" / "mlops.db")
    config = tmp_path / "mlops.toml"
    config.write_text(
        '[github]\ntoken_env = "GITHUB_TOKEN"\n\n'
        '[prometheus]\nurl = "http://127.0.0.1:9090"\ntoken_env = "PROMETHEUS_TOKEN"\n\n'
        '[mlflow]\ntracking_uri = "http://127.0.0.1:5000"\n'
        'token_env = "MLFLOW_TRACKING_TOKEN"\n\n' + DEMO_CONFIG_PATH.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.add(
            SyncRun(
                source="mlflow",
                started_at=now,
                ended_at=now,
                status="error",
                error=f"401 from https://bot:{SENTINEL}@127.0.0.1:5000 with Bearer {SENTINEL}",
            )
        )
        session.commit()
    engine.dispose()
    env = dict.fromkeys(TOKEN_VARIABLES, SENTINEL) | {"MLOPS_CONFIG": str(config)}
    for output_format in FORMATS:
        out = _report(url, tmp_path, output_format, env)
        assert SENTINEL not in _all_text(out), output_format
    markdown = (tmp_path / "report.md").read_text("utf-8")
    assert "401 from https://\\*\\*\\*@127.0.0.1:5000 with Bearer \\*\\*\\*" in markdown
