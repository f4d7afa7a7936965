"""The Models page on the demo: the registry metrics as `cli.py metrics` prints them, the
registry table from the metrics' evidence rows, the versions timeline, time to deploy."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from data.demo import demo_config
from data.loaders import model_versions
from data.store import key_to_id, write_transaction
from data.tables import Team, TeamModel
from metrics.engine import compute_metrics
from pages.common import palette_colour
from pages.metric_sets import REGISTRY
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

MODELS = "pages/models.py"
TEAM = "Fraud Detection"
DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]


def _results(store, period, metric_id):
    config = demo_config(store)
    assert config is not None
    (result,) = compute_metrics(store, config, period, [TEAM], [metric_id])
    return result


def test_registry_metrics_are_the_cli_numbers(open_page, cli_metrics, period):
    at = open_page(MODELS, None, period)

    frame = dataframe_with(at, "Team", *list(REGISTRY.values())[:1])
    assert frame["Team"].tolist() == DEMO_TEAMS
    printed = cli_metrics(TEAM, period)
    row = row_of(frame, TEAM)
    for metric_id, label in REGISTRY.items():
        assert row[label] == expected_cell(printed[(TEAM, metric_id)]), metric_id


def test_registry_table_is_the_stale_and_cadence_evidence(open_page, store, period):
    at = open_page(MODELS, TEAM, period)

    table = dataframe_with(at, "Team", "Model", "Serving version")
    stale = _results(store, period, "stale_models").rows
    cadence = _results(store, period, "retrains_per_model_per_30d").rows.set_index("model")
    assert table["Model"].tolist() == stale["model"].tolist()
    assert table["Serving version"].tolist() == stale["serving_version"].tolist()
    assert table["Basis"].tolist() == stale["basis"].tolist()
    assert table["Age (days)"].tolist() == pytest.approx(stale["age_days"].tolist())
    assert table["Stale"].tolist() == ["stale" if s else "—" for s in stale["stale"]]
    assert table["Versions in period"].tolist() == [
        cadence.loc[model, "versions_in_period"] for model in table["Model"]
    ]


def test_timeline_and_time_to_deploy_draw_the_versions(open_page, store, period):
    at = open_page(MODELS, TEAM, period)

    charts = figures(at)
    timeline = traces(charts["models_timeline"])
    created = model_versions(store, TEAM, period)
    colour = palette_colour(TEAM, DEMO_TEAMS)
    assert len(decoded(timeline["created"]["x"])) == len(created)
    assert marker_colours(timeline["created"]) == {colour}
    time_to_deploy = _results(store, period, "time_to_deploy_hours")
    deployed = time_to_deploy.rows
    assert len(decoded(timeline["deployed"]["x"])) == len(deployed)
    assert marker_colours(timeline["deployed"]) == {colour}

    histogram = traces(charts["models_time_to_deploy"])[TEAM]
    assert sorted(decoded(histogram["x"])) == pytest.approx(sorted(deployed["hours"]))
    shapes = charts["models_time_to_deploy"]["layout"]["shapes"]
    assert [shape["x0"] for shape in shapes] == [time_to_deploy.target]  # the team's, dashed
    assert shapes[0]["line"]["dash"] == "dash"


def test_a_team_without_models_is_told_what_to_configure(open_page, store, period):
    with write_transaction(store) as connection:
        team_id = key_to_id(connection, Team, [TEAM])[TEAM]
        table = TeamModel.__table__  # type: ignore[attr-defined]
        connection.execute(delete(table).where(table.c.team_id == team_id))

    at = open_page(MODELS, TEAM, period)

    text = page_text(at)
    assert "No registered model for these teams" in text
    assert "[mlflow]" in text
    assert "models_timeline" not in figures(at)
