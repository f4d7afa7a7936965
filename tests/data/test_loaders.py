"""Frame loaders: team scoping, period edges, dtypes, empty frames."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from data import loaders
from data.loaders import Period
from data.store import key_to_id, upsert_rows, write_transaction
from data.tables import (
    Endpoint,
    EndpointDaily,
    PullRequest,
    Repo,
    SyncRun,
    Team,
    TeamRepo,
)

PERIOD = Period(since=date(2026, 3, 1), until=date(2026, 3, 31))


def test_period_is_whole_inclusive_utc_days() -> None:
    assert PERIOD.days == 31
    assert PERIOD.start == datetime(2026, 3, 1, tzinfo=UTC)
    assert PERIOD.end == datetime(2026, 4, 1, tzinfo=UTC)
    assert Period.last_days(90, today=date(2026, 3, 31)).since == date(2026, 1, 1)
    with pytest.raises(ValueError, match="before it starts"):
        Period(since=date(2026, 3, 2), until=date(2026, 3, 1))


@pytest.fixture
def org(engine: Engine) -> Engine:
    """Two teams sharing one repository, PRs on the period's edges, one endpoint."""
    with write_transaction(engine) as connection:
        upsert_rows(connection, Team, [{"name": "Alpha"}, {"name": "Beta"}])
        upsert_rows(connection, Repo, [{"full_name": "o/shared"}, {"full_name": "o/alpha"}])
        teams, repos = key_to_id(connection, Team), key_to_id(connection, Repo)
        upsert_rows(
            connection,
            TeamRepo,
            [
                {"team_id": teams["Alpha"], "repo_id": repos["o/shared"]},
                {"team_id": teams["Beta"], "repo_id": repos["o/shared"]},
                {"team_id": teams["Alpha"], "repo_id": repos["o/alpha"]},
            ],
        )
        edge_times = {
            1: PERIOD.start - timedelta(microseconds=1),  # just before: out
            2: PERIOD.start,  # first instant: in
            3: PERIOD.end - timedelta(microseconds=1),  # last instant: in
            4: PERIOD.end,  # first instant after: out
        }
        upsert_rows(
            connection,
            PullRequest,
            [
                {"repo_id": repos["o/shared"], "number": n, "created_at": at}
                for n, at in edge_times.items()
            ]
            + [
                {
                    "repo_id": repos["o/alpha"],
                    "number": 9,
                    "created_at": PERIOD.start + timedelta(days=3),
                    "merged_at": PERIOD.start + timedelta(days=4),
                }
            ],
        )
        upsert_rows(connection, Endpoint, [{"team_id": teams["Alpha"], "name": "api"}])
        endpoint = key_to_id(connection, Endpoint)[(teams["Alpha"], "api")]
        upsert_rows(
            connection,
            EndpointDaily,
            [
                {"endpoint_id": endpoint, "day": day, "requests": 10.0, "failures": 1.0}
                for day in (
                    date(2026, 2, 28),
                    date(2026, 3, 1),
                    date(2026, 3, 31),
                    date(2026, 4, 1),
                )
            ],
        )
    return engine


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    before = PERIOD.previous()
    assert before == Period(since=date(2026, 1, 29), until=date(2026, 2, 28))
    assert before.days == PERIOD.days
    assert Period(date(2026, 3, 5), date(2026, 3, 5)).previous() == Period(
        date(2026, 3, 4), date(2026, 3, 4)
    )


def test_period_edges_are_half_open(org: Engine) -> None:
    frame = loaders.pull_requests(org, "Beta", PERIOD)
    assert sorted(frame["number"]) == [2, 3]
    days = loaders.endpoint_days(org, "Alpha", PERIOD)
    assert sorted(days["day"]) == [date(2026, 3, 1), date(2026, 3, 31)]


def test_a_shared_repository_counts_for_each_team(org: Engine) -> None:
    frame = loaders.pull_requests(org, period=PERIOD)
    assert sorted(frame.loc[frame["number"] == 2, "team"]) == ["Alpha", "Beta"]
    assert set(loaders.pull_requests(org, "Alpha", PERIOD)["repo"]) == {"o/shared", "o/alpha"}


def test_timestamps_are_utc_aware(org: Engine) -> None:
    frame = loaders.pull_requests(org, "Alpha", PERIOD)
    for column in ("created_at", "merged_at", "closed_at"):
        assert isinstance(frame[column].dtype, pd.DatetimeTZDtype), column
        assert str(frame[column].dt.tz) == "UTC"
    merged = frame.loc[frame["number"] == 9, "merged_at"].iloc[0]
    assert merged == pd.Timestamp(PERIOD.start + timedelta(days=4))


def test_empty_frames_keep_their_columns(engine: Engine) -> None:
    frame = loaders.pull_requests(engine, "Nobody", PERIOD)
    assert frame.empty
    assert {"team", "repo", "number", "created_at", "merged_at"} <= set(frame.columns)
    assert isinstance(frame["created_at"].dtype, pd.DatetimeTZDtype)


def test_latest_sync_run_per_source(engine: Engine) -> None:
    base = datetime(2026, 3, 1, tzinfo=UTC)
    with write_transaction(engine) as connection:
        connection.execute(
            SyncRun.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "source": "github",
                    "started_at": base,
                    "status": "ok",
                    "api_calls": 5,
                    "rows_written": 1,
                    "error": None,
                },
                {
                    "source": "github",
                    "started_at": base + timedelta(hours=1),
                    "status": "error",
                    "api_calls": 2,
                    "rows_written": 0,
                    "error": "HTTP 502",
                },
                {
                    "source": "mlflow",
                    "started_at": base,
                    "status": "ok",
                    "api_calls": 3,
                    "rows_written": 9,
                    "error": None,
                },
            ],
        )
    frame = loaders.latest_sync_runs(engine).set_index("source")
    assert frame.loc["github", "status"] == "error"
    assert frame.loc["github", "error"] == "HTTP 502"
    assert frame.loc["mlflow", "rows_written"] == 9


def test_loads_pause_the_cycle_collector_and_restore_it(org: Engine) -> None:
    seen: list[bool] = []

    def watch(*_: object) -> None:
        seen.append(gc.isenabled())

    event.listen(org, "after_cursor_execute", watch)  # rows are fetched after this
    try:
        assert gc.isenabled()
        with ThreadPoolExecutor(3) as pool:  # loads overlap, as in metrics.engine.load_inputs
            frames = list(pool.map(lambda _: loaders.pull_requests(org, period=PERIOD), range(6)))
    finally:
        event.remove(org, "after_cursor_execute", watch)
    assert all(len(frame) == len(frames[0]) > 0 for frame in frames)
    assert len(seen) == 6
    assert not any(seen)
    assert gc.isenabled()
    gc.disable()
    try:
        loaders.pull_requests(org, period=PERIOD)
        assert not gc.isenabled()  # a process that turned it off keeps it off
    finally:
        gc.enable()
