"""The demo organisation: idempotent, deterministic, and visibly different per team."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from data import loaders
from data.db import make_engine, upgrade
from data.demo import DemoError, demo_config, demo_info, demo_plan, ensure_demo, write_demo
from data.store import row_counts
from data.tables import PullRequest, WorkflowRun

ANCHOR = date(2026, 6, 30)


def test_writing_the_demo_twice_changes_no_row_count(engine: Engine) -> None:
    first = write_demo(engine, anchor=ANCHOR)
    counts = row_counts(engine)
    second = write_demo(engine)  # reuses the stored anchor
    assert second.anchor == ANCHOR
    assert row_counts(engine) == counts
    assert first.rows_written == second.rows_written
    assert counts["team"] == 4
    for table in ("pull_request", "workflow_run", "deployment", "model_version", "meeting"):
        assert counts[table] > 0, table


def _rows(engine: Engine, model: type) -> list[tuple[object, ...]]:
    table = model.__table__  # type: ignore[attr-defined]
    columns = [c for c in table.c if c.name != "id"]
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(*columns).order_by(*columns))]


def test_the_demo_is_deterministic_for_an_anchor(tmp_path) -> None:
    engines = []
    for name in ("a", "b"):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine)
        write_demo(engine, anchor=ANCHOR)
        engines.append(engine)
    for model in (PullRequest, WorkflowRun):
        assert _rows(engines[0], model) == _rows(engines[1], model)


def test_no_demo_event_lies_after_the_anchor(engine: Engine) -> None:
    write_demo(engine, anchor=ANCHOR)
    end = datetime(2026, 6, 30, tzinfo=UTC)
    prs = loaders.pull_requests(engine)
    assert prs["created_at"].max() <= end
    assert prs["merged_at"].dropna().max() <= end
    versions = loaders.model_versions(engine)
    assert versions["created_at"].max() <= end
    assert loaders.meetings(engine)["start"].max() <= end


def test_teams_differ_in_maturity(engine: Engine) -> None:
    write_demo(engine, anchor=ANCHOR)
    period = loaders.Period.last_days(90, today=ANCHOR)
    deployments = loaders.deployments(engine, period=period)
    per_team = deployments.groupby("team").size()
    assert per_team.get("Search Ranking", 0) > 3 * per_team.get("Demand Forecasting", 0)
    # The least mature team deploys through a workflow, not GitHub Deployments.
    runs = loaders.workflow_runs(engine, "Demand Forecasting")
    assert (runs["workflow_name"] == "Deploy to production").any()
    # Its models stopped being retrained: every newest version is months old.
    versions = loaders.model_versions(engine, "Demand Forecasting")
    newest = versions.groupby("model")["created_at"].max()
    assert (newest < datetime(2026, 3, 1, tzinfo=UTC)).all()
    elite = loaders.model_versions(engine, "Search Ranking").groupby("model")["created_at"].max()
    assert (elite > datetime(2026, 6, 1, tzinfo=UTC)).all()


def test_a_different_size_needs_reset(engine: Engine) -> None:
    write_demo(engine, anchor=ANCHOR)
    with pytest.raises(DemoError, match="--reset"):
        write_demo(engine, size="large")


def test_reset_rewrites_from_empty(engine: Engine) -> None:
    write_demo(engine, anchor=ANCHOR)
    counts = row_counts(engine)
    summary = write_demo(engine, reset=True, anchor=date(2026, 7, 1))
    assert summary.anchor == date(2026, 7, 1)
    assert demo_info(engine) is not None
    assert row_counts(engine)["team"] == counts["team"]


def test_ensure_demo_fills_only_an_empty_store(engine: Engine) -> None:
    assert ensure_demo(engine) is True
    counts = row_counts(engine)
    assert ensure_demo(engine) is False
    assert row_counts(engine) == counts
    config = demo_config(engine)
    assert config is not None
    assert sorted(config.team_names()) == loaders.team_names(engine)


def test_large_plan_has_the_benchmark_volumes() -> None:
    plan = demo_plan("large")
    assert len(plan.config.teams) == 40
    assert sum(len(team.repos) for team in plan.config.teams) == 400
    assert sum(len(team.endpoints) for team in plan.config.teams) == 200
    repos = 400
    assert plan.volumes["runs_per_repo"] * repos == 1_000_000
    assert plan.volumes["prs_per_repo"] * repos == 100_000
    assert plan.volumes["models_per_team"] * plan.volumes["versions_per_model"] * 40 == 10_000


def test_unknown_size_is_a_clear_error() -> None:
    with pytest.raises(DemoError, match="small, large"):
        demo_plan("huge")
