"""One sync at a time per store (DESIGN §3): `with sync_lock(engine): ...`.

Two syncs writing the same store would not corrupt it (every write is an upsert in
one transaction), but they would make every request twice, race each other's
watermarks and each record the other's rows as their own. So a second sync does
not wait: it stops at once with `SyncLockedError`, "a sync is already running since
T UTC (pid N)", and a CronJob simply tries again next time.

The lock must free itself when its holder dies in any way, SIGKILL and OOM kill
included, or one crash would stop every later sync until someone intervenes. So
both kinds of lock are ones the operating system or the database server releases,
never a row that a live process has to clean up:

- PostgreSQL: a session-level advisory lock, `pg_try_advisory_lock(key)`, held by
  a connection of its own (outside the pool, so nothing else borrows or recycles
  it) for the sync's duration. When the holder exits, or its connection dies, the
  server ends the session and the lock with it. The key is fixed per store: a hash
  of a constant and the schema, so two stores in one database (staging beside
  production, parallel test schemas) do not block each other. The holder then
  writes who it is into `app_meta` (`sync_lock`), together with its server backend
  pid; a refused sync believes that record only if `pg_locks` shows that very
  backend holding the lock, so a record left by a killed holder is never shown.
  (A pooler in transaction mode, e.g. PgBouncer, cannot carry session locks: point
  `DATABASE_URL` of the sync at the server or at a session-mode pool.)
- SQLite: an exclusive `flock` on a file beside the database (`mlops.db.sync-lock`),
  whose content says who holds it. The kernel drops a flock when the last file
  descriptor on it closes, which process death does, so a killed sync can never
  leave it stuck. A lock row with the holder's pid and start time was the
  alternative; it needs a liveness check that pid reuse and containers (pid 1 in
  every pod) defeat, and breaking a stale row races with a second breaker. flock,
  unlike POSIX `fcntl` record locks, also excludes a second sync inside the same
  process (two Streamlit sessions pressing Sync now). The file is never deleted:
  unlinking a lock file lets two processes lock two different files. A network
  file system may not honour flock, but SQLite's WAL mode does not work there
  either. An in-memory database is private to its process and takes a process lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, create_engine, delete, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from data.store import get_meta, set_meta
from data.tables import AppMeta

LOCK_NAME = "mlops-dashboard sync"
"""Hashed with the schema into the PostgreSQL advisory-lock key; also the lock
connection's `application_name`, so `pg_stat_activity` shows what holds the lock."""
HOLDER_META_KEY = "sync_lock"
LOCK_FILE_SUFFIX = ".sync-lock"
HOLDER_READ_SECONDS = 2.0
"""How long a refused sync waits for the holder to say who it is (it writes that just
after taking the lock) before reporting it without a start time."""
_HOLDER_READ_PAUSE = 0.02


