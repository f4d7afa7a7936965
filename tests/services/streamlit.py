"""`streamlit run app.py` on a free loopback port, for the browser tests and bench/load.py.

The dashboard is started as a user starts it, in a working folder of its own (its
`.streamlit/` settings, its `mlops.toml` or none), and is ready once
`/_stcore/health` answers exactly `ok`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services.process import stop

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
START_SECONDS = 90.0


@dataclass(frozen=True)
class StreamlitServer:
    base_url: str
    log: Path
    """The server's stdout and stderr."""
    pid: int


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def copy_settings(workdir: Path) -> None:
    """The project's `.streamlit/` settings (theme, server options) without a developer's
    `secrets.toml`, so no login is configured unless a test writes one."""
    shutil.copytree(ROOT / ".streamlit", workdir / ".streamlit", dirs_exist_ok=True)
    (workdir / ".streamlit" / "secrets.toml").unlink(missing_ok=True)


def health(base_url: str, timeout: float = 2) -> str | None:
    """The body of `/_stcore/health`, or None when the server does not answer."""
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=timeout) as answer:
            return str(answer.read().decode())
    except (urllib.error.URLError, OSError):
        return None


@contextmanager
def streamlit_server(
    workdir: Path,
    env: Mapping[str, str],
    *options: str,
    port: int | None = None,
    start_seconds: float = START_SECONDS,
) -> Iterator[StreamlitServer]:
    """The dashboard run from `workdir` with exactly `env`; `options` go to `streamlit run`.
    Raises RuntimeError, with the server's output, if it is not healthy in time."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = workdir / f"streamlit-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(APP),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--browser.gatherUsageStats",
                "false",
                # Files edited while a test runs must not rerun the app under it.
                "--server.fileWatcherType",
                "none",
                *options,
            ],
            cwd=workdir,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + start_seconds
        while health(base_url) != "ok":
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not become healthy:\n{log.read_text()}")
            time.sleep(0.25)
        yield StreamlitServer(base_url=base_url, log=log, pid=process.pid)
    finally:
        stop(process)
