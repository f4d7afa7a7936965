"""Imports of model versions, deployments and endpoint statistics: what each stores,
what the metrics then read, and the row-level refusals that write nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from config import parse_config
from connectors.imports import (
    DERIVED_DEPLOYMENT_ID_BASE,
    LATENCY_GRID_SECONDS,
    ImportKind,
    PreparedImport,
    latency_buckets,
    prepare_import,
    write_import,
)
from data.loaders import Period, deployment_statuses, deployments, model_versions
from data.store import row_counts, upsert_rows, write_transaction
from data.tables import RegisteredModel, SyncRun
from metrics.engine import compute_metrics
from metrics.histogram import histogram_quantile

NOW = datetime(2025, 4, 20, 12, tzinfo=UTC)
PERIOD = Period(date(2025, 1, 21), date(2025, 4, 20))
CONFIG = parse_config(
    """
[[teams]]
name = "Search Ranking"
repos = ["acme/ranker"]
models = ["ranker-*"]
endpoints = [{ name = "ranker-api", selector = '{job="ranker-api"}' }]

[[teams]]
name = "Fraud Detection"
repos = ["acme/fraud"]
"""
)


def _prepare(kind: ImportKind, name: str, text: str | bytes) -> PreparedImport:
    data = text.encode() if isinstance(text, str) else text
    return prepare_import(kind, name, data, CONFIG, NOW)


def _metric(engine, team: str, metric_id: str, period: Period = PERIOD) -> float | None:
    (result,) = compute_metrics(engine, CONFIG, period, [team], [metric_id])
    return result.value


def _nothing_written(engine, prepared: PreparedImport) -> None:
    before = row_counts(engine)
    with pytest.raises(ValueError, match="nothing was imported"):
        write_import(engine, prepared, CONFIG)
    assert row_counts(engine) == before


# --- model versions ---------------------------------------------------------------------

VERSIONS_CSV = """team,model,version,created_at,run_start,run_end,deployed_at,aliases
Search Ranking,ranker-main,1,2025-03-01T10:00:00Z,2025-03-01T08:00:00Z,2025-03-01T09:00:00Z,\
2025-03-02T08:00:00Z,
Search Ranking,ranker-main,2,2025-04-01T10:00:00Z,2025-04-01T06:00:00Z,,\
2025-04-01T16:00:00Z,champion;candidate
"""


def test_model_versions_are_stored_and_read_by_the_modelops_metrics(engine):
    prepared = _prepare("model-versions", "versions.csv", VERSIONS_CSV)
    assert prepared.errors == ()

    assert write_import(engine, prepared, CONFIG) == {
        "registered_model": 1,
        "team_model": 1,
        "model_version": 2,
    }

    stored = model_versions(engine, "Search Ranking").sort_values("version_number")
    assert stored["version"].tolist() == ["1", "2"]
    assert stored["aliases"].tolist() == [[], ["champion", "candidate"]]
    assert stored["deployed_at"].tolist() == [
        datetime(2025, 3, 2, 8, tzinfo=UTC),
        datetime(2025, 4, 1, 16, tzinfo=UTC),
    ]
    # deployed_at − run start: 24 h and 10 h.
    assert _metric(engine, "Search Ranking", "time_to_deploy_hours") == pytest.approx(17.0)
    with engine.connect() as connection:
        runs = connection.execute(select(SyncRun.__table__)).all()  # type: ignore[attr-defined]
    assert [(r.source, r.status, r.rows_written, r.api_calls) for r in runs] == [
        ("import:model-versions", "ok", 4, 0)
    ]


def test_model_versions_from_json_keep_an_existing_models_description(engine):
    with write_transaction(engine) as connection:
        upsert_rows(
            connection,
            RegisteredModel,
            [{"name": "ranker-main", "description": "from MLflow", "created_at": NOW}],
        )
    document = [
        {
            "team": "Search Ranking",
            "model": "ranker-main",
            "version": 7,
            "created_at": "2025-04-02T10:00:00+02:00",
            "aliases": ["prod"],
        }
    ]
    write_import(engine, _prepare("model-versions", "v.json", json.dumps(document)), CONFIG)

    with engine.connect() as connection:
        model = connection.execute(select(RegisteredModel.__table__)).one()  # type: ignore[attr-defined]
    assert (model.description, model.created_at) == ("from MLflow", NOW)
    stored = model_versions(engine, "Search Ranking")
    assert stored[["version", "aliases"]].values.tolist() == [["7", ["prod"]]]
    assert stored["created_at"].tolist() == [datetime(2025, 4, 2, 8, tzinfo=UTC)]


def test_bad_model_versions_are_named_and_nothing_is_written(engine):
    prepared = _prepare(
        "model-versions",
        "versions.csv",
        """team,model,version,created_at,deployed_at
