"""The report's period grammar: quarters by default, day ranges, and one-line errors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from data.loaders import Period
from reports.period import DEFAULT_PERIOD, PeriodError, parse_period

REFERENCE = date(2026, 11, 24)


def test_the_default_is_this_quarter_so_far_against_the_whole_last_one() -> None:
    periods = parse_period(DEFAULT_PERIOD, REFERENCE)

    assert periods.current == Period(date(2026, 10, 1), REFERENCE)
    assert periods.previous == Period(date(2026, 7, 1), date(2026, 9, 30))
    assert periods.label == "2026 Q4 to date"
    assert periods.previous_label == "2026 Q3"
    assert periods.description == (
        "2026 Q4 to date (01 Oct 2026 – 24 Nov 2026, 55 days) "
        "against 2026 Q3 (01 Jul 2026 – 30 Sep 2026, 92 days)"
    )


@pytest.mark.parametrize(
    ("spec", "current", "previous", "label"),
    [
        (
            "last-quarter",
            (date(2026, 7, 1), date(2026, 9, 30)),
            (date(2026, 4, 1), date(2026, 6, 30)),
            "2026 Q3",
        ),
        (
            "2026Q1",
            (date(2026, 1, 1), date(2026, 3, 31)),
            (date(2025, 10, 1), date(2025, 12, 31)),
            "2026 Q1",
        ),
        (
            "2026q4",
            (date(2026, 10, 1), REFERENCE),
            (date(2026, 7, 1), date(2026, 9, 30)),
            "2026 Q4 to date",
        ),
        (
            "last-90d",
            (date(2026, 8, 27), REFERENCE),
            (date(2026, 5, 29), date(2026, 8, 26)),
            "last 90 days",
        ),
        (
            "2026-07-01..2026-07-31",
            (date(2026, 7, 1), date(2026, 7, 31)),
            (date(2026, 5, 31), date(2026, 6, 30)),
            "01 Jul 2026 – 31 Jul 2026",
        ),
    ],
)
def test_each_form_of_the_grammar(spec, current, previous, label) -> None:
    periods = parse_period(spec, REFERENCE)

    assert periods.current == Period(*current)
    assert periods.previous == Period(*previous)
    assert periods.label == label
    assert periods.previous.until == periods.current.since - timedelta(days=1)


def test_january_compares_with_the_last_quarter_of_the_year_before() -> None:
    periods = parse_period("quarter", date(2027, 1, 15))

    assert periods.current == Period(date(2027, 1, 1), date(2027, 1, 15))
    assert periods.previous == Period(date(2026, 10, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("2026Q5", "not understood"),
        ("2027Q1", "has not started"),
        ("last-0d", "at least one day"),
        ("2026-09-31..2026-10-01", "invalid date"),
        ("2026-10-01..2026-09-01", "ends before it starts"),
        ("2026-10-01..2026-12-31", "ends after 2026-11-24"),
        ("yesterday", "use quarter, last-quarter"),
    ],
)
def test_a_bad_spec_says_why_on_one_line(spec: str, reason: str) -> None:
    with pytest.raises(PeriodError) as raised:
        parse_period(spec, REFERENCE)

    message = str(raised.value)
    assert reason in message
    assert "\n" not in message
