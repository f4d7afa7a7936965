"""The Prometheus connector against a real Prometheus holding five weeks of history.

The expected values are what that server answers, over plain HTTP, to instant
queries at each UTC midnight; the metric names of each serving stack are written
out here, independently of the connector's presets.
"""

from __future__ import annotations

import math
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, get_args

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from config import Config, PrometheusConfig, PrometheusPreset
from connectors import prometheus
from connectors.base import SourceError, SourceOutcome, SyncContext
from connectors.prometheus import (
    daily_queries,
    first_unread_day,
    last_complete_day,
    load_presets,
    parse_retention,
    resolve_settings,
    sync_prometheus,
)
from data.organisation import register_organisation
from data.store import read_watermarks, upsert_rows, write_transaction
from data.tables import AlertRule, Endpoint, EndpointDaily, EndpointLatencyBucket
from metrics.histogram import histogram_quantile
from tests.services.prometheus import (
    GAP_DAY,
    HISTORY_START,
    RESET_DAY,
    STACKS,
    TEST_HISTORY,
    PrometheusService,
    free_port,
    query,
)

DAY = timedelta(days=1)
STARTED_AT = TEST_HISTORY.end + timedelta(hours=6)
"""The sync runs on the morning after the history's last day."""
HISTORY_DAYS = [HISTORY_START.date() + n * DAY for n in range(TEST_HISTORY.days)]

DIRECT: dict[str, tuple[str, str, str, float]] = {
    # stack: (request counter, failure matcher, bucket series, `le` units per second)
    "generic": ("http_requests_total", 'code=~"5.."', "http_request_duration_seconds_bucket", 1),
    "fastapi": (
        "http_requests_total",
        'status=~"5xx"',
        "http_request_duration_seconds_bucket",
        1,
    ),
    "bentoml": (
        "bentoml_service_request_total",
        'http_response_code=~"5.."',
        "bentoml_service_request_duration_seconds_bucket",
        1,
    ),
    "seldon": (
        "seldon_api_executor_server_requests_seconds_count",
        'code=~"5.."',
        "seldon_api_executor_server_requests_seconds_bucket",
        1,
    ),
    "kserve": (
        "revision_app_request_count",
        'response_code_class=~"5xx"',
        "request_predict_seconds_bucket",
        1,
    ),
    "knative": (
        "revision_app_request_count",
        'response_code_class=~"5xx"',
        "revision_app_request_latencies_bucket",
        1000,
    ),
}


def make_config(url: str, teams: dict[str, list[str]], **settings: Any) -> Config:
    """Teams of synthetic endpoints (by job), each selected by its job label."""
    return Config.model_validate(
        {
            "prometheus": {"url": url, **settings},
            "teams": [
                {
                    "name": team,
                    "endpoints": [
                        {"name": job, "selector": TEST_HISTORY.endpoint(job).selector}
                        for job in jobs
                    ],
                }
                for team, jobs in teams.items()
            ],
        }
    )


def sync(
    engine: Engine, config: Config, started_at: datetime = STARTED_AT
) -> tuple[SourceOutcome, SyncContext]:
    with write_transaction(engine) as connection:
        register_organisation(connection, config)
    context = SyncContext(
        engine=engine, config=config, teams=list(config.teams), started_at=started_at
    )
    return sync_prometheus(context), context


def endpoint_id(engine: Engine, name: str) -> int:
    table = Endpoint.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return int(connection.execute(select(table.c.id).where(table.c.name == name)).scalar_one())


def stored_days(engine: Engine, name: str) -> dict[date, tuple[float, float, float | None]]:
    table = EndpointDaily.__table__  # type: ignore[attr-defined]
    statement = select(
        table.c.day, table.c.requests, table.c.failures, table.c.availability_ratio
    ).where(table.c.endpoint_id == endpoint_id(engine, name))
    with engine.connect() as connection:
        return {row[0]: (row[1], row[2], row[3]) for row in connection.execute(statement)}


