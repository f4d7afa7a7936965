"""Fuzzing the imports (CSV, JSON, iCalendar) and the meeting parsers.

Every file either yields rows or row-level problems, each a non-empty line of text;
no other exception escapes (DESIGN §9: bad input gets a clear message naming what is
wrong, nothing is half-imported). A file that is accepted must also be storable: it
is written to a SQLite store, which must take it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from config import Config, parse_config
from connectors.imports import (
    DEPLOYMENT_COLUMNS,
    ENDPOINT_STATS_COLUMNS,
    IMPORT_KINDS,
    MODEL_VERSION_COLUMNS,
    Columns,
    ImportKind,
    PreparedImport,
    prepare_import,
    write_import,
)
from connectors.meetings import (
    MEETING_COLUMNS,
    ParsedMeetings,
    TeamMatcher,
    parse_ics,
    parse_meetings_csv,
)
from data.db import make_engine, upgrade
from tests.fuzz.conftest import FUZZ_PROFILE
from tests.fuzz.strategies import calendars, line_text, tabular_files

pytestmark = pytest.mark.fuzz

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CONFIG: Config = parse_config(
    """
[[teams]]
name = "Search Ranking"
repos = ["acme/ranker"]
endpoints = [{ name = "ranker-api", selector = '{job="ranker-api"}' }]
meetings = { title = "(?i)ranking" }
stakeholders = ["lead@acme.example", "vp@acme.example"]

[[teams]]
name = "Fraud"
repos = ["acme/fraud"]
meetings = { title = "(?i)fraud|review" }
"""
)
NAMES = (
    "Search Ranking",
    "Fraud",
    "acme/ranker",
    "acme/fraud",
    "ranker-api",
    "ranker-v2",
    "Ranking review",
    "production",
)
COLUMNS: dict[ImportKind, Columns] = {
    "meetings": MEETING_COLUMNS,
    "model-versions": MODEL_VERSION_COLUMNS,
    "deployments": DEPLOYMENT_COLUMNS,
    "endpoint-stats": ENDPOINT_STATS_COLUMNS,
}
FILE_NAMES = ("fuzz.csv", "fuzz.json", "fuzz.ics", "fuzz.txt", "fuzz", "FUZZ.ICAL")
teams = st.none() | st.sampled_from(["Search Ranking", "Fraud", "Nobody"])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Accepted files pile up here across examples, as a user's imports would."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz-store') / 'mlops.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _assert_problems_are_lines(errors: tuple[str, ...] | list[str]) -> None:
    for error in errors:
        assert isinstance(error, str), error
        assert error.strip(), errors
        assert "\n" not in error, error


def _check(prepared: PreparedImport, store: Engine) -> None:
    assert isinstance(prepared, PreparedImport)
    _assert_problems_are_lines(prepared.errors)
    if prepared.errors:
        assert not prepared.ok
        return
    assert prepared.writer is not None, "no problems, so something to write"
    written = write_import(store, prepared, CONFIG)
    assert all(rows >= 0 for rows in written.values())


def _check_parsed(parsed: ParsedMeetings) -> None:
    _assert_problems_are_lines(parsed.errors)
    if not parsed.errors:
        assert all(meeting.start < NOW for meeting in parsed.meetings)
        assert all(meeting.start.tzinfo is not None for meeting in parsed.meetings)


@settings(settings.get_profile(FUZZ_PROFILE))
@given(
    kind=st.sampled_from(IMPORT_KINDS),
    name=st.sampled_from(FILE_NAMES) | line_text,
    data=st.binary(max_size=400),
    team=teams,
)
def test_any_bytes_of_any_kind(
    store: Engine, kind: ImportKind, name: str, data: bytes, team: str | None
) -> None:
    _check(prepare_import(kind, name, data, CONFIG, NOW, team), store)


@settings(settings.get_profile(FUZZ_PROFILE))
@given(kind=st.sampled_from(IMPORT_KINDS), team=teams, data=st.data())
def test_csv_and_json_files_in_each_kinds_shape(
    store: Engine, kind: ImportKind, team: str | None, data: st.DataObject
) -> None:
    columns = COLUMNS[kind]
    name, content = data.draw(tabular_files(columns.required, columns.optional, NOW, NAMES))
    _check(prepare_import(kind, name, content, CONFIG, NOW, team), store)
    if kind == "meetings":
        matcher = TeamMatcher.for_import(CONFIG)
        parsed = parse_meetings_csv(
            content, matcher, NOW, "csv" if name.endswith("csv") else "json"
        )
        _check_parsed(parsed)


@settings(settings.get_profile(FUZZ_PROFILE))
@given(content=calendars(NOW), team=teams)
def test_calendars(store: Engine, content: bytes, team: str | None) -> None:
    _check(prepare_import("meetings", "fuzz.ics", content, CONFIG, NOW, team), store)
    _check_parsed(parse_ics(content, TeamMatcher.for_import(CONFIG), NOW))


def test_the_fuzzed_config_is_the_one_the_files_name(tmp_path: Path) -> None:
    """The strategies draw team, repository and endpoint names from `NAMES`: they must be
    the config's, or every row would fail the same way and nothing deeper be reached."""
    assert set(CONFIG.team_names()) <= set(NAMES)
    assert {repo for team in CONFIG.teams for repo in team.repos} <= set(NAMES)
