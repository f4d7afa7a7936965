"""`cli.py import KIND FILE` as a user runs it, on SQLite and PostgreSQL: rows written per
table on success; exit 2 with one line per problem, and nothing written, on a bad file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from data.loaders import meetings
from data.store import row_counts
from data.tables import SyncRun
from tests.helpers import error_lines, run_cli

CONFIG = """
[[teams]]
name = "Search Ranking"
repos = ["acme/ranker"]
endpoints = [{ name = "ranker-api", selector = '{job="ranker-api"}' }]
meetings = { title = "(?i)ranking review" }
stakeholders = ["vp@acme.example"]

[[teams]]
name = "Fraud Detection"
"""


def _calendar() -> bytes:
    """Two events last week: the import reads the two years up to now."""
    day = datetime.now(UTC).date() - timedelta(days=7)
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{title}\r\n"
        f"DTSTART:{day:%Y%m%d}T{hour}0000Z\r\nEND:VEVENT\r\n"
        for uid, title, hour in (("r@x", "Ranking review", 10), ("l@x", "Team lunch", 12))
    )
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{events}END:VCALENDAR\r\n".encode()
    )


GOOD: dict[str, tuple[str, str]] = {
    "meetings": (
        "meetings.csv",
        "title,start,end,attendees\n"
        "Ranking review,2025-03-10T14:00:00Z,2025-03-10T15:00:00Z,vp@acme.example\n"
        "Lunch,2025-03-11T12:00:00Z,,\n",
    ),
    "model-versions": (
        "versions.json",
        json.dumps(
            [
                {
                    "team": "Search Ranking",
                    "model": "ranker-main",
                    "version": "1",
                    "created_at": "2025-03-01T10:00:00Z",
                    "aliases": "champion",
                }
            ]
        ),
    ),
    "deployments": (
        "deployments.csv",
        "repo,environment,created_at,status\nacme/ranker,production,2025-03-01T10:00:00Z,success\n",
    ),
    "endpoint-stats": (
        "stats.csv",
        "team,endpoint,day,requests,failures,p50_ms,p95_ms,p99_ms\n"
        "Search Ranking,ranker-api,2025-03-01,1000,3,80,200,350\n",
    ),
}
WRITTEN = {
    "meetings": ["meeting: 1 rows", "meeting_attendee: 1 rows"],
    "model-versions": ["registered_model: 1 rows", "team_model: 1 rows", "model_version: 1 rows"],
    "deployments": ["deployment: 1 rows", "deployment_status: 1 rows"],
    "endpoint-stats": [
        "endpoint: 0 rows",
        "endpoint_daily: 1 rows",
        "endpoint_latency_bucket: 193 rows",
    ],
}
BAD: dict[str, tuple[str, str, str]] = {
    "meetings": (
        "meetings.csv",
        "title,start\nRanking review,tomorrow\n",
        "line 2: column 'start': 'tomorrow' is not an ISO date-time",
    ),
    "model-versions": (
        "versions.csv",
        "team,model,version,created_at\nSearch Ranking,ranker-main,1,2025-03-01 10:00\n",
        "line 2: column 'created_at': '2025-03-01 10:00' has no time zone",
    ),
    "deployments": (
        "deployments.json",
        json.dumps(
            [
                {
                    "repo": "acme/elsewhere",
                    "environment": "prod",
                    "created_at": "2025-03-01",
                    "status": "success",
                }
            ]
        ),
        "item 1: key 'repo': 'acme/elsewhere' is not in any team's repos in mlops.toml",
    ),
    "endpoint-stats": (
        "stats.csv",
        "team,endpoint,day,requests,failures\nSearch Ranking,ranker-api,2025-03-01,10,11\n",
        "line 2: column 'failures': 11 is more than the 10 requests",
    ),
}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "mlops.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def _import(workdir: Path, store_url: str, *args: str):
    return run_cli("import", *args, cwd=workdir, env={"DATABASE_URL": store_url})


@pytest.mark.parametrize("kind", list(GOOD))
def test_a_good_file_is_imported_and_recorded(kind, workdir, store_url, engine):
    name, content = GOOD[kind]
    (workdir / name).write_text(content, encoding="utf-8")

    result = _import(workdir, store_url, kind, name)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Imported {name} ({kind}) into ")
    assert [line.strip() for line in lines[1 : 1 + len(WRITTEN[kind])]] == WRITTEN[kind]
    with engine.connect() as connection:
        sources = connection.execute(select(SyncRun.__table__.c.source)).scalars().all()  # type: ignore[attr-defined]
    assert sources == [f"import:{kind}"]


@pytest.mark.parametrize("kind", list(BAD))
def test_a_bad_file_exits_2_naming_the_row_and_writes_nothing(kind, workdir, store_url, engine):
    name, content, problem = BAD[kind]
    (workdir / name).write_text(content, encoding="utf-8")
    before = row_counts(engine)

    result = _import(workdir, store_url, kind, name)

    assert result.returncode == 2
    lines = error_lines(result)
    assert lines[0] == f"error: {name}: 1 problem, nothing was imported"
    assert lines[1].strip().startswith(problem), lines
    assert "Traceback" not in result.stderr
    assert row_counts(engine) == before


def test_meetings_from_ics_for_one_team(workdir, store_url, engine):
    (workdir / "team.ics").write_bytes(_calendar())

    result = _import(workdir, store_url, "meetings", "team.ics", "--team", "Fraud Detection")

    assert result.returncode == 0, result.stderr
    assert set(meetings(engine, "Fraud Detection")["title"]) == {"Ranking review", "Team lunch"}
    assert meetings(engine, "Search Ranking").empty


def test_unmatched_meetings_are_counted(workdir, store_url):
    name, content = GOOD["meetings"]
    (workdir / name).write_text(content, encoding="utf-8")

    result = _import(workdir, store_url, "meetings", name)

    assert "skipped: 1 matching no team's meetings.title" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("meetings", "missing.csv"), "error: missing.csv: file not found"),
        (
            ("meetings", "team.ics", "--team", "Nobody"),
            "  unknown team 'Nobody'; teams in mlops.toml: Search Ranking, Fraud Detection",
        ),
        (
            ("deployments", "team.ics"),
            "  cannot tell the format; deployments are read from .csv or .json files",
        ),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(workdir, sqlite_url, args, message):
    (workdir / "team.ics").write_bytes(_calendar())

    result = run_cli("import", *args, cwd=workdir, env={"DATABASE_URL": sqlite_url})

    assert result.returncode == 2
    assert message in error_lines(result)
