"""The report model: the engine's numbers for both periods, trends from the snapshots,
stale models, data freshness per source, the dashboard's team colours, and a store with
no history yet."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config import Config
from data.db import make_engine
from data.demo import demo_config
from data.loaders import metric_snapshots, team_names
from data.tables import MetricSnapshot, ScoreSnapshot, SyncRun
from metrics.engine import compute_metrics
from metrics.maturity import score_teams
from pages.common import TEAM_PALETTE as DASHBOARD_PALETTE
from pages.common import palette_colour
from reports.formats import ReportFormat, render
from reports.formatting import TEAM_PALETTE
from reports.model import OVERALL, SOURCES, Report, _Before, _in_forked_process, build_report
from reports.period import ReportPeriods, parse_period
from tests.conftest import demo_store_at
from tests.reports.conftest import DEMO_TEAMS, DemoStore


@pytest.fixture(scope="module")
def demo_engine(demo_store: DemoStore) -> Iterator[Engine]:
    opened = make_engine(demo_store.url)
    yield opened
    opened.dispose()


@pytest.fixture(scope="module")
def periods(demo_store: DemoStore, period_spec: str) -> ReportPeriods:
    return parse_period(period_spec, demo_store.anchor)


@pytest.fixture(scope="module")
def report(demo_engine: Engine, periods: ReportPeriods) -> Report:
    config = demo_config(demo_engine)
    assert config is not None
    return build_report(demo_engine, config, periods)


def test_numbers_are_the_engines_for_both_periods(demo_engine, periods, report) -> None:
    config = demo_config(demo_engine)
    assert config is not None
    assert [section.team for section in report.teams] == DEMO_TEAMS
    for period, side in ((periods.current, "value"), (periods.previous, "previous")):
        results = compute_metrics(demo_engine, config, period)
        scores = {score.team: score for score in score_teams(demo_engine, config, period)}
        lines = {
            (section.team, line.metric_id): line
            for section in report.teams
            for line in section.metrics
        }
        for result in results:
            assert getattr(lines[(result.team, result.metric_id)], side) == result.value
        for section in report.teams:
            score = scores[section.team]
            pillars = {line.pillar: line for line in section.pillars}
            expected = {OVERALL: (score.overall_score, score.overall_level)} | {
                name: (pillar.score, pillar.level) for name, pillar in score.pillars.items()
            }
            for name, (value, level) in expected.items():
                if side == "value":
                    assert (pillars[name].score, pillars[name].level) == (value, level)
                else:
                    assert (pillars[name].previous_score, pillars[name].previous_level) == (
                        value,
                        level,
                    )


def test_current_metric_status_and_next_steps_are_the_engines(demo_engine, periods, report) -> None:
    config = demo_config(demo_engine)
    assert config is not None
    scores = {score.team: score for score in score_teams(demo_engine, config, periods.current)}
    for section in report.teams:
        score = scores[section.team]
        assert [step.check_id for step in section.next_steps] == [
            step.check.id for step in score.next_steps
        ]
        assert {(c.check_id, c.status) for c in section.checks} == {
            (s.check.id, s.status) for s in score.checks
        }
        assert len(section.top_steps) <= 3


def test_stale_models_are_the_metrics_evidence(demo_engine, periods, report) -> None:
    config = demo_config(demo_engine)
    assert config is not None
    result = next(
        r
        for r in compute_metrics(demo_engine, config, periods.current, metric_ids=["stale_models"])
        if r.team == "Demand Forecasting"
    )
    stale = result.rows[result.rows["stale"]]
    section = next(s for s in report.teams if s.team == "Demand Forecasting")
    assert sorted(model.model for model in section.stale_models) == sorted(stale["model"])
    assert len(section.stale_models) == result.value
    ages = [model.age_days for model in section.stale_models]
    assert ages == sorted(ages, reverse=True)


def test_trends_are_the_stored_snapshots_up_to_the_period_end(demo_engine, periods, report) -> None:
    stored = metric_snapshots(demo_engine)
    for section in report.teams:
        history = section.metric_history
        assert history["day"].max().date() <= periods.current.until
        assert history["day"].min().date() >= report.trend_since
        days = pd.to_datetime(stored["day"]).dt.date
        mine = stored[
            (stored["team"] == section.team)
            & (days >= report.trend_since)
            & (days <= periods.current.until)
        ]
        assert len(history) == len(mine)
        assert set(section.score_history["pillar"]) == {"overall", "DataOps", "DevOps", "ModelOps"}


def test_team_colours_are_the_dashboards_even_for_one_team(demo_engine, periods) -> None:
    assert TEAM_PALETTE == DASHBOARD_PALETTE
    config = demo_config(demo_engine)
    assert config is not None
    teams = team_names(demo_engine)
    alone = build_report(demo_engine, config, periods, ["Recommendations"])
    assert [s.colour for s in alone.teams] == [palette_colour("Recommendations", teams)]


@pytest.fixture
def store_copy(demo_template: Path, tmp_path: Path) -> Iterator[Engine]:
    opened = make_engine(demo_store_at(demo_template, tmp_path / "store" / "mlops.db"))
    yield opened
    opened.dispose()


def test_freshness_is_the_newest_sync_run_of_each_source(store_copy: Engine, periods) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    runs = [
        SyncRun(source="github", started_at=now - timedelta(hours=3), status="error", error="x"),
        SyncRun(
            source="github",
            started_at=now - timedelta(hours=1),
            ended_at=now,
            status="success",
            watermark=now - timedelta(hours=1),
        ),
        SyncRun(
            source="prometheus",
            started_at=now,
            ended_at=now,
            status="error",
            error="connection refused\nTraceback (most recent call last): …",
        ),
    ]
    with Session(store_copy) as session:
        session.add_all(runs)
        session.commit()
    config = demo_config(store_copy)
    assert config is not None
    report = build_report(store_copy, config, periods)

    lines = {line.source: line for line in report.freshness}
    assert list(lines) == list(SOURCES)
    assert (lines["github"].status, lines["github"].error) == ("success", "")
    assert lines["github"].finished_at == now
    assert lines["github"].read_up_to == now - timedelta(hours=1)
    assert (lines["prometheus"].status, lines["prometheus"].error) == (
        "error",
        "connection refused",
    )
    assert lines["mlflow"].status == "never synced"
    assert not any(line.configured for line in report.freshness)  # the demo syncs nothing


def test_a_store_without_history_still_reports_in_every_format(store_copy: Engine, periods) -> None:
    with store_copy.begin() as connection:
        connection.execute(delete(MetricSnapshot))
        connection.execute(delete(ScoreSnapshot))
    config = demo_config(store_copy)
    assert config is not None
    report = build_report(store_copy, config, periods)

    assert all(s.metric_history.empty and s.score_history.empty for s in report.teams)
    for output_format in ReportFormat:
        assert render(report, output_format)
    pdf = PdfReader(io.BytesIO(render(report, ReportFormat.pdf)))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "No maturity history yet" in text
    assert "no history" in text


def test_an_empty_store_reports_in_every_format(engine: Engine) -> None:
    """`engine` here is the shared fixture: a migrated store with no team, on both databases."""
    report = build_report(engine, Config(), parse_period("last-90d", datetime.now(UTC).date()))

    assert report.teams == ()
    assert report.level_counts == dict.fromkeys(range(5), 0)
    for output_format in ReportFormat:
        assert render(report, output_format)


def test_the_previous_period_from_a_forked_process_is_the_same(demo_engine, periods, report):
    config = demo_config(demo_engine)
    assert config is not None
    forked = build_report(demo_engine, config, periods, fork=True)

    for mine, theirs in zip(forked.teams, report.teams, strict=True):
        assert mine.pillars == theirs.pillars
        assert mine.metrics == theirs.metrics


def test_a_failure_in_the_forked_process_is_raised_here(demo_engine) -> None:
    def fails() -> _Before:
        raise ValueError("no such period")

    with pytest.raises(ValueError, match="no such period"):
        _in_forked_process(demo_engine, fails)()
