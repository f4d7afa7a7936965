"""Stakeholder meetings from iCalendar feeds and CSV files (DESIGN §4, §6).

Parsing is separate from writing: `parse_ics` and `parse_meetings_csv` turn bytes
into `ParsedMeetings` (the meetings, and row-level problems), and only a parse
without problems is written, all in one transaction, so a malformed file never
leaves half a calendar behind.

Choices that decide the numbers:
- Window: recurring events are expanded over the `WINDOW_DAYS` (two years)
  before the sync or import, up to that instant and not beyond. A meeting that
  has not started yet has not updated anyone, and a weekly series without an
  end would otherwise never stop; history older than the window stays stored.
- Attendance: the calendar only knows each invitee's answer (PARTSTAT), not who
  was in the room. ACCEPTED counts as attended; DECLINED, TENTATIVE,
  NEEDS-ACTION (no answer, also when PARTSTAT is absent) and DELEGATED do not:
  a stakeholder who never committed is not evidence of an update, and counting
  them would inflate attendance. The organizer counts as attended unless listed
  with an answer of their own. Rooms and resources (CUTYPE) are not people.
- Time zones: TZIDs (IANA names or the file's VTIMEZONEs) are honoured, so a
  weekly 10:00 Europe/Berlin meeting moves by an hour in UTC across DST; a
  floating time takes the calendar's X-WR-TIMEZONE, else UTC; an all-day event
  starts at 00:00 UTC of its day.
- Identity: an event's UID, and for an instance of a recurring event its UID
  plus its RECURRENCE-ID, so a moved instance updates the slot it replaces.
  Cancelled events and instances (STATUS:CANCELLED, EXDATE) are not meetings.
- Teams: each team's `meetings.title` regex is searched in the title; an event
  no team's pattern matches is skipped and counted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]
import requests
from sqlalchemy import Connection, and_, delete, select

from config import Config, TeamConfig
from connectors.base import SourceError, SourceOutcome, SyncContext
from connectors.imports import (
    INSTANT_EXAMPLE,
    Columns,
    PreparedImport,
    RowReader,
    by_line,
    read_records,
    repeated_key,
    skipped_text,
)
from data.entry import EMAIL, TITLE_MAX_CHARS, meeting_uid
from data.store import (
    get_meta,
    key_to_id,
    read_watermarks,
    set_meta,
    set_watermark,
    upsert_rows,
    write_transaction,
)
from data.tables import Meeting, MeetingAttendee, Team

WINDOW_DAYS: Final = 730
HORIZON_DAYS: Final = 366
"""How far ahead the next meeting is looked for (see `ParsedMeetings.next_start`)."""
MAX_OCCURRENCES: Final = 100_000
"""A feed with more meetings than this in the window is refused rather than read slowly."""
MAX_FEED_BYTES: Final = 50 * 1024 * 1024
FEED_TIMEOUT: Final = (10.0, 60.0)
"""Seconds to connect, and between bytes of the answer."""
SOURCE: Final = "meetings"
IMPORT_SOURCE: Final = "import"
"""`meeting.source` of imported meetings; a feed's own are "ics" or "csv"."""
UNMATCHED: Final = "matching no team's meetings.title"
CANCELLED: Final = "cancelled"
NOT_YET: Final = "not held yet"
UNTITLED: Final = "(no title)"
MEETING_COLUMNS: Final = Columns(
    required=("title", "start"),
    optional=("team", "end", "attendees", "absent", "uid"),
)
"""`attendees` came, `absent` were invited and did not (e-mails separated by `;`)."""
FeedKind = Literal["ics", "csv"]


# --- what a parse gives ---------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    email: str
    attended: bool


@dataclass(frozen=True)
class ParsedMeeting:
    team: str
    uid: str
    title: str
    start: datetime
    end: datetime | None
    attendees: tuple[Attendance, ...] = ()

    def preview(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "attended": [person.email for person in self.attendees if person.attended],
            "absent": [person.email for person in self.attendees if not person.attended],
        }


