"""Meetings from iCalendar and CSV: recurrence, time zones, attendance, row-level
refusals, the all-or-nothing write, and the feed sync over HTTP with ETags."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from config import Config, parse_config
from connectors.base import SourceError, SourceOutcome, SyncContext
from connectors.imports import prepare_import, write_import
from connectors.meetings import (
    CANCELLED,
    NOT_YET,
    UNMATCHED,
    ParsedMeetings,
    TeamMatcher,
    parse_ics,
    parse_meetings_csv,
    redact_feed_url,
    store_meetings,
    sync_meetings,
)
from data.loaders import Period, meeting_attendees, meetings
from data.organisation import register_organisation
from data.store import row_counts, write_transaction
from data.tables import AppMeta, SyncRun
from metrics.engine import compute_metrics

DATA = Path(__file__).parent / "data"
CALENDAR = (DATA / "team_calendar.ics").read_bytes()
NOW = datetime(2025, 4, 20, tzinfo=UTC)
CONFIG_TOML = """
[[teams]]
name = "Search Ranking"
meetings = { title = "(?i)ranking review" }
stakeholders = ["vp@acme.example", "head@acme.example"]

[[teams]]
name = "Fraud Detection"
meetings = { title = "(?i)fraud" }

[[teams]]
name = "Recommendations"
"""
CONFIG = parse_config(CONFIG_TOML)


def _utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _parsed(data: bytes = CALENDAR, now: datetime = NOW) -> ParsedMeetings:
    return parse_ics(data, TeamMatcher.for_import(CONFIG), now)


def _by_uid(parsed: ParsedMeetings) -> dict[str, object]:
    return {m.uid: m for m in parsed.meetings}


def _ics(*events: str, header: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT\n" for event in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//tests//EN\n{header}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


# --- iCalendar -----------------------------------------------------------------------


def test_weekly_series_with_exdate_and_a_moved_instance_across_dst():
    parsed = _parsed()

    assert parsed.errors == []
    ranking = [m for m in parsed.meetings if m.uid.startswith("ranking-weekly@")]
    # 10:00 Europe/Berlin is 09:00 UTC before the switch to summer time (30 March), 08:00 after;
    # 7 April is excluded; the 24 March instance moved to 25 March 15:00 and keeps its slot's uid.
    assert [(m.uid.split("/")[1], m.start, m.end) for m in ranking] == [
        ("20250317T090000Z", _utc(2025, 3, 17, 9), _utc(2025, 3, 17, 10)),
        ("20250324T090000Z", _utc(2025, 3, 25, 14), _utc(2025, 3, 25, 15)),
        ("20250331T080000Z", _utc(2025, 3, 31, 8), _utc(2025, 3, 31, 9)),
        ("20250414T080000Z", _utc(2025, 4, 14, 8), _utc(2025, 4, 14, 9)),
    ]
    assert ranking[1].title == "Ranking review (moved)"
    assert {m.team for m in ranking} == {"Search Ranking"}


def test_new_york_series_with_its_vtimezone_and_an_rdate():
    fraud_sync = [m for m in _parsed().meetings if m.uid.startswith("fraud-sync@")]

    # 10:00 New York is 15:00 UTC before 9 March (EST), 14:00 after (EDT); the RDATE adds 20 March.
    assert [m.start for m in fraud_sync] == [
        _utc(2025, 3, 3, 15),
        _utc(2025, 3, 10, 14),
        _utc(2025, 3, 20, 20),
    ]
    assert {m.team for m in fraud_sync} == {"Fraud Detection"}


def test_an_all_day_event_spans_its_utc_day():
    offsite = next(m for m in _parsed().meetings if m.uid.startswith("fraud-offsite@"))

    assert (offsite.start, offsite.end) == (_utc(2025, 3, 20), _utc(2025, 3, 21))


def test_attendance_follows_partstat_and_the_organizer_counts():
    first = next(
        m for m in _parsed().meetings if m.uid == "ranking-weekly@acme.example/20250317T090000Z"
    )

    assert {a.email: a.attended for a in first.attendees} == {
        "vp@acme.example": True,  # ACCEPTED, e-mail lower-cased
        "head@acme.example": False,  # DECLINED
        "tentative@acme.example": False,
        "needs-action@acme.example": False,
        "delegated@acme.example": False,
        "no-answer@acme.example": False,  # no PARTSTAT: NEEDS-ACTION by RFC 5545
        "param@acme.example": True,  # the EMAIL parameter of a non-mailto address
        "search-lead@acme.example": True,  # the organizer
    }  # the room (CUTYPE=ROOM) is not a person
    moved = next(m for m in _parsed().meetings if m.title == "Ranking review (moved)")
    assert {a.email: a.attended for a in moved.attendees} == {
        "head@acme.example": True,
        "vp@acme.example": False,
    }


def test_cancelled_unmatched_old_and_future_events_are_not_meetings():
    parsed = _parsed()

    assert parsed.skipped == {CANCELLED: 1, UNMATCHED: 1}
    titles = {m.title for m in parsed.meetings}
    assert "Ranking review (extra)" not in titles  # cancelled
    assert "Team lunch" not in titles  # no team's pattern
    assert "Ranking review (kick-off)" not in titles  # 2022: before the two-year window
    monthly = [m.start for m in parsed.meetings if m.uid.startswith("ranking-monthly@")]
    assert monthly == [_utc(2025, 4, 15, 9)]  # the endless series stops at now
    assert parsed.next_start == _utc(2025, 5, 15, 9)


def test_an_event_matching_two_teams_is_each_teams_meeting():
    config = parse_config(
        '[[teams]]\nname = "A"\nmeetings = { title = "review" }\n'
        '[[teams]]\nname = "B"\nmeetings = { title = "(?i)ranking" }\n'
    )
    parsed = parse_ics(
        _ics("UID:x\nSUMMARY:Ranking review\nDTSTART:20250401T100000Z"),
        TeamMatcher.for_import(config),
        NOW,
    )
    assert sorted((m.team, m.uid) for m in parsed.meetings) == [("A", "x"), ("B", "x")]


def test_with_a_team_every_event_is_that_teams():
    parsed = parse_ics(CALENDAR, TeamMatcher.for_import(CONFIG, "Recommendations"), NOW)

    assert {m.team for m in parsed.meetings} == {"Recommendations"}
    assert any(m.title == "Team lunch" for m in parsed.meetings)
    assert UNMATCHED not in parsed.skipped


def test_floating_times_take_x_wr_timezone_else_utc():
    event = "UID:f\nSUMMARY:Fraud review\nDTSTART:20250401T100000\nDTEND:20250401T110000"
    assert [m.start for m in _parsed(_ics(event)).meetings] == [_utc(2025, 4, 1, 10)]
    zoned = _ics(event, header="X-WR-TIMEZONE:America/New_York\n")
    assert [m.start for m in _parsed(zoned).meetings] == [_utc(2025, 4, 1, 14)]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"team,title,start\nA,B,2025-01-01\n", ["line 1: not an iCalendar file"]),
        (b"", ["line 1: not an iCalendar file"]),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", ["not a valid iCalendar file"]),
        (
            _ics("UID:bad-date\nSUMMARY:Fraud review\nDTSTART:2025XX10T100000Z"),
            ["line 7: event 'Fraud review' (UID bad-date): DTSTART: Wrong datetime format"],
        ),
        (
            _ics("UID:no-start\nSUMMARY:Fraud review\nDTEND:20250310T100000Z"),
            ["line 4: event 'Fraud review' (UID no-start) has no DTSTART; every event needs one"],
        ),
        (
            _ics("UID:tz\nSUMMARY:Fraud review\nDTSTART;TZID=Mars/Olympus:20250310T100000"),
            ["line 7: event 'Fraud review' (UID tz): DTSTART: unknown time zone 'Mars/Olympus'"],
        ),
        (
            _ics("UID:ends\nSUMMARY:Fraud\nDTSTART:20250310T100000Z\nDTEND:20250310T090000Z"),
            ["line 8: event 'Fraud' (UID ends): DTEND is before DTSTART"],
        ),
        (
            _ics("UID:rule\nSUMMARY:Fraud\nDTSTART:20250310T100000Z\nRRULE:FREQ=SOMETIMES"),
            ["line 8: event 'Fraud' (UID rule): RRULE:"],
        ),
    ],
    ids=[
        "csv",
        "empty",
        "truncated",
        "bad-date",
        "no-dtstart",
        "unknown-tz",
        "ends-early",
        "rrule",
    ],
)
def test_malformed_ics_is_refused_with_the_line(data: bytes, expected: list[str]):
    parsed = _parsed(data)

    assert parsed.meetings == []
    assert len(parsed.errors) == len(expected)
    for error, start in zip(parsed.errors, expected, strict=True):
        assert error.startswith(start), error


def test_one_bad_event_refuses_the_whole_calendar(engine):
    bad = CALENDAR.replace(b"DTSTART:20250404T110000Z", b"DTSTART:20250404T1100")
    prepared = prepare_import("meetings", "team.ics", bad, CONFIG, NOW)

    assert not prepared.ok
    assert [e.split(":")[0] for e in prepared.errors] == ["line 71"]
    assert "'Team lunch'" in prepared.errors[0]
    with pytest.raises(ValueError, match="nothing was imported"):
        write_import(engine, prepared, CONFIG)
    assert row_counts(engine)["meeting"] == 0


# --- CSV ------------------------------------------------------------------------------


GOOD_CSV = b"""title,start,end,team,attendees,absent
Ranking review,2025-04-01T10:00+02:00,2025-04-01T11:00+02:00,,VP@acme.example; pm@acme.example,\
head@acme.example
Fraud model update,2025-04-02T09:00:00Z,,,,
Quarterly,2025-04-03,,Recommendations,,
Lunch,2025-04-04T12:00:00Z,,,,
Ranking review,2025-05-01T10:00:00Z,,,,
"""


def test_csv_rows_become_meetings():
    parsed = parse_meetings_csv(GOOD_CSV, TeamMatcher.for_import(CONFIG), NOW)

    assert parsed.errors == []
    assert [(m.team, m.title, m.start, m.end) for m in parsed.meetings] == [
        ("Search Ranking", "Ranking review", _utc(2025, 4, 1, 8), _utc(2025, 4, 1, 9)),
        ("Fraud Detection", "Fraud model update", _utc(2025, 4, 2, 9), None),
        ("Recommendations", "Quarterly", _utc(2025, 4, 3), None),
    ]
    assert {a.email: a.attended for a in parsed.meetings[0].attendees} == {
        "vp@acme.example": True,
        "pm@acme.example": True,
        "head@acme.example": False,
    }
    assert parsed.skipped == {UNMATCHED: 1, NOT_YET: 1}
    assert parsed.next_start == _utc(2025, 5, 1, 10)


BAD_CSV = b"""title,start,end,team,attendees
Ranking review,2025-04-01T10:00:00Z,,,vp@acme.example
Ranking review,xyz,,,
Ranking review,2025-04-01 10:00,,,
,2025-04-02T10:00:00Z,2025-04-02T09:00:00Z,Nobody,not-an-address
Ranking review,2025-04-01T10:00:00Z,,,
Too,many,fields,here,x,y
"""


def test_bad_csv_rows_are_named_and_nothing_is_imported(engine):
    prepared = prepare_import("meetings", "meetings.csv", BAD_CSV, CONFIG, NOW)

    assert prepared.errors == (
        "line 3: column 'start': 'xyz' is not an ISO date-time "
        "(e.g. 2025-03-10T14:00:00Z or 2025-03-10T15:00:00+01:00)",
        "line 4: column 'start': '2025-04-01 10:00' has no time zone; add Z for UTC or an offset "
        "(e.g. 2025-03-10T14:00:00Z or 2025-03-10T15:00:00+01:00)",
        "line 5: column 'title': is empty; give the meeting's title",
        "line 5: column 'attendees': 'not-an-address' is not an e-mail address "
        "(expected name@domain.tld)",
        "line 5: column 'team': 'Nobody' is not a team of mlops.toml "
        "(teams: Fraud Detection, Recommendations, Search Ranking)",
        "line 5: column 'end': is not after start",
        "line 6: column 'start': repeats the meeting of line 2",
        "line 7: has 6 fields but the header names 5 columns (quote a value that contains a comma)",
    )
    with pytest.raises(ValueError, match="8 problems, nothing was imported"):
        write_import(engine, prepared, CONFIG)
    counts = row_counts(engine)
    assert (counts["meeting"], counts["meeting_attendee"], counts["sync_run"]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "the file is empty; the first line names the columns: title, start"),
        (b"title;start\nA;2025-01-01\n", "line 1: the columns must be separated by commas"),
        (b"name,start\nA,2025-01-01\n", "line 1: unknown column 'name'; missing column 'title'"),
        (b"title,start\n", "the file has no rows"),
        (b"title,start\n\xff\xfe,2025-01-01\n", "the file is not UTF-8 text"),
    ],
)
def test_a_csv_of_the_wrong_shape_is_refused(data: bytes, error: str):
    parsed = parse_meetings_csv(data, TeamMatcher.for_import(CONFIG), NOW)
    assert parsed.meetings == []
    assert len(parsed.errors) == 1
    assert parsed.errors[0].startswith(error), parsed.errors[0]


def test_a_team_column_must_agree_with_the_team_the_file_is_for():
    parsed = parse_meetings_csv(
        b"title,start,team\nReview,2025-04-01T10:00:00Z,Fraud Detection\n",
        TeamMatcher.for_import(CONFIG, "Search Ranking"),
        NOW,
    )
    assert parsed.errors == [
        "line 2: column 'team': 'Fraud Detection' differs from the team this file is for "
        "('Search Ranking')"
    ]


def test_an_unknown_team_for_the_import_is_refused():
    prepared = prepare_import("meetings", "m.csv", GOOD_CSV, CONFIG, NOW, team="Nobody")
    assert prepared.errors == (
        "unknown team 'Nobody'; teams in mlops.toml: Search Ranking, Fraud Detection, "
        "Recommendations",
    )


def test_nothing_matching_is_refused_with_a_hint():
    prepared = prepare_import("meetings", "m.csv", b"title,start\nLunch,2025-04-01\n", CONFIG, NOW)
    assert prepared.errors == (
        f"no meeting to import: 1 {UNMATCHED} (pass a team to assign every meeting to it)",
    )


# --- writing ------------------------------------------------------------------------------


def test_an_import_writes_meetings_attendance_and_its_sync_run_once(engine):
    prepared = prepare_import("meetings", "team.ics", CALENDAR, CONFIG, NOW)
    assert prepared.ok
    assert len(prepared.preview) == 9

    written = write_import(engine, prepared, CONFIG)
    again = write_import(
        engine, prepare_import("meetings", "team.ics", CALENDAR, CONFIG, NOW), CONFIG
    )

    assert written == again == {"meeting": 9, "meeting_attendee": 26}
    stored = meetings(engine, "Search Ranking").sort_values("start")
    assert stored["title"].tolist() == [
        "Ranking review",
        "Ranking review (moved)",
        "Ranking review",
        "Ranking review",
        "Ranking review (monthly)",
    ]
    assert set(stored["source"]) == {"import"}
    assert list(stored["start"])[1] == _utc(2025, 3, 25, 14)
    attendance = meeting_attendees(engine, "Search Ranking")
    moved = attendance[attendance["uid"] == "ranking-weekly@acme.example/20250324T090000Z"]
    assert dict(zip(moved["email"], moved["attended"], strict=True)) == {
        "head@acme.example": True,
        "vp@acme.example": False,
    }
    with engine.connect() as connection:
        runs = connection.execute(select(SyncRun.__table__)).all()  # type: ignore[attr-defined]
    assert [(r.source, r.status, r.rows_written) for r in runs] == [
        ("import:meetings", "ok", 35),
        ("import:meetings", "ok", 35),
    ]
    assert row_counts(engine)["meeting"] == 9


def test_attendance_reaches_the_stakeholder_metric(engine):
    write_import(engine, prepare_import("meetings", "team.ics", CALENDAR, CONFIG, NOW), CONFIG)

    (result,) = compute_metrics(
        engine,
        CONFIG,
        Period(NOW.date() - timedelta(days=89), NOW.date()),
        ["Search Ranking"],
        ["stakeholder_attendance_pct"],
    )
    # Of vp and head: 1 of 2 at the three weekly meetings, 1 of 2 at the moved one,
    # 0 of 2 at the monthly one (nobody invited).
    assert result.value == pytest.approx(100 * (0.5 * 4 + 0) / 5)


def test_storing_again_replaces_the_attendance(engine):
    with write_transaction(engine) as connection:
        register_organisation(connection, CONFIG)
    first = parse_meetings_csv(
        b"title,start,attendees,absent\nRanking review,2025-04-01T10:00:00Z,a@x.io,b@x.io\n",
        TeamMatcher.for_import(CONFIG),
        NOW,
    )
    second = parse_meetings_csv(
        b"title,start,attendees\nRanking review,2025-04-01T10:00:00Z,b@x.io\n",
        TeamMatcher.for_import(CONFIG),
        NOW,
    )
    for parsed in (first, second):
        with write_transaction(engine) as connection:
            store_meetings(connection, parsed.meetings, "csv")

    attendance = meeting_attendees(engine, "Search Ranking")
    assert dict(zip(attendance["email"], attendance["attended"], strict=True)) == {"b@x.io": True}


# --- the feed sync -----------------------------------------------------------------------


@dataclass
class FeedServer:
    """A calendar server on loopback that honours If-None-Match."""

    url: str
    body: bytes = CALENDAR
    etag: str = '"v1"'
    status: int = 200
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    """(path with query, If-None-Match) of every request."""


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            match = self.headers.get("If-None-Match")
            state.seen.append((self.path, match))
            if state.status != 200:
                self.send_error(state.status)
                return
            if match == state.etag:
                self.send_response(304)
                self.send_header("ETag", state.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("ETag", state.etag)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _feed_config(ics: str, csv: str | None = None) -> Config:
    csv_key = f', csv = "{csv}"' if csv else ""
    return parse_config(
        f"""