Search Ranking,ranker-main,v3,2025-03-01T10:00:00Z,
Nobody,ranker-main,4,2030-01-01T00:00:00Z,
Search Ranking,ranker-main,5,2025-03-01T10:00:00Z,2025-02-01T10:00:00Z
Search Ranking,ranker-main,5,2025-03-01T10:00:00Z,
""",
    )
    assert prepared.errors == (
        "line 2: column 'version': 'v3' is not a whole number from 1 up; "
        "give the version number, e.g. 3",
        "line 3: column 'team': 'Nobody' is not a team of mlops.toml "
        "(teams: Fraud Detection, Search Ranking)",
        "line 3: column 'created_at': '2030-01-01T00:00:00Z' is in the future",
        "line 4: column 'deployed_at': is before created_at "
        "(a version is deployed after it exists)",
        "line 5: column 'version': repeats this model version of line 4",
    )
    _nothing_written(engine, prepared)


# --- deployments --------------------------------------------------------------------------

DEPLOYMENTS_CSV = """repo,environment,created_at,status,status_at,sha
acme/ranker,production,2025-04-01T10:00:00Z,success,2025-04-01T10:20:00Z,abc123
acme/ranker,production,2025-04-08T10:00:00Z,failure,,def456
acme/ranker,staging,2025-04-09T10:00:00Z,success,,
"""


def test_deployments_are_stored_with_their_status_and_counted(engine):
    prepared = _prepare("deployments", "deployments.csv", DEPLOYMENTS_CSV)
    assert write_import(engine, prepared, CONFIG) == {"deployment": 3, "deployment_status": 3}
    write_import(engine, _prepare("deployments", "deployments.csv", DEPLOYMENTS_CSV), CONFIG)

    stored = deployments(engine, "Search Ranking").sort_values("created_at")
    assert len(stored) == 3  # the derived ids are the same on a re-import
    assert (stored["deployment_id"] >= DERIVED_DEPLOYMENT_ID_BASE).all()
    assert stored["sha"].tolist() == ["abc123", "def456", ""]
    statuses = deployment_statuses(engine, "Search Ranking").sort_values("created_at")
    assert statuses["state"].tolist() == ["success", "failure", "success"]
    assert statuses["created_at"].tolist()[0] == datetime(2025, 4, 1, 10, 20, tzinfo=UTC)
    # One successful production deployment in 90 days; one of the two failed.
    assert _metric(engine, "Search Ranking", "deployment_frequency_per_week") == pytest.approx(
        7 / 90
    )
    assert _metric(engine, "Search Ranking", "change_failure_rate_pct") == pytest.approx(50.0)


def test_a_deployments_new_status_replaces_the_old_one(engine):
    first = (
        "repo,environment,created_at,status,id\n"
        "acme/ranker,prod,2025-04-01T10:00:00Z,in_progress,42\n"
    )
    write_import(engine, _prepare("deployments", "d.csv", first), CONFIG)
    write_import(
        engine, _prepare("deployments", "d.csv", first.replace("in_progress", "success")), CONFIG
    )

    statuses = deployment_statuses(engine, "Search Ranking")
    assert statuses["state"].tolist() == ["success"]
    assert deployments(engine, "Search Ranking")["deployment_id"].tolist() == [42]


def test_bad_deployments_are_named_and_nothing_is_written(engine):
    prepared = _prepare(
        "deployments",
        "deployments.json",
        json.dumps(
            [
                {
                    "repo": "acme/other",
                    "environment": "prod",
                    "created_at": "2025-04-01T10:00:00Z",
                    "status": "success",
                },
                {
                    "repo": "acme/ranker",
                    "environment": "prod",
                    "created_at": "2025-04-01T10:00:00Z",
                    "status": "done",
                    "status_at": "2025-03-01T00:00:00Z",
                },
                {
                    "repo": "acme/ranker",
                    "environment": "prod",
                    "created_at": "2025-04-02",
                    "status": "success",
                    "id": -1,
                },
            ]
        ),
    )
    assert prepared.errors == (
        "item 1: key 'repo': 'acme/other' is not in any team's repos in mlops.toml",
        "item 2: key 'status': 'done' is not a deployment status; use one of success, failure, "
        "error, inactive, in_progress, queued, pending",
        "item 2: key 'status_at': is before created_at",
        "item 3: key 'id': -1 is not a whole number from 1 up; give the deployment's id",
    )
    _nothing_written(engine, prepared)


# --- endpoint statistics ---------------------------------------------------------------------


def test_latency_buckets_give_back_the_percentiles():
    for p50, p95, p99 in [(100, 250, 400), (42, 180, 900), (3, 7, 12), (800, 2500, 2600)]:
        counts = latency_buckets(1000, p50, p95, p99)
        read = [
            histogram_quantile(q, LATENCY_GRID_SECONDS, counts) * 1000 for q in (0.5, 0.95, 0.99)
        ]
        # Prometheus interpolates linearly inside a bucket, as the stored distribution runs
        # between the percentiles: only a bucket holding a bend can shift one, by < one step.
        for value, expected in zip(read, (p50, p95, p99), strict=True):
            assert value == pytest.approx(expected, rel=0.06)
        assert counts == sorted(counts)
        assert counts[-1] == 1000


STATS_CSV = """team,endpoint,day,requests,failures,availability_pct,p50_ms,p95_ms,p99_ms
Search Ranking,ranker-api,2025-04-01,1000,10,100,100,250,400
Search Ranking,ranker-api,2025-04-02,3000,20,99,100,250,400
Search Ranking,ranker-batch,2025-04-02,1000,0,,,,
"""


def test_endpoint_stats_are_read_by_the_endpoint_metrics(engine):
    prepared = _prepare("endpoint-stats", "stats.csv", STATS_CSV)
    assert write_import(engine, prepared, CONFIG) == {
        "endpoint": 1,  # ranker-batch; ranker-api is configured
        "endpoint_daily": 3,
        "endpoint_latency_bucket": 2 * len(LATENCY_GRID_SECONDS),
    }
    write_import(engine, _prepare("endpoint-stats", "stats.csv", STATS_CSV), CONFIG)

    assert row_counts(engine)["endpoint_latency_bucket"] == 2 * len(LATENCY_GRID_SECONDS)
    assert _metric(engine, "Search Ranking", "endpoint_requests") == 5000
    assert _metric(engine, "Search Ranking", "endpoint_failure_pct") == pytest.approx(
        100 * 30 / 5000
    )
    # The mean of the days' availability, over the endpoints that report it.
    assert _metric(engine, "Search Ranking", "endpoint_availability_pct") == pytest.approx(99.5)
    # Both days have the same percentiles, so the pooled ones are the day's.
    assert _metric(engine, "Search Ranking", "endpoint_latency_p50_ms") == pytest.approx(100)
    assert _metric(engine, "Search Ranking", "endpoint_latency_p99_ms") == pytest.approx(400)
    p95 = _metric(engine, "Search Ranking", "endpoint_latency_p95_ms")
    assert p95 == pytest.approx(250, rel=0.06)


def test_bad_endpoint_stats_are_named_and_nothing_is_written(engine):
    tomorrow = (NOW + timedelta(days=1)).date().isoformat()
    prepared = _prepare(
        "endpoint-stats",
        "stats.csv",
        f"""team,endpoint,day,requests,failures,availability_pct,p50_ms,p95_ms,p99_ms
