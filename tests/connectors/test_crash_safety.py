"""A sync killed with SIGKILL at a random moment leaves a consistent store, and the next
sync completes it with nothing lost or duplicated (the production issue's acceptance).

Each trial runs the real `python cli.py sync --config X` against the fake GitHub
server in this process and kills it after a random delay. The delays come from a
seeded generator and are spread over one uninterrupted run measured first (see
`Span.kill_point`), so trials land while the run row is written, while lists are
read and written, in the scan and in the snapshot; nothing asserts on how long
anything took. After the kill:

- no natural key appears twice, and no row points at a missing parent;
- each repository's list is all or nothing: a list whose watermark moved holds
  exactly the server's items, a list whose watermark did not move holds none (its
  rows and watermark are one transaction, DESIGN §9);
- the killed `sync_run` may still say `running`, but the next sync is not blocked
  (the lock died with its holder), marks it `interrupted`, and ends with the store
  equal to the server's truth.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import and_, func, inspect, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from config import Config, parse_config
from connectors.lock import SyncLockedError
from connectors.sync import INTERRUPTED_ERROR, run_sync
from data.db import alembic_config, make_engine, open_store_engine, upgrade
from data.store import read_watermarks
from data.tables import (
    ENTITY_TABLES,
    AppMeta,
    HttpValidator,
    Keyed,
    RepoScan,
    ScanCheckResult,
    SyncRun,
    Watermark,
)
from tests.connectors.github_truth import STORED, assert_store_equals_truth, stored, truth
from tests.fakes.github_org import FakeOrg
from tests.fakes.github_server import GitHubServer
from tests.helpers import CLI, PROJECT_ROOT

pytestmark = pytest.mark.slow

TOKEN_ENV = "MLOPS_TEST_GITHUB_TOKEN"
TOKEN = "test-token"
SEED = 20_260_101
SQLITE_TRIALS = 20
POSTGRES_TRIALS = 5
WAIT_SECONDS = 300
"""Bound on any one subprocess; reaching it fails the test, it never passes one."""
LIST_ROWS = {
    "pulls": ("pulls",),
    "runs": ("runs",),
    "deployments": ("deployments", "statuses"),
    "releases": ("releases",),
    "incidents": ("incidents",),
    "tree": ("scans",),
}
"""Each watermarked GitHub list and the stored rows written with it."""
assert {name for names in LIST_ROWS.values() for name in names} == set(STORED)


def _t(model: Any) -> Any:
    return model.__table__


@dataclass(frozen=True)
class Span:
    """One uninterrupted `cli.py sync`, in seconds: from its start to its first request to
    GitHub (interpreter, imports, schema check), and from there to its exit (the lists,
    the scan and the snapshot: everything the sync writes)."""

    startup: float
    syncing: float

    def kill_point(self, trial: int) -> tuple[bool, float]:
        """(counted from the first request?, seconds): seeded. One trial in five is killed
        during the startup's second half, where the run row and the organisation are
        written; the others after the trial's own first request, anywhere up to the
        measured exit, so the spread does not depend on how long the interpreter took
        to start this time."""
        rng = random.Random(SEED + trial)
        if trial % 5 == 0:
            return False, rng.uniform(0.5 * self.startup, self.startup)
        return True, rng.uniform(0.0, self.syncing)


@pytest.fixture(scope="module")
def org() -> FakeOrg:
    """Small, but with more than one page of runs (100 a page) to be killed between."""
    return FakeOrg.synthetic(repos=2, prs=40, runs=140, deployments=5, seed=23)


@pytest.fixture(scope="module")
def server(org: FakeOrg) -> Iterator[GitHubServer]:
    with GitHubServer(org, token=TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store at the newest schema, copied for each SQLite trial."""
    path = tmp_path_factory.mktemp("crash-template") / "mlops.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _config_text(server: GitHubServer, org: FakeOrg, store_url: str) -> str:
    repos = sorted(repo.full_name for repo in org.repos.values())
    return (
        f'[store]\nurl = "{store_url}"\n\n'
        f'[github]\nbase_url = "{server.base_url}"\ntoken_env = "{TOKEN_ENV}"\n'
        "timeout_seconds = 60\n\n"
        f'[[teams]]\nname = "Ranking"\nrepos = {repos[:1]!r}\n\n'
        f'[[teams]]\nname = "Platform"\nrepos = {repos!r}\n'
    )


