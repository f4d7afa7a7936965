"""The engine on a real store (SQLite and PostgreSQL): the demo, and small hand-built stores."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from config import Config, TeamConfig
from data import demo
from data.db import make_engine, upgrade
from data.loaders import Period
from data.store import key_to_id, upsert_rows, write_transaction
from data.tables import (
    Endpoint,
    EndpointLatencyBucket,
    Meeting,
    MeetingAttendee,
    RegisteredModel,
    Repo,
    Team,
    TeamModel,
    TeamRepo,
    WorkflowRun,
)
from metrics.catalog import catalog
from metrics.engine import MetricResult, compute_metrics
from metrics.histogram import histogram_quantile

ANCHOR = date(2026, 6, 30)
PERIOD = Period.last_days(90, today=ANCHOR)
RECORD_KEYS = {"team", "metric", "value", "unit", "target", "status", "since", "until"}


def _demo_teams(engine: Engine) -> list[str]:
    config = demo.demo_config(engine)
    assert config is not None
    return config.team_names()


def _demo_results(engine: Engine, teams=None) -> list[MetricResult]:
    config = demo.demo_config(engine)
    assert config is not None
    return compute_metrics(engine, config, PERIOD, teams=teams)


def _values(found: list[MetricResult]) -> dict[tuple[str, str], float | None]:
    return {(result.team, result.metric_id): result.value for result in found}


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    demo.write_demo(engine, anchor=ANCHOR)
    return engine


def test_demo_has_one_result_per_team_and_metric(demo_engine):
    found = _demo_results(demo_engine)
    teams = _demo_teams(demo_engine)
    keys = [(result.team, result.metric_id) for result in found]
    assert len(keys) == len(set(keys))
    assert set(keys) == {(team, metric) for team in teams for metric in catalog()}
    assert {result.status for result in found} <= {"ok", "breach", "unknown"}
    for result in found:
        assert (result.value is None) == (result.status == "unknown")
        assert result.value is None or math.isfinite(result.value)
    # the demo is meant to show real numbers: most metrics are known
    assert sum(result.value is not None for result in found) > len(found) * 0.8


def test_demo_records_have_the_documented_shape(demo_engine):
    for result in _demo_results(demo_engine):
        record = result.as_record()
        assert set(record) == RECORD_KEYS
        assert record["since"] == "2026-04-02"  # 90 days ending 2026-06-30
        assert record["until"] == "2026-06-30"
        assert record["metric"] == result.metric_id
        assert record["status"] in {"ok", "breach", "unknown"}


def test_one_team_alone_gives_the_same_values_as_all_teams(demo_engine):
    everyone = _values(_demo_results(demo_engine))
    for team in _demo_teams(demo_engine):
        alone = _values(_demo_results(demo_engine, teams=[team]))
        expected = {key: value for key, value in everyone.items() if key[0] == team}
        assert alone.keys() == expected.keys()
        for key, value in expected.items():
            # sums over a different row order may differ in the last bit
            assert alone[key] == (None if value is None else pytest.approx(value, rel=1e-12)), key


@pytest.fixture
def two_engines(sqlite_url: str, postgres_url: str) -> Iterator[tuple[Engine, Engine]]:
    engines = (make_engine(sqlite_url), make_engine(postgres_url))
    for engine in engines:
        upgrade(engine)
    yield engines
    for engine in engines:
        engine.dispose()


@pytest.mark.postgres
def test_sqlite_and_postgres_give_identical_results(two_engines):
    results = []
    for engine in two_engines:
        demo.write_demo(engine, anchor=ANCHOR)
        results.append(_demo_results(engine))
    on_sqlite, on_postgres = (_values(found) for found in results)
    assert on_sqlite.keys() == on_postgres.keys()
    assert on_sqlite == on_postgres
    statuses = [{(r.team, r.metric_id): r.status for r in found} for found in results]
    assert statuses[0] == statuses[1]


# --- small hand-built stores ----------------------------------------------------------------

JUNE = Period(since=date(2026, 6, 1), until=date(2026, 6, 14))  # two weeks


def _utc(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=UTC)


def _organisation(connection, teams=("A", "B")) -> dict[str, int]:
    upsert_rows(connection, Team, [{"name": team} for team in teams])
    return key_to_id(connection, Team)


def test_empty_store_gives_unknown_for_every_metric(engine):
    # Teams, and no data from any source: every metric unknown, nothing raises.
    with write_transaction(engine) as connection:
        _organisation(connection)
    config = Config(
        teams=[TeamConfig(name="A", stakeholders=["vp@acme.com"]), TeamConfig(name="B")]
    )
    found = compute_metrics(engine, config, JUNE)
    assert len(found) == 2 * len(catalog())
    assert {(result.value, result.status) for result in found} == {(None, "unknown")}


def test_team_whose_meetings_all_precede_the_period(engine):
    # A team with stakeholders that last met in May: attendance is unknown for June
    # (no meeting in the period), days since the update are known.
    with write_transaction(engine) as connection:
        teams = _organisation(connection, ("A",))
        upsert_rows(
            connection,
            Meeting,
            [
                {
                    "team_id": teams["A"],
                    "uid": "m1",
                    "title": "review",
                    "start": _utc(1) - timedelta(days=20),
                }
            ],
        )
        meeting = key_to_id(connection, Meeting)[(teams["A"], "m1")]
        upsert_rows(connection, MeetingAttendee, [{"meeting_id": meeting, "email": "vp@acme.com"}])
    config = Config(teams=[TeamConfig(name="A", stakeholders=["vp@acme.com"])])
    found = {
        result.metric_id: result
        for result in compute_metrics(
            engine,
            config,
            JUNE,
            metric_ids=["stakeholder_attendance_pct", "days_since_stakeholder_update"],
        )
    }
    assert found["stakeholder_attendance_pct"].status == "unknown"
    # 05-12 00:00 -> 06-15 00:00 = 34 days
    assert found["days_since_stakeholder_update"].value == pytest.approx(34.0)


def test_team_whose_only_model_is_registered_after_the_period(engine):
    # Backfilling June for a team whose model was registered in July: the model did not
    # exist at the end, so the registry metrics are unknown.
    with write_transaction(engine) as connection:
        teams = _organisation(connection, ("A",))
        upsert_rows(
            connection,
            RegisteredModel,
            [{"name": "later", "created_at": _utc(1) + timedelta(days=40)}],
        )
        model = key_to_id(connection, RegisteredModel)["later"]
        upsert_rows(connection, TeamModel, [{"team_id": teams["A"], "model_id": model}])
    found = compute_metrics(engine, Config(teams=[TeamConfig(name="A")]), JUNE)
    registry = [result for result in found if result.spec.source == "registry"]
    assert {(result.value, result.status) for result in registry} == {(None, "unknown")}


def test_deploy_workflow_runs_count_only_on_the_default_branch(engine):
    with write_transaction(engine) as connection:
        teams = _organisation(connection, ("A",))
        upsert_rows(connection, Repo, [{"full_name": "o/w", "default_branch": "trunk"}])
        repo = key_to_id(connection, Repo)["o/w"]
        upsert_rows(connection, TeamRepo, [{"team_id": teams["A"], "repo_id": repo}])

        def run(run_id, name, branch, conclusion, day):
            return {
                "repo_id": repo,
                "run_id": run_id,
                "workflow_name": name,
                "head_branch": branch,
                "status": "completed",
                "conclusion": conclusion,
                "created_at": _utc(day, 10),
                "updated_at": _utc(day, 11),
            }

        upsert_rows(
            connection,
            WorkflowRun,
            [
                run(1, "Deploy to prod", "trunk", "success", 2),  # counts
                run(2, "Deploy to prod", "trunk", "success", 9),  # counts
                run(3, "Deploy to prod", "feature/x", "success", 3),  # feature branch
                run(4, "CI", "trunk", "success", 4),  # not a deploy workflow
                run(5, "Deploy to prod", "trunk", "failure", 5),  # failed deployment
                run(6, "Deploy to prod", "trunk", "success", 20),  # after the period
            ],
        )
    found = {
        result.metric_id: result.value
        for result in compute_metrics(
            engine,
            Config(teams=[TeamConfig(name="A")]),
            JUNE,
            metric_ids=["deployment_frequency_per_week", "change_failure_rate_pct"],
        )
    }
    # runs 1 and 2 in two weeks -> 2 / 2 = 1 per week
    assert found["deployment_frequency_per_week"] == pytest.approx(1.0)
    # finished deploy runs 1, 2 (success) and 5 (failure) -> 1 / 3
    assert found["change_failure_rate_pct"] == pytest.approx(100 / 3)


def test_stored_days_pool_into_the_quantile_of_summed_buckets(engine):
    les = (0.1, 0.3, math.inf)
    day_counts = {date(2026, 6, 2): (20.0, 30.0, 30.0), date(2026, 6, 3): (0.0, 30.0, 70.0)}
    with write_transaction(engine) as connection:
        teams = _organisation(connection, ("A",))
        upsert_rows(connection, Endpoint, [{"team_id": teams["A"], "name": "api"}])
        endpoint = key_to_id(connection, Endpoint)[(teams["A"], "api")]
        upsert_rows(
            connection,
            EndpointLatencyBucket,
            [
                {"endpoint_id": endpoint, "day": day, "le": le, "count": count}
                for day, counts in day_counts.items()
                for le, count in zip(les, counts, strict=True)
            ]
            # a day outside the period must not count
            + [{"endpoint_id": endpoint, "day": date(2026, 6, 20), "le": 0.1, "count": 999.0}],
        )
    found = {
        result.metric_id: result.value
        for result in compute_metrics(
            engine,
            Config(teams=[TeamConfig(name="A")]),
            JUNE,
            metric_ids=["endpoint_latency_p50_ms", "endpoint_latency_p95_ms"],
        )
    }
    # summed: 20, 60, 100; p50 rank 50 in le=0.3: 0.1 + 0.2 * 30/40 = 0.25 s -> 250 ms
    assert found["endpoint_latency_p50_ms"] == pytest.approx(250.0)
    assert found["endpoint_latency_p50_ms"] == pytest.approx(
        histogram_quantile(0.5, les, [20, 60, 100]) * 1000
    )
    # p95 rank 95 in +Inf -> 0.3 s -> 300 ms
    assert found["endpoint_latency_p95_ms"] == pytest.approx(300.0)
