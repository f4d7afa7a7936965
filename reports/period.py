"""The report's period and the one it is compared with, from a short spec.

Leadership reads reports by quarter, so the default compares this quarter so
far with the whole quarter before it. The grammar (`cli.py report --period`):

- `quarter`: this quarter from its first day to the reference day, against the
  whole previous quarter (the default);
- `last-quarter`: the last whole quarter, against the one before it;
- `2026Q3`: that calendar quarter (cut at the reference day if it is the
  current one), against the quarter before it;
- `last-90d`: the N days ending on the reference day, against the N days before;
- `2026-07-01..2026-09-30`: those whole UTC days, against as many days before.

The reference day is today for the CLI and the sidebar period's last day on the
dashboard. Rates (per 30 days, per week), medians and percentages compare across
periods of different lengths; counts (requests) do not, which is why every
table names both periods with their days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from data.loaders import Period

DEFAULT_PERIOD = "quarter"
GRAMMAR = (
    "quarter, last-quarter, YYYYQn (e.g. 2026Q3), last-Nd (e.g. last-90d) or YYYY-MM-DD..YYYY-MM-DD"
)


class PeriodError(ValueError):
    """A period spec that cannot be read; the message is one line for the user."""


@dataclass(frozen=True)
class ReportPeriods:
    current: Period
    previous: Period
    label: str
    """Short, for headings: "2026 Q4 to date", "last 90 days"."""
    previous_label: str

    @property
    def current_text(self) -> str:
        return _described(self.label, self.current)

    @property
    def previous_text(self) -> str:
        return _described(self.previous_label, self.previous)

    @property
    def description(self) -> str:
        """Both periods with their days, for a report's subtitle."""
        return f"{self.current_text} against {self.previous_text}"


def _described(label: str, period: Period) -> str:
    span = _span(period)
    inner = f"{period.days} days" if label == span else f"{span}, {period.days} days"
    return f"{label} ({inner})"


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_period(year: int, quarter: int) -> Period:
    first = date(year, 3 * quarter - 2, 1)
    following = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return Period(first, following - timedelta(days=1))


def _quarter_before(year: int, quarter: int) -> tuple[int, int]:
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def _span(period: Period) -> str:
    return f"{period.since:%d %b %Y} – {period.until:%d %b %Y}"


def _quarters(year: int, quarter: int, reference: date) -> ReportPeriods:
    whole = quarter_period(year, quarter)
    if whole.since > reference:
        raise PeriodError(f"{year}Q{quarter} has not started by {reference.isoformat()}")
    current = Period(whole.since, min(whole.until, reference))
    before_year, before_quarter = _quarter_before(year, quarter)
    label = f"{year} Q{quarter}"
    if current.until < whole.until:
        label += " to date"
    return ReportPeriods(
        current=current,
        previous=quarter_period(before_year, before_quarter),
        label=label,
        previous_label=f"{before_year} Q{before_quarter}",
    )


def _days_before(current: Period, label: str) -> ReportPeriods:
    return ReportPeriods(current, current.previous(), label, f"previous {current.days} days")


def parse_period(spec: str, reference: date) -> ReportPeriods:
    """Read a period spec (see the module docstring) relative to `reference`."""
    try:
        return _parse_period(spec, reference)
    except PeriodError:
        raise
    except (ValueError, OverflowError):  # e.g. 0001Q1: the quarter before it has no year
        raise PeriodError(
            f"period {spec!r} or the one before it falls outside the calendar (years 1 to 9999)"
        ) from None


def _parse_period(spec: str, reference: date) -> ReportPeriods:
    text = spec.strip().lower()
    if text == "quarter":
        return _quarters(*quarter_of(reference), reference)
    if text == "last-quarter":
        return _quarters(*_quarter_before(*quarter_of(reference)), reference)
    if match := re.fullmatch(r"(\d{4})q([1-4])", text):
        return _quarters(int(match[1]), int(match[2]), reference)
    if match := re.fullmatch(r"last-(\d{1,4})d", text):
        days = int(match[1])
        if days < 1:
            raise PeriodError(f"period {spec!r} must span at least one day")
        current = Period.last_days(days, today=reference)
        return _days_before(current, f"last {days} days")
    if match := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
        try:
            since, until = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError as exc:
            raise PeriodError(f"period {spec!r} holds an invalid date: {exc}") from None
        if until < since:
            raise PeriodError(f"period {spec!r} ends before it starts")
        if until > reference:
            raise PeriodError(f"period {spec!r} ends after {reference.isoformat()}")
        current = Period(since, until)
        return _days_before(current, _span(current))
    raise PeriodError(f"period {spec!r} is not understood; use {GRAMMAR}")
