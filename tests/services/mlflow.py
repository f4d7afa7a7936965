"""A real `mlflow server` on loopback for the connector tests, run from its own virtualenv.

mlflow pins libraries the app cannot share (pandas < 3), so it lives in
`.venv-mlflow`: the app's venv never imports it. Tests talk to the server over
HTTP and set up its registry with `mlflow_populate.py` in a subprocess of that venv.
`python -m tests.services.mlflow` makes the venv (CI runs it before the tests);
the fixture makes it too when missing, which takes a minute or two the first time.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import service_missing
from tests.services.process import stop

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MLFLOW_REQUIREMENT = "mlflow==3.17.2"
"""A version whose mlflow-skinny of the same version is on the index (DESIGN §8)."""
VENV = PROJECT_ROOT / ".venv-mlflow"
_INSTALLED_MARKER = VENV / ".installed"
"""Holds the requirement once pip finished, so a half-made venv is made again."""
POPULATE = Path(__file__).with_name("mlflow_populate.py")
SERVER_START_SECONDS = 180
INSTALL_TIMEOUT_SECONDS = 20 * 60


def _quiet_env() -> dict[str, str]:
    """No telemetry calls out of this machine; no app settings leaking into mlflow."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MLFLOW_")}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    return env


def ensure_venv() -> Path:
    """The bin folder of `.venv-mlflow`, made first if missing; raises CalledProcessError."""
    bin_dir = VENV / "bin"
    if _INSTALLED_MARKER.is_file() and _INSTALLED_MARKER.read_text() == MLFLOW_REQUIREMENT:
        return bin_dir
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", MLFLOW_REQUIREMENT],
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )
    _INSTALLED_MARKER.write_text(MLFLOW_REQUIREMENT)
    return bin_dir


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class MlflowServer:
    url: str
    backend_db: Path
    bin_dir: Path

    def apply(self, spec: dict[str, Any]) -> dict[str, dict[str, str | None]]:
        """Run `mlflow_populate.py` on `spec`; returns {model: {version: run_id or None}}."""
        done = subprocess.run(
            # -I: the script folder must not shadow the mlflow package with this module.
            [str(self.bin_dir / "python"), "-I", str(POPULATE), self.url, str(self.backend_db)],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env=_quiet_env(),
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"mlflow_populate.py failed:\n{done.stderr[-4000:]}")
        versions: dict[str, dict[str, str | None]] = json.loads(done.stdout)["versions"]
        return versions


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_server(workdir: Path, bin_dir: Path) -> Iterator[MlflowServer]:
    """`mlflow server` with a SQLite backend in `workdir`, on a free loopback port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    backend_db = workdir / "mlflow.db"
    log = workdir / "mlflow-server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                str(bin_dir / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{backend_db}",
                "--default-artifact-root",
                str(workdir / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            cwd=workdir,
            env=_quiet_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"mlflow server did not answer {url}/health:\n{log.read_text()[-4000:]}"
                )
            time.sleep(0.5)
        yield MlflowServer(url=url, backend_db=backend_db, bin_dir=bin_dir)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One server for the session; tests keep apart by giving their models unique names."""
    try:
        bin_dir = ensure_venv()
    except (OSError, subprocess.SubprocessError) as exc:
        service_missing(f"cannot make {VENV.name} with {MLFLOW_REQUIREMENT}: {exc}")
    with running_server(tmp_path_factory.mktemp("mlflow"), bin_dir) as server:
        yield server


@dataclass
class BearerProxy:
    """A loopback proxy that lets through only `Authorization: Bearer <token>`.

    OSS `mlflow server` checks no bearer token, while Databricks does; this stands in
    for the check. `faults` are statuses answered (with `Retry-After: 0`) before
    forwarding, one per request, and `seen` counts the requests that reached the proxy.
    """

    upstream: str
    token: str
    faults: list[int] = field(default_factory=list)
    seen: int = 0
    url: str = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        self.seen += 1
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            self._answer(handler, 401, b'{"error_code": "UNAUTHENTICATED", "message": "bad token"}')
            return
        if self.faults:
            self._answer(handler, self.faults.pop(0), b'{"error_code": "TOO_MANY_REQUESTS"}')
            return
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=60)
        headers = {"Content-Type": handler.headers.get("Content-Type", "application/json")}
        connection.request(handler.command, handler.path, body=body, headers=headers)
        answer = connection.getresponse()
        self._answer(handler, answer.status, answer.read(), answer.getheader("Content-Type"))
        connection.close()

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str | None = "application/json",
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type or "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Retry-After", "0")
        handler.end_headers()
        handler.wfile.write(body)


@contextmanager
def bearer_proxy(upstream: str, token: str) -> Iterator[BearerProxy]:
    proxy = BearerProxy(upstream=upstream, token=token)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            proxy.handle(self)

        def do_POST(self) -> None:
            proxy.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


if __name__ == "__main__":
    print(f"{MLFLOW_REQUIREMENT} ready in {ensure_venv().parent}")