@dataclass
class ParsedMeetings:
    meetings: list[ParsedMeeting] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Events or rows left out on purpose, by reason."""
    next_start: datetime | None = None
    """When the same file next yields one more meeting by time passing alone (the first
    matching start after `now`); until then an unchanged feed needs no re-read."""

    def note_future(self, start: datetime) -> None:
        self.skipped[NOT_YET] += 1
        if self.next_start is None or start < self.next_start:
            self.next_start = start


@dataclass(frozen=True)
class TeamMatcher:
    """Which team(s) an event belongs to: by title pattern, or one team for everything."""

    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    known: frozenset[str]
    """Every configured team: what a CSV `team` column may name."""
    fixed: str | None = None
    """Set when the file is one team's (its feed, or `--team`): a `team` column must agree."""

    @classmethod
    def for_import(cls, config: Config, team: str | None = None) -> TeamMatcher:
        """`team`: every meeting is that team's; else each team's `meetings.title` decides
        (teams without a `meetings` section take no part)."""
        known = frozenset(config.team_names())
        if team is not None:
            if team not in known:
                shown = ", ".join(config.team_names()) or "none"
                raise ValueError(f"unknown team {team!r}; teams in mlops.toml: {shown}")
            return cls(((team, re.compile("")),), known, team)
        patterns = tuple(
            (t.name, re.compile(t.meetings.title)) for t in config.teams if t.meetings is not None
        )
        return cls(patterns, known)

    @classmethod
    def for_feed(cls, config: Config, team: TeamConfig) -> TeamMatcher:
        """A team's own feed: its title pattern picks its meetings."""
        title = team.meetings.title if team.meetings is not None else ""
        return cls(((team.name, re.compile(title)),), frozenset(config.team_names()), team.name)

    def by_title(self, title: str) -> list[str]:
        return [team for team, pattern in self.patterns if pattern.search(title)]


# --- iCalendar --------------------------------------------------------------------------

_DATE_PROPERTIES: Final = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")
_CHECKED_PROPERTIES: Final = (*_DATE_PROPERTIES, "DURATION", "RRULE", "SUMMARY", "UID")
_TOO_FREQUENT: Final = {"SECONDLY": "second", "MINUTELY": "minute"}
"""Rule frequencies no meeting series has; expanding them over the window would take
minutes (every second: five minutes for the first 100,000) before failing anyway."""
_SINGLE_PROPERTIES: Final = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SUMMARY", "UID")
"""At most once per event (RFC 5545 §3.6.1); icalendar gives a list when one repeats."""
_DATE_EXAMPLE: Final = "e.g. DTSTART:20250310T140000Z or DTSTART;TZID=Europe/Berlin:20250310T150000"


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8-sig", errors="replace").splitlines()


def _event_blocks(lines: Sequence[str]) -> list[tuple[int, int]]:
    """(first, last) line index of each VEVENT, in file order (as `walk` yields them)."""
    blocks: list[tuple[int, int]] = []
    begin: int | None = None
    for index, line in enumerate(lines):
        upper = line.strip().upper()
        if upper == "BEGIN:VEVENT":
            begin = index
        elif upper == "END:VEVENT" and begin is not None:
            blocks.append((begin, index))
            begin = None
    return blocks


def _property_line(lines: Sequence[str], block: tuple[int, int], name: str) -> int:
    """1-based line of `name` inside the event (the event's first line if not found)."""
    pattern = re.compile(rf"^{re.escape(name)}[;:]", re.IGNORECASE)
    for index in range(block[0], block[1] + 1):
        if pattern.match(lines[index]):
            return index + 1
    return block[0] + 1


def _naming(event: Any) -> str:
    summary = str(_values(event.get("SUMMARY", ""))[0]).strip() or UNTITLED
    shown = summary if len(summary) <= 60 else summary[:57] + "..."
    uid = str(_values(event.get("UID", ""))[0]).strip()
    return f"event {shown!r}" + (f" (UID {uid})" if uid else "")


def _values(prop: Any) -> list[Any]:
    return prop if isinstance(prop, list) else [prop]


def _moments(prop: Any) -> Iterator[tuple[Any, Any]]:
    """Each (parameters, date or datetime) of a date property (EXDATE/RDATE may hold many)."""
    for value in _values(prop):
        params = getattr(value, "params", {})
        dts = getattr(value, "dts", None)
        if dts is not None:
            for item in dts:
                yield params, getattr(item, "dt", item)
        else:
            yield params, getattr(value, "dt", value)


