"""The Stakeholders page on the demo: the stakeholder metrics as `cli.py metrics` prints
them, meetings, cadence gaps and attendance from the evidence, and the meeting form."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from data.demo import demo_config
from data.loaders import meeting_attendees, meetings
from data.store import row_counts
from metrics.engine import compute_metrics
from pages.metric_sets import STAKEHOLDERS
from tests.pages.apptest import (
    assert_clean,
    dataframe_with,
    decoded,
    expected_cell,
    figures,
    row_of,
    traces,
)

STAKEHOLDERS_PAGE = "pages/stakeholders.py"
TEAM = "Fraud Detection"
DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]


def test_stakeholder_metrics_are_the_cli_numbers(open_page, cli_metrics, period):
    at = open_page(STAKEHOLDERS_PAGE, None, period)

    frame = dataframe_with(at, "Team", *list(STAKEHOLDERS.values())[:1])
    assert frame["Team"].tolist() == DEMO_TEAMS
    printed = cli_metrics(TEAM, period)
    row = row_of(frame, TEAM)
    for metric_id, label in STAKEHOLDERS.items():
        assert row[label] == expected_cell(printed[(TEAM, metric_id)]), metric_id


def test_meetings_gaps_and_attendance_are_the_evidence(open_page, store, period):
    at = open_page(STAKEHOLDERS_PAGE, TEAM, period)

    config = demo_config(store)
    assert config is not None
    results = {
        r.metric_id: r for r in compute_metrics(store, config, period, [TEAM], list(STAKEHOLDERS))
    }
    charts = figures(at)
    gaps = results["stakeholder_update_cadence_pct"].rows
    drawn = traces(charts["stakeholders_gaps"])[TEAM]
    day_ms = 86_400_000
    assert decoded(drawn["x"]) == pytest.approx((gaps["gap_days"] * day_ms).tolist())
    assert [text == "" for text in drawn["marker"]["pattern"]["shape"]] == gaps["kept"].tolist()
    attendance = results["stakeholder_attendance_pct"].rows
    drawn = traces(charts["stakeholders_attendance"])[TEAM]
    assert decoded(drawn["y"]) == pytest.approx(attendance["share_pct"].tolist())

    held = meetings(store, TEAM, period).sort_values("start", ascending=False)
    table = dataframe_with(at, "Team", "Title", "Start (UTC)")
    assert table["Title"].tolist() == held["title"].tolist()


def _fill(at, title: str, day, attendees: str, attended: list[str]) -> None:
    at.selectbox(key="meeting_form_team").set_value(TEAM).run()
    at.text_input(key="meeting_title").input(title)
    at.date_input(key="meeting_date").set_value(day)
    at.time_input(key="meeting_time").set_value(time(9, 30))
    at.number_input(key="meeting_minutes").set_value(45)
    at.text_area(key="meeting_attendees").input(attendees)
    at.multiselect(key="meeting_attended").set_value(attended)
    next(button for button in at.button if button.label == "Save meeting").click().run()


def test_the_form_saves_a_meeting_once_and_the_page_shows_it(open_page, store, period):
    at = open_page(STAKEHOLDERS_PAGE, TEAM, period)
    day = period.until - timedelta(days=2)
    before = row_counts(store)["meeting"]

    assert at.multiselect(key="meeting_attended").options == [
        "cro@acme.example",
        "risk-lead@acme.example",
    ]
    _fill(at, "Quarterly fraud review", day, "analyst@acme.example\n", ["cro@acme.example"])

    assert_clean(at)
    assert any("Saved “Quarterly fraud review”" in str(s.value) for s in at.success)
    assert at.text_input(key="meeting_title").value == ""  # ready for the next one
    stored = meetings(store, TEAM)
    saved = stored[stored["title"] == "Quarterly fraud review"]
    assert len(saved) == 1
    start = datetime.combine(day, time(9, 30), tzinfo=UTC)
    assert saved.iloc[0]["start"] == start
    assert saved.iloc[0]["end"] == start + timedelta(minutes=45)
    assert saved.iloc[0]["source"] == "form"
    attendance = meeting_attendees(store, TEAM)
    came = attendance[attendance["uid"] == saved.iloc[0]["uid"]]
    assert dict(zip(came["email"], came["attended"], strict=True)) == {
        "analyst@acme.example": True,
        "cro@acme.example": True,
        "risk-lead@acme.example": False,
    }
    table = dataframe_with(at, "Team", "Title", "Start (UTC)")
    assert "Quarterly fraud review" in table["Title"].tolist()
    timeline = {t["name"]: t for t in figures(at)["stakeholders_timeline"]["data"]}
    assert len(decoded(timeline["form"]["x"])) == 1
    assert timeline["form"]["customdata"] == [["Quarterly fraud review"]]

    _fill(at, "Quarterly fraud review", day, "analyst@acme.example\n", ["cro@acme.example"])
    assert_clean(at)
    assert row_counts(store)["meeting"] == before + 1


@pytest.mark.parametrize(
    ("title", "attendees", "message"),
    [
        ("Review", "analyst@acme.example\nnot an address\n", "not an e-mail address"),
        ("   ", "", "the meeting needs a title"),
    ],
)
def test_the_form_refuses_bad_input_and_saves_nothing(
    open_page, store, period, title, attendees, message
):
    at = open_page(STAKEHOLDERS_PAGE, TEAM, period)
    before = row_counts(store)

    _fill(at, title, period.until, attendees, [])

    assert not at.exception
    assert [message in str(error.value) for error in at.error] == [True]
    assert at.text_input(key="meeting_title").value == title  # kept, to be corrected
    assert "was not saved" in str(at.error[0].value)
    after = row_counts(store)
    assert (after["meeting"], after["meeting_attendee"]) == (
        before["meeting"],
        before["meeting_attendee"],
    )
