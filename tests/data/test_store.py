"""The write API (data/store.py) on SQLite and PostgreSQL: idempotent, all-or-nothing, UTC."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError

from config import Config
from data import store
from data.db import make_engine, upgrade
from data.loaders import Period, team_names
from data.store import (
    key_to_id,
    row_counts,
    store_version,
    upsert_rows,
    write_transaction,
)
from data.tables import ModelVersion, PullRequest, RegisteredModel, Repo, Team, TeamRepo
from data.types import NaiveDatetimeError
from metrics.engine import load_inputs

T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _count(engine: Engine, model: Any) -> int:
    return row_counts(engine, [model])[model.__tablename__]


def _repo_id(engine: Engine, full_name: str = "acme/ranker") -> int:
    with write_transaction(engine) as connection:
        upsert_rows(connection, Repo, [{"full_name": full_name}])
        return key_to_id(connection, Repo, [full_name])[full_name]


def _pull_requests(repo_id: int, title: str = "first") -> list[dict[str, Any]]:
    return [
        {"repo_id": repo_id, "number": number, "title": f"{title} {number}", "created_at": T0}
        for number in (1, 2, 3)
    ]


def _select_all(engine: Engine, model: Any, order_by: str) -> list[Any]:
    table = model.__table__
    with engine.connect() as connection:
        return list(connection.execute(select(table).order_by(table.c[order_by])))


# --- idempotent upserts -------------------------------------------------------------


def test_upsert_twice_keeps_counts_and_updates_other_columns(engine: Engine) -> None:
    repo_id = _repo_id(engine)
    with write_transaction(engine) as connection:
        assert upsert_rows(connection, PullRequest, _pull_requests(repo_id, "first")) == 3
    ids_before = {row.number: row.id for row in _select_all(engine, PullRequest, "number")}

    later = T0 + timedelta(days=1)
    changed = [{**row, "state": "closed", "merged_at": later} for row in _pull_requests(repo_id)]
    changed[0]["title"] = "renamed"
    with write_transaction(engine) as connection:
        upsert_rows(connection, PullRequest, changed)

    assert _count(engine, PullRequest) == 3
    rows = _select_all(engine, PullRequest, "number")
    assert {row.number: row.id for row in rows} == ids_before
    assert [row.title for row in rows] == ["renamed", "first 2", "first 3"]
    assert {row.state for row in rows} == {"closed"}
    assert {row.merged_at for row in rows} == {later}


def test_upsert_fills_defaults_for_columns_a_row_leaves_out(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        upsert_rows(connection, Repo, [{"full_name": "acme/a"}])
        upsert_rows(connection, Repo, [{"full_name": "acme/b", "default_branch": "trunk"}])

    rows = _select_all(engine, Repo, "full_name")
    assert [(row.full_name, row.default_branch) for row in rows] == [
        ("acme/a", "main"),
        ("acme/b", "trunk"),
    ]


def test_upsert_of_a_key_only_table_is_idempotent(engine: Engine) -> None:
    repo_id = _repo_id(engine)
    with write_transaction(engine) as connection:
        upsert_rows(connection, Team, [{"name": "A"}])
        team_id = key_to_id(connection, Team)["A"]
        for _ in range(2):
            upsert_rows(connection, TeamRepo, [{"team_id": team_id, "repo_id": repo_id}])

    assert _count(engine, TeamRepo) == 1


def test_json_columns_round_trip(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        upsert_rows(connection, RegisteredModel, [{"name": "ranker-a"}])
        model_id = key_to_id(connection, RegisteredModel)["ranker-a"]
        upsert_rows(
            connection,
            ModelVersion,
            [
                {
                    "model_id": model_id,
                    "version": "10",
                    "version_number": 10,
                    "created_at": T0,
                    "aliases": ["champion"],
                    "tags": {"deployed_at": "2026-03-02T00:00:00Z"},
                }
            ],
        )

    (row,) = _select_all(engine, ModelVersion, "id")
    assert row.aliases == ["champion"]
    assert row.tags == {"deployed_at": "2026-03-02T00:00:00Z"}


# --- natural keys to ids --------------------------------------------------------------


def test_key_to_id_with_a_single_column_key(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        upsert_rows(connection, Team, [{"name": name} for name in ("A", "B", "C")])
        everything = key_to_id(connection, Team)
        some = key_to_id(connection, Team, ["B", "C", "missing"])
        none = key_to_id(connection, Team, [])

    assert set(everything) == {"A", "B", "C"}
    assert len(set(everything.values())) == 3
    assert some == {"B": everything["B"], "C": everything["C"]}
    assert none == {}


def test_key_to_id_with_a_composite_key(engine: Engine) -> None:
    first = _repo_id(engine, "acme/one")
    second = _repo_id(engine, "acme/two")
    with write_transaction(engine) as connection:
        upsert_rows(connection, PullRequest, _pull_requests(first) + _pull_requests(second))
        everything = key_to_id(connection, PullRequest)
        some = key_to_id(connection, PullRequest, [(first, 2), (second, 3), (second, 99)])

    assert set(everything) == {(repo, number) for repo in (first, second) for number in (1, 2, 3)}
    assert some == {(first, 2): everything[(first, 2)], (second, 3): everything[(second, 3)]}
    rows = {(row.repo_id, row.number): row.id for row in _select_all(engine, PullRequest, "id")}
    assert rows == everything


# --- transactions and the store version -------------------------------------------------


def test_write_transaction_rolls_back_everything_on_error(engine: Engine) -> None:
    version = store_version(engine)

    def write_then_fail() -> None:
        with write_transaction(engine) as connection:
            upsert_rows(connection, Team, [{"name": "A"}])
            upsert_rows(connection, Repo, [{"full_name": "acme/a"}])
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail()

    assert _count(engine, Team) == 0
    assert _count(engine, Repo) == 0
    assert store_version(engine) == version


def test_a_failing_write_leaves_earlier_writes_of_the_batch_unwritten(engine: Engine) -> None:
    repo_id = _repo_id(engine)
    version = store_version(engine)

    def write_with_a_bad_row() -> None:
        with write_transaction(engine) as connection:
            upsert_rows(connection, Team, [{"name": "A"}])
            upsert_rows(connection, PullRequest, [{"repo_id": repo_id, "number": 1}])

    with pytest.raises(ValueError, match="pull_request"):
        write_with_a_bad_row()

    assert _count(engine, Team) == 0
    assert store_version(engine) == version


def test_store_version_moves_on_only_on_commit(engine: Engine) -> None:
    start = store_version(engine)

    with write_transaction(engine) as connection:
        upsert_rows(connection, Team, [{"name": "A"}])
    assert store_version(engine) == start + 1

    with write_transaction(engine):
        pass
    assert store_version(engine) == start + 2

    def write_then_fail() -> None:
        with write_transaction(engine) as connection:
            upsert_rows(connection, Team, [{"name": "B"}])
            raise KeyError("x")

    with pytest.raises(KeyError):
        write_then_fail()
    assert store_version(engine) == start + 2
    assert _count(engine, Team) == 1


def test_missing_required_column_names_the_table_and_column(engine: Engine) -> None:
    repo_id = _repo_id(engine)

    with (
        pytest.raises(ValueError, match=r"pull_request: .*missing required.*created_at") as caught,
        write_transaction(engine) as connection,
    ):
        upsert_rows(connection, PullRequest, [{"repo_id": repo_id, "number": 1, "title": "x"}])

    assert "repo_id" not in str(caught.value)
    assert _count(engine, PullRequest) == 0


# --- timestamps -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(T0, id="utc"),
        pytest.param(
            datetime(2026, 3, 1, 23, 45, 1, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            id="plus-0530",
        ),
        pytest.param(
            datetime(2025, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-8))), id="minus-0800"
        ),
    ],
)
def test_timestamps_round_trip_as_the_same_utc_instant(engine: Engine, moment: datetime) -> None:
    repo_id = _repo_id(engine)
    with write_transaction(engine) as connection:
        upsert_rows(
            connection,
            PullRequest,
            [{"repo_id": repo_id, "number": 1, "created_at": moment, "merged_at": None}],
        )

    (row,) = _select_all(engine, PullRequest, "id")
    assert row.created_at == moment
    assert row.created_at.utcoffset() == timedelta(0)
    assert row.created_at.replace(tzinfo=None) == moment.astimezone(UTC).replace(tzinfo=None)
    assert row.merged_at is None


def test_timestamps_compare_as_instants_in_queries(engine: Engine) -> None:
    repo_id = _repo_id(engine)
    plus_two = timezone(timedelta(hours=2))
    rows = [
        {"repo_id": repo_id, "number": 1, "created_at": datetime(2026, 1, 1, 1, tzinfo=plus_two)},
        {"repo_id": repo_id, "number": 2, "created_at": datetime(2026, 1, 1, 0, 30, tzinfo=UTC)},
    ]
    with write_transaction(engine) as connection:
        upsert_rows(connection, PullRequest, rows)

    table = PullRequest.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        ordered = connection.execute(select(table.c.number).order_by(table.c.created_at)).all()
        before = connection.execute(
            select(table.c.number).where(
                table.c.created_at < datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
            )
        ).all()
    # 01:00+02:00 is 23:00 UTC the day before: earlier than 00:30 UTC.
    assert [row.number for row in ordered] == [1, 2]
    assert [row.number for row in before] == [1]


def test_a_naive_datetime_is_refused(engine: Engine) -> None:
    repo_id = _repo_id(engine)
    naive = datetime(2026, 3, 1, 12, 0)

    with pytest.raises(StatementError) as caught, write_transaction(engine) as connection:
        upsert_rows(
            connection, PullRequest, [{"repo_id": repo_id, "number": 1, "created_at": naive}]
        )

    assert isinstance(caught.value.orig, NaiveDatetimeError)
    assert "naive datetime 2026-03-01T12:00:00" in str(caught.value)
    assert _count(engine, PullRequest) == 0


# --- big batches ------------------------------------------------------------------------


def test_batches_larger_than_the_internal_batch_size(engine: Engine) -> None:
    total = store._BATCH_ROWS * 2 + 17
    names = [f"team-{index:05d}" for index in range(total)]

    with write_transaction(engine) as connection:
        assert upsert_rows(connection, Team, ({"name": name} for name in names)) == total
    with write_transaction(engine) as connection:
        assert upsert_rows(connection, Team, ({"name": name} for name in names)) == total
        ids = key_to_id(connection, Team, names)

    assert _count(engine, Team) == total
    assert set(ids) == set(names)
    assert len(set(ids.values())) == total


def test_an_in_memory_store_is_one_database_for_every_thread() -> None:
    """Loads run beside each other in threads (metrics.engine.load_inputs), and the
    dashboard's sessions are threads: each must see the same database in memory."""
    engine = make_engine("sqlite://")
    upgrade(engine)
    with write_transaction(engine) as connection:
        upsert_rows(connection, Team, [{"name": "Alpha"}])
    with ThreadPoolExecutor(2) as pool:
        seen = list(pool.map(lambda _: team_names(engine), range(4)))
    assert seen == [["Alpha"]] * 4
    inputs = load_inputs(engine, Period.last_days(30, date(2026, 3, 31)), Config())
    assert inputs.teams == ("Alpha",)
    assert inputs.run_counts.empty
