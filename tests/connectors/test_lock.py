"""One sync at a time (connectors/lock.py), on SQLite and PostgreSQL.

The acceptance of the production issue: two real `cli.py sync` processes started
together, exactly one runs and the other exits 1 with "a sync is already running
since T UTC (pid N)"; once the first ends the lock is free; a holder killed with
SIGKILL never leaves it stuck. No test here depends on how fast anything runs: the
fake GitHub server holds the winning sync at its first request until the loser has
exited, so the two always overlap.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Status

from config import parse_config
from connectors import lock
from connectors.lock import (
    HOLDER_META_KEY,
    LOCK_FILE_SUFFIX,
    SyncLockedError,
    advisory_key,
    sync_lock,
)
from connectors.sync import run_sync
from data.db import make_engine
from data.store import get_meta, set_meta
from data.tables import SyncRun
from tests.fakes.github_org import FakeOrg
from tests.fakes.github_server import GitHubServer
from tests.helpers import CLI, PROJECT_ROOT

TOKEN_ENV = "MLOPS_TEST_GITHUB_TOKEN"
TOKEN = "test-token"
LOCKED = re.compile(
    r"^a sync is already running since (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC \(pid (\d+)\)$"
)
WAIT_SECONDS = 120
"""Upper bound on waiting for a subprocess step; reaching it is a failure, never a pass."""

HOLDER_SCRIPT = """
import sys
from connectors.lock import sync_lock
from data.db import make_engine

