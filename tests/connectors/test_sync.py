"""The sync runner: one `sync_run` per source, failures contained, a snapshot afterwards."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from config import ConfigError, parse_config
from connectors import sync
from connectors.base import SourceError, SourceOutcome, SyncContext
from data.tables import MetricSnapshot, SyncRun, Team, TeamRepo

CONFIG = parse_config(
    """
[github]
[prometheus]
[[teams]]
name = "Ranking"
repos = ["acme/ranker"]
endpoints = [{ name = "ranker-api", selector = '{job="ranker"}' }]
[[teams]]
name = "Fraud"
repos = ["acme/fraud"]
"""
)


def _t(model: Any) -> Any:
    return model.__table__


def _runs(engine: Engine) -> list[dict[str, object]]:
    table = _t(SyncRun)
    with engine.connect() as connection:
        rows = connection.execute(select(table).order_by(table.c.id)).mappings().all()
    return [dict(row) for row in rows]


def _install(monkeypatch: pytest.MonkeyPatch, **connectors: object) -> None:
    monkeypatch.setattr(sync, "_connector", lambda source: connectors[source])


def test_configured_sources_follow_the_config() -> None:
    assert sync.configured_sources(CONFIG) == ["github", "prometheus"]
    assert sync.configured_sources(CONFIG, [CONFIG.team("Fraud")]) == ["github"]


def test_one_failing_source_does_not_stop_the_others(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def github(context: SyncContext) -> SourceOutcome:
        seen.append([team.name for team in context.teams])
        context.requests.count("GET /x", 3)
        return SourceOutcome(rows_written=7, watermark=context.started_at)

    def prometheus(context: SyncContext) -> SourceOutcome:
        raise SourceError("cannot reach Prometheus at http://127.0.0.1:1; check [prometheus] url")

    _install(monkeypatch, github=github, prometheus=prometheus)
    reports = sync.run_sync(engine, CONFIG)

    assert [(r.source, r.status, r.api_calls, r.rows_written) for r in reports] == [
        ("github", "ok", 3, 7),
        ("prometheus", "failed", 0, 0),
    ]
    runs = _runs(engine)
    assert [(r["source"], r["status"], r["api_calls"]) for r in runs] == [
        ("github", "ok", 3),
        ("prometheus", "failed", 0),
    ]
    assert (
        runs[1]["error"] == "cannot reach Prometheus at http://127.0.0.1:1; check [prometheus] url"
    )
    assert all(r["ended_at"] is not None for r in runs)
    assert seen == [["Ranking", "Fraud"]]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(_t(Team))).scalar() == 2
        assert connection.execute(select(func.count()).select_from(_t(TeamRepo))).scalar() == 2
        snapshot_days = connection.execute(select(_t(MetricSnapshot).c.day).distinct()).scalars()
        assert list(snapshot_days) == [datetime.now(UTC).date()]


def test_an_unexpected_error_is_recorded_without_its_text(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def github(context: SyncContext) -> SourceOutcome:
        raise RuntimeError("token=sekrit leaked into an exception")

    _install(monkeypatch, github=github)
    [report] = sync.run_sync(engine, CONFIG, sources=["github"], snapshot=False)
    assert report.status == "failed"
    assert report.error is not None
    assert "sekrit" not in report.error
    assert "RuntimeError" in report.error


def test_team_filter_and_unknown_team(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    teams: list[str] = []

    def github(context: SyncContext) -> SourceOutcome:
        teams.extend(team.name for team in context.teams)
        return SourceOutcome()

    _install(monkeypatch, github=github)
    sync.run_sync(engine, CONFIG, sources=["github"], team="Fraud", snapshot=False)
    assert teams == ["Fraud"]
    with pytest.raises(ConfigError, match="unknown team 'Nope'"):
        sync.run_sync(engine, CONFIG, team="Nope")
