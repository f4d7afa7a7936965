"""Engines and schema migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class StoreError(Exception):
    """The store cannot be opened or migrated; the message says which URL and why."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def redact_url(url: str) -> str:
    """The URL as it may be shown or logged: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {redact_url(url)}") from None
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        if parsed.database and not in_memory:
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder of the store {redact_url(url)}: {exc.strerror}"
                ) from None
        # A database in memory lives in its connection: one connection for every thread
        # (the dashboard's sessions, the loads beside each other), or each sees its own.
        pool = {"poolclass": StaticPool} if in_memory else {}
        engine = create_engine(parsed, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise StoreError(
        f"unsupported database {parsed.get_backend_name()!r} in {redact_url(url)}: "
        "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    )


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = None
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; safe to call on every start."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so each
            # CREATE TABLE would commit on its own and a process killed mid-migration
            # would leave a half-made schema that no later start can migrate.
            connection.exec_driver_sql("BEGIN")
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_store_engine(url: str) -> Engine:
    """An engine on an up-to-date schema, or a StoreError that names the store."""
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(url)
    try:
        upgrade(engine)
    except DBAPIError as exc:  # unreachable server, bad password, no permission, ...
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"cannot open the store {redact_url(url)}: {reason}") from None
    return engine