def _check_event(event: Any, where: Callable[[str], str], problems: list[str]) -> None:
    """The properties a meeting is built from must be readable; the rest may be anything."""
    broken = dict(getattr(event, "errors", []) or [])
    for name in _CHECKED_PROPERTIES:
        if name in broken:
            hint = f" ({_DATE_EXAMPLE})" if name in _DATE_PROPERTIES else ""
            problems.append(f"{where(name)}: {_naming(event)}: {name}: {broken[name]}{hint}")
    if "DTSTART" not in event:
        problems.append(f"{where('BEGIN')}: {_naming(event)} has no DTSTART; every event needs one")
        return
    repeated = [name for name in _SINGLE_PROPERTIES if isinstance(event.get(name), list)]
    for name in repeated:
        problems.append(
            f"{where(name)}: {_naming(event)}: {name} appears {len(event[name])} times; "
            "an event has at most one"
        )
    if repeated:
        return
    for rule in [] if "RRULE" in broken else _values(event.get("RRULE", [])):
        if not isinstance(rule, dict):
            continue
        frequency = str((rule.get("FREQ") or [""])[0]).upper()
        if frequency in _TOO_FREQUENT:
            problems.append(
                f"{where('RRULE')}: {_naming(event)}: RRULE repeats every "
                f"{_TOO_FREQUENT[frequency]}; a meeting series repeats hourly at most"
            )
        if any(not isinstance(n, int) or n < 1 for n in rule.get("INTERVAL") or []):
            # dateutil never gets past the first date of an INTERVAL=0 rule: it hangs.
            problems.append(
                f"{where('RRULE')}: {_naming(event)}: RRULE INTERVAL must be 1 or more (RFC 5545)"
            )
    for name in _DATE_PROPERTIES:
        if name in broken or name not in event:
            continue
        for params, moment in _moments(event[name]):
            zone = params.get("TZID") if hasattr(params, "get") else None
            if zone and isinstance(moment, datetime) and moment.tzinfo is None:
                problems.append(
                    f"{where(name)}: {_naming(event)}: {name}: unknown time zone {zone!r}; "
                    "use an IANA name such as Europe/Berlin, or include its VTIMEZONE"
                )
    if any(name in broken for name in ("DTSTART", "DTEND")) or "DTEND" not in event:
        return
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    if isinstance(start, datetime) != isinstance(end, datetime):
        problems.append(
            f"{where('DTEND')}: {_naming(event)}: DTSTART and DTEND must both be dates "
            "or both date-times"
        )
    elif _utc(end) < _utc(start):
        problems.append(f"{where('DTEND')}: {_naming(event)}: DTEND is before DTSTART")


def _utc(moment: date | datetime) -> datetime:
    """All-day: 00:00 UTC of the day; floating (no zone left): read as UTC."""
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_STRETCH_FIRST: Final = timedelta(days=1)
_STRETCH_SHORTEST: Final = timedelta(hours=1)
_STRETCH_LONGEST: Final = timedelta(days=60)
_STRETCH_FEW, _STRETCH_MANY = 50, 5000
"""Occurrences starting in one stretch below which the next stretch doubles, and above
which it halves."""


def _starting_between(calendar: Any, start: datetime, end: datetime) -> Iterator[Any]:
    """The occurrences starting in [start, end), by start time, read a stretch at a time.

    Not `recurring_ical_events`' own `after()`: it steps by 15 minutes through any time
    some occurrence is under way, so fortnight-long "Sprint" blocks every two weeks
    cost half a minute, and a weekly event lasting years minutes and gigabytes. A
    stretch here grows while few occurrences start in it and shrinks while many do,
    so an endless every-minute series still costs only what is read of it.
    """
    query = recurring_ical_events.of(calendar)
    stretch = _STRETCH_FIRST
    while start < end:
        stop = min(start + stretch, end)
        found = [o for o in query.between(start, stop) if start <= _utc(o.start) < stop]
        found.sort(key=lambda occurrence: _utc(occurrence.start))
        yield from found
        start = stop
        if len(found) < _STRETCH_FEW:
            stretch = min(stretch * 2, _STRETCH_LONGEST)
        elif len(found) > _STRETCH_MANY:
            stretch = max(stretch / 2, _STRETCH_SHORTEST)


