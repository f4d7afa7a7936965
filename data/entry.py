"""Records typed in by a person (the dashboard's forms), validated before anything is written.

Each function checks every input first and raises `ValueError` with a message a
form can show as it is; only then does it write, in one transaction, so a bad
entry leaves the store untouched and a good one is all there. Keys are derived
from the entry itself, so submitting the same form twice updates one record.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from data.store import key_to_id, upsert_rows, write_transaction
from data.tables import Meeting, MeetingAttendee, Team

EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
"""The shape `mlops.toml` accepts for stakeholder e-mails."""
FORM_SOURCE: Final = "form"
TITLE_MAX_CHARS: Final = 300


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
        team_table = Team.__table__  # type: ignore[attr-defined]
        team_id = connection.execute(
            select(team_table.c.id).where(team_table.c.name == team)
        ).scalar_one_or_none()
        if team_id is None:
            known = connection.execute(select(team_table.c.name).order_by(team_table.c.name))
            names = ", ".join(known.scalars()) or "none"
            raise ValueError(f"unknown team {team!r}; teams in the store: {names}")
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