def stored_buckets(engine: Engine, name: str) -> dict[date, dict[float, float]]:
    table = EndpointLatencyBucket.__table__  # type: ignore[attr-defined]
    statement = select(table.c.day, table.c.le, table.c.count).where(
        table.c.endpoint_id == endpoint_id(engine, name)
    )
    buckets: dict[date, dict[float, float]] = {}
    with engine.connect() as connection:
        for day, le, count in connection.execute(statement):
            buckets.setdefault(day, {})[le] = count
    return buckets


def stored_rules(engine: Engine) -> dict[tuple[str, str], dict[str, Any]]:
    table = AlertRule.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(select(table)).mappings().all()
    return {(row["group_name"], row["name"]): dict(row) for row in rows}


def scalar(url: str, promql: str, at: datetime) -> float | None:
    result = query(url, promql, at)
    return float(result[0]["value"][1]) if result else None


def day_end(day: date) -> datetime:
    return datetime.combine(day + DAY, time(), UTC)


def assert_days_match_prometheus(
    service: PrometheusService, engine: Engine, job: str, days: list[date]
) -> None:
    """Every stored figure of `job` for `days` equals the server's answer for that day."""
    stack = TEST_HISTORY.endpoint(job).stack
    counter, failed, buckets_series, le_per_second = DIRECT[stack]
    selector = f'job="{job}"'
    stored = stored_days(engine, job)
    stored_le = stored_buckets(engine, job)
    for day in days:
        at = day_end(day)
        requests = scalar(service.url, f"sum(increase({counter}{{{selector}}}[1d]))", at)
        failures = scalar(service.url, f"sum(increase({counter}{{{selector},{failed}}}[1d]))", at)
        availability = scalar(service.url, f"avg(avg_over_time(up{{{selector}}}[1d]))", at)
        expected = (
            None
            if requests is None and availability is None
            else (requests or 0.0, failures or 0.0, availability)
        )
        assert stored.get(day) == expected, (job, day)
        pooled = f"sum by (le) (increase({buckets_series}{{{selector}}}[1d]))"
        expected_buckets = {
            float(series["metric"]["le"]) / le_per_second: float(series["value"][1])
            for series in query(service.url, pooled, at)
        }
        assert stored_le.get(day, {}) == expected_buckets, (job, day)
        for q in (0.5, 0.95, 0.99):
            answer = scalar(service.url, f"histogram_quantile({q}, {pooled})", at)
            if answer is None:
                assert day not in stored_le
                continue
            bounds = list(stored_le[day])
            ours = histogram_quantile(q, bounds, [stored_le[day][b] for b in bounds])
            if math.isnan(answer):
                assert math.isnan(ours)
            else:
                assert ours == pytest.approx(answer / le_per_second, rel=1e-9), (job, day, q)


# --- presets, queries and days (no server) ------------------------------------------------


def test_every_configurable_preset_has_its_names() -> None:
    presets = load_presets()
    assert set(presets) == set(get_args(PrometheusPreset))
    assert presets["knative"].latency_unit == "milliseconds"
    assert presets["fastapi"].status_label == "status"
    assert presets["seldon"].requests_total.endswith("_count")


def test_a_key_differing_from_its_default_overrides_the_preset() -> None:
    settings = resolve_settings(
        PrometheusConfig(preset="knative", requests_total="revision_request_count")
    )
    assert settings.requests_total == "revision_request_count"
    assert settings.latency_histogram == "revision_app_request_latencies"
    assert settings.le_per_second == 1000


def test_generic_defaults_spelled_out_leave_the_preset_in_charge() -> None:
    """The example config lists the generic values; choosing a preset must still work."""
    config = PrometheusConfig(
        preset="fastapi",
        latency_histogram="http_request_duration_seconds",
        requests_total="http_requests_total",
        status_label="code",
        failure_status="5..",
    )
    settings = resolve_settings(config)
    assert (settings.status_label, settings.failure_status) == ("status", "5xx")