def _base_uid(component: Any) -> str:
    """The UID; a made-up stable one for an event without (RFC 5545 requires one)."""
    uid = str(component.get("UID", "")).strip()
    if uid:
        return uid
    start = _utc(component["DTSTART"].dt)
    summary = str(component.get("SUMMARY", ""))
    return "ics-" + hashlib.sha256(f"{summary}\n{start.isoformat()}".encode()).hexdigest()[:24]


def _recurring_uids(events: Sequence[Any]) -> set[str]:
    return {
        _base_uid(event)
        for event in events
        if any(name in event for name in ("RRULE", "RDATE", "RECURRENCE-ID"))
    }


def _instance_uid(component: Any, recurring: set[str]) -> str:
    """A single event's UID; an instance of a series: UID/RECURRENCE-ID (in UTC)."""
    uid = _base_uid(component)
    recurrence = component.get("RECURRENCE-ID")
    if recurrence is None or uid not in recurring:
        return uid
    moment = recurrence.dt
    if isinstance(moment, datetime):
        return f"{uid}/{_utc(moment):%Y%m%dT%H%M%SZ}"
    return f"{uid}/{moment:%Y%m%d}"


def _email(address: Any) -> str | None:
    """From the EMAIL parameter or a mailto: value; None for anything else (urn:uuid:…)."""
    params = getattr(address, "params", {})
    candidate = str(params.get("EMAIL", "") or "").strip()
    if not candidate:
        value = str(address).strip()
        if value[:7].lower() != "mailto:":
            return None
        candidate = value[7:].strip()
    return candidate.casefold() if EMAIL.fullmatch(candidate) else None


def _attendance(component: Any) -> tuple[Attendance, ...]:
    people: dict[str, bool] = {}
    for address in _values(component.get("ATTENDEE", [])):
        params = getattr(address, "params", {})
        if str(params.get("CUTYPE", "INDIVIDUAL")).upper() in ("ROOM", "RESOURCE"):
            continue
        email = _email(address)
        if email is None:
            continue
        accepted = str(params.get("PARTSTAT", "NEEDS-ACTION")).upper() == "ACCEPTED"
        people[email] = people.get(email, False) or accepted
    organizer = component.get("ORGANIZER")
    if organizer is not None:
        email = _email(organizer)
        if email is not None:
            people.setdefault(email, True)
    return tuple(Attendance(email, came) for email, came in people.items())


def parse_ics(
    data: bytes, matcher: TeamMatcher, now: datetime, window_days: int = WINDOW_DAYS
) -> ParsedMeetings:
    """The meetings held in the `window_days` before `now`, expanded and matched to teams."""
    result = ParsedMeetings()
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15]
    if head.upper() != b"BEGIN:VCALENDAR":
        result.errors.append(
            "line 1: not an iCalendar file: it must begin with BEGIN:VCALENDAR "
            "(export the calendar as .ics)"
        )
        return result
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        reason = (str(exc).strip().splitlines() or ["unreadable"])[0]
        result.errors.append(f"not a valid iCalendar file: {reason[:200]}")
        return result
    lines = _lines(data)
    blocks = _event_blocks(lines)
    events: list[Any] = calendar.walk("VEVENT")
    for index, event in enumerate(events):
        block = blocks[index] if index < len(blocks) else (0, 0)

        def where(name: str, block: tuple[int, int] = block) -> str:
            return f"line {_property_line(lines, block, name)}"

        _check_event(event, where, result.errors)
    if result.errors:
        return result
    recurring = _recurring_uids(events)
    window_start = now - timedelta(days=window_days)
    horizon = now + timedelta(days=HORIZON_DAYS)
    kept: dict[tuple[str, str], ParsedMeeting] = {}
    seen = 0
    try:
        for occurrence in _starting_between(calendar, window_start, horizon):
            start = _utc(occurrence.start)
            if start >= horizon:
                break
            seen += 1
            if seen > MAX_OCCURRENCES:
                result.errors.append(
                    f"more than {MAX_OCCURRENCES:,} events within {window_days} days; "
                    "is a rule repeating every minute or hour?"
                )
                return result
            if start < window_start:
                continue  # began before the window and lasts into it
            title = (str(occurrence.get("SUMMARY", "")).strip() or UNTITLED)[:TITLE_MAX_CHARS]
            teams = matcher.by_title(title)
            if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
                if start < now:
                    result.skipped[CANCELLED] += 1
                continue
            if start >= now:
                if teams and (result.next_start is None or start < result.next_start):
                    result.next_start = start
                continue
            if not teams:
                result.skipped[UNMATCHED] += 1
                continue
            end = occurrence.end
            uid = _instance_uid(occurrence, recurring)
            people = _attendance(occurrence)
            for team in teams:
                kept[(team, uid)] = ParsedMeeting(
                    team, uid, title, start, None if end is None else _utc(end), people
                )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        result.errors.append(f"cannot expand the recurring events: {reason[:200]}")
        return result
    if result.next_start is None:
        result.next_start = horizon
    result.meetings = sorted(kept.values(), key=lambda m: (m.start, m.team, m.uid))
    return result


