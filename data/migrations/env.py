"""Alembic environment: runs on the connection the app hands over, or on the configured store."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import data.tables  # noqa: F401  (registers every table on SQLModel.metadata)

target_metadata = SQLModel.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from config import load_config
    from data.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url") or load_config().store_url
    engine = make_engine(url)
    with engine.begin() as new_connection:
        _run(new_connection)


main()
