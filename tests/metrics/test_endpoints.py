"""Endpoint metrics on hand-made daily aggregates and bucket totals."""

from __future__ import annotations

import math
from datetime import date

import pytest

from config import TeamConfig
from data.loaders import Period
from metrics.histogram import histogram_quantile
from tests.metrics.builders import config_for, make_inputs, results

JUNE = Period(since=date(2026, 6, 1), until=date(2026, 6, 30))
LATENCY_IDS = ("endpoint_latency_p50_ms", "endpoint_latency_p95_ms", "endpoint_latency_p99_ms")
ALL_IDS = (*LATENCY_IDS, "endpoint_requests", "endpoint_failure_pct", "endpoint_availability_pct")
INF = math.inf


def _buckets(endpoint: str, counts: dict[float, float], team: str = "A"):
    return [{"team": team, "endpoint": endpoint, "le": le, "count": n} for le, n in counts.items()]


# --- latency ---------------------------------------------------------------------------


def test_latency_quantiles_match_histogram_quantile_by_hand():
    inputs = make_inputs(endpoint_buckets=_buckets("api", {0.1: 50, 0.2: 90, INF: 100}))
    found = {metric: results(inputs, metric, JUNE)["A"] for metric in LATENCY_IDS}
    # p50: rank 50 <= 50 in bucket le=0.1 (from 0): 0 + 0.1 * 50/50 = 0.1 s -> 100 ms
    assert found["endpoint_latency_p50_ms"].value == pytest.approx(100.0)
    # p95: rank 95 > 90 lies in +Inf -> highest finite bound 0.2 s -> 200 ms
    assert found["endpoint_latency_p95_ms"].value == pytest.approx(200.0)
    # p99: rank 99 also in +Inf -> 200 ms
    assert found["endpoint_latency_p99_ms"].value == pytest.approx(200.0)
    # default target latency_p95_ms 300: 200 ok; p50 / p99 have no target -> ok
    assert found["endpoint_latency_p95_ms"].target == 300.0
    assert found["endpoint_latency_p95_ms"].status == "ok"
    assert found["endpoint_latency_p50_ms"].target is None
    assert found["endpoint_latency_p50_ms"].status == "ok"


def test_latency_p90_lands_on_bucket_bound_and_p75_interpolates():
    bounds, counts = [0.1, 0.2, INF], [50, 90, 100]
    # p90: rank 90 in le=0.2: 0.1 + 0.1 * (90-50)/(90-50) = 0.2 s exactly
    assert histogram_quantile(0.9, bounds, counts) * 1000 == pytest.approx(200.0)
    # p75: rank 75 in le=0.2: 0.1 + 0.1 * (75-50)/40 = 0.1625 s
    assert histogram_quantile(0.75, bounds, counts) * 1000 == pytest.approx(162.5)
    # p25: rank 25 in the lowest bucket, which starts at 0: 0.1 * 25/50 = 0.05 s
    assert histogram_quantile(0.25, bounds, counts) * 1000 == pytest.approx(50.0)


def test_latency_pools_buckets_of_all_team_endpoints_and_interpolates():
    inputs = make_inputs(
        endpoint_buckets=_buckets("fast", {0.1: 20, 0.3: 30, INF: 30})
        + _buckets("slow", {0.1: 0, 0.3: 30, INF: 70})
    )
    p50 = results(inputs, "endpoint_latency_p50_ms", JUNE)["A"]
    # pooled: le 0.1: 20, 0.3: 60, +Inf: 100; rank 50 in le=0.3:
    # 0.1 + 0.2 * (50-20)/(60-20) = 0.1 + 0.15 = 0.25 s -> 250 ms
    assert p50.value == pytest.approx(250.0)
    per_endpoint = p50.rows.set_index("endpoint")["latency_ms"].to_dict()
    # fast alone: rank 15 in le=0.1: 0.1 * 15/20 = 0.075 s -> 75 ms
    # slow alone: rank 35 in +Inf (30 < 35) -> 0.3 s -> 300 ms
    assert per_endpoint == pytest.approx({"fast": 75.0, "slow": 300.0})


def test_latency_target_override_turns_ok_into_breach():
    inputs = make_inputs(
        teams=("A", "B"),
        endpoint_buckets=_buckets("api", {0.1: 50, 0.2: 90, INF: 100})
        + _buckets("api", {0.1: 50, 0.2: 90, INF: 100}, team="B"),
    )
    config = config_for(TeamConfig(name="A", targets={"latency_p95_ms": 150}), "B")
    found = results(inputs, "endpoint_latency_p95_ms", JUNE, config)
    # both 200 ms; A's own target 150 -> breach, B keeps the default 300 -> ok
    assert (found["A"].target, found["A"].status) == (150.0, "breach")
    assert (found["B"].target, found["B"].status) == (300.0, "ok")