Search Ranking,ranker-api,2025-04-01,100,101,101,,,
Search Ranking,ranker-api,04/02/2025,lots,,,100,,
Search Ranking,ranker-api,{tomorrow},100,,,300,200,70000
""",
    )
    assert prepared.errors == (
        "line 2: column 'availability_pct': '101' is above 100; "
        "give the share of the day it was up",
        "line 2: column 'failures': 101 is more than the 100 requests",
        "line 3: column 'day': '04/02/2025' is not a date; use YYYY-MM-DD, e.g. 2025-03-10",
        "line 3: column 'requests': 'lots' is not a number; give the day's request count",
        "line 3: column 'p50_ms': give p50_ms, p95_ms and p99_ms together, or none of them",
        "line 4: column 'p99_ms': '70000' is above 60000; give a latency in milliseconds",
        f"line 4: column 'day': '{tomorrow}' is in the future",
    )
    _nothing_written(engine, prepared)


def test_percentiles_must_rise():
    prepared = _prepare(
        "endpoint-stats",
        "stats.csv",
        "team,endpoint,day,requests,p50_ms,p95_ms,p99_ms\n"
        "Search Ranking,ranker-api,2025-04-01,10,300,200,400\n",
    )
    assert prepared.errors == (
        "line 2: column 'p95_ms': the percentiles must rise: p50_ms ≤ p95_ms ≤ p99_ms",
    )


# --- the file itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "data", "error"),
    [
        (
            "deployments",
            "d.xlsx",
            b"PK\x03\x04",
            "cannot tell the format; deployments are read from .csv or .json files",
        ),
        (
            "deployments",
            "d.ics",
            b"BEGIN:VCALENDAR",
            "cannot tell the format; deployments are read",
        ),
        (
            "deployments",
            "d.json",
            b'{"repo": "acme/ranker"}',
            "the file must hold a JSON list of objects",
        ),
        ("deployments", "d.json", b"[1, 2", "line 1: not valid JSON"),
        ("deployments", "d.json", b"[42]", "item 1: is not an object ({…}) but int"),
        (
            "deployments",
            "d.csv",
            b"repo,env\n",
            "line 1: unknown column 'env'; missing columns 'environment', 'created_at', 'status'",
        ),
        ("deployments", "d.csv", b"", "the file is empty"),
        ("deployments", "d.csv", b"repo,environment,created_at,status\n", "the file has no rows"),
        ("endpoint-stats", "s.csv", b"\xff\xfeteam", "the file is not UTF-8 text"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(kind, name, data, error):
    prepared = prepare_import(kind, name, data, CONFIG, NOW)
    assert not prepared.ok
    assert prepared.errors[0].startswith(error), prepared.errors