def test_queries_add_the_failure_matcher_to_any_selector() -> None:
    settings = resolve_settings(PrometheusConfig(failure_status='5\\d"x'))
    assert daily_queries(settings, "{}").requests == "sum(increase(http_requests_total{}[1d]))"
    queries = daily_queries(settings, '{ job="a", }')
    assert queries.failures == (
        'sum(increase(http_requests_total{job="a",code=~"5\\\\d\\"x"}[1d]))'
    )
    assert queries.buckets == (
        'sum by (le) (increase(http_request_duration_seconds_bucket{job="a"}[1d]))'
    )
    assert queries.availability == 'avg(avg_over_time(up{job="a"}[1d]))'


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("15d", 15),
        ("10y", 3650),
        ("1d12h", 1.5),
        ("30d or 10GiB", 30),
        ("10GiB", None),
        ("0s", None),
    ],
)
def test_retention_is_read_from_runtimeinfo_text(text: str, days: float | None) -> None:
    expected = None if days is None else timedelta(days=days)
    assert parse_retention(text) == expected


def test_a_day_is_read_once_complete_and_the_next_sync_starts_after_it() -> None:
    started_at = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)
    assert last_complete_day(started_at) == date(2026, 3, 8)  # the 9th ended only 5 min ago
    assert first_unread_day(started_at) == date(2026, 3, 9)
    later = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert last_complete_day(later) == date(2026, 3, 9)
    assert first_unread_day(later) == date(2026, 3, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        last_complete_day(datetime(2026, 3, 10, 9, 0))


# --- against the real server -------------------------------------------------------------


def test_daily_aggregates_equal_what_prometheus_answers(
    prometheus_service: PrometheusService, engine: Engine
) -> None:
    """The acceptance check: every day of both endpoints, the reset and gap days included."""
    config = make_config(prometheus_service.url, {"Search Ranking": ["ranker-api", "fraud-api"]})
    outcome, context = sync(engine, config)
    assert (outcome.status, outcome.error) == ("ok", None)
    assert outcome.watermark == STARTED_AT
    days = [HISTORY_START.date() - 2 * DAY, *HISTORY_DAYS, TEST_HISTORY.end.date()]
    for job in ("ranker-api", "fraud-api"):
        assert_days_match_prometheus(prometheus_service, engine, job, days)
        assert sorted(stored_days(engine, job)) == HISTORY_DAYS
    reset_day = HISTORY_DAYS[RESET_DAY]
    requests, _, availability = stored_days(engine, "ranker-api")[reset_day]
    assert requests > 0
    assert availability is not None
    assert 0.9 < availability < 1
    assert HISTORY_DAYS[GAP_DAY] in stored_days(engine, "fraud-api")
    with engine.connect() as connection:
        watermarks = read_watermarks(connection, "prometheus")
    assert watermarks == {
        "Search Ranking/ranker-api": STARTED_AT,
        "Search Ranking/fraud-api": STARTED_AT,
    }
    assert outcome.rows_written == sum(
        len(stored_days(engine, job)) + sum(map(len, stored_buckets(engine, job).values()))
        for job in ("ranker-api", "fraud-api")
    ) + len(stored_rules(engine))
    assert context.requests.total == 2 * 4 + 2  # four queries per endpoint, rules, runtimeinfo


@pytest.mark.parametrize("stack", ["fastapi", "bentoml", "seldon", "kserve", "knative"])
def test_each_preset_reads_its_stack(
    prometheus_service: PrometheusService, engine: Engine, stack: str
) -> None:
    job = next(e.job for e in TEST_HISTORY.endpoints if e.stack == stack)
    config = make_config(prometheus_service.url, {"Serving": [job]}, preset=stack)
    outcome, _ = sync(engine, config)
    assert outcome.status == "ok"
    first_day = HISTORY_DAYS[TEST_HISTORY.endpoint(job).first_day]
    assert min(stored_days(engine, job)) == first_day
    assert_days_match_prometheus(prometheus_service, engine, job, HISTORY_DAYS)
    stored_bounds = {le for day in stored_buckets(engine, job).values() for le in day}
    exposed = STACKS[stack]
    assert stored_bounds == {*(b / exposed.unit_per_second for b in exposed.bounds), math.inf}


def test_second_sync_reads_only_the_new_days(
    prometheus_service: PrometheusService, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranges: list[tuple[date, date]] = []
    original = prometheus.PrometheusClient.query_days

    def recording(self: Any, promql: str, first_day: date, last_day: date) -> Any:
        ranges.append((first_day, last_day))
        return original(self, promql, first_day, last_day)

    monkeypatch.setattr(prometheus.PrometheusClient, "query_days", recording)
    config = make_config(prometheus_service.url, {"Fraud": ["fraud-api"]})
    midway = HISTORY_START + 20 * DAY + timedelta(hours=5)
    first, first_context = sync(engine, config, started_at=midway)
    assert sorted(stored_days(engine, "fraud-api")) == HISTORY_DAYS[:20]
    assert first_context.requests.by_endpoint == {
        "rules": 1,
        "status/runtimeinfo": 1,
        "query_range": 4,
    }
    assert {last for _, last in ranges} == {HISTORY_DAYS[19]}

    ranges.clear()
    second, second_context = sync(engine, config)
    assert second_context.requests.by_endpoint == {"rules": 1, "query_range": 4}
    assert set(ranges) == {(HISTORY_DAYS[20], HISTORY_DAYS[-1])}
    assert sorted(stored_days(engine, "fraud-api")) == HISTORY_DAYS
    assert_days_match_prometheus(prometheus_service, engine, "fraud-api", HISTORY_DAYS)
    assert (first.watermark, second.watermark) == (midway, STARTED_AT)

    ranges.clear()
    third, third_context = sync(engine, config, started_at=STARTED_AT + timedelta(hours=1))
    assert ranges == []
    assert third_context.requests.by_endpoint == {"rules": 1}
    assert third.rows_written == len(stored_rules(engine))


@pytest.mark.parametrize("history_days", [3, TEST_HISTORY.days])
def test_queries_per_endpoint_do_not_grow_with_days(
    prometheus_service: PrometheusService, engine: Engine, history_days: int
) -> None:
    jobs = [endpoint.job for endpoint in TEST_HISTORY.endpoints]
    config = make_config(prometheus_service.url, {"Everyone": jobs})
    started_at = HISTORY_START + history_days * DAY + timedelta(hours=1)
    outcome, context = sync(engine, config, started_at=started_at)
    assert outcome.status == "ok"
    assert context.requests.by_endpoint["query_range"] == 4 * len(jobs)
    assert context.requests.total == 4 * len(jobs) + 2
    assert context.requests.total <= 6 * len(jobs)
    assert max(stored_days(engine, "ranker-api")) == HISTORY_DAYS[history_days - 1]


def test_alerting_rules_about_the_endpoints_and_resources_are_stored(
    prometheus_service: PrometheusService, engine: Engine
) -> None:
    seen_before = datetime(2025, 1, 1, tzinfo=UTC)
    with write_transaction(engine) as connection:
        upsert_rows(
            connection,
            AlertRule,
            [
                {
                    "group_name": "old.rules",
                    "name": "Gone",
                    "expr": "up == 0",
                    "seen_at": seen_before,
                },
                {
                    "group_name": "node.rules",
                    "name": "DiskAlmostFull",
                    "expr": "node_filesystem_avail_bytes < 1",
                    "seen_at": seen_before,
                },
            ],
        )
    config = make_config(prometheus_service.url, {"Search Ranking": ["ranker-api"]})
    sync(engine, config)
    rules = stored_rules(engine)
    assert set(rules) == {
        ("ranker-api.rules", "EndpointDown"),
        ("ranker-api.rules", "HighLatencyP95"),
        ("ranker-api.rules", "High5xxRate"),
        ("node.rules", "DiskAlmostFull"),
        ("node.rules", "CPUSaturated"),
        ("node.rules", "MemoryPressure"),
    }
    down = rules[("ranker-api.rules", "EndpointDown")]
    assert down["expr"] == 'up{job="ranker-api"} == 0'
    assert (down["duration_seconds"], down["labels"]) == (300.0, {"severity": "page"})
    assert down["seen_at"] == STARTED_AT
    disk = rules[("node.rules", "DiskAlmostFull")]
    assert disk["seen_at"] == seen_before  # first seen before, kept
    assert disk["expr"] == "node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1"
    sync(engine, config, started_at=STARTED_AT + 3 * DAY)
    assert stored_rules(engine)[("ranker-api.rules", "EndpointDown")]["seen_at"] == STARTED_AT


# --- failures ------------------------------------------------------------------------------


def test_an_unreachable_server_names_the_url_and_the_key(engine: Engine) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    config = make_config(url, {"Search Ranking": ["ranker-api"]})
    with pytest.raises(SourceError) as raised:
        sync(engine, config)
    message = str(raised.value)
    assert url in message
    assert "prometheus.url" in message
    assert "\n" not in message


def test_a_rejected_selector_skips_that_endpoint_only(
    prometheus_service: PrometheusService, engine: Engine
) -> None:
    config = Config.model_validate(
        {
            "prometheus": {"url": prometheus_service.url},
            "teams": [
                {
                    "name": "Search Ranking",
                    "endpoints": [
                        {"name": "ranker-api", "selector": '{job="ranker-api"}'},
                        {"name": "broken", "selector": '{job="ranker-api" env="prod"}'},
                    ],
                }
            ],
        }
    )
    outcome, _ = sync(engine, config)
    assert outcome.status == "partial"
    assert outcome.error is not None
    assert outcome.error.startswith("Search Ranking/broken: ")
    assert "400" in outcome.error
    assert "teams[0].endpoints[1].selector" in outcome.error
    assert sorted(stored_days(engine, "ranker-api")) == HISTORY_DAYS
    assert stored_days(engine, "broken") == {}
    with engine.connect() as connection:
        assert set(read_watermarks(connection, "prometheus")) == {"Search Ranking/ranker-api"}


TOKEN = "s3cret-token-value"


@pytest.fixture
def auth_proxy(prometheus_service: PrometheusService) -> Iterator[str]:
    """Prometheus behind a proxy that wants `Authorization: Bearer TOKEN` (else 401)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401)
                self.send_header("WWW-Authenticate", "Bearer")
                self.end_headers()
                self.wfile.write(b"Unauthorized\n")
                return
            try:
                with urllib.request.urlopen(prometheus_service.url + self.path) as answer:
                    status, body = answer.status, answer.read()
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_token_from_the_environment_is_sent_as_a_bearer_header(
    auth_proxy: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_TEST_PROMETHEUS_TOKEN", TOKEN)
    config = make_config(
        auth_proxy, {"Fraud": ["fraud-api"]}, token_env="MLOPS_TEST_PROMETHEUS_TOKEN"
    )
    outcome, _ = sync(engine, config)
    assert outcome.status == "ok"
    assert sorted(stored_days(engine, "fraud-api")) == HISTORY_DAYS


@pytest.mark.parametrize(
    ("token", "token_env", "expected"),
    [
        pytest.param(
            "wrong",
            "MLOPS_TEST_PROMETHEUS_TOKEN",
            "401 Unauthorized; check the token in "
            "MLOPS_TEST_PROMETHEUS_TOKEN (prometheus.token_env)",
            id="wrong-token",
        ),
        pytest.param(None, None, "401 Unauthorized; set prometheus.token_env", id="no-token-env"),
        pytest.param(
            None,
            "MLOPS_TEST_PROMETHEUS_TOKEN",
            "MLOPS_TEST_PROMETHEUS_TOKEN (prometheus.token_env) is not set",
            id="variable-unset",
        ),
    ],
)
def test_a_refused_or_missing_token_fails_the_source_with_the_key_to_fix(
    auth_proxy: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    token: str | None,
    token_env: str | None,
    expected: str,
) -> None:
    if token is None:
        monkeypatch.delenv("MLOPS_TEST_PROMETHEUS_TOKEN", raising=False)
    else:
        monkeypatch.setenv("MLOPS_TEST_PROMETHEUS_TOKEN", token)
    config = make_config(auth_proxy, {"Fraud": ["fraud-api"]}, token_env=token_env)
    with pytest.raises(SourceError) as raised:
        sync(engine, config)
    message = str(raised.value)
    assert expected in message
    assert TOKEN not in message
    assert "wrong" not in message
    assert stored_days(engine, "fraud-api") == {}
