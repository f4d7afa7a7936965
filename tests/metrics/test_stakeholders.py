"""Stakeholder metrics on hand-made meetings and attendance."""

from __future__ import annotations

from datetime import date

import pytest

from config import TeamConfig
from data.loaders import Period
from tests.metrics.builders import config_for, make_inputs, results, ts

# [2026-06-01 00:00, 2026-07-01 00:00)
JUNE = Period(since=date(2026, 6, 1), until=date(2026, 6, 30))


def _meetings(*starts, team="A", first_id=1):
    return [
        {"team": team, "id": first_id + n, "start": ts(start)} for n, start in enumerate(starts)
    ]


# --- days_since_stakeholder_update -------------------------------------------------------


def test_days_since_last_meeting():
    inputs = make_inputs(meetings=_meetings("2026-05-01", "2026-06-20 12:00"))
    found = results(inputs, "days_since_stakeholder_update", JUNE)["A"]
    # 07-01 00:00 - 06-20 12:00 = 10.5 days; target meeting_every_days 42 -> ok
    assert found.value == pytest.approx(10.5)
    assert (found.target, found.status) == (42.0, "ok")


def test_days_since_meeting_before_period_and_override():
    inputs = make_inputs(meetings=_meetings("2026-03-01"))
    found = results(inputs, "days_since_stakeholder_update", JUNE)["A"]
    # 03-01 -> 07-01 = 31 + 30 + 31 + 30 = 122 days > 42 -> breach
    assert found.value == pytest.approx(122.0)
    assert found.status == "breach"
    config = config_for(TeamConfig(name="A", targets={"meeting_every_days": 150}))
    found = results(
        make_inputs(meetings=_meetings("2026-03-01")),
        "days_since_stakeholder_update",
        JUNE,
        config,
    )["A"]
    assert found.status == "ok"


def test_days_since_unknown_without_meetings():
    found = results(make_inputs(), "days_since_stakeholder_update", JUNE)["A"]
    assert (found.value, found.status) == (None, "unknown")


# --- stakeholder_update_cadence_pct ------------------------------------------------------------


def test_cadence_gap_from_meeting_before_period():
    inputs = make_inputs(meetings=_meetings("2026-03-01", "2026-04-01", "2026-06-05", "2026-06-10"))
    found = results(inputs, "stakeholder_update_cadence_pct", JUNE)["A"]
    # gaps ending in the period or at its end:
    #   04-01 -> 06-05 = 65 days > 42   (the earlier meeting starts the first gap)
    #   06-05 -> 06-10 =  5 days <= 42
    #   06-10 -> 07-01 = 21 days <= 42  (last meeting to period end)
    # 03-01 -> 04-01 ends before the period: not counted -> 2 / 3 = 66.67 %
    assert found.value == pytest.approx(200 / 3)
    assert list(found.rows["gap_days"]) == pytest.approx([65.0, 5.0, 21.0])
    assert found.target is None
    assert found.status == "ok"


def test_cadence_with_team_override():
    config = config_for(TeamConfig(name="A", targets={"meeting_every_days": 70}))
    inputs = make_inputs(meetings=_meetings("2026-04-01", "2026-06-05", "2026-06-10"))
    # 65 <= 70 now -> 3 / 3 = 100 %
    found = results(inputs, "stakeholder_update_cadence_pct", JUNE, config)["A"]
    assert found.value == pytest.approx(100.0)


def test_cadence_only_meetings_before_period():
    inputs = make_inputs(meetings=_meetings("2026-04-01"))
    # one gap: 04-01 -> 07-01 = 91 days > 42 -> 0 % (a measured 0: the team did meet)
    found = results(inputs, "stakeholder_update_cadence_pct", JUNE)["A"]
    assert found.value == 0.0


def test_cadence_unknown_without_meetings():
    found = results(make_inputs(), "stakeholder_update_cadence_pct", JUNE)["A"]
    assert (found.value, found.status) == (None, "unknown")


# --- stakeholder_attendance_pct ----------------------------------------------------------------


def _attendance_inputs(teams=("A",)):
    return make_inputs(
        teams=teams,
        meetings=_meetings("2026-05-20", "2026-06-05", "2026-06-19"),
        attendees=[
            # meeting 1 precedes the period: not counted
            {"meeting_id": 1, "email": "vp@acme.com", "attended": True},
            # meeting 2: vp came (mixed case), ds was invited but did not come,
            # other is not a stakeholder -> 1 of 2 = 50 %
            {"meeting_id": 2, "email": "VP@Acme.COM", "attended": True},
            {"meeting_id": 2, "email": "ds@acme.com", "attended": False},
            {"meeting_id": 2, "email": "other@acme.com", "attended": True},
            # meeting 3: both came -> 2 of 2 = 100 %
            {"meeting_id": 3, "email": "vp@acme.com", "attended": True},
            {"meeting_id": 3, "email": "Ds@acme.com", "attended": True},
        ],
    )


def test_attendance_mean_share_case_insensitive():
    config = config_for(TeamConfig(name="A", stakeholders=["vp@acme.com", "DS@acme.com"]))
    found = results(_attendance_inputs(), "stakeholder_attendance_pct", JUNE, config)["A"]
    # mean(50, 100) = 75 %; target 75 -> ok (>=)
    assert found.value == pytest.approx(75.0)
    assert (found.target, found.status) == (75.0, "ok")
    assert list(found.rows["stakeholders_present"]) == [1, 2]


def test_attendance_override_breaches():
    config = config_for(
        TeamConfig(
            name="A",
            stakeholders=["vp@acme.com", "ds@acme.com"],
            targets={"stakeholder_attendance_pct": 80},
        )
    )
    found = results(_attendance_inputs(), "stakeholder_attendance_pct", JUNE, config)["A"]
    assert found.status == "breach"  # 75 < 80


def test_attendance_unknown_for_team_without_stakeholders():
    config = config_for(TeamConfig(name="A", stakeholders=["vp@acme.com"]), "B")
    inputs = make_inputs(
        teams=("A", "B"),
        meetings=_meetings("2026-06-05") + _meetings("2026-06-06", team="B", first_id=2),
        attendees=[
            {"meeting_id": 1, "email": "vp@acme.com"},
            {"team": "B", "meeting_id": 2, "email": "vp@acme.com"},
        ],
    )
    found = results(inputs, "stakeholder_attendance_pct", JUNE, config)
    assert found["A"].value == pytest.approx(100.0)
    assert (found["B"].value, found["B"].status) == (None, "unknown")


def test_attendance_unknown_when_the_only_meetings_precede_the_period():
    # A team that last met before the period: no meeting in the period -> unknown
    config = config_for(TeamConfig(name="A", stakeholders=["vp@acme.com"]))
    inputs = make_inputs(
        meetings=_meetings("2026-05-20"),
        attendees=[{"meeting_id": 1, "email": "vp@acme.com"}],
    )
    found = results(inputs, "stakeholder_attendance_pct", JUNE, config)["A"]
    assert (found.value, found.status) == (None, "unknown")


def test_attendance_unknown_without_meetings():
    config = config_for(TeamConfig(name="A", stakeholders=["vp@acme.com"]))
    found = results(make_inputs(), "stakeholder_attendance_pct", JUNE, config)["A"]
    assert (found.value, found.status) == (None, "unknown")
