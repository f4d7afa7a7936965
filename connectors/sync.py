"""The sync: run each configured source, record a `sync_run` per source, then snapshot.

Sources are independent: one that fails (a bad token, an unreachable server) is
recorded as failed with its one-line reason and the others still run, so the
dashboard keeps the last good data of the failed source and shows its age.
The day's metric and maturity snapshot is taken afterwards from whatever the
store now holds.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from config import Config, TeamConfig, redact_secrets
from connectors.base import (
    SOURCES,
    Connector,
    Progress,
    SilentProgress,
    SourceError,
    SourceName,
    SourceOutcome,
    SyncContext,
    SyncStatus,
)
from connectors.health import publish_sync_health
from connectors.lock import sync_lock
from connectors.snapshots import snapshot_day
from data.organisation import register_organisation
from data.store import write_transaction
from data.tables import SyncRun

log = logging.getLogger(__name__)

_CONNECTORS: dict[SourceName, str] = {
    "github": "connectors.github:sync_github",
    "prometheus": "connectors.prometheus:sync_prometheus",
    "mlflow": "connectors.mlflow:sync_mlflow",
    "meetings": "connectors.meetings:sync_meetings",
}
"""Imported on use: a sync of one source should not pay for the others' libraries."""


def _connector(source: SourceName) -> Connector:
    module_name, function = _CONNECTORS[source].split(":")
    connector: Connector = getattr(importlib.import_module(module_name), function)
    return connector


def configured_sources(
    config: Config, teams: Sequence[TeamConfig] | None = None
) -> list[SourceName]:
    """Sources with a config section (meetings: any team with a feed or a CSV file)."""
    teams = config.teams if teams is None else teams
    configured = {
        "github": config.github is not None and any(team.repos for team in teams),
        "prometheus": config.prometheus is not None and any(team.endpoints for team in teams),
        "mlflow": config.mlflow is not None and any(team.models for team in teams),
        "meetings": any(
            team.meetings is not None and (team.meetings.ics or team.meetings.csv) for team in teams
        ),
    }
    return [source for source in SOURCES if configured[source]]


@dataclass(frozen=True)
class SyncReport:
    source: str
    status: SyncStatus
    api_calls: int
    rows_written: int
    seconds: float
    error: str | None = None
    rate_limited_until: datetime | None = None


def _start_run(engine: Engine, source: str, started_at: datetime) -> int:
    with write_transaction(engine) as connection:
        run_id = connection.execute(
            SyncRun.__table__.insert()  # type: ignore[attr-defined]
            .values(source=source, started_at=started_at, status="running")
            .returning(SyncRun.__table__.c.id)  # type: ignore[attr-defined]
        ).scalar_one()
    return int(run_id)


INTERRUPTED_ERROR = (
    "interrupted: the sync process ended before recording its outcome (killed, crashed or "
    "cut off from the store); the next sync read again whatever it had not stored"
)


def _close_interrupted_runs(engine: Engine) -> None:
    """Mark runs left `running` by a dead process as `interrupted`.

    Call with the sync lock held: no other sync is running then, so any `running` row
    belongs to a process that died before `_finish_run` (SIGKILL, OOM, lost node)."""
    table = SyncRun.__table__  # type: ignore[attr-defined]
    stale = (table.c.status == "running") & table.c.source.in_(SOURCES)
    with engine.connect() as connection:
        if connection.execute(select(table.c.id).where(stale).limit(1)).first() is None:
            return
    with write_transaction(engine) as connection:
        connection.execute(
            table.update().where(stale).values(status="interrupted", error=INTERRUPTED_ERROR)
        )


def _finish_run(
    engine: Engine, run_id: int, report: SyncReport, watermark: datetime | None
) -> None:
    table = SyncRun.__table__  # type: ignore[attr-defined]
    with write_transaction(engine) as connection:
        connection.execute(
            table.update()
            .where(table.c.id == run_id)
            .values(
                ended_at=datetime.now(UTC),
                status=report.status,
                api_calls=report.api_calls,
                rows_written=report.rows_written,
                error=report.error,
                watermark=watermark,
                rate_limited_until=report.rate_limited_until,
            )
        )


def run_source(
    engine: Engine,
    config: Config,
    source: SourceName,
    teams: list[TeamConfig],
    progress: Progress,
) -> SyncReport:
    """One source, recorded as one `sync_run` whatever happens inside it."""
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    run_id = _start_run(engine, source, started_at)
    context = SyncContext(
        engine=engine, config=config, teams=teams, started_at=started_at, progress=progress
    )
    try:
        outcome = _connector(source)(context)
    except SourceError as exc:
        outcome = SourceOutcome(status="failed", error=str(exc))
    except Exception as exc:  # a connector bug must not stop the other sources
        log.exception("%s sync failed unexpectedly", source)
        outcome = SourceOutcome(
            status="failed",
            error=f"unexpected {exc.__class__.__name__} (see the log); the other sources ran",
        )
    report = SyncReport(
        source=source,
        status=outcome.status,
        api_calls=context.requests.total,
        rows_written=outcome.rows_written,
        seconds=time.perf_counter() - clock,
        # A server may quote the request's token back in its error: never store it.
        error=None if outcome.error is None else redact_secrets(outcome.error, config),
        rate_limited_until=outcome.rate_limited_until,
    )
    _finish_run(engine, run_id, report, outcome.watermark)
    return report


def run_sync(
    engine: Engine,
    config: Config,
    sources: Sequence[SourceName] | None = None,
    team: str | None = None,
    progress: Progress | None = None,
    snapshot: bool = True,
) -> list[SyncReport]:
    """Sync the given (default: every configured) sources, then snapshot today.

    Raises `ConfigError` for a `team` the config does not name, and `SyncLockedError`
    (connectors/lock.py) while another sync of the same store runs."""
    progress = progress or SilentProgress()
    teams = [config.team(team)] if team is not None else list(config.teams)
    wanted = configured_sources(config, teams) if sources is None else list(sources)
    # One sync at a time per store; raises SyncLockedError while another runs.
    with sync_lock(engine):
        _close_interrupted_runs(engine)
        with write_transaction(engine) as connection:
            register_organisation(connection, config)
        reports = []
        for source in SOURCES:
            if source in wanted:
                progress.message(f"{source}: syncing…")
                reports.append(run_source(engine, config, source, teams, progress))
        if snapshot and reports:
            progress.message("snapshot: metrics and maturity for today…")
            snapshot_day(engine, config, datetime.now(UTC).date())
        if reports:
            publish_sync_health(engine, config.sync, progress)
    return reports
