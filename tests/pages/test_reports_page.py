"""The Reports page on the demo: a preview with the numbers of `cli.py score` and `cli.py
metrics`, the sidebar's team and period, and a download per format that yields the file."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader
from streamlit.delta_generator import DeltaGenerator

from data.loaders import Period
from metrics.catalog import catalog
from reports.formatting import format_number, format_score
from reports.model import HEADLINE_METRICS
from tests.helpers import run_cli
from tests.pages.apptest import assert_clean, page_text

REPORTS = "pages/reports.py"
TEAM = "Fraud Detection"
DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]
SIDEBAR_CHOICE = "sidebar"


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, Callable[[], Any]]]:
    """Each download button's file name and data callable, by label, as the page made them."""
    made: dict[str, tuple[str, Callable[[], Any]]] = {}
    original = DeltaGenerator.download_button

    def recording(self: DeltaGenerator, label: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        made[label] = (kwargs["file_name"], data)
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    return made


def _preview(at) -> str:
    return next(str(m.value) for m in at.markdown if str(m.value).startswith("# MLOps"))


def _cli_scores(app_env: str, tmp_path, period: Period) -> dict[str, dict[str, Any]]:
    result = run_cli(
        "score", "--format", "json", "--since", period.since.isoformat(),
        "--until", period.until.isoformat(),
        cwd=tmp_path,
        env={"DATABASE_URL": app_env},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {record["team"]: record for record in json.loads(result.stdout)}


def _prepare(at) -> None:
    at.button(key="report_prepare").click().run()
    assert_clean(at)


def _use_sidebar_period(at) -> None:
    at.segmented_control(key="report_period").set_value(SIDEBAR_CHOICE).run()
    assert_clean(at)


def test_preview_holds_the_cli_scores_and_metrics_for_the_sidebar_period(
    open_page, app_env, tmp_path, cli_metrics, period
) -> None:
    at = open_page(REPORTS, None, period)
    assert [title.value for title in at.title] == ["Reports"]
    _prepare(at)
    _use_sidebar_period(at)

    preview = _preview(at)
    expected = f"{period.since:%d %b %Y} – {period.until:%d %b %Y}"
    assert expected in preview
    assert expected in page_text(at)  # the caption names the period too
    for team, record in _cli_scores(app_env, tmp_path, period).items():
        row = next(line for line in preview.splitlines() if line.startswith(f"| **{team}** |"))
        assert format_score(record["overall"]["score"]) in row
        assert f"L{record['overall']['level']} (" in row
    printed = cli_metrics(TEAM, period)
    section = preview.split(f"## {TEAM}\n", 1)[1].split("\n## ", 1)[0]
    specs = catalog()
    for metric_id in HEADLINE_METRICS:
        name = specs[metric_id].name
        row = next(line for line in section.splitlines() if line.startswith(f"| {name}"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1] == format_number(printed[(TEAM, metric_id)]["value"]), metric_id


def test_opening_the_page_computes_nothing_until_asked(open_page, period) -> None:
    at = open_page(REPORTS, None, period)

    assert "Prepare the report to preview it" in page_text(at)
    assert not at.download_button
    assert not [m for m in at.markdown if str(m.value).startswith("# MLOps")]


def test_the_default_is_this_quarter_against_the_last(open_page, period) -> None:
    at = open_page(REPORTS, None, period)
    _prepare(at)

    preview = _preview(at)
    quarter = (period.until.month - 1) // 3 + 1
    assert f"{period.until.year} Q{quarter}" in preview
    assert at.segmented_control(key="report_period").value == "quarter"


def test_the_sidebar_team_narrows_the_report(open_page, period) -> None:
    at = open_page(REPORTS, TEAM, period)
    _prepare(at)

    preview = _preview(at)
    assert f"## {TEAM}\n" in preview
    assert [t for t in DEMO_TEAMS if f"## {t}\n" in preview] == [TEAM]


def test_a_download_per_format_yields_the_file(open_page, period, downloads) -> None:
    at = open_page(REPORTS, TEAM, period)
    _prepare(at)
    _use_sidebar_period(at)

    assert [button.label for button in at.download_button] == [
        "PDF",
        "HTML",
        "Excel (XLSX)",
        "CSV",
        "Markdown",
    ]
    names = {label: name for label, (name, _data) in downloads.items()}
    stem = f"mlops-report-{period.since}-{period.until}"
    assert names == {
        "PDF": f"{stem}.pdf",
        "HTML": f"{stem}.html",
        "Excel (XLSX)": f"{stem}.xlsx",
        "CSV": f"{stem}.csv",
        "Markdown": f"{stem}.md",
    }
    files = {label: data() for label, (_name, data) in downloads.items()}
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(files["PDF"])).pages)
    assert TEAM in pdf_text
    assert files["HTML"].startswith(b"<!DOCTYPE html>")
    assert zipfile.is_zipfile(io.BytesIO(files["Excel (XLSX)"]))
    assert files["CSV"].decode("utf-8-sig").splitlines()[1].startswith(f"{TEAM},score,")
    assert files["Markdown"].decode("utf-8").rstrip("\n") == _preview(at).rstrip("\n")
