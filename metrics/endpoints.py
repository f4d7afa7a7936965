"""Endpoint metrics from stored daily Prometheus aggregates (DESIGN §6).

For a team, latency quantiles come from the pooled buckets of all its
endpoints; failure % and availability are weighted by requests.
"""

from __future__ import annotations

import math

import pandas as pd

from metrics.catalog import Measured, metric
from metrics.context import Inputs, MetricContext
from metrics.histogram import histogram_quantile


def per_endpoint(data: Inputs) -> pd.DataFrame:
    """Requests, failures and mean availability of each endpoint over the period."""

    def build() -> pd.DataFrame:
        grouped = data.endpoint_days.groupby(["team", "endpoint"])
        frame = grouped.agg(
            requests=("requests", "sum"),
            failures=("failures", "sum"),
            availability_ratio=("availability_ratio", "mean"),
            days=("day", "size"),
        ).reset_index()
        frame["availability_pct"] = 100 * frame.pop("availability_ratio")
        served = frame["requests"].where(frame["requests"] > 0)
        frame["failure_pct"] = 100 * frame["failures"] / served
        return frame

    return data.memo("per_endpoint", build)


Pooled = dict[tuple[str, ...], tuple[list[float], list[float]]]
"""Upper bounds and summed counts of the buckets, by team or by (team, endpoint)."""


def _pooled(data: Inputs) -> tuple[Pooled, Pooled]:
    """`sum by (le)` per team and per endpoint, summed once for the three quantiles."""

    def pool(keys: list[str]) -> Pooled:
        sums = data.endpoint_buckets.groupby([*keys, "le"])["count"].sum()
        pooled: Pooled = {}
        for index, count in zip(sums.index, sums.to_numpy(), strict=True):
            bounds, counts = pooled.setdefault(tuple(index[:-1]), ([], []))
            bounds.append(float(index[-1]))
            counts.append(float(count))
        return pooled

    return data.memo("pooled_buckets", lambda: (pool(["team"]), pool(["team", "endpoint"])))


def _quantile_ms(q: float, buckets: tuple[list[float], list[float]]) -> float | None:
    """`histogram_quantile(q, …)` × 1000 of pooled buckets."""
    seconds = histogram_quantile(q, *buckets)
    return None if math.isnan(seconds) else seconds * 1000


def _latency(data: Inputs, q: float) -> Measured:
    """Per team from its pooled buckets; the rows give each endpoint's own quantile."""
    by_team, by_endpoint = _pooled(data)
    values = pd.Series(
        {team: _quantile_ms(q, buckets) for (team,), buckets in by_team.items()}, dtype=float
    )
    rows = pd.DataFrame(
        [
            {"team": team, "endpoint": endpoint, "latency_ms": _quantile_ms(q, buckets)}
            for (team, endpoint), buckets in by_endpoint.items()
        ],
        columns=["team", "endpoint", "latency_ms"],
    )
    return Measured(values, rows)


@metric(
    id="endpoint_latency_p50_ms",
    name="Endpoint latency p50",
    unit="ms",
    better="lower",
    group="Endpoints",
    source="prometheus",
    reads=("endpoint_buckets",),
    formula="histogram_quantile(0.5, sum by (le) (rate(<hist>_bucket{sel}[period]))) × 1000",
    unknown_when="no latency histogram is stored for the period",
)
def endpoint_latency_p50_ms(data: Inputs, ctx: MetricContext) -> Measured:
    """Median request latency over the period, from the pooled histogram buckets
    of all the team's endpoints, interpolated as Prometheus' histogram_quantile
    does."""
    return _latency(data, 0.5)


@metric(
    id="endpoint_latency_p95_ms",
    name="Endpoint latency p95",
    unit="ms",
    better="lower",
    group="Endpoints",
    source="prometheus",
    reads=("endpoint_buckets",),
    formula="histogram_quantile(0.95, sum by (le) (rate(<hist>_bucket{sel}[period]))) × 1000",
    unknown_when="no latency histogram is stored for the period",
    target=lambda t: t.latency_p95_ms,
    target_text="latency_p95_ms",
)
def endpoint_latency_p95_ms(data: Inputs, ctx: MetricContext) -> Measured:
    """95th-percentile request latency over the period, from the pooled histogram
    buckets of all the team's endpoints."""
    return _latency(data, 0.95)


@metric(
    id="endpoint_latency_p99_ms",
    name="Endpoint latency p99",
    unit="ms",
    better="lower",
    group="Endpoints",
    source="prometheus",
    reads=("endpoint_buckets",),
    formula="histogram_quantile(0.99, sum by (le) (rate(<hist>_bucket{sel}[period]))) × 1000",
    unknown_when="no latency histogram is stored for the period",
)
def endpoint_latency_p99_ms(data: Inputs, ctx: MetricContext) -> Measured:
    """99th-percentile request latency over the period, from the pooled histogram
    buckets of all the team's endpoints."""
    return _latency(data, 0.99)


@metric(
    id="endpoint_requests",
    name="Endpoint requests",
    unit="requests",
    better="higher",
    group="Endpoints",
    source="prometheus",
    reads=("endpoint_days",),
    formula="sum(increase(<total>{sel}[period]))",
    unknown_when="no endpoint day is stored for the period",
)
def endpoint_requests(data: Inputs, ctx: MetricContext) -> Measured:
    """Requests served by the team's endpoints in the period (sum of the stored
    daily counter increases)."""
    rows = per_endpoint(data)
    return Measured(rows.groupby("team")["requests"].sum().astype(float), rows)


@metric(
    id="endpoint_failure_pct",
    name="Failed endpoint calls",
    unit="%",
    better="lower",
    group="Endpoints",
    source="prometheus",
    reads=("endpoint_days",),
    formula="100 × failed-status increase ÷ total increase",
    unknown_when="the team's endpoints served no request in the period",
    target=lambda t: t.failure_rate_pct,
    target_text="failure_rate_pct",
)
def endpoint_failure_pct(data: Inputs, ctx: MetricContext) -> Measured:
    """Percentage of the period's requests that failed (status matching the
    configured failure pattern), over all the team's endpoints, so each endpoint
    weighs by its requests."""
    rows = per_endpoint(data)
    totals = rows.groupby("team")[["requests", "failures"]].sum()
    served = totals["requests"].where(totals["requests"] > 0)
    return Measured(100 * totals["failures"] / served, rows)


@metric(
    id="endpoint_availability_pct",
    name="Endpoint availability",
    unit="%",
    better="higher",
    group="Endpoints",
    source="prometheus",
    reads=("endpoint_days",),
    formula="100 × avg_over_time(up{sel}[period])",
    unknown_when="no availability (up) data is stored for the period",
    target=lambda t: t.availability_pct,
    target_text="availability_pct",
)
def endpoint_availability_pct(data: Inputs, ctx: MetricContext) -> Measured:
    """Share of the period the team's endpoints were up (mean of `up`), each
    endpoint weighted by its requests (equally when none had requests)."""
    rows = per_endpoint(data)
    known = rows.dropna(subset=["availability_pct"])
    weight = known["requests"].clip(lower=0)
    weighted = (known["availability_pct"] * weight).groupby(known["team"]).sum()
    total_weight = weight.groupby(known["team"]).sum()
    plain_mean = known.groupby("team")["availability_pct"].mean()
    values = (weighted / total_weight.where(total_weight > 0)).fillna(plain_mean)
    return Measured(values, rows)
