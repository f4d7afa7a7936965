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


# --- what the fuzzing found ---------------------------------------------------------------------


def _calendar(*event_lines: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN"]
    lines += ["BEGIN:VEVENT", "SUMMARY:Ranking review", "UID:r@acme", *event_lines, "END:VEVENT"]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


@pytest.mark.parametrize(
    ("event_lines", "problem"),
    [
        # icalendar gives a list for a repeated property; reading `.dt` of it raised
        (
            ("DTSTART:20250915T100000Z", "DTSTART:20250916T100000Z"),
            "DTSTART appears 2 times; an event has at most one",
        ),
        # dateutil never moves past the first date of an INTERVAL=0 rule: the import hung
        (
            ("DTSTART:20250915T100000", "RRULE:FREQ=WEEKLY;INTERVAL=0"),
            "RRULE INTERVAL must be 1 or more",
        ),
        # every second over two years: minutes of expansion before failing anyway
        (("DTSTART:20250915T100000Z", "RRULE:FREQ=SECONDLY"), "RRULE repeats every second"),
    ],
    ids=["repeated DTSTART", "INTERVAL=0", "SECONDLY"],
)
def test_calendars_the_fuzzing_found_are_refused_with_the_line(
    event_lines: tuple[str, ...], problem: str
) -> None:
    prepared = prepare_import("meetings", "found.ics", _calendar(*event_lines), CONFIG, NOW)
    assert len(prepared.errors) >= 1
    assert problem in prepared.errors[0]
    assert prepared.errors[0].startswith("line ")


def test_long_events_that_repeat_expand_to_their_meetings() -> None:
    """Fortnight-long all-day "Sprint" blocks every two weeks kept the old expansion
    stepping 15 minutes at a time (half a minute per calendar; a weekly event lasting
    years took minutes and gigabytes): the meetings beside them still come out."""
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:sprint\r\nSUMMARY:Ranking sprint\r\n"
        b"DTSTART;VALUE=DATE:20230102\r\nDTEND;VALUE=DATE:20230116\r\n"
        b"RRULE:FREQ=WEEKLY;INTERVAL=2\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:review\r\nSUMMARY:Ranking review\r\n"
        b"DTSTART:20250106T100000Z\r\nDTEND:20250106T110000Z\r\n"
        b"RRULE:FREQ=WEEKLY;COUNT=10\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:decade\r\nSUMMARY:Ranking roadmap\r\n"
        b"DTSTART:20231128T230000Z\r\nDTEND:20270206T060000Z\r\n"
        b"RRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    parsed = parse_ics(data, TeamMatcher.for_import(CONFIG), NOW)
    assert parsed.errors == []
    by_uid = {meeting.uid.split("/")[0] for meeting in parsed.meetings}
    assert by_uid == {"sprint", "review"}  # the decade-long ones began before the window
    ranking = [m for m in parsed.meetings if m.team == "Search Ranking"]
    assert sum(m.uid.startswith("review") for m in ranking) == 10
    assert sum(m.uid.startswith("sprint") for m in ranking) == 52  # 2024-03-11 … 2026-02-23
    assert [m.start for m in parsed.meetings] == sorted(m.start for m in parsed.meetings)