[[teams]]
name = "Recommendations"

[[teams]]
name = "Search Ranking"
meetings = {{ ics = "{ics}", title = "(?i)ranking review"{csv_key} }}
stakeholders = ["vp@acme.example", "head@acme.example"]
"""
    )


def _sync(engine, config: Config, at: datetime = NOW) -> tuple[SourceOutcome, SyncContext]:
    with write_transaction(engine) as connection:
        register_organisation(connection, config)
    context = SyncContext(engine=engine, config=config, teams=config.teams, started_at=at)
    return sync_meetings(context), context


def test_an_unchanged_feed_costs_one_304(engine, feed_server):
    config = _feed_config(f"{feed_server.url}/cal/basic.ics?token=s3cret")

    outcome, context = _sync(engine, config)
    assert (outcome.status, outcome.error, outcome.rows_written) == ("ok", None, 5 + 26)
    assert context.requests.total == 1
    assert outcome.watermark == NOW
    stored = meetings(engine, "Search Ranking")
    assert len(stored) == 5
    assert set(stored["source"]) == {"ics"}

    later = NOW + timedelta(hours=1)
    outcome, context = _sync(engine, config, later)

    assert (outcome.status, outcome.rows_written, outcome.watermark) == ("ok", 0, later)
    assert context.requests.total == 1
    assert feed_server.seen == [
        ("/cal/basic.ics?token=s3cret", None),
        ("/cal/basic.ics?token=s3cret", '"v1"'),
    ]
    assert len(meetings(engine, "Search Ranking")) == 5
    with engine.connect() as connection:
        stored_meta = connection.execute(select(AppMeta.__table__.c.value)).scalars().all()  # type: ignore[attr-defined]
    assert not any("s3cret" in value for value in stored_meta)


def test_once_the_next_meeting_has_started_the_feed_is_read_again(engine, feed_server):
    config = _feed_config(f"{feed_server.url}/basic.ics")
    _sync(engine, config)

    after_next = datetime(2025, 5, 15, 10, tzinfo=UTC)  # the monthly review began at 09:00
    outcome, context = _sync(engine, config, after_next)

    assert feed_server.seen[-1] == ("/basic.ics", None)  # a full read, not a conditional one
    assert context.requests.total == 1
    assert outcome.status == "ok"
    monthly = meetings(engine, "Search Ranking")
    assert _utc(2025, 5, 15, 9) in set(monthly["start"])


def test_a_feed_that_drops_an_event_drops_the_meeting(engine, feed_server):
    config = _feed_config(f"{feed_server.url}/basic.ics")
    _sync(engine, config)
    feed_server.body = CALENDAR.replace(b"COUNT=5", b"COUNT=2")
    feed_server.etag = '"v2"'

    outcome, _ = _sync(engine, config, NOW + timedelta(hours=1))

    assert outcome.status == "ok"
    starts = sorted(meetings(engine, "Search Ranking")["start"])
    assert starts == [_utc(2025, 3, 17, 9), _utc(2025, 3, 25, 14), _utc(2025, 4, 15, 9)]


def test_a_failing_feed_makes_the_sync_partial_without_showing_its_token(
    engine, feed_server, tmp_path
):
    good = tmp_path / "meetings.csv"
    good.write_bytes(b"title,start\nRanking review,2025-04-01T10:00:00Z\n")
    config = _feed_config(f"{feed_server.url}/secret-path/basic.ics?token=s3cret", str(good))
    feed_server.status = 404

    outcome, context = _sync(engine, config)

    assert outcome.status == "partial"
    assert outcome.error == (
        "team 'Search Ranking': teams[1].meetings.ics "
        f"({feed_server.url}/…/basic.ics?…): HTTP 404 Not Found; "
        "check the feed URL (and that its token is still valid)"
    )
    assert "s3cret" not in outcome.error
    assert "secret-path" not in outcome.error
    assert context.requests.total == 1
    assert meetings(engine, "Search Ranking")["source"].tolist() == ["csv"]


def test_every_feed_failing_is_a_source_error_naming_the_key(engine, tmp_path):
    config = _feed_config(str(tmp_path / "missing.ics"))
    with pytest.raises(SourceError) as raised:
        _sync(engine, config)
    assert str(raised.value) == (
        f"team 'Search Ranking': teams[1].meetings.ics ({tmp_path / 'missing.ics'}): "
        "file not found (a relative path is read from the working folder)"
    )


def test_an_unreachable_feed_says_so_in_one_line(engine):
    config = _feed_config("http://127.0.0.1:9/basic.ics?token=s3cret")
    with pytest.raises(SourceError, match="cannot connect; check the host name") as raised:
        _sync(engine, config)
    assert "s3cret" not in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_malformed_feed_changes_nothing(engine, tmp_path):
    feed = tmp_path / "team.ics"
    feed.write_bytes(CALENDAR)
    config = _feed_config(str(feed))
    _sync(engine, config)
    before = row_counts(engine)
    feed.write_bytes(CALENDAR.replace(b"DTSTART:20250404T110000Z", b"DTSTART:yesterday"))

    with pytest.raises(
        SourceError, match=r"not read, nothing changed: line 71: event 'Team lunch'"
    ):
        _sync(engine, config, NOW + timedelta(hours=1))
    after = row_counts(engine)
    assert (after["meeting"], after["meeting_attendee"]) == (
        before["meeting"],
        before["meeting_attendee"],
    )


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        (
            "https://cal.example/ical/me%40x/private-abc/basic.ics",
            "https://cal.example/…/basic.ics",
        ),
        ("https://user:pw@cal.example/feed.ics?token=1", "https://cal.example/feed.ics?…"),
        ("data/meetings.csv", "data/meetings.csv"),
    ],
)
def test_feed_locations_are_shown_without_secrets(location: str, shown: str):
    assert redact_feed_url(location) == shown
