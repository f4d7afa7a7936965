"""The Endpoints page on the demo: the endpoint metrics as `cli.py metrics` prints them,
their history from the snapshots with target lines, and each endpoint's figures."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from data.demo import demo_config
from data.loaders import metric_snapshots
from data.store import write_transaction
from data.tables import EndpointDaily, EndpointLatencyBucket, MetricSnapshot
from metrics.engine import compute_metrics
from pages.common import palette_colour
from pages.metric_sets import ENDPOINTS
from tests.pages.apptest import (
    dataframe_with,
    decoded,
    expected_cell,
    figures,
    page_text,
    row_of,
    traces,
)

ENDPOINTS_PAGE = "pages/endpoints.py"
TEAM = "Fraud Detection"
DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]


def test_endpoint_metrics_are_the_cli_numbers(open_page, cli_metrics, period):
    at = open_page(ENDPOINTS_PAGE, None, period)

    frame = dataframe_with(at, "Team", *list(ENDPOINTS.values())[:1])
    assert frame["Team"].tolist() == DEMO_TEAMS
    printed = cli_metrics(TEAM, period)
    row = row_of(frame, TEAM)
    for metric_id, label in ENDPOINTS.items():
        assert row[label] == expected_cell(printed[(TEAM, metric_id)]), metric_id


def test_trends_are_the_snapshots_with_their_targets(open_page, store, period):
    at = open_page(ENDPOINTS_PAGE, TEAM, period)

    charts = figures(at)
    assert {key for key in charts if key.startswith("endpoints_trend_")} == {
        f"endpoints_trend_{metric_id}" for metric_id in ENDPOINTS
    }
    history = metric_snapshots(store, TEAM)
    for metric_id in ("endpoint_latency_p95_ms", "endpoint_availability_pct"):
        stored = history[history["metric_id"] == metric_id].sort_values("day")
        lines = traces(charts[f"endpoints_trend_{metric_id}"])
        assert decoded(lines[TEAM]["y"]) == pytest.approx(stored["value"].tolist())
        assert lines[TEAM]["line"]["color"] == palette_colour(TEAM, DEMO_TEAMS)
        assert decoded(lines["target"]["y"]) == pytest.approx(stored["target"].tolist())
        assert lines["target"]["line"]["dash"] == "dash"


def test_each_endpoint_shows_its_evidence_row(open_page, store, period):
    at = open_page(ENDPOINTS_PAGE, TEAM, period)

    config = demo_config(store)
    assert config is not None
    results = {
        r.metric_id: r for r in compute_metrics(store, config, period, [TEAM], list(ENDPOINTS))
    }
    table = dataframe_with(at, "Team", "Endpoint").set_index("Endpoint")
    traffic = results["endpoint_requests"].rows.set_index("endpoint")
    p95 = results["endpoint_latency_p95_ms"].rows.set_index("endpoint")
    assert sorted(table.index) == sorted(traffic.index)
    for endpoint in traffic.index:
        assert table.loc[endpoint, "Requests"] == traffic.loc[endpoint, "requests"]
        assert table.loc[endpoint, "Failed (%)"] == pytest.approx(
            traffic.loc[endpoint, "failure_pct"]
        )
        assert table.loc[endpoint, "p95 (ms)"] == pytest.approx(p95.loc[endpoint, "latency_ms"])
    bars = traces(figures(at)["endpoints_p95_bars"])
    assert decoded(bars["p95 latency"]["x"]) == pytest.approx(
        [p95.loc[label.split(" · ")[1], "latency_ms"] for label in bars["p95 latency"]["y"]]
    )


def test_without_endpoint_data_the_page_says_what_to_configure(open_page, store, period):
    with write_transaction(store) as connection:
        for model in (EndpointDaily, EndpointLatencyBucket, MetricSnapshot):
            connection.execute(delete(model.__table__))  # type: ignore[union-attr]

    at = open_page(ENDPOINTS_PAGE, None, period)

    text = page_text(at)
    assert "No endpoint data for these teams" in text
    assert "[prometheus]" in text
    assert "No endpoint history yet" in text
    assert not figures(at)