@dataclass(frozen=True)
class LockHolder:
    """Who holds the lock and since when: what the refused sync is told."""

    since: datetime
    pid: int
    host: str

    def record(self, **extra: int) -> str:
        return json.dumps(
            {"since": self.since.isoformat(), "pid": self.pid, "host": self.host, **extra}
        )

    @classmethod
    def parse(cls, raw: str | None) -> LockHolder | None:
        """None for anything but a whole record (e.g. one its holder is still writing)."""
        try:
            data = json.loads(raw or "")
            since = datetime.fromisoformat(data["since"])
            if since.tzinfo is None:
                return None
            return cls(since=since.astimezone(UTC), pid=int(data["pid"]), host=str(data["host"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    @classmethod
    def current(cls) -> LockHolder:
        return cls(since=datetime.now(UTC), pid=os.getpid(), host=socket.gethostname())


class SyncLockedError(Exception):
    """Another sync holds the store's lock; the message is one line for a person."""

    def __init__(self, holder: LockHolder | None) -> None:
        self.holder = holder
        if holder is None:
            message = "a sync is already running (it has just started)"
        else:
            where = f"pid {holder.pid}"
            if holder.host != socket.gethostname():
                where += f" on {holder.host}"
            since = f"{holder.since:%Y-%m-%d %H:%M:%S}"
            message = f"a sync is already running since {since} UTC ({where})"
        super().__init__(message)


@contextlib.contextmanager
def sync_lock(engine: Engine) -> Iterator[LockHolder]:
    """Hold the store's sync lock for the `with` block, or raise `SyncLockedError` at once."""
    if engine.dialect.name == "postgresql":
        with _postgres_lock(engine) as holder:
            yield holder
        return
    if engine.dialect.name != "sqlite":  # make_engine accepts nothing else
        raise ValueError(f"no sync lock for the {engine.dialect.name} dialect")
    database = (engine.url.database or "").removeprefix("file:")
    if database and database != ":memory:":
        with _file_lock(Path(database + LOCK_FILE_SUFFIX)) as holder:
            yield holder
    else:
        with _IN_PROCESS.hold() as holder:
            yield holder


def _refuse_or_acquire(
    try_again: Callable[[], bool], read_holder: Callable[[], LockHolder | None]
) -> None:
    """After a refusal: raise `SyncLockedError` naming the holder once its record is
    readable, or return if the lock came free meanwhile (it is then ours)."""
    deadline = time.monotonic() + HOLDER_READ_SECONDS
    while True:
        holder = read_holder()
        if holder is not None:
            raise SyncLockedError(holder)
        if time.monotonic() >= deadline:
            raise SyncLockedError(None)
        time.sleep(_HOLDER_READ_PAUSE)
        if try_again():
            return


# --- SQLite: a flock on a file beside the database -----------------------------------


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[LockHolder]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:

        def acquire() -> bool:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        def read_holder() -> LockHolder | None:
            return LockHolder.parse(os.pread(descriptor, 4096, 0).decode(errors="replace"))

        if not acquire():
            _refuse_or_acquire(acquire, read_holder)
        holder = LockHolder.current()
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, holder.record().encode(), 0)
        try:
            yield holder
        finally:
            os.ftruncate(descriptor, 0)  # while still ours: no one reads a past holder
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


class _InProcessLock:
    """For a SQLite database without a file (`:memory:`): only this process sees it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: LockHolder | None = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[LockHolder]:
        if not self._lock.acquire(blocking=False):
            raise SyncLockedError(self._holder)
        try:
            self._holder = LockHolder.current()
            yield self._holder
        finally:
            self._holder = None
            self._lock.release()


_IN_PROCESS = _InProcessLock()


# --- PostgreSQL: a session advisory lock on a connection of its own -------------------


def advisory_key(schema: str) -> int:
    """The signed 64-bit advisory-lock key of the store in `schema`."""
    digest = hashlib.blake2b(f"{LOCK_NAME}\n{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_backend(connection: Connection, key: int) -> int | None:
    """The server pid of the backend holding the lock. `pg_locks` shows a bigint key
    as classid (its high 32 bits) and objid (the low ones) with objsubid 1."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    found = connection.execute(
        text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = :high AND objid = :low AND objsubid = 1"
        ),
        {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF},
    ).scalar_one_or_none()
    return None if found is None else int(found)


def _backend_of(raw: str | None) -> int | None:
    try:
        backend = json.loads(raw or "").get("backend")
    except (ValueError, AttributeError):
        return None
    return backend if isinstance(backend, int) else None


@contextlib.contextmanager
def _postgres_lock(engine: Engine) -> Iterator[LockHolder]:
    own = create_engine(
        engine.url, poolclass=NullPool, connect_args={"application_name": LOCK_NAME}
    )
    try:
        with own.connect() as connection:
            schema = str(connection.execute(text("SELECT current_schema()")).scalar_one())
            backend = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
            key = advisory_key(schema)
            connection.commit()

            def acquire() -> bool:
                locked = connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
                ).scalar_one()
                connection.commit()
                return bool(locked)

            def read_holder() -> LockHolder | None:
                holding = _lock_backend(connection, key)
                raw = get_meta(connection, HOLDER_META_KEY)
                connection.commit()
                if holding is None or _backend_of(raw) != holding:
                    return None  # not written yet, or left by a holder that died
                return LockHolder.parse(raw)

            if not acquire():
                _refuse_or_acquire(acquire, read_holder)
            holder = LockHolder.current()
            with engine.begin() as writer:
                set_meta(writer, HOLDER_META_KEY, holder.record(backend=backend))
            try:
                yield holder
            finally:
                _release_postgres(engine, connection, key, backend)
    finally:
        own.dispose()


def _release_postgres(engine: Engine, connection: Connection, key: int, backend: int) -> None:
    """Forget the holder record if it is ours, then unlock. A lock connection that died
    has released the lock already, and the next holder overwrites the record."""
    with contextlib.suppress(SQLAlchemyError), engine.begin() as writer:
        if _backend_of(get_meta(writer, HOLDER_META_KEY)) == backend:
            table = AppMeta.__table__  # type: ignore[attr-defined]
            writer.execute(delete(table).where(table.c.key == HOLDER_META_KEY))
    with contextlib.suppress(SQLAlchemyError):
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()