def _start_sync(config_file: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MLOPS_CONFIG"}}
    env[TOKEN_ENV] = TOKEN
    return subprocess.Popen(
        [sys.executable, str(CLI), "sync", "--config", str(config_file)],
        cwd=config_file.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def span(
    org: FakeOrg, server: GitHubServer, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Span:
    """One uninterrupted run, timed, to spread the kills over; it must be exact too."""
    folder = tmp_path_factory.mktemp("crash-measure")
    shutil.copyfile(template, folder / "mlops.db")
    url = f"sqlite:///{folder / 'mlops.db'}"
    config_file = folder / "mlops.toml"
    config_file.write_text(_config_text(server, org, url))
    before = server.total_requests
    started = time.monotonic()
    process = _start_sync(config_file)
    first_request = None
    while process.poll() is None:
        if first_request is None and server.total_requests > before:
            first_request = time.monotonic() - started
        time.sleep(0.005)
    ended = time.monotonic() - started
    out, err = process.communicate()
    assert process.returncode == 0, out + err
    engine = make_engine(url)
    assert_store_equals_truth(engine, org)
    engine.dispose()
    assert first_request is not None
    return Span(startup=first_request, syncing=ended - first_request)


# --- what a consistent store is -------------------------------------------------------------


def _duplicate_keys(engine: Engine) -> dict[str, int]:
    """Natural keys held by more than one row, per table (unique constraints forbid it)."""
    found: dict[str, int] = {}
    models: list[type[SQLModel]] = [*ENTITY_TABLES, Watermark, HttpValidator, AppMeta]
    keyed = [model for model in models if issubclass(model, Keyed)]
    with engine.connect() as connection:
        for model in keyed:
            table = _t(model)
            key = [table.c[name] for name in model.__natural_key__]
            repeated = select(*key).group_by(*key).having(func.count() > 1).subquery().select()
            count = len(connection.execute(repeated).all())
            if count:
                found[table.name] = count
    return found


def _orphans(engine: Engine) -> dict[str, int]:
    """Rows whose foreign key names no row, per `child.column` (foreign_keys=ON forbids it
    on SQLite, the constraint on PostgreSQL)."""
    found: dict[str, int] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for foreign in table.foreign_keys:
                parent = foreign.column.table
                statement = (
                    select(func.count())
                    .select_from(table.outerjoin(parent, foreign.parent == foreign.column))
                    .where(and_(foreign.parent.is_not(None), foreign.column.is_(None)))
                )
                count = connection.execute(statement).scalar_one()
                if count:
                    found[f"{table.name}.{foreign.parent.name}"] = count
    return found


def _scans_without_results(engine: Engine) -> int:
    scans, results = _t(RepoScan), _t(ScanCheckResult)
    statement = (
        select(func.count())
        .select_from(scans.outerjoin(results, results.c.scan_id == scans.c.id))
        .where(results.c.id.is_(None))
    )
    with engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def _assert_consistent(engine: Engine, org: FakeOrg, note: str) -> None:
    assert _duplicate_keys(engine) == {}, note
    assert _orphans(engine) == {}, note
    assert _scans_without_results(engine) == 0, note
    found, expected = stored(engine), truth(org)
    with engine.connect() as connection:
        watermarks = read_watermarks(connection, "github")
    for repo in sorted(org.repos.values(), key=lambda r: r.full_name):
        name = repo.full_name
        for list_name, row_sets in LIST_ROWS.items():
            moved = f"{name}:{list_name}" in watermarks
            for rows in row_sets:
                have = {row for row in found[rows] if row[0] == name}
                want = {row for row in expected[rows] if row[0] == name} if moved else set()
                assert have == want, (
                    f"{note}: {name} {rows} (watermark {'moved' if moved else 'not moved'}): "
                    f"missing {sorted(want - have)[:2]}, extra {sorted(have - want)[:2]}"
                )


def _runs(engine: Engine) -> list[tuple[int, str, str | None, str]]:
    """(id, status, error, source) of every `sync_run`, oldest first."""
    runs = _t(SyncRun)
    with engine.connect() as connection:
        rows = connection.execute(
            select(runs.c.id, runs.c.status, runs.c.error, runs.c.source).order_by(runs.c.id)
        ).all()
    return [(row.id, row.status, row.error, row.source) for row in rows]


def _sync_when_unlocked(engine: Engine, config: Config) -> None:
    """The next sync, in this process. PostgreSQL ends the killed holder's session (and its
    advisory lock) when it reads the closed socket, which may take a moment; a lock still
    held then is retried, and one held for good fails at the bound."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            [report] = run_sync(engine, config)
        except SyncLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        assert (report.status, report.error) == ("ok", None)
        return


# --- the trials -------------------------------------------------------------------------------


def _trial(
    trial: int,
    store_url: str,
    folder: Path,
    org: FakeOrg,
    server: GitHubServer,
    span: Span,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_text = _config_text(server, org, store_url)
    config_file = folder / "mlops.toml"
    config_file.write_text(config_text)
    after_first_request, delay = span.kill_point(trial)
    before = server.total_requests
    process = _start_sync(config_file)
    if after_first_request:
        while server.total_requests == before and process.poll() is None:
            time.sleep(0.002)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=WAIT_SECONDS)
    requests = server.total_requests - before
    killed = process.returncode == -signal.SIGKILL
    note = (
        f"trial {trial}: {'killed' if killed else 'exited'} {delay:.2f} s after "
        f"{'its first request' if after_first_request else 'its start'}, "
        f"having made {requests} requests"
    )
    print(note)
    assert killed or process.returncode == 0, f"{note}\n{out}\n{err}"

    engine = make_engine(store_url)
    try:
        _assert_consistent(engine, org, note)
        left_running = [run for run in _runs(engine) if run[1] == "running"]
        assert len(left_running) <= (1 if killed else 0), note

        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        _sync_when_unlocked(engine, parse_config(config_text))
        assert_store_equals_truth(engine, org)
        _assert_consistent(engine, org, f"{note}, then synced")
        runs = _runs(engine)
        assert runs[-1][1] == "ok", note
        interrupted = [run for run in runs if run[1] == "interrupted"]
        assert [run[0] for run in interrupted] == [run[0] for run in left_running], note
        assert all(run[2] == INTERRUPTED_ERROR for run in interrupted), note
        assert {run[1] for run in runs} <= {"ok", "interrupted"}, note
    finally:
        engine.dispose()


@pytest.mark.parametrize("trial", range(SQLITE_TRIALS))
def test_sqlite_sync_killed_at_a_random_moment(
    trial: int,
    tmp_path: Path,
    template: Path,
    org: FakeOrg,
    server: GitHubServer,
    span: Span,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copyfile(template, tmp_path / "mlops.db")
    url = f"sqlite:///{tmp_path / 'mlops.db'}"
    _trial(trial, url, tmp_path, org, server, span, monkeypatch)


@pytest.mark.postgres
@pytest.mark.parametrize("trial", range(SQLITE_TRIALS, SQLITE_TRIALS + POSTGRES_TRIALS))
def test_postgres_sync_killed_at_a_random_moment(
    trial: int,
    postgres_url: str,
    tmp_path: Path,
    org: FakeOrg,
    server: GitHubServer,
    span: Span,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    engine.dispose()
    _trial(trial, postgres_url, tmp_path, org, server, span, monkeypatch)


# --- runs left `running` ----------------------------------------------------------------------


def test_runs_left_running_are_marked_interrupted_by_the_next_sync(engine: Engine) -> None:
    """Only a sync holding the lock does this, so no live sync's row is touched."""
    runs = _t(SyncRun)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            runs.insert(),
            [
                {"source": "github", "started_at": now, "status": "running"},
                {"source": "mlflow", "started_at": now, "status": "ok", "ended_at": now},
                {"source": "import:meetings", "started_at": now, "status": "ok"},
            ],
        )
    run_sync(engine, parse_config('[[teams]]\nname = "Ranking"\n'), sources=[])
    assert [(run[3], run[1]) for run in _runs(engine)] == [
        ("github", "interrupted"),
        ("mlflow", "ok"),
        ("import:meetings", "ok"),
    ]


# --- killed during the very first start ---------------------------------------------------------

MIGRATION_KILLER = """
import os, signal, sys
from sqlalchemy import event
from data.db import alembic_config, make_engine, open_store_engine, upgrade

engine = make_engine(sys.argv[1])
created = 0

@event.listens_for(engine, "before_cursor_execute")
def kill_midway(conn, cursor, statement, *args):
    global created
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        created += 1
        if created == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)

upgrade(engine)
"""


@pytest.mark.parametrize("tables_made", [2, 12])
def test_a_start_killed_while_creating_the_schema_leaves_a_store_that_opens(
    store_url: str, tables_made: int
) -> None:
    """Every command and the app migrate the store on start, so the first sync of a new
    store may be killed inside its migration; the next start must finish it, not fail on
    "table already exists" (SQLite commits DDL one statement at a time unless told)."""
    killed = subprocess.run(
        [sys.executable, "-c", MIGRATION_KILLER, store_url, str(tables_made)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    engine = open_store_engine(store_url)
    try:
        with engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
            names = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert version == [(ScriptDirectory.from_config(alembic_config(engine)).get_current_head(),)]
    assert names >= {table.name for table in SQLModel.metadata.sorted_tables}
