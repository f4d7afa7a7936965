"""UTCDateTime: aware UTC in Python whatever the database keeps, naive values refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.engine import Dialect

from data.types import NaiveDatetimeError, UTCDateTime

# The dialects of the two stores (creating an engine does not connect).
SQLITE = create_engine("sqlite://").dialect
POSTGRES = create_engine("postgresql+psycopg://").dialect
KOLKATA = timezone(timedelta(hours=5, minutes=30))

aware_datetimes = st.datetimes(
    min_value=datetime(1971, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.builds(
        timezone,
        st.integers(min_value=-14 * 60, max_value=14 * 60).map(
            lambda minutes: timedelta(minutes=minutes)
        ),
    ),
)


def test_sqlite_stores_naive_utc() -> None:
    bound = UTCDateTime().process_bind_param(datetime(2026, 1, 1, 5, 30, tzinfo=KOLKATA), SQLITE)

    assert bound == datetime(2026, 1, 1, 0, 0)
    assert bound is not None
    assert bound.tzinfo is None


def test_postgres_stores_aware_utc() -> None:
    bound = UTCDateTime().process_bind_param(datetime(2026, 1, 1, 5, 30, tzinfo=KOLKATA), POSTGRES)

    assert bound == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert bound is not None
    assert bound.utcoffset() == timedelta(0)


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRES], ids=["sqlite", "postgres"])
def test_naive_values_are_refused(dialect: Dialect) -> None:
    with pytest.raises(NaiveDatetimeError, match="naive datetime 2026-01-01T00:00:00"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), dialect)


def test_naive_datetime_error_is_a_value_error() -> None:
    assert issubclass(NaiveDatetimeError, ValueError)


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00Z", 1_700_000_000, date(2026, 1, 1)])
def test_non_datetimes_are_refused(value: object) -> None:
    with pytest.raises(TypeError, match="expected a datetime"):
        UTCDateTime().process_bind_param(value, SQLITE)


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRES], ids=["sqlite", "postgres"])
def test_none_passes_through(dialect: Dialect) -> None:
    assert UTCDateTime().process_bind_param(None, dialect) is None
    assert UTCDateTime().process_result_value(None, dialect) is None


def test_results_are_marked_or_converted_to_utc() -> None:
    column = UTCDateTime()

    from_sqlite = column.process_result_value(datetime(2026, 1, 1, 3), SQLITE)
    from_postgres = column.process_result_value(
        datetime(2026, 1, 1, 8, 30, tzinfo=KOLKATA), POSTGRES
    )

    assert from_sqlite == datetime(2026, 1, 1, 3, tzinfo=UTC)
    assert from_sqlite is not None
    assert from_sqlite.tzinfo is UTC
    assert from_postgres == datetime(2026, 1, 1, 3, tzinfo=UTC)
    assert from_postgres is not None
    assert from_postgres.tzinfo is UTC


@given(moment=aware_datetimes)
def test_any_aware_instant_survives_sqlite_storage(moment: datetime) -> None:
    column = UTCDateTime()

    restored = column.process_result_value(column.process_bind_param(moment, SQLITE), SQLITE)

    assert restored == moment
    assert restored is not None
    assert restored.tzinfo is UTC