# --- CSV (and JSON) ---------------------------------------------------------------------


def parse_meetings_csv(
    data: bytes,
    matcher: TeamMatcher,
    now: datetime,
    file_format: Literal["csv", "json"] = "csv",
) -> ParsedMeetings:
    """One meeting per row (columns in `MEETING_COLUMNS`); a row with a `team` names its
    team, others are matched by title. A meeting that has not started yet is skipped."""
    result = ParsedMeetings()
    records, result.errors = read_records(data, file_format, MEETING_COLUMNS)
    if not records:
        if not result.errors:
            result.errors.append(
                f"the file has no rows; its columns are {MEETING_COLUMNS.listed()}"
            )
        return result
    seen: dict[Any, str] = {}
    for record in records:
        row = RowReader(record, result.errors)
        title = row.text("title", "the meeting's title", required=True)
        start = row.instant("start", f"when it started ({INSTANT_EXAMPLE})", required=True)
        end = row.instant("end", "when it ended")
        came = row.emails("attendees")
        away = row.emails("absent")
        for email in sorted(set(came) & set(away)):
            row.bad("absent", email, "is also in attendees; list each person once")
        named = row.text("team", "the team's name as in mlops.toml")
        if named is not None and named not in matcher.known:
            shown = ", ".join(sorted(matcher.known)) or "none"
            row.bad("team", named, f"is not a team of mlops.toml (teams: {shown})")
        elif named is not None and matcher.fixed is not None and named != matcher.fixed:
            row.bad("team", named, f"differs from the team this file is for ({matcher.fixed!r})")
        if start is not None and end is not None and end <= start:
            row.problem("end", "is not after start")
        uid = row.text("uid", "a unique id of the meeting")
        if not row.ok or title is None or start is None:
            continue
        teams = [named] if named is not None else matcher.by_title(title)
        if not teams:
            result.skipped[UNMATCHED] += 1
            continue
        if start >= now:
            result.note_future(start)
            continue
        people = tuple(Attendance(email, True) for email in came) + tuple(
            Attendance(email, False) for email in away
        )
        for team in teams:
            key = uid or meeting_uid(team, title, start)
            if repeated_key(seen, (team, key), row, "uid" if uid else "start", "the meeting"):
                continue
            result.meetings.append(ParsedMeeting(team, key, title, start, end, people))
    if result.errors:
        result.errors = by_line(result.errors)
        result.meetings.clear()
    return result


def parse_meetings_file(
    data: bytes,
    file_format: Literal["csv", "json", "ics"],
    matcher: TeamMatcher,
    now: datetime,
) -> ParsedMeetings:
    if file_format == "ics":
        return parse_ics(data, matcher, now)
    return parse_meetings_csv(data, matcher, now, file_format)


