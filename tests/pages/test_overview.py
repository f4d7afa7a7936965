"""The Overview page on the demo: the numbers of `cli.py metrics`, the snapshots' trends,
the comparison with the period before, and a scores section only when scores exist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from data.loaders import Period, metric_snapshots
from data.store import key_to_id, upsert_rows, write_transaction
from data.tables import MetricSnapshot, ScoreSnapshot, Team
from metrics.dora import tier
from pages.common import TEAM_PALETTE, format_number, palette_colour
from pages.metric_sets import HEADLINE
from tests.pages.apptest import (
    assert_clean,
    dataframe_with,
    decoded,
    expected_cell,
    figures,
    page_text,
    row_of,
    subheaders,
    traces,
)

OVERVIEW = "pages/overview.py"
TEAM = "Fraud Detection"
DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]


def _headline(at):
    return dataframe_with(at, "Team", *list(HEADLINE.values())[:2])


def test_headline_metrics_are_the_cli_numbers(open_page, cli_metrics, period):
    at = open_page(OVERVIEW, None, period)

    assert [title.value for title in at.title] == ["Overview"]
    frame = _headline(at)
    assert frame["Team"].tolist() == DEMO_TEAMS
    assert list(frame.columns) == ["Team", *HEADLINE.values()]
    printed = cli_metrics(TEAM, period)
    row = row_of(frame, TEAM)
    for metric_id, label in HEADLINE.items():
        record = printed[(TEAM, metric_id)]
        dora = tier(metric_id, record["value"]) if metric_id.startswith("deployment") else None
        assert row[label] == expected_cell(record, dora), metric_id
    assert "In brackets: the team's target" in page_text(at)


def test_the_sidebar_team_and_period_reach_the_table(open_page, cli_metrics, earlier_period):
    at = open_page(OVERVIEW, TEAM, earlier_period)

    frame = _headline(at)
    assert frame["Team"].tolist() == [TEAM]
    printed = cli_metrics(TEAM, earlier_period)
    row = row_of(frame, TEAM)
    assert row["p95 latency (ms)"] == expected_cell(printed[(TEAM, "endpoint_latency_p95_ms")])
    assert row["Stale models"] == expected_cell(printed[(TEAM, "stale_models")])

    at.sidebar.selectbox(key="team").set_value("Search Ranking").run()
    assert_clean(at)
    assert _headline(at)["Team"].tolist() == ["Search Ranking"]


def test_trends_draw_each_team_from_the_snapshots_in_its_colour(open_page, store, period):
    at = open_page(OVERVIEW, None, period)

    figure = figures(at)["overview_trend_endpoint_latency_p95_ms"]
    lines = traces(figure)
    history = metric_snapshots(store)
    p95 = history[history["metric_id"] == "endpoint_latency_p95_ms"].sort_values("day")
    for index, team in enumerate(DEMO_TEAMS):
        line = lines[team]
        assert line["line"]["color"] == TEAM_PALETTE[index] == palette_colour(team, DEMO_TEAMS)
        stored = p95[p95["team"] == team]
        assert decoded(line["y"]) == pytest.approx(stored["value"].tolist())
    # Teams have their own p95 targets in the demo: one dashed line each, in the team colour.
    targets = [trace for trace in figure["data"] if trace["line"].get("dash") == "dash"]
    assert len(targets) == len(DEMO_TEAMS)
    assert {trace["line"]["color"] for trace in targets} == set(TEAM_PALETTE[:4])

    at.multiselect(key="overview_trend_metrics").set_value(["stale_models"]).run()
    assert_clean(at)
    shown = {key for key in figures(at) if key.startswith("overview_trend_")}
    assert shown == {"overview_trend_stale_models"}
    # Every team has the same stale-models target: one grey dashed line.
    stale = figures(at)["overview_trend_stale_models"]
    assert [t["name"] for t in stale["data"] if t["line"].get("dash") == "dash"] == ["target"]


@pytest.mark.parametrize("recorded", [True, False], ids=["from the snapshot", "computed"])
def test_what_changed_compares_with_the_period_just_before(
    open_page, cli_metrics, period, earlier_period, recorded
):
    """The demo records the day before the default period: that comparison reads the
    snapshot; another period's has none and is computed. Both show the CLI's numbers."""
    if not recorded:
        period = Period(earlier_period.until - timedelta(days=89), earlier_period.until)
    at = open_page(OVERVIEW, None, period)
    before = Period(period.since - timedelta(days=90), period.since - timedelta(days=1))
    captions = [str(caption.value) for caption in at.caption]
    assert any("as recorded on" in caption for caption in captions) is recorded

    frame = dataframe_with(at, "Team", "Metric", "Unit", "Previous period")
    assert len(frame) == len(DEMO_TEAMS) * len(HEADLINE)
    now, then = cli_metrics(TEAM, period), cli_metrics(TEAM, before)
    rows = frame[frame["Team"] == TEAM].set_index("Metric")
    for metric_id in HEADLINE:
        current, earlier = now[(TEAM, metric_id)], then[(TEAM, metric_id)]
        row = rows.loc[_name(metric_id)]
        assert row["This period"] == format_number(current["value"])
        assert row["Previous period"] == format_number(earlier["value"])
        assert row["Status"] == f"{earlier['status']} → {current['status']}"
    changed = [a != b for a, b in (text.split(" → ") for text in frame["Status"])]
    assert changed == sorted(changed, reverse=True), "status changes come first"


def _name(metric_id: str) -> str:
    from metrics.catalog import catalog

    return catalog()[metric_id].name


def test_scores_section_appears_only_with_stored_scores(open_page, store, period):
    with write_transaction(store) as connection:
        connection.execute(delete(ScoreSnapshot.__table__))  # type: ignore[attr-defined]

    at = open_page(OVERVIEW, None, period)
    assert "Maturity scores" not in subheaders(at)
    assert "overview_score_trend" not in figures(at)

    with write_transaction(store) as connection:
        team_id = key_to_id(connection, Team, [TEAM])[TEAM]
        upsert_rows(
            connection,
            ScoreSnapshot,
            [
                {
                    "team_id": team_id,
                    "day": day,
                    "pillar": pillar,
                    "score": score,
                    "level": level,
                    "coverage": 80.0,
                    "rubric_version": "test",
                }
                for day in (period.until - timedelta(days=7), period.until)
                for pillar, score, level in (("overall", 61.5, 1), ("DevOps", 70.0, 2))
            ],
        )
    at.run()

    assert_clean(at)
    assert "Maturity scores" in subheaders(at)
    scores = dataframe_with(at, "Team", "Overall")
    assert row_of(scores, TEAM) == {
        "Team": TEAM,
        "Overall": "61.50 % · level 1",
        "DevOps": "70.00 % · level 2",
        "Evidence coverage (%)": "80.00",
        "As of": period.until.isoformat(),
    }
    trend = figures(at)["overview_score_trend"]
    assert traces(trend)[TEAM]["line"]["color"] == palette_colour(TEAM, DEMO_TEAMS)
    assert decoded(traces(trend)[TEAM]["y"]) == [61.5, 61.5]

    # The figure is kept between reruns, but per pillar: the choice redraws it.
    at.segmented_control(key="overview_score_pillar").set_value("DevOps").run()
    trend = figures(at)["overview_score_trend"]
    assert trend["layout"]["title"]["text"] == "DevOps score"
    assert decoded(traces(trend)[TEAM]["y"]) == [70.0, 70.0]


def test_without_history_the_trends_say_how_to_get_it(open_page, store, period):
    with write_transaction(store) as connection:
        connection.execute(delete(MetricSnapshot.__table__))  # type: ignore[attr-defined]

    at = open_page(OVERVIEW, None, period)

    assert "No metric history yet" in page_text(at)
    assert "python cli.py sync" in page_text(at)
    assert not [key for key in figures(at) if key.startswith("overview_trend_")]
    assert _headline(at)["Team"].tolist() == DEMO_TEAMS  # the period's numbers still show
