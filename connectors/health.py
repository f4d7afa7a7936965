"""The sync's own health as Prometheus metrics, so monitoring notices a sync that stopped.

A CronJob has nothing to scrape, so the metrics are published where Prometheus
reads them: a file for node_exporter's textfile collector (written under a
temporary name and renamed, so a scrape never sees half a file) or a
Pushgateway (PUT, which replaces the previous push). They are computed from the
`sync_run` rows rather than from the run that just ended, so whichever process
publishes — the CronJob, or a replica's Sync now — publishes the same complete
picture, and a source skipped by `--source` keeps its series.

Labels carry only the source name and the run status: error text may name hosts,
and a label per distinct error would grow without bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.client import HTTPException
from typing import get_args
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, generate_latest, push_to_gateway, write_to_textfile
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from config import SyncConfig
from connectors.base import SOURCES, Progress, SyncStatus
from data.tables import SyncRun

PUSHGATEWAY_JOB = "mlops_sync"
PUSH_TIMEOUT_SECONDS = 10.0
RUNNING_STATUS = "running"
RUN_STATUSES: tuple[str, ...] = (*get_args(SyncStatus), "interrupted")
"""Always exported, 0 when unseen, so `increase()` has a series before the first failure.
`interrupted` is what the next sync records for a run whose process died."""
SUCCESS_STATUS = "ok"
"""Only a complete run counts as a success: a `partial` or `rate_limited` run left data stale."""


@dataclass(frozen=True)
class LastRun:
    """The newest run that is over; an interrupted one has no end, duration or counts."""

    status: str
    duration_seconds: float | None
    requests: int
    rows_written: int


@dataclass(frozen=True)
class SourceHealth:
    source: str
    last_success_at: datetime | None
    last_run: LastRun | None
    """None while the source's only run is still running."""
    requests_total: int
    runs_by_status: dict[str, int] = field(default_factory=dict)


def read_health(engine: Engine) -> list[SourceHealth]:
    """Per connector source with any `sync_run`, in `SOURCES` order (imports are not syncs)."""
    runs = SyncRun.__table__  # type: ignore[attr-defined]
    over = and_(runs.c.source.in_(SOURCES), runs.c.status != RUNNING_STATUS)
    with engine.connect() as connection:
        seen = set(
            connection.execute(
                select(runs.c.source).where(runs.c.source.in_(SOURCES)).distinct()
            ).scalars()
        )
        last_success: dict[str, datetime] = dict(
            connection.execute(
                select(runs.c.source, func.max(runs.c.ended_at))
                .where(over, runs.c.status == SUCCESS_STATUS)
                .group_by(runs.c.source)
            ).all()
        )
        totals: dict[str, dict[str, int]] = {}
        requests: dict[str, int] = {}
        for source, status, count, calls in connection.execute(
            select(runs.c.source, runs.c.status, func.count(), func.sum(runs.c.api_calls))
            .where(over)
            .group_by(runs.c.source, runs.c.status)
        ):
            totals.setdefault(source, {})[status] = int(count)
            requests[source] = requests.get(source, 0) + int(calls or 0)
        newest = (
            select(runs.c.source, func.max(runs.c.id).label("id"))
            .where(over)
            .group_by(runs.c.source)
            .subquery()
        )
        last_runs = {
            row.source: LastRun(
                status=row.status,
                duration_seconds=None
                if row.ended_at is None
                else max((row.ended_at - row.started_at).total_seconds(), 0.0),
                requests=row.api_calls,
                rows_written=row.rows_written,
            )
            for row in connection.execute(
                select(runs).join(
                    newest, and_(runs.c.source == newest.c.source, runs.c.id == newest.c.id)
                )
            )
        }
    statuses = list(RUN_STATUSES)
    statuses += sorted({s for counts in totals.values() for s in counts} - set(statuses))
    return [
        SourceHealth(
            source=source,
            last_success_at=last_success.get(source),
            last_run=last_runs.get(source),
            requests_total=requests.get(source, 0),
            runs_by_status={status: totals.get(source, {}).get(status, 0) for status in statuses},
        )
        for source in SOURCES
        if source in seen
    ]