def prepare_meetings(
    source: str,
    data: bytes,
    file_format: Literal["csv", "json", "ics"],
    config: Config,
    now: datetime,
    team: str | None = None,
) -> PreparedImport:
    """An upload or `cli.py import meetings`: validated, with a preview, nothing written."""
    try:
        matcher = TeamMatcher.for_import(config, team)
    except ValueError as exc:
        return PreparedImport("meetings", source, (str(exc),))
    parsed = parse_meetings_file(data, file_format, matcher, now)
    if parsed.errors:
        return PreparedImport("meetings", source, tuple(parsed.errors), skipped=parsed.skipped)
    if not parsed.meetings:
        hint = " (pass a team to assign every meeting to it)" if parsed.skipped[UNMATCHED] else ""
        summary = skipped_text(parsed.skipped) or f"no event in the {WINDOW_DAYS} days up to now"
        return PreparedImport(
            "meetings",
            source,
            (f"no meeting to import: {summary}{hint}",),
            skipped=parsed.skipped,
        )
    meetings = parsed.meetings

    def write(connection: Connection) -> dict[str, int]:
        return store_meetings(connection, meetings, IMPORT_SOURCE)

    return PreparedImport(
        "meetings",
        source,
        (),
        tuple(meeting.preview() for meeting in meetings),
        dict(parsed.skipped),
        write,
    )


# --- writing ------------------------------------------------------------------------------


def store_meetings(
    connection: Connection, meetings: Sequence[ParsedMeeting], source: str
) -> dict[str, int]:
    """Upsert the meetings and replace their attendance; rows written per table."""
    if not meetings:
        return {"meeting": 0, "meeting_attendee": 0}
    team_ids = key_to_id(connection, Team, sorted({m.team for m in meetings}))
    written = upsert_rows(
        connection,
        Meeting,
        [
            {
                "team_id": team_ids[m.team],
                "uid": m.uid,
                "title": m.title,
                "start": m.start,
                "end": m.end,
                "source": source,
            }
            for m in meetings
        ],
    )
    keys = [(team_ids[m.team], m.uid) for m in meetings]
    ids = key_to_id(connection, Meeting, keys)
    attendees = MeetingAttendee.__table__  # type: ignore[attr-defined]
    meeting_ids = sorted(ids.values())
    for start in range(0, len(meeting_ids), 500):
        chunk = meeting_ids[start : start + 500]
        connection.execute(delete(attendees).where(attendees.c.meeting_id.in_(chunk)))
    people = upsert_rows(
        connection,
        MeetingAttendee,
        [
            {"meeting_id": ids[key], "email": person.email, "attended": person.attended}
            for key, m in zip(keys, meetings, strict=True)
            for person in m.attendees
        ],
    )
    return {"meeting": written, "meeting_attendee": people}


def _forget_missing(
    connection: Connection,
    team: str,
    source: str,
    kept: Sequence[ParsedMeeting],
    since: datetime | None,
) -> int:
    """Delete the feed's earlier meetings it no longer has (cancelled, deleted, retitled)."""
    table = Meeting.__table__  # type: ignore[attr-defined]
    team_id = key_to_id(connection, Team, [team])[team]
    condition = and_(table.c.team_id == team_id, table.c.source == source)
    if since is not None:
        condition = and_(condition, table.c.start >= since)
    stored = connection.execute(select(table.c.id, table.c.uid).where(condition)).all()
    wanted = {meeting.uid for meeting in kept}
    gone = sorted(row.id for row in stored if row.uid not in wanted)
    for start in range(0, len(gone), 500):
        connection.execute(delete(table).where(table.c.id.in_(gone[start : start + 500])))
    return len(gone)


# --- the sync -------------------------------------------------------------------------------


def redact_feed_url(location: str) -> str:
    """A feed location as it may be shown: an http(s) URL without its query, fragment,
    credentials and inner path (calendar services put the secret in any of them)."""
    parts = urlsplit(location)
    if parts.scheme.lower() not in ("http", "https"):
        return location
    host = parts.netloc.rsplit("@", 1)[-1]
    segments = [segment for segment in parts.path.split("/") if segment]
    path = "/" + segments[-1] if len(segments) <= 1 else f"/…/{segments[-1]}"
    shown = urlunsplit((parts.scheme, host, path, "", ""))
    return shown + ("?…" if parts.query else "")


