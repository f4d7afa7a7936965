"""Daily metric snapshots: what keeps trends alive after sources forget.

A snapshot of day D stores every metric of every team for the 90 days ending
on D, computed as of D's end. Sources keep little history (Prometheus: 15
days by default), so trends over months are drawn from these rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from sqlalchemy.engine import Engine

from config import Config
from data.demo import DemoSummary, demo_info, demo_plan, ensure_demo, write_demo
from data.loaders import Period
from data.store import key_to_id, upsert_rows, write_transaction
from data.tables import MetricSnapshot, Team
from metrics.engine import MetricResult, compute_metrics

SNAPSHOT_WINDOW_DAYS = 90


def snapshot_period(day: date) -> Period:
    return Period.last_days(SNAPSHOT_WINDOW_DAYS, today=day)


def _records(
    results: Iterable[MetricResult], team_ids: dict[str, int], day: date
) -> list[dict[str, object]]:
    return [
        {
            "team_id": team_ids[result.team],
            "day": day,
            "metric_id": result.metric_id,
            "value": result.value,
            "unit": result.spec.unit,
            "target": result.target,
            "status": result.status,
        }
        for result in results
        if result.team in team_ids
    ]


def snapshot_metrics(engine: Engine, config: Config, day: date) -> int:
    """Compute and store every team's metrics for `day`; returns the rows written."""
    results = compute_metrics(engine, config, snapshot_period(day))
    with write_transaction(engine) as connection:
        team_ids = key_to_id(connection, Team)
        return upsert_rows(connection, MetricSnapshot, _records(results, team_ids, day))


def backfill_metrics(
    engine: Engine,
    config: Config,
    first_day: date,
    last_day: date,
    step_days: int = 7,
    progress: Callable[[date], None] | None = None,
) -> int:
    """Snapshots every `step_days` from `last_day` back to `first_day` (last_day always)."""
    days: list[date] = []
    day = last_day
    while day >= first_day:
        days.append(day)
        day -= timedelta(days=step_days)
    written = 0
    for day in reversed(days):
        if progress is not None:
            progress(day)
        written += snapshot_metrics(engine, config, day)
    return written


def write_demo_with_history(
    engine: Engine,
    size: str = "small",
    reset: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """The demo organisation plus a year of weekly metric snapshots, so trends show at once."""
    summary = write_demo(engine, size=size, reset=reset, progress=progress)
    config = demo_plan(size).config
    backfill_metrics(
        engine,
        config,
        summary.anchor - timedelta(days=364),
        summary.anchor,
        progress=None if progress is None else lambda day: progress(f"snapshots: {day}…"),
    )
    return summary


def ensure_demo_with_history(engine: Engine) -> bool:
    """On first start, fill an empty store with the demo and its history. True when it wrote."""
    if not ensure_demo(engine):
        return False
    info = demo_info(engine)
    if info is not None:
        backfill_metrics(
            engine, demo_plan(info.size).config, info.anchor - timedelta(days=364), info.anchor
        )
    return True