def metric_families(health: Iterable[SourceHealth]) -> list[Metric]:
    """Gauges for the newest run, counters over every run (so `increase()` works on them)."""
    last_success = GaugeMetricFamily(
        "mlops_sync_last_success_timestamp_seconds",
        "End of the newest sync run with status ok (0: none yet).",
        labels=["source"],
    )
    duration = GaugeMetricFamily(
        "mlops_sync_last_run_duration_seconds",
        "How long the newest sync run took (absent after an interrupted run).",
        labels=["source"],
    )
    last_requests = GaugeMetricFamily(
        "mlops_sync_last_run_requests",
        "API requests the newest sync run made.",
        labels=["source"],
    )
    rows = GaugeMetricFamily(
        "mlops_sync_last_run_rows_written",
        "Store rows the newest sync run wrote.",
        labels=["source"],
    )
    last_status = GaugeMetricFamily(
        "mlops_sync_last_run_status",
        "1 for the status of the newest sync run that is over, 0 for the others.",
        labels=["source", "status"],
    )
    requests_total = CounterMetricFamily(
        "mlops_sync_requests",
        "API requests made by all sync runs.",
        labels=["source"],
    )
    runs_total = CounterMetricFamily(
        "mlops_sync_runs",
        "Sync runs that are over, by status (failed, interrupted: the source's errors).",
        labels=["source", "status"],
    )
    for source in health:
        name = source.source
        success_at = source.last_success_at
        last_success.add_metric([name], success_at.timestamp() if success_at else 0.0)
        requests_total.add_metric([name], source.requests_total)
        for status, count in source.runs_by_status.items():
            runs_total.add_metric([name, status], count)
        run = source.last_run
        if run is None:
            continue
        for status in source.runs_by_status:
            last_status.add_metric([name, status], 1.0 if run.status == status else 0.0)
        if run.duration_seconds is None:
            continue
        duration.add_metric([name], run.duration_seconds)
        last_requests.add_metric([name], run.requests)
        rows.add_metric([name], run.rows_written)
    return [
        last_success,
        duration,
        last_requests,
        rows,
        last_status,
        requests_total,
        runs_total,
    ]


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def health_registry(health: Iterable[SourceHealth]) -> CollectorRegistry:
    """A registry of only these metrics: no process or platform collectors in a pushed group."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(metric_families(health)))
    return registry


def render(health: Iterable[SourceHealth]) -> str:
    """The Prometheus text exposition format (0.0.4)."""
    return generate_latest(health_registry(health)).decode("utf-8")


def _origin(url: str) -> str:
    """Scheme, host and port only: a path or query string may carry something private."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def publish_sync_health(engine: Engine, settings: SyncConfig, progress: Progress) -> None:
    """Write and push what `[sync]` names; every failure becomes a progress message.

    Monitoring must never fail the sync it watches: the data is already stored, and
    a stale health file or push is what the last-success alert is there to catch.
    """
    if settings.metrics_textfile is None and settings.pushgateway_url is None:
        return
    try:
        registry = health_registry(read_health(engine))
    except SQLAlchemyError as exc:
        progress.message(f"sync health: cannot read the sync runs ({exc.__class__.__name__})")
        return
    if settings.metrics_textfile is not None:
        path = settings.metrics_textfile
        try:
            write_to_textfile(path, registry)
        except OSError as exc:
            progress.message(f"sync health: cannot write {path}: {exc.strerror or exc}")
        else:
            progress.message(f"sync health: written to {path}")
    if settings.pushgateway_url is not None:
        where = _origin(settings.pushgateway_url)
        try:
            push_to_gateway(
                settings.pushgateway_url,
                job=PUSHGATEWAY_JOB,
                registry=registry,
                timeout=PUSH_TIMEOUT_SECONDS,
            )
        except (OSError, HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc.__class__.__name__
            progress.message(f"sync health: cannot push to the Pushgateway at {where}: {reason}")
        else:
            progress.message(f"sync health: pushed to the Pushgateway at {where}")
