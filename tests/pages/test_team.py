"""The Team page on the demo: every metric of one team as `cli.py metrics` prints it, grouped
by the catalog's groups, with a sparkline of its snapshots and its evidence rows."""

from __future__ import annotations

import pandas as pd

from data.demo import demo_config
from data.loaders import metric_snapshots
from metrics.catalog import catalog
from metrics.dora import tier
from metrics.engine import compute_metrics
from pages.common import format_number, palette_colour
from tests.pages.apptest import assert_clean, decoded, figures, page_text, subheaders

TEAM_PAGE = "pages/team.py"
TEAM = "Recommendations"
DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]


def _shown_rows(at) -> dict[str, tuple[str, str]]:
    """Metric name -> (value text, target text), read in page order."""
    texts = [str(element.value) for element in at.markdown]
    rows: dict[str, tuple[str, str]] = {}
    for spec in catalog().values():
        index = texts.index(f"**{spec.name}**")
        rows[spec.id] = (texts[index + 1], texts[index + 2])
    return rows


def _expected_target(record) -> str:
    spec = catalog()[record["metric"]]
    if record["target"] is not None:
        sign = "≥" if spec.better == "higher" else "≤"
        return f"target {sign} {format_number(record['target'])}"
    dora = tier(record["metric"], record["value"])
    return f"DORA {dora}" if dora else "no target"


def test_every_metric_of_the_team_is_the_cli_number(open_page, cli_metrics, period):
    at = open_page(TEAM_PAGE, TEAM, period)

    assert [title.value for title in at.title] == ["Team"]
    groups = list(dict.fromkeys(spec.group for spec in catalog().values()))
    assert [h for h in subheaders(at) if h in groups] == groups
    printed = cli_metrics(TEAM, period)
    shown = _shown_rows(at)
    for metric_id, spec in catalog().items():
        record = printed[(TEAM, metric_id)]
        value = format_number(record["value"])
        expected = f"{value} {spec.unit}" if record["value"] is not None else value
        assert shown[metric_id] == (expected, _expected_target(record)), metric_id
    badges = [
        str(m.value)
        for m in at.markdown
        if "-badge[" in str(m.value) and "level " not in str(m.value)  # not maturity levels
    ]
    assert len(badges) == len(catalog())
    statuses = [printed[(TEAM, metric_id)]["status"] for metric_id in catalog()]
    assert [badge.split("[", 1)[1].rstrip("]") for badge in badges] == statuses


def test_sparklines_are_the_team_snapshots_in_the_team_colour(open_page, store, period):
    at = open_page(TEAM_PAGE, TEAM, period)

    sparks = {k: v for k, v in figures(at).items() if k.startswith("team_spark_")}
    assert set(sparks) == {f"team_spark_{metric_id}" for metric_id in catalog()}
    history = metric_snapshots(store, TEAM)
    p95 = history[history["metric_id"] == "endpoint_latency_p95_ms"].sort_values("day")
    line = sparks["team_spark_endpoint_latency_p95_ms"]["data"][0]
    assert decoded(line["y"]) == p95["value"].tolist()
    assert line["line"]["color"] == palette_colour(TEAM, DEMO_TEAMS)


def test_evidence_rows_of_a_chosen_metric(open_page, store, period):
    at = open_page(TEAM_PAGE, TEAM, period)

    at.selectbox(key="team_evidence_metric").set_value("stale_models").run()
    assert_clean(at)
    config = demo_config(store)
    assert config is not None
    (result,) = compute_metrics(store, config, period, [TEAM], ["stale_models"])
    shown = at.dataframe[-1].value
    expected = result.rows.drop(columns=["team"])
    assert shown["model"].tolist() == expected["model"].tolist()
    assert shown["serving_version"].tolist() == expected["serving_version"].tolist()
    assert shown["stale"].tolist() == expected["stale"].tolist()
    pd.testing.assert_series_equal(
        shown["age_days"], expected["age_days"], check_names=False, check_dtype=False
    )


def test_with_all_teams_a_selector_on_the_page_picks_one(open_page, cli_metrics, period):
    at = open_page(TEAM_PAGE, None, period)

    picker = at.selectbox(key="team_page_team")
    assert picker.options == DEMO_TEAMS
    picker.set_value("Search Ranking").run()
    assert_clean(at)
    printed = cli_metrics("Search Ranking", period)
    shown = _shown_rows(at)
    record = printed[("Search Ranking", "pr_cycle_time_hours")]
    assert shown["pr_cycle_time_hours"][0] == f"{format_number(record['value'])} h"
    assert "Search Ranking" in page_text(at)
