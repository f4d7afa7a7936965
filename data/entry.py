"""Records typed in by a person (the dashboard's forms), validated before anything is written.

Each function checks every input first and raises `ValueError` with a message a
form can show as it is; only then does it write, in one transaction, so a bad
entry leaves the store untouched and a good one is all there. Keys are derived
from the entry itself, so submitting the same form twice updates one record.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from data.store import key_to_id, upsert_rows, write_transaction
from data.tables import Attestation, Meeting, MeetingAttendee, Team, Waiver

EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
"""The shape `mlops.toml` accepts for stakeholder e-mails."""
FORM_SOURCE: Final = "form"
TITLE_MAX_CHARS: Final = 300
ATTESTATION_DAYS: Final = 180
"""How long an answer counts by default (DESIGN §7)."""
MAX_EXPIRY_DAYS: Final = 730
NAME_MAX_CHARS: Final = 200
REASON_MAX_CHARS: Final = 2000
URL_MAX_CHARS: Final = 2000


def meeting_uid(team: str, title: str, start: datetime) -> str:
    """The same team, title and start instant always give the same uid."""
    instant = start.astimezone(UTC).isoformat()
    digest = hashlib.sha256(f"{team}\n{title}\n{instant}".encode()).hexdigest()[:24]
    return f"form-{digest}@mlops-dashboard"


def _emails(values: Iterable[str], what: str) -> list[str]:
    """Trimmed, lower-cased, without duplicates (first spelling's order kept)."""
    cleaned: dict[str, None] = {}
    bad: list[str] = []
    for value in values:
        email = value.strip()
        if not email:
            continue
        if EMAIL.fullmatch(email):
            cleaned[email.casefold()] = None
        else:
            bad.append(email)
    if bad:
        shown = ", ".join(repr(email) for email in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise ValueError(f"{what}: not an e-mail address: {shown}{more} (expected name@domain.tld)")
    return list(cleaned)


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} has no time zone: give it in UTC (or with an offset)")
    return moment.astimezone(UTC)


def _team_id(connection: Any, team: str) -> int:
    """The team's id, or a `ValueError` naming the teams there are."""
    team_table = Team.__table__  # type: ignore[attr-defined]
    team_id = connection.execute(
        select(team_table.c.id).where(team_table.c.name == team)
    ).scalar_one_or_none()
    if team_id is None:
        known = connection.execute(select(team_table.c.name).order_by(team_table.c.name))
        names = ", ".join(known.scalars()) or "none"
        raise ValueError(f"unknown team {team!r}; teams in the store: {names}")
    return int(team_id)


def _known_check(check_id: str, known_check_ids: Collection[str]) -> str:
    check_id = check_id.strip()
    if check_id not in known_check_ids:
        raise ValueError(f"unknown check {check_id!r}: it is not in the rubric")
    return check_id


def _person(value: str, what: str) -> str:
    person = value.strip()
    if not person:
        raise ValueError(f"{what}: give your name or e-mail")
    if len(person) > NAME_MAX_CHARS:
        raise ValueError(f"{what} is longer than {NAME_MAX_CHARS} characters")
    return person


def _evidence_url(value: str) -> str:
    url = value.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        raise ValueError(f"the evidence link {url!r} is not an http(s) URL (https://…)")
    if len(url) > URL_MAX_CHARS:
        raise ValueError(f"the evidence link is longer than {URL_MAX_CHARS} characters")
    return url


def _now(now: datetime | None) -> datetime:
    """The instant of the entry, to the second (stored and shown as such)."""
    moment = datetime.now(UTC) if now is None else _aware(now, "now")
    return moment.replace(microsecond=0)


def add_attestation(
    engine: Engine,
    team: str,
    check_id: str,
    answer: bool,
    answered_by: str,
    evidence_url: str = "",
    expires_in_days: int = ATTESTATION_DAYS,
    now: datetime | None = None,
    *,
    known_check_ids: Collection[str],
) -> datetime:
    """Record a questionnaire answer of `team` for `check_id`; returns when it was given.

    `known_check_ids` are the rubric's check ids (data/ does not read the rubric).
    Answers are history: each is kept, the newest counts until it expires. Saving
    again at the same instant replaces that answer.
    """
    check_id = _known_check(check_id, known_check_ids)
    if not isinstance(answer, bool):
        raise ValueError("the answer is yes or no")
    person = _person(answered_by, "answered by")
    url = _evidence_url(evidence_url)
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int):
        raise ValueError("the expiry is a whole number of days")
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ValueError(
            f"the answer must expire in 1 to {MAX_EXPIRY_DAYS} days, not {expires_in_days}"
        )
    answered_at = _now(now)
    with write_transaction(engine) as connection:
        team_id = _team_id(connection, team)
        upsert_rows(
            connection,
            Attestation,
            [
                {
                    "team_id": team_id,
                    "check_id": check_id,
                    "answer": answer,
                    "answered_by": person,
                    "answered_at": answered_at,
                    "evidence_url": url,
                    "expires_at": answered_at + timedelta(days=expires_in_days),
                }
            ],
        )
    return answered_at