with sync_lock(make_engine(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()  # hold until the test closes stdin, or kills this process
print("released", flush=True)
"""


class GatedGitHubServer(GitHubServer):
    """Holds every request until `gate` opens, so a sync that got the lock stays inside it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.reached = threading.Event()

    def _serve(self, handler: Any) -> None:
        self.reached.set()
        self.gate.wait(WAIT_SECONDS)
        super()._serve(handler)


def _holder(store_url: str) -> subprocess.Popen[str]:
    """A process holding the lock of `store_url` until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, store_url],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line == "locked\n", process.stderr.read() if process.stderr else line
    return process


def _acquire_soon(engine: Engine) -> None:
    """Take and release the lock, retrying while PostgreSQL notices a dead session (it
    ends the session when it reads the closed socket, a moment after the kill)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            with sync_lock(engine):
                return
        except SyncLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _refusal(engine: Engine) -> str:
    """The message of a lock attempt that must be refused."""
    try:
        with sync_lock(engine):
            pass
    except SyncLockedError as exc:
        return str(exc)
    pytest.fail("the lock was free while another held it")


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MLOPS_CONFIG"}}
    env[TOKEN_ENV] = TOKEN
    return env


# --- the lock itself ----------------------------------------------------------------------


def test_a_second_lock_is_refused_naming_the_holder(engine: Engine) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    with sync_lock(engine) as holder:
        message = _refusal(engine)
        found = LOCKED.match(message)
        assert found, message
        assert int(found.group(2)) == os.getpid() == holder.pid
        since = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        assert before <= since <= datetime.now(UTC)
    with sync_lock(engine):
        pass  # free again


def test_the_lock_is_released_when_the_sync_raises(engine: Engine) -> None:
    with pytest.raises(RuntimeError), sync_lock(engine):
        raise RuntimeError("a bug inside the sync")
    with sync_lock(engine):
        pass


def test_run_sync_is_refused_while_another_holds_the_lock(engine: Engine) -> None:
    config = parse_config('[[teams]]\nname = "Ranking"\n')
    with sync_lock(engine), pytest.raises(SyncLockedError):
        run_sync(engine, config, sources=[])
    with engine.connect() as connection:
        runs = connection.execute(select(SyncRun.__table__.c.id)).all()  # type: ignore[attr-defined]
    assert runs == [], "a refused sync records nothing"


def test_the_holder_record_of_a_dead_holder_is_not_believed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock is held by someone who has not said who they are yet, and a record left
    behind by a killed holder names someone else: the refusal must not quote that record."""
    monkeypatch.setattr(lock, "HOLDER_READ_SECONDS", 0.2)
    stale = '{"since": "2020-01-01T00:00:00+00:00", "pid": 4242, "host": "gone", "backend": 1}'
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            set_meta(connection, HOLDER_META_KEY, stale)
        other = create_engine(engine.url)
        with other.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
            assert connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": advisory_key(schema)}
            ).scalar_one()
            assert _refusal(engine) == "a sync is already running (it has just started)"
        other.dispose()
    else:
        path = Path(str(engine.url.database) + LOCK_FILE_SUFFIX)
        path.write_text(stale[: len(stale) // 2])  # a holder that was killed mid-write
        with path.open("r+") as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            assert _refusal(engine) == "a sync is already running (it has just started)"
    with sync_lock(engine):
        pass


# --- real processes -------------------------------------------------------------------------


def test_a_killed_holder_does_not_leave_the_lock_stuck(engine: Engine, store_url: str) -> None:
    holder = _holder(store_url)
    assert _refusal(engine).endswith(f"(pid {holder.pid})")
    holder.send_signal(signal.SIGKILL)
    holder.wait(WAIT_SECONDS)
    holder.communicate()
    _acquire_soon(engine)
    with sync_lock(engine):
        # The dead holder's record (PostgreSQL keeps it in app_meta) names it no more.
        assert _refusal(engine).endswith(f"(pid {os.getpid()})")


def test_a_lock_held_by_another_process_is_freed_when_it_ends(
    engine: Engine, store_url: str
) -> None:
    holder = _holder(store_url)
    assert _refusal(engine).endswith(f"(pid {holder.pid})")
    stdout, _stderr = holder.communicate("", timeout=WAIT_SECONDS)
    assert (holder.returncode, stdout) == (0, "released\n")
    with sync_lock(engine):
        pass
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            assert get_meta(connection, HOLDER_META_KEY) is None, "the holder forgets its record"


@pytest.fixture
def gated_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GatedGitHubServer]:
    org = FakeOrg.synthetic(repos=1, prs=12, runs=15, deployments=2, seed=11)
    server = GatedGitHubServer(org, token=TOKEN)
    with server:
        yield server


@pytest.mark.slow
def test_two_concurrent_cli_syncs_one_runs_and_the_other_is_refused(
    engine: Engine, store_url: str, gated_server: GatedGitHubServer, tmp_path: Path
) -> None:
    repo = next(iter(gated_server.org.repos.values())).full_name
    config = tmp_path / "mlops.toml"
    config.write_text(
        f'[store]\nurl = "{store_url}"\n\n[github]\nbase_url = "{gated_server.base_url}"\n'
        f'token_env = "{TOKEN_ENV}"\ntimeout_seconds = {WAIT_SECONDS * 2}\n\n'
        f'[[teams]]\nname = "Ranking"\nrepos = ["{repo}"]\n'
    )
    command = [sys.executable, str(CLI), "sync", "--config", str(config)]
    syncs = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=_cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        # The winner is held at its first request; the loser must give up meanwhile.
        assert gated_server.reached.wait(WAIT_SECONDS), "no sync reached the server"
        deadline = time.monotonic() + WAIT_SECONDS
        while all(sync.poll() is None for sync in syncs) and time.monotonic() < deadline:
            time.sleep(0.05)
        finished = [sync for sync in syncs if sync.poll() is not None]
        assert len(finished) == 1, "exactly one sync must have stopped while the other runs"
        [loser] = finished
        [winner] = [sync for sync in syncs if sync is not loser]
        loser_out, loser_err = loser.communicate(timeout=WAIT_SECONDS)
        assert loser.returncode == 1, loser_err
        assert loser_out == ""
        [line] = [line for line in loser_err.splitlines() if line.strip()]  # one message
        assert line.startswith("error: "), line
        found = LOCKED.match(line.removeprefix("error: "))
        assert found, line
        assert int(found.group(2)) == winner.pid
        gated_server.gate.set()
        winner_out, winner_err = winner.communicate(timeout=WAIT_SECONDS)
    finally:
        gated_server.gate.set()
        for sync in syncs:  # a failed assertion must not leave a sync behind
            if sync.poll() is None:
                sync.kill()
                sync.communicate()
    assert winner.returncode == 0, winner_out + winner_err
    assert "│ github │ ok" in winner_out

    runs = SyncRun.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        recorded = connection.execute(select(runs.c.source, runs.c.status)).all()
    assert [tuple(row) for row in recorded] == [("github", "ok")], "the loser recorded nothing"

    # The lock is free again: the next sync runs (and finds nothing new).
    again = subprocess.run(
        command, cwd=tmp_path, env=_cli_env(), capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stdout + again.stderr


# --- the Status page ---------------------------------------------------------------------------


def test_sync_now_shows_a_running_sync_as_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'mlops.db'}"
    config = tmp_path / "mlops.toml"
    config.write_text(
        f'[store]\nurl = "{url}"\n\n[github]\nbase_url = "http://127.0.0.1:9"\n'
        f'token_env = "{TOKEN_ENV}"\n\n[[teams]]\nname = "Ranking"\nrepos = ["acme/ranker"]\n'
    )
    monkeypatch.setenv("MLOPS_CONFIG", str(config))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/status.py").run()
    assert not at.exception
    engine = make_engine(url)
    with sync_lock(engine):
        at.button(key="sync_now").click().run()
    engine.dispose()
    assert not at.exception
    [status] = at.get("status")
    assert isinstance(status, Status)
    assert status.state == "error"
    assert status.label.startswith("Sync not started: a sync is already running since ")
    assert status.label.endswith(f"UTC (pid {os.getpid()})")
