"""Form entries (data/entry.py) on SQLite and PostgreSQL: validated first, written whole, once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from data.entry import add_attestation, add_meeting, add_waiver, meeting_uid
from data.loaders import attestations, meeting_attendees, meetings, waivers
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


# --- attestations and waivers ---------------------------------------------------------

CHECKS = {"modelops.rollback-procedure", "devops.cicd-review"}
NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


def test_an_attestation_is_stored_with_who_when_link_and_expiry(teams: Engine) -> None:
    answered = add_attestation(
        teams,
        "Fraud Detection",
        " modelops.rollback-procedure ",
        True,
        "  lead@acme.example ",
        " https://wiki.acme.example/rollback ",
        now=NOW,
        known_check_ids=CHECKS,
    )

    assert answered == NOW.replace(microsecond=0)
    (row,) = attestations(teams, "Fraud Detection").to_dict("records")
    assert row["check_id"] == "modelops.rollback-procedure"
    assert bool(row["answer"]) is True
    assert row["answered_by"] == "lead@acme.example"
    assert row["evidence_url"] == "https://wiki.acme.example/rollback"
    assert row["answered_at"] == answered
    assert row["expires_at"] == answered + timedelta(days=180)


def test_the_same_answer_twice_is_one_record_and_later_answers_are_history(
    teams: Engine,
) -> None:
    for _ in range(2):
        add_attestation(
            teams,
            "Fraud Detection",
            "devops.cicd-review",
            True,
            "a",
            now=NOW,
            known_check_ids=CHECKS,
        )
    assert row_counts(teams)["attestation"] == 1
    add_attestation(
        teams,
        "Fraud Detection",
        "devops.cicd-review",
        False,
        "b",
        "",
        30,
        now=NOW + timedelta(days=1),
        known_check_ids=CHECKS,
    )
    stored = attestations(teams).sort_values("answered_at")
    assert stored["answered_by"].tolist() == ["a", "b"]
    assert stored.iloc[1]["expires_at"] == (NOW + timedelta(days=31)).replace(microsecond=0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"team": "Nobody"}, "unknown team 'Nobody'; teams in the store: Fraud Detection"),
        ({"check_id": "devops.nope"}, "unknown check 'devops.nope'"),
        ({"answered_by": "   "}, "answered by: give your name or e-mail"),
        ({"evidence_url": "ftp://x.example/a"}, "is not an http(s) URL"),
        ({"evidence_url": "wiki/rollback"}, "is not an http(s) URL"),
        ({"evidence_url": "https://"}, "is not an http(s) URL"),
        ({"expires_in_days": 0}, "expire in 1 to 730 days, not 0"),
        ({"expires_in_days": 731}, "expire in 1 to 730 days, not 731"),
    ],
)
def test_a_bad_attestation_writes_nothing(
    teams: Engine, changes: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "team": "Fraud Detection",
        "check_id": "devops.cicd-review",
        "answer": True,
        "answered_by": "lead@acme.example",
        "evidence_url": "https://wiki.acme.example/x",
        "expires_in_days": 180,
        **changes,
    }
    version = store_version(teams)

    with pytest.raises(ValueError, match=re.escape(message)):
        add_attestation(teams, now=NOW, known_check_ids=CHECKS, **arguments)  # type: ignore[arg-type]

    assert row_counts(teams)["attestation"] == 0
    assert store_version(teams) == version


def test_a_waiver_is_stored_until_its_expiry_date(teams: Engine) -> None:
    created = add_waiver(
        teams,
        "Search Ranking",
        "devops.cicd-review",
        "  Batch-only: no service to review. ",
        "lead@acme.example",
        date(2026, 6, 1),
        now=NOW,
        known_check_ids=CHECKS,
    )
    add_waiver(
        teams,
        "Search Ranking",
        "devops.cicd-review",
        "Batch-only: no service to review.",
        "lead@acme.example",
        date(2026, 6, 1),
        now=NOW,
        known_check_ids=CHECKS,
    )

    (row,) = waivers(teams).to_dict("records")
    assert row["team"] == "Search Ranking"
    assert row["reason"] == "Batch-only: no service to review."
    assert row["created_at"] == created
    assert row["expires_at"] == datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"team": "Nobody"}, "unknown team 'Nobody'"),
        ({"check_id": "x.y"}, "unknown check 'x.y'"),
        ({"reason": "  "}, "a waiver needs a reason"),
        ({"created_by": ""}, "waived by: give your name or e-mail"),
        ({"expires_on": date(2026, 3, 2)}, "the expiry date (2026-03-02) is not in the future"),
        ({"expires_on": date(2029, 1, 1)}, "a waiver lasts at most 730 days"),
        ({"expires_on": None}, "the waiver needs an expiry date"),
    ],
)
def test_a_bad_waiver_writes_nothing(
    teams: Engine, changes: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "team": "Fraud Detection",
        "check_id": "devops.cicd-review",
        "reason": "not applicable",
        "created_by": "lead@acme.example",
        "expires_on": date(2026, 5, 1),
        **changes,
    }

    with pytest.raises(ValueError, match=re.escape(message)):
        add_waiver(teams, now=NOW, known_check_ids=CHECKS, **arguments)  # type: ignore[arg-type]

    assert row_counts(teams)["waiver"] == 0
