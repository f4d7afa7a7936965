"""The write API every producer uses (connectors, imports, the demo, the UI forms).

Writes are upserts on each table's natural key, so a re-sync or a second demo
run changes rows in place instead of duplicating them, and every batch runs in
one transaction so a failure leaves nothing half-written. Each committed write
bumps `store_version`, which the UI uses to invalidate its cached frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from data.tables import ENTITY_TABLES, AppMeta, HttpValidator, Keyed, Watermark

STORE_VERSION_KEY = "store_version"
_BATCH_ROWS = 5_000


def _insert_for(connection: Connection, table: Any) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _complete_rows(model: type[Keyed], rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Fill each row's missing columns with the model's defaults (executemany needs one shape)."""
    table = model.__table__  # type: ignore[attr-defined]
    columns = [c.name for c in table.columns if c.name != "id" or "id" in model.__natural_key__]
    completed: list[dict[str, Any]] = []
    defaults: dict[str, Any] | None = None
    for row in rows:
        missing = [name for name in columns if name not in row]
        if missing:
            if defaults is None:
                defaults = {}
                for name in columns:
                    field = model.model_fields.get(name)
                    if field is None or field.is_required():
                        continue
                    default = field.get_default(call_default_factory=True)
                    if default is None and not table.c[name].nullable:
                        continue  # `= None` on a NOT NULL column only types it: rows must set it
                    defaults[name] = default
            absent = [name for name in missing if name not in defaults]
            if absent:
                raise ValueError(f"{table.name}: row is missing required column(s) {absent}")
            completed.append({**{name: defaults[name] for name in missing}, **row})
        else:
            completed.append(dict(row))
    return completed


def upsert_rows(
    connection: Connection, model: type[Keyed], rows: Iterable[Mapping[str, Any]]
) -> int:
    """Insert or update rows by the model's natural key; returns how many rows were given."""
    table = model.__table__  # type: ignore[attr-defined]
    key = list(model.__natural_key__)
    batch: list[Mapping[str, Any]] = []
    written = 0

    def flush() -> None:
        nonlocal written
        if not batch:
            return
        full = _complete_rows(model, batch)
        statement = _insert_for(connection, table)
        updatable = [name for name in full[0] if name not in key and name != "id"]
        if updatable:
            statement = statement.on_conflict_do_update(
                index_elements=key,
                set_={name: statement.excluded[name] for name in updatable},
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=key)
        connection.execute(statement, full)
        written += len(full)
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH_ROWS:
            flush()
    flush()
    return written


def key_to_id(
    connection: Connection, model: type[Keyed], keys: Iterable[Any] | None = None
) -> dict[Any, int]:
    """Map natural keys (a value, or a tuple for composite keys) to surrogate ids."""
    table = model.__table__  # type: ignore[attr-defined]
    key_columns = [table.c[name] for name in model.__natural_key__]
    statement = select(table.c.id, *key_columns)
    wanted = None if keys is None else list(keys)
    if wanted is not None:
        if not wanted:
            return {}
        if len(key_columns) == 1:
            statement = statement.where(key_columns[0].in_(wanted))
        else:
            statement = statement.where(tuple_(*key_columns).in_(wanted))
    mapping: dict[Any, int] = {}
    for row in connection.execute(statement):
        natural = row[1] if len(key_columns) == 1 else tuple(row[1:])
        mapping[natural] = row[0]
    return mapping


def get_meta(connection: Connection, key: str) -> str | None:
    table = AppMeta.__table__  # type: ignore[attr-defined]
    value = connection.execute(select(table.c.value).where(table.c.key == key)).scalar_one_or_none()
    return None if value is None else str(value)


def set_meta(connection: Connection, key: str, value: str) -> None:
    upsert_rows(connection, AppMeta, [{"key": key, "value": value}])


def store_version(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(get_meta(connection, STORE_VERSION_KEY) or 0)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One all-or-nothing write; on commit the store version moves on."""
    with engine.begin() as connection:
        yield connection
        current = int(get_meta(connection, STORE_VERSION_KEY) or 0)
        set_meta(connection, STORE_VERSION_KEY, str(current + 1))


def row_counts(engine: Engine, tables: Sequence[type[SQLModel]] = ENTITY_TABLES) -> dict[str, int]:
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for model in tables:
            table = model.__table__  # type: ignore[attr-defined]
            counts[table.name] = connection.execute(
                select(func.count()).select_from(table)
            ).scalar_one()
    return counts


def read_watermarks(connection: Connection, source: str) -> dict[str, datetime]:
    """Each scope's watermark for a source (scope: a repository, an endpoint, a model)."""
    table = Watermark.__table__  # type: ignore[attr-defined]
    statement = select(table.c.scope, table.c.value).where(table.c.source == source)
    return {row.scope: row.value for row in connection.execute(statement)}


def set_watermark(connection: Connection, source: str, scope: str, value: datetime) -> None:
    """Call inside the transaction that wrote the scope's rows, so both land or neither."""
    upsert_rows(connection, Watermark, [{"source": source, "scope": scope, "value": value}])


def read_validators(connection: Connection, source: str) -> dict[str, str]:
    """Each request's stored ETag for a source."""
    table = HttpValidator.__table__  # type: ignore[attr-defined]
    statement = select(table.c.request, table.c.etag).where(table.c.source == source)
    return {row.request: row.etag for row in connection.execute(statement)}


def set_validator(connection: Connection, source: str, request: str, etag: str) -> None:
    """Call inside the transaction that stored the answer's contents."""
    upsert_rows(connection, HttpValidator, [{"source": source, "request": request, "etag": etag}])