@dataclass(frozen=True)
class Feed:
    team: TeamConfig
    index: int
    """The team's position in mlops.toml, for `teams[i].meetings.ics` in messages."""
    kind: FeedKind
    location: str

    @property
    def key(self) -> str:
        return f"teams[{self.index}].meetings.{self.kind}"

    @property
    def scope(self) -> str:
        return f"{self.team.name}/{self.kind}"

    @property
    def label(self) -> str:
        return f"team {self.team.name!r}: {self.key} ({redact_feed_url(self.location)})"

    @property
    def is_http(self) -> bool:
        return urlsplit(self.location).scheme.lower() in ("http", "https")

    @property
    def state_key(self) -> str:
        """Where the feed's ETag lives; any change of team, location or title pattern
        starts afresh. Hashed, so a token in the URL is not stored."""
        title = self.team.meetings.title if self.team.meetings is not None else ""
        identity = f"{self.team.name}\n{self.kind}\n{self.location}\n{title}"
        return "meetings_feed:" + hashlib.sha256(identity.encode()).hexdigest()[:32]


def feeds_of(config: Config, teams: Sequence[TeamConfig]) -> list[Feed]:
    indexes = {team.name: index for index, team in enumerate(config.teams)}
    feeds: list[Feed] = []
    for team in teams:
        if team.meetings is None:
            continue
        sources: tuple[tuple[FeedKind, str | None], ...] = (
            ("ics", team.meetings.ics),
            ("csv", team.meetings.csv),
        )
        for kind, location in sources:
            if location:
                feeds.append(Feed(team, indexes.get(team.name, 0), kind, location))
    return feeds


@dataclass(frozen=True)
class FeedState:
    tag: str
    """The server's ETag, or a hash of the content."""
    valid_until: datetime | None
    """The next meeting's start: from then on, the same content yields one more meeting."""

    def dump(self) -> str:
        until = None if self.valid_until is None else self.valid_until.isoformat()
        return json.dumps({"tag": self.tag, "valid_until": until})

    @classmethod
    def load(cls, text: str | None) -> FeedState | None:
        if not text:
            return None
        try:
            raw = json.loads(text)
            until = raw.get("valid_until")
            return cls(str(raw["tag"]), None if until is None else datetime.fromisoformat(until))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


class _FeedFailed(Exception):
    """One feed failed; the message is safe to show (no URL query, no token)."""


def _download(
    feed: Feed, context: SyncContext, etag: str | None
) -> tuple[bytes | None, str | None]:
    """The feed's bytes and ETag; (None, etag) when the server says it has not changed."""
    headers = {
        "User-Agent": "mlops-maturity-dashboard",
        "Accept": "text/calendar, text/csv, */*;q=0.5",
    }
    if etag:
        headers["If-None-Match"] = etag
    endpoint = f"meetings {feed.kind} feed"
    try:
        with requests.get(
            feed.location, headers=headers, timeout=FEED_TIMEOUT, stream=True
        ) as response:
            context.requests.count(endpoint, 1 + len(response.history))
            if response.status_code == 304:
                return None, etag
            if response.status_code != 200:
                raise _FeedFailed(
                    f"HTTP {response.status_code} {response.reason or ''}".strip()
                    + "; check the feed URL (and that its token is still valid)"
                )
            body = bytearray()
            for chunk in response.iter_content(chunk_size=65536):
                body += chunk
                if len(body) > MAX_FEED_BYTES:
                    raise _FeedFailed(f"the feed is larger than {MAX_FEED_BYTES // 2**20} MiB")
            return bytes(body), response.headers.get("ETag")
    except requests.Timeout:
        context.requests.count(endpoint)
        raise _FeedFailed(f"no answer within {FEED_TIMEOUT[1]:g} s") from None
    except requests.exceptions.SSLError:
        context.requests.count(endpoint)
        raise _FeedFailed("TLS error: the server's certificate is not trusted") from None
    except requests.ConnectionError:
        context.requests.count(endpoint)
        raise _FeedFailed("cannot connect; check the host name and that it is reachable") from None
    except requests.RequestException as exc:
        # The exception's text can carry the full URL (and its token): name its type only.
        context.requests.count(endpoint)
        raise _FeedFailed(f"request failed ({type(exc).__name__})") from None