def test_latency_unknown_when_no_observation():
    # buckets stored, but all counts 0 -> histogram_quantile is NaN -> unknown
    inputs = make_inputs(endpoint_buckets=_buckets("api", {0.1: 0, INF: 0}))
    for metric in LATENCY_IDS:
        assert results(inputs, metric, JUNE)["A"].value is None


# --- requests, failures, availability ------------------------------------------------------


def _two_endpoints():
    return make_inputs(
        endpoint_days=[
            # big: 400 + 500 = 900 requests, 4 + 5 = 9 failures (1 %), up 1.0 and 0.998
            {
                "endpoint": "big",
                "day": date(2026, 6, 1),
                "requests": 400.0,
                "failures": 4.0,
                "availability_ratio": 1.0,
            },
            {
                "endpoint": "big",
                "day": date(2026, 6, 2),
                "requests": 500.0,
                "failures": 5.0,
                "availability_ratio": 0.998,
            },
            # small: 100 requests, 11 failures (11 %), up 0.9
            {
                "endpoint": "small",
                "day": date(2026, 6, 1),
                "requests": 100.0,
                "failures": 11.0,
                "availability_ratio": 0.9,
            },
        ]
    )


def test_requests_sum_over_days_and_endpoints():
    # 400 + 500 + 100 = 1000
    assert results(_two_endpoints(), "endpoint_requests", JUNE)["A"].value == 1000.0


def test_failure_pct_is_weighted_by_requests():
    found = results(_two_endpoints(), "endpoint_failure_pct", JUNE)["A"]
    # (9 + 11) / (900 + 100) = 2 % (an unweighted mean of 1 % and 11 % would be 6 %)
    assert found.value == pytest.approx(2.0)
    assert (found.target, found.status) == (1.0, "breach")
    per_endpoint = found.rows.set_index("endpoint")["failure_pct"].to_dict()
    assert per_endpoint == pytest.approx({"big": 1.0, "small": 11.0})
    config = config_for(TeamConfig(name="A", targets={"failure_rate_pct": 5}))
    assert results(_two_endpoints(), "endpoint_failure_pct", JUNE, config)["A"].status == "ok"


def test_availability_is_weighted_by_requests():
    found = results(_two_endpoints(), "endpoint_availability_pct", JUNE)["A"]
    # big: mean(1.0, 0.998) = 0.999 -> 99.9 %, weight 900; small: 90 %, weight 100
    # (99.9 * 900 + 90 * 100) / 1000 = (89910 + 9000) / 1000 = 98.91 %
    assert found.value == pytest.approx(98.91)
    assert (found.target, found.status) == (99.5, "breach")
    config = config_for(TeamConfig(name="A", targets={"availability_pct": 98}))
    assert results(_two_endpoints(), "endpoint_availability_pct", JUNE, config)["A"].status == "ok"


def test_availability_without_requests_is_a_plain_mean_and_failure_unknown():
    inputs = make_inputs(
        endpoint_days=[
            {"endpoint": "a", "day": date(2026, 6, 1), "requests": 0.0, "availability_ratio": 1.0},
            {"endpoint": "b", "day": date(2026, 6, 1), "requests": 0.0, "availability_ratio": 0.9},
        ]
    )
    # no requests: each endpoint weighs the same -> (100 + 90) / 2 = 95 %
    assert results(inputs, "endpoint_availability_pct", JUNE)["A"].value == pytest.approx(95.0)
    # 0 requests: failure % has no denominator -> unknown, never 0
    failure = results(inputs, "endpoint_failure_pct", JUNE)["A"]
    assert (failure.value, failure.status) == (None, "unknown")
    assert results(inputs, "endpoint_requests", JUNE)["A"].value == 0.0


def test_availability_unknown_without_up_data():
    inputs = make_inputs(
        endpoint_days=[{"day": date(2026, 6, 1), "requests": 10.0, "availability_ratio": None}]
    )
    found = results(inputs, "endpoint_availability_pct", JUNE)["A"]
    assert (found.value, found.status) == (None, "unknown")


@pytest.mark.parametrize("metric", ALL_IDS)
def test_every_endpoint_metric_unknown_without_data(metric):
    found = results(
        make_inputs(
            teams=("A", "B"),
            endpoint_days=[
                {"team": "B", "day": date(2026, 6, 1), "requests": 5.0, "availability_ratio": 1.0}
            ],
            endpoint_buckets=_buckets("api", {0.1: 1, INF: 1}, team="B"),
        ),
        metric,
        JUNE,
    )
    assert found["A"].value is None
    assert found["A"].status == "unknown"
    assert found["B"].value is not None
