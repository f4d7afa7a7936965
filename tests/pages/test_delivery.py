"""The Delivery page on the demo: the DORA keys with tiers, CI and PR figures as
`cli.py metrics` prints them, the deployments timeline and the trends."""

from __future__ import annotations

from sqlalchemy import delete

from data.demo import demo_config
from data.loaders import incidents
from data.store import write_transaction
from data.tables import TeamRepo
from metrics.dora import dora_metric_ids, tier
from metrics.engine import compute_metrics
from pages.common import palette_colour
from pages.metric_sets import DELIVERY
from tests.pages.apptest import (
    dataframe_with,
    decoded,
    expected_cell,
    figures,
    marker_colours,
    page_text,
    row_of,
    traces,
)

DELIVERY_PAGE = "pages/delivery.py"
TEAM = "Search Ranking"
DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]


def test_dora_keys_with_tiers_are_the_cli_numbers(open_page, cli_metrics, period):
    at = open_page(DELIVERY_PAGE, None, period)

    frame = dataframe_with(at, "Team", *list(DELIVERY.values())[:1])
    assert frame["Team"].tolist() == DEMO_TEAMS
    printed = cli_metrics(TEAM, period)
    row = row_of(frame, TEAM)
    for metric_id, label in DELIVERY.items():
        record = printed[(TEAM, metric_id)]
        dora = tier(metric_id, record["value"]) if metric_id in dora_metric_ids() else None
        assert row[label] == expected_cell(record, dora), metric_id
    words = dataframe_with(at, "Key", "elite")
    assert len(words) == 4


def test_timeline_shows_deployments_by_outcome_and_incidents(open_page, store, period):
    at = open_page(DELIVERY_PAGE, TEAM, period)

    config = demo_config(store)
    assert config is not None
    (result,) = compute_metrics(store, config, period, [TEAM], ["change_failure_rate_pct"])
    rows = result.rows
    timeline = figures(at)["delivery_timeline"]
    drawn = traces(timeline)
    failed = rows[rows["failed"]]
    caused = rows[~rows["failed"] & rows["caused_incident"]]
    succeeded = rows[~rows["failed"] & ~rows["caused_incident"]]
    for kind, expected in (
        ("succeeded", succeeded),
        ("failed", failed),
        ("caused an incident", caused),
    ):
        count = len(decoded(drawn[kind]["x"])) if kind in drawn else 0
        assert count == len(expected), kind
    opened = incidents(store, TEAM, period)
    assert len(decoded(drawn["incident opened"]["x"])) == len(opened)
    colour = palette_colour(TEAM, DEMO_TEAMS)
    assert set().union(*(marker_colours(trace) for trace in drawn.values())) == {colour}
    legend = [t["name"] for t in timeline["data"] if t.get("showlegend")]
    assert legend == [
        kind for kind in ("succeeded", "failed", "caused an incident") if kind in drawn
    ] + ["incident opened"]


def test_trends_cover_every_delivery_metric(open_page, period):
    at = open_page(DELIVERY_PAGE, TEAM, period)

    assert {key for key in figures(at) if key.startswith("delivery_trend_")} == {
        f"delivery_trend_{metric_id}" for metric_id in DELIVERY
    }


def test_a_team_without_repositories_is_told_what_to_configure(open_page, store, period):
    with write_transaction(store) as connection:
        connection.execute(delete(TeamRepo.__table__))  # type: ignore[attr-defined]

    at = open_page(DELIVERY_PAGE, TEAM, period)

    text = page_text(at)
    assert "No delivery data for these teams" in text
    assert "[github]" in text
    assert "delivery_timeline" not in figures(at)


def test_with_all_teams_each_point_has_its_team_colour(open_page, period):
    at = open_page(DELIVERY_PAGE, None, period)

    succeeded = traces(figures(at)["delivery_timeline"])["succeeded"]
    repos = succeeded["y"]
    scale = [stop[1] for stop in succeeded["marker"]["colorscale"]]
    colours = [scale[int(position)] for position in decoded(succeeded["marker"]["color"])]
    owner = {"acme/ranker": "Search Ranking", "acme/recsys": "Recommendations"}
    checked = [(repo, colour) for repo, colour in zip(repos, colours, strict=True) if repo in owner]
    assert checked
    for repo, colour in checked:
        assert colour == palette_colour(owner[repo], DEMO_TEAMS), repo
