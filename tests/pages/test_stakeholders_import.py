"""The Stakeholders page's upload: a preview of what a calendar or CSV file would import,
its row-level problems with the Import button disabled, and the import itself."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from data.loaders import meeting_attendees, meetings
from data.store import row_counts
from tests.pages.apptest import assert_clean, dataframe_with

STAKEHOLDERS_PAGE = "pages/stakeholders.py"
TEAM = "Fraud Detection"


def _calendar(day) -> bytes:
    """A weekly fraud review over the three weeks up to `day` and one unrelated event."""
    first = day - timedelta(days=14)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n"
        "BEGIN:VEVENT\r\nUID:upload-weekly@acme.example\r\nSUMMARY:Fraud model update\r\n"
        f"DTSTART;TZID=Europe/Berlin:{first:%Y%m%d}T100000\r\n"
        f"DTEND;TZID=Europe/Berlin:{first:%Y%m%d}T110000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=3\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:cro@acme.example\r\n"
        "ATTENDEE;PARTSTAT=DECLINED:mailto:risk-lead@acme.example\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:upload-lunch@acme.example\r\nSUMMARY:Team lunch\r\n"
        f"DTSTART:{first:%Y%m%d}T120000Z\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    ).encode()


def _import_button(at):
    return at.button(key="meetings_upload_import")


def test_an_uploaded_calendar_is_previewed_then_imported(open_page, store, period):
    at = open_page(STAKEHOLDERS_PAGE, TEAM, period)
    assert _import_button_absent(at)
    day = period.until - timedelta(days=1)

    at.file_uploader[0].set_value(("fraud.ics", _calendar(day), "text/calendar")).run()

    assert_clean(at)
    preview = dataframe_with(at, "Team", "Title", "Start (UTC)", "Attendees (✓ accepted)")
    assert preview["Team"].tolist() == [TEAM] * 3
    assert preview["Title"].tolist() == ["Fraud model update"] * 3
    assert (
        preview["Attendees (✓ accepted)"].tolist()
        == ["cro@acme.example ✓, risk-lead@acme.example"] * 3
    )
    assert any("left out: 1 matching no team's meetings.title" in c.value for c in at.caption)
    button = _import_button(at)
    assert button.label == "Import 3 meetings"
    assert not button.disabled
    before = row_counts(store)["meeting"]

    button.click().run()

    assert_clean(at)
    assert any("Imported 3 meetings (6 attendees) from fraud.ics" in s.value for s in at.success)
    stored = meetings(store, TEAM)
    imported = stored[stored["uid"].str.startswith("upload-weekly@")].sort_values("start")
    assert len(imported) == 3
    assert row_counts(store)["meeting"] == before + 3
    assert set(imported["source"]) == {"import"}
    berlin = ZoneInfo("Europe/Berlin")
    assert imported["start"].tolist() == [
        datetime.combine(day - timedelta(days=days), time(10), tzinfo=berlin).astimezone(UTC)
        for days in (14, 7, 0)
    ]
    attendance = meeting_attendees(store, TEAM)
    came = attendance[attendance["uid"] == imported.iloc[0]["uid"]]
    assert dict(zip(came["email"], came["attended"], strict=True)) == {
        "cro@acme.example": True,
        "risk-lead@acme.example": False,
    }
    # The page drawn after the import lists the meetings, and the uploader starts empty.
    table = dataframe_with(at, "Team", "Title", "Start (UTC)", "End (UTC)")
    assert table["Title"].tolist().count("Fraud model update") >= 3
    assert _import_button_absent(at)


def test_a_bad_file_shows_its_problems_and_cannot_be_imported(open_page, store, period):
    at = open_page(STAKEHOLDERS_PAGE, TEAM, period)
    before = row_counts(store)
    bad = b"title,start,attendees\nFraud model update,last tuesday,cro@acme.example\n"

    at.selectbox(key="meetings_upload_team").set_value(TEAM).run()
    at.file_uploader[0].set_value(("meetings.csv", bad, "text/csv")).run()

    assert not at.exception
    (error,) = at.error
    assert "meetings.csv cannot be imported" in error.value
    assert "line 2: column 'start': 'last tuesday' is not an ISO date-time" in error.value
    assert _import_button(at).disabled
    assert row_counts(store) == before


def _import_button_absent(at) -> bool:
    return not [button for button in at.button if button.key == "meetings_upload_import"]