def add_waiver(
    engine: Engine,
    team: str,
    check_id: str,
    reason: str,
    created_by: str,
    expires_on: date,
    now: datetime | None = None,
    *,
    known_check_ids: Collection[str],
) -> datetime:
    """Waive `check_id` for `team` until 00:00 UTC on `expires_on`; returns when it was made.

    The reason is required and the expiry must be in the future (at most two years).
    """
    check_id = _known_check(check_id, known_check_ids)
    why = reason.strip()
    if not why:
        raise ValueError("a waiver needs a reason")
    if len(why) > REASON_MAX_CHARS:
        raise ValueError(f"the reason is longer than {REASON_MAX_CHARS} characters")
    person = _person(created_by, "waived by")
    if isinstance(expires_on, datetime) or not isinstance(expires_on, date):
        raise ValueError("the waiver needs an expiry date")
    created_at = _now(now)
    expires_at = datetime.combine(expires_on, time(0, 0), tzinfo=UTC)
    if expires_at <= created_at:
        raise ValueError(f"the expiry date ({expires_on:%Y-%m-%d}) is not in the future")
    if expires_at > created_at + timedelta(days=MAX_EXPIRY_DAYS + 1):
        raise ValueError(f"a waiver lasts at most {MAX_EXPIRY_DAYS} days")
    with write_transaction(engine) as connection:
        team_id = _team_id(connection, team)
        upsert_rows(
            connection,
            Waiver,
            [
                {
                    "team_id": team_id,
                    "check_id": check_id,
                    "reason": why,
                    "created_by": person,
                    "created_at": created_at,
                    "expires_at": expires_at,
                }
            ],
        )
    return created_at


def add_meeting(
    engine: Engine,
    team: str,
    title: str,
    start: datetime,
    end: datetime,
    attendee_emails: Iterable[str],
    attended: Iterable[str],
) -> str:
    """Record a stakeholder meeting of `team`; returns its uid.

    `attendee_emails` are the people the meeting was for (the invitees);
    `attended` those who were there. Each invitee is stored with whether they
    attended, and anyone in `attended` who was not listed is stored as present.
    E-mails are compared and stored lower-case. Saving the same team, title and
    start again replaces that meeting's title, end and attendance.
    """
    title = title.strip()
    if not title:
        raise ValueError("the meeting needs a title")
    if len(title) > TITLE_MAX_CHARS:
        raise ValueError(f"the title is longer than {TITLE_MAX_CHARS} characters")
    start_utc = _aware(start, "the start")
    end_utc = _aware(end, "the end")
    if end_utc <= start_utc:
        raise ValueError(
            f"the meeting ends ({end_utc:%Y-%m-%d %H:%M} UTC) before or when it starts "
            f"({start_utc:%Y-%m-%d %H:%M} UTC)"
        )
    invitees = _emails(attendee_emails, "attendees")
    present = set(_emails(attended, "attended"))
    people = {email: email in present for email in invitees}
    people.update(dict.fromkeys(sorted(present - set(invitees)), True))
    uid = meeting_uid(team, title, start_utc)

    with write_transaction(engine) as connection:
        team_id = _team_id(connection, team)
        upsert_rows(
            connection,
            Meeting,
            [
                {
                    "team_id": team_id,
                    "uid": uid,
                    "title": title,
                    "start": start_utc,
                    "end": end_utc,
                    "source": FORM_SOURCE,
                }
            ],
        )
        meeting_id = key_to_id(connection, Meeting, [(team_id, uid)])[(team_id, uid)]
        attendees = MeetingAttendee.__table__  # type: ignore[attr-defined]
        connection.execute(delete(attendees).where(attendees.c.meeting_id == meeting_id))
        upsert_rows(
            connection,
            MeetingAttendee,
            [
                {"meeting_id": meeting_id, "email": email, "attended": came}
                for email, came in people.items()
            ],
        )
    return uid
