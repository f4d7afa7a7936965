"""Migrations stay in step with the tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import data.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from data.db import alembic_config, make_engine, upgrade
from data.store import row_counts, upsert_rows, write_transaction
from data.tables import Team
from tests.helpers import PROJECT_ROOT


def _head(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _differences(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_upgrade_creates_every_table(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        assert inspect(engine).get_table_names() == []
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        assert tables - set(SQLModel.metadata.tables) == {"alembic_version"}
        assert _current(engine) == _head(engine) is not None
    finally:
        engine.dispose()


def test_migrations_match_the_tables(engine: Engine) -> None:
    """What `alembic check` does: autogenerate finds nothing to migrate."""
    assert _differences(engine, SQLModel.metadata) == []


def test_the_comparison_notices_a_table_change(engine: Engine) -> None:
    """Guards the test above: a column missing from the migrations is reported."""
    changed = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["team"].append_column(Column("colour", Integer, nullable=True))

    differences = _differences(engine, changed)

    assert len(differences) == 1
    difference: Any = differences[0]
    kind, _schema, table_name, column = difference
    assert (kind, table_name, column.name) == ("add_column", "team", "colour")


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        upsert_rows(connection, Team, [{"name": "Kept"}])
    revision = _current(engine)

    upgrade(engine)
    upgrade(engine)

    assert _current(engine) == revision == _head(engine)
    assert row_counts(engine, [Team]) == {"team": 1}
    assert _differences(engine, SQLModel.metadata) == []


def test_alembic_check_command_passes(store_url: str, tmp_path: Path) -> None:
    """The CI step itself, through alembic.ini and data/migrations/env.py."""
    import os
    import subprocess
    import sys

    environment = {**os.environ, "DATABASE_URL": store_url}
    environment.pop("MLOPS_CONFIG", None)
    alembic = [sys.executable, "-m", "alembic", "-c", str(PROJECT_ROOT / "alembic.ini")]
    for command in ("upgrade", "check"):
        args = [*alembic, command] + (["head"] if command == "upgrade" else [])
        result = subprocess.run(
            args,
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr
