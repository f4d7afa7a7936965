"""Daily aggregates of 50 endpoints × 90 days from a local Prometheus: queries made and time.

Budget (issue: Prometheus connector): at most 6 queries per endpoint per sync, whatever
the number of days. The history (generic-stack endpoints, 30-minute samples, a
counter reset every tenth endpoint) is built with the tests' harness — OpenMetrics
turned into blocks by `promtool tsdb create-blocks-from openmetrics` — and served by
a real Prometheus on loopback. A fresh SQLite store then gets a first sync (every day
Prometheus retains) and, a day later, an incremental sync; once right after the
backfill (thousands of two-hour blocks) and again once Prometheus has compacted them.

    python -m bench.prometheus_sync [--endpoints 50] [--days 90]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.results import record
from config import Config
from connectors.base import SyncContext
from connectors.prometheus import sync_prometheus
from data.db import make_engine, upgrade
from data.organisation import register_organisation
from data.store import write_transaction
from data.tables import EndpointDaily
from tests.services.prometheus import (
    DAY,
    HISTORY_START,
    History,
    SyntheticEndpoint,
    missing_binaries,
    serve_history,
    tsdb_blocks,
    wait_for_compaction,
)

BUDGET_PER_ENDPOINT = 6
ENDPOINTS_PER_TEAM = 10


def _restart(index: int, days: int) -> tuple[datetime, datetime] | None:
    """Every tenth endpoint is down for an hour mid-history, then restarts (a counter reset)."""
    if index % 10:
        return None
    down = HISTORY_START + (days // 2) * DAY + timedelta(hours=3)
    return down, down + timedelta(hours=1)


def bench_history(endpoints: int, days: int) -> History:
    return History(
        endpoints=tuple(
            SyntheticEndpoint(
                job=f"api-{index:03d}",
                stack="generic",
                requests_per_step=20 + 7 * (index % 13),
                failure_ratio=0.002 * (1 + index % 5),
                latency_median_seconds=0.03 * (1 + index % 7),
                down=_restart(index, days),
            )
            for index in range(endpoints)
        ),
        days=days,
    )


def bench_config(url: str, history: History) -> Config:
    jobs = [endpoint.job for endpoint in history.endpoints]
    teams = [jobs[i : i + ENDPOINTS_PER_TEAM] for i in range(0, len(jobs), ENDPOINTS_PER_TEAM)]
    return Config.model_validate(
        {
            "prometheus": {"url": url},
            "teams": [
                {
                    "name": f"Team {number + 1:02d}",
                    "endpoints": [{"name": job, "selector": f'{{job="{job}"}}'} for job in team],
                }
                for number, team in enumerate(teams)
            ],
        }
    )


@dataclass(frozen=True)
class Run:
    label: str
    blocks: int
    days_stored: int
    range_queries: int
    requests: int
    seconds: float
    rows_written: int


def sync_into_fresh_store(
    path: Path, config: Config, history: History, blocks: int, layout: str
) -> list[Run]:
    """A first sync (every retained day but the last), then the next day's sync."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with write_transaction(engine) as connection:
        register_organisation(connection, config)
    first_at = history.end - DAY + timedelta(hours=6)
    runs = []
    for label, started_at, days in (
        (f"first, {layout}", first_at, history.days - 1),
        (f"next day, {layout}", first_at + DAY, 1),
    ):
        context = SyncContext(
            engine=engine, config=config, teams=list(config.teams), started_at=started_at
        )
        clock = time.perf_counter()
        outcome = sync_prometheus(context)
        seconds = time.perf_counter() - clock
        if outcome.status != "ok":
            raise SystemExit(f"sync {label} ended {outcome.status}: {outcome.error}")
        runs.append(
            Run(
                label=label,
                blocks=blocks,
                days_stored=days,
                range_queries=context.requests.by_endpoint["query_range"],
                requests=context.requests.total,
                seconds=seconds,
                rows_written=outcome.rows_written,
            )
        )
    with engine.connect() as connection:
        stored_days = connection.execute(
            select(func.count()).select_from(EndpointDaily)
        ).scalar_one()
    engine.dispose()
    if stored_days != len(history.endpoints) * history.days:
        raise SystemExit(
            f"expected {len(history.endpoints) * history.days} days, got {stored_days}"
        )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=50)
    parser.add_argument("--days", type=int, default=90)
    arguments = parser.parse_args()
    missing = missing_binaries()
    if missing:
        raise SystemExit(f"{' and '.join(missing)} not installed: apt-get install prometheus")
    history = bench_history(arguments.endpoints, arguments.days)
    with tempfile.TemporaryDirectory() as directory:
        clock = time.perf_counter()
        with serve_history(history, Path(directory) / "prometheus") as service:
            load_seconds = time.perf_counter() - clock
            config = bench_config(service.url, history)
            backfilled, _ = tsdb_blocks(service.url)
            runs = sync_into_fresh_store(
                Path(directory) / "backfilled.db", config, history, backfilled, "as backfilled"
            )
            compacted = wait_for_compaction(service.url)
            runs += sync_into_fresh_store(
                Path(directory) / "compacted.db", config, history, compacted, "compacted"
            )
    endpoints = len(history.endpoints)
    lines = [
        f"{endpoints} endpoints × {arguments.days} days of 30-minute samples (generic stack, "
        "one counter reset every tenth endpoint), written as OpenMetrics, turned into blocks "
        f"by promtool and served by Prometheus 2 on loopback ({load_seconds:.0f} s to build and "
        "start). Each pair of syncs writes a fresh SQLite store: first every retained day but "
        "the last (the look-back is Prometheus' retention, 10 years here, so each query spans "
        "3,650 daily points of which only the retained days answer), then the next day. "
        "Prometheus is measured twice: just after the backfill (two-hour blocks) and after it "
        "compacted them, as a server that lived through the history holds them.",
        "",
        "| sync | TSDB blocks | days stored per endpoint | range queries | all requests "
        "| requests per endpoint | wall time | rows written |",
        "|---|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for run in runs:
        per_endpoint = run.requests / endpoints
        worst = max(worst, per_endpoint)
        lines.append(
            f"| {run.label} | {run.blocks:,} | {run.days_stored} | {run.range_queries:,} "
            f"| {run.requests:,} | {per_endpoint:.2f} | {run.seconds:.2f} s "
            f"| {run.rows_written:,} |"
        )
    verdict = "within budget" if worst <= BUDGET_PER_ENDPOINT else "OVER BUDGET"
    lines += [
        "",
        "Per endpoint and sync: four range queries with a one-day step (requests, failures, "
        "buckets by `le`, availability), whatever the number of days; per sync also one "
        "`rules` request and, when an endpoint has no watermark yet, one `status/runtimeinfo`.",
        "",
        f"Budget: <= {BUDGET_PER_ENDPOINT} requests per endpoint per sync — {verdict} "
        f"(worst {worst:.2f}).",
    ]
    record("Prometheus sync (bench/prometheus_sync.py)", "python -m bench.prometheus_sync", lines)


if __name__ == "__main__":
    main()