def _read_file(feed: Feed) -> bytes:
    path = Path(feed.location).expanduser()
    try:
        size = path.stat().st_size
        if size > MAX_FEED_BYTES:
            raise _FeedFailed(f"the file is larger than {MAX_FEED_BYTES // 2**20} MiB")
        return path.read_bytes()
    except FileNotFoundError:
        raise _FeedFailed(
            "file not found (a relative path is read from the working folder)"
        ) from None
    except IsADirectoryError:
        raise _FeedFailed("is a folder, not a file") from None
    except OSError as exc:
        raise _FeedFailed(f"cannot read the file: {exc.strerror}") from None


def _unchanged(feed: Feed, context: SyncContext) -> int:
    """The stored meetings are still what the feed says: only the watermark moves."""
    with write_transaction(context.engine) as connection:
        set_watermark(connection, SOURCE, feed.scope, context.started_at)
    return 0


def _sync_feed(feed: Feed, context: SyncContext) -> int:
    """Read one feed and replace what it held in the store; rows written."""
    now = context.started_at
    with context.engine.connect() as connection:
        state = FeedState.load(get_meta(connection, feed.state_key))
    if state is not None and state.valid_until is not None and now >= state.valid_until:
        state = None  # a meeting has been held since: the same content now says more
    if feed.is_http:
        body, etag = _download(feed, context, state.tag if state else None)
    else:
        body, etag = _read_file(feed), None
    if body is None:
        return _unchanged(feed, context)
    tag = etag or "sha256:" + hashlib.sha256(body).hexdigest()
    if state is not None and state.tag == tag:
        return _unchanged(feed, context)
    matcher = TeamMatcher.for_feed(context.config, feed.team)
    if feed.kind == "ics":
        parsed = parse_ics(body, matcher, now)
    else:
        parsed = parse_meetings_csv(body, matcher, now)
    if parsed.errors:
        more = len(parsed.errors) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise _FeedFailed(f"not read, nothing changed: {parsed.errors[0]}{extra}")
    left_out = skipped_text(parsed.skipped)
    context.progress.message(
        f"meetings: {feed.label}: {len(parsed.meetings)} meetings"
        + (f", left out: {left_out}" if left_out else "")
    )
    with write_transaction(context.engine) as connection:
        upsert_rows(connection, Team, [{"name": feed.team.name}])
        written = store_meetings(connection, parsed.meetings, feed.kind)
        since = now - timedelta(days=WINDOW_DAYS) if feed.kind == "ics" else None
        removed = _forget_missing(connection, feed.team.name, feed.kind, parsed.meetings, since)
        set_meta(connection, feed.state_key, FeedState(tag, parsed.next_start).dump())
        set_watermark(connection, SOURCE, feed.scope, now)
    return sum(written.values()) + removed


def sync_meetings(context: SyncContext) -> SourceOutcome:
    """Read every covered team's `meetings.ics` and `meetings.csv` (URL or file).

    Each feed is written in its own transaction with its watermark, so a failing
    feed leaves the others (and its own earlier meetings) as they were: some
    failing gives `partial`, all failing raises `SourceError`.
    """
    feeds = feeds_of(context.config, context.teams)
    context.progress.start("meetings", total=len(feeds))
    rows = 0
    failures: list[str] = []
    for feed in feeds:
        context.progress.message(f"meetings: {feed.label}")
        try:
            rows += _sync_feed(feed, context)
        except _FeedFailed as exc:
            failures.append(f"{feed.label}: {exc}")
        context.progress.advance("meetings")
    if feeds and len(failures) == len(feeds):
        more = len(failures) - 1
        raise SourceError(failures[0] + (f" (and {more} more feeds failed)" if more else ""))
    with context.engine.connect() as connection:
        held = read_watermarks(connection, SOURCE)
    scopes = [held[feed.scope] for feed in feeds if feed.scope in held]
    return SourceOutcome(
        rows_written=rows,
        status="partial" if failures else "ok",
        error="\n".join(failures) or None,
        watermark=min(scopes) if scopes else None,
    )


def preview_table(prepared: PreparedImport) -> list[Mapping[str, Any]]:
    """The preview as a page or the CLI shows it: one line per meeting."""
    return [
        {
            "team": row["team"],
            "title": row["title"],
            "start": row["start"],
            "attendees": ", ".join([*(f"{email} ✓" for email in row["attended"]), *row["absent"]]),
        }
        for row in prepared.preview
    ]
