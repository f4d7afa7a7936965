"""Form entries (data/entry.py) on SQLite and PostgreSQL: validated first, written whole, once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from data.entry import add_meeting, meeting_uid
from data.loaders import meeting_attendees, meetings
from data.store import row_counts, store_version, upsert_rows, write_transaction
from data.tables import Team

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


@pytest.fixture
def teams(engine: Engine) -> Engine:
    with write_transaction(engine) as connection:
        upsert_rows(connection, Team, [{"name": "Fraud Detection"}, {"name": "Search Ranking"}])
    return engine


def _attendance(engine: Engine) -> dict[str, bool]:
    frame = meeting_attendees(engine)
    return dict(zip(frame["email"], frame["attended"].astype(bool), strict=True))


def test_a_meeting_is_stored_with_its_attendance(teams: Engine) -> None:
    uid = add_meeting(
        teams,
        "Fraud Detection",
        "  Fraud model update  ",
        START,
        END,
        ["CRO@acme.example", "risk-lead@acme.example", "analyst@acme.example", ""],
        ["cro@acme.example", "guest@acme.example"],
    )

    stored = meetings(teams)
    assert len(stored) == 1
    row = stored.iloc[0]
    assert (row["team"], row["uid"], row["title"], row["source"]) == (
        "Fraud Detection",
        uid,
        "Fraud model update",
        "form",
    )
    assert row["start"] == START
    assert row["end"] == END
    assert _attendance(teams) == {
        "cro@acme.example": True,
        "risk-lead@acme.example": False,
        "analyst@acme.example": False,
        "guest@acme.example": True,
    }


def test_submitting_twice_updates_one_meeting(teams: Engine) -> None:
    first = add_meeting(teams, "Fraud Detection", "Update", START, END, ["a@x.io", "b@x.io"], [])
    version = store_version(teams)
    second = add_meeting(
        teams,
        "Fraud Detection",
        "Update",
        START,
        END + timedelta(minutes=30),
        ["a@x.io"],
        ["a@x.io"],
    )

    assert first == second == meeting_uid("Fraud Detection", "Update", START)
    counts = row_counts(teams)
    assert (counts["meeting"], counts["meeting_attendee"]) == (1, 1)
    assert meetings(teams).iloc[0]["end"] == END + timedelta(minutes=30)
    assert _attendance(teams) == {"a@x.io": True}
    assert store_version(teams) == version + 1


def test_uid_depends_on_team_title_and_instant_not_on_the_offset() -> None:
    paris = timezone(timedelta(hours=1))
    same_instant = START.astimezone(paris)

    assert meeting_uid("A", "T", START) == meeting_uid("A", "T", same_instant)
    assert len({meeting_uid("A", "T", START), meeting_uid("B", "T", START)}) == 2
    assert meeting_uid("A", "T", START) != meeting_uid("A", "T2", START)
    assert meeting_uid("A", "T", START) != meeting_uid("A", "T", START + timedelta(minutes=1))


def test_times_with_an_offset_are_stored_in_utc(teams: Engine) -> None:
    new_york = timezone(timedelta(hours=-5))
    add_meeting(
        teams,
        "Search Ranking",
        "Ranking review",
        datetime(2026, 3, 2, 9, 0, tzinfo=new_york),
        datetime(2026, 3, 2, 10, 0, tzinfo=new_york),
        [],
        [],
    )

    assert meetings(teams).iloc[0]["start"] == START


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"team": "Nobody"}, "unknown team 'Nobody'; teams in the store: Fraud Detection, Search"),
        ({"title": "   "}, "the meeting needs a title"),
        ({"title": "x" * 301}, "longer than 300 characters"),
        ({"start": START.replace(tzinfo=None)}, "the start has no time zone"),
        ({"end": END.replace(tzinfo=None)}, "the end has no time zone"),
        ({"end": START}, "ends (2026-03-02 14:00 UTC) before or when it starts"),
        ({"end": START - timedelta(hours=1)}, "before or when it starts"),
        ({"attendee_emails": ["ok@acme.example", "not-an-email"]}, "attendees: not an e-mail"),
        ({"attended": ["someone at acme"]}, "attended: not an e-mail address: 'someone at acme'"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_writes_nothing(teams, changes, message) -> None:
    arguments = {
        "team": "Fraud Detection",
        "title": "Update",
        "start": START,
        "end": END,
        "attendee_emails": ["a@acme.example"],
        "attended": [],
        **changes,
    }
    version = store_version(teams)

    with pytest.raises(ValueError, match=re.escape(message)):
        add_meeting(teams, **arguments)

    counts = row_counts(teams)
    assert (counts["meeting"], counts["meeting_attendee"]) == (0, 0)
    assert store_version(teams) == version


def test_many_bad_addresses_are_listed_briefly(teams: Engine) -> None:
    bad = [f"bad{number}" for number in range(8)]

    with pytest.raises(ValueError, match=r"'bad0', .*'bad4' and 3 more"):
        add_meeting(teams, "Fraud Detection", "Update", START, END, bad, [])


def test_the_team_row_is_not_touched(teams: Engine) -> None:
    add_meeting(teams, "Fraud Detection", "Update", START, END, [], [])

    team_table = Team.__table__  # type: ignore[attr-defined]
    with teams.connect() as connection:
        names = list(connection.execute(select(team_table.c.name).order_by(team_table.c.name)))
    assert [name for (name,) in names] == ["Fraud Detection", "Search Ranking"]
