"""The sync's health for Prometheus: what the text says, where it goes, what it never says."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from config import SyncConfig, parse_config
from connectors import sync
from connectors.base import SourceOutcome, SyncContext
from connectors.health import PUSHGATEWAY_JOB, publish_sync_health, read_health, render
from data.store import write_transaction
from data.tables import SyncRun
from tests.conftest import service_missing

SECRET = "ghp_not-a-real-token-but-secret"
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


class Messages:
    """A `Progress` that keeps the messages a sync shows."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def start(self, task: str, total: int | None = None) -> None:
        pass

    def advance(self, task: str, step: int = 1) -> None:
        pass

    def message(self, text: str) -> None:
        self.lines.append(text)


def _run(
    engine: Engine,
    source: str,
    status: str,
    started: datetime,
    seconds: float | None,
    calls: int = 0,
    rows: int = 0,
    error: str | None = None,
) -> None:
    table = SyncRun.__table__  # type: ignore[attr-defined]
    ended = None if seconds is None else started + timedelta(seconds=seconds)
    with write_transaction(engine) as connection:
        connection.execute(
            table.insert().values(
                source=source,
                started_at=started,
                ended_at=ended,
                status=status,
                api_calls=calls,
                rows_written=rows,
                error=error,
            )
        )


@pytest.fixture
def history(engine: Engine) -> Engine:
    """github: ok, then failed; prometheus: one ok; mlflow: killed, then still running."""
    _run(engine, "github", "ok", T0, 120, calls=40, rows=300)
    _run(
        engine,
        "github",
        "failed",
        T0 + timedelta(hours=1),
        5,
        calls=2,
        error=f"GitHub answered 401 for token {SECRET}",
    )
    _run(engine, "prometheus", "ok", T0 + timedelta(minutes=3), 30.5, calls=12, rows=48)
    _run(engine, "mlflow", "interrupted", T0 + timedelta(minutes=5), None)
    _run(engine, "mlflow", "running", T0 + timedelta(hours=1), None)
    _run(engine, "import:meetings", "ok", T0, 1, rows=3)
    return engine


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by name and labels, as Prometheus's own parser reads the text."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_text_format_reads_back_per_source(history: Engine) -> None:
    text = render(read_health(history))
    samples = _samples(text)

    assert {dict(labels)["source"] for _name, labels in samples} == {
        "github",
        "prometheus",
        "mlflow",
    }  # imports are not syncs
    github_ok_end = (T0 + timedelta(seconds=120)).timestamp()
    assert _value(samples, "mlops_sync_last_success_timestamp_seconds", source="github") == (
        github_ok_end
    )
    assert _value(samples, "mlops_sync_last_run_status", source="github", status="failed") == 1
    assert _value(samples, "mlops_sync_last_run_status", source="github", status="ok") == 0
    assert _value(samples, "mlops_sync_last_run_duration_seconds", source="github") == 5
    assert _value(samples, "mlops_sync_last_run_requests", source="github") == 2
    assert _value(samples, "mlops_sync_requests_total", source="github") == 42
    assert _value(samples, "mlops_sync_runs_total", source="github", status="ok") == 1
    assert _value(samples, "mlops_sync_runs_total", source="github", status="failed") == 1
    assert _value(samples, "mlops_sync_runs_total", source="github", status="rate_limited") == 0

    assert _value(samples, "mlops_sync_last_run_duration_seconds", source="prometheus") == 30.5
    assert _value(samples, "mlops_sync_last_run_rows_written", source="prometheus") == 48

    # mlflow never succeeded: success time 0 (an age alert fires), the killed run counts,
    # the one still running does not, and a run without an end has no duration.
    assert _value(samples, "mlops_sync_last_success_timestamp_seconds", source="mlflow") == 0
    assert _value(samples, "mlops_sync_runs_total", source="mlflow", status="interrupted") == 1
    assert _value(samples, "mlops_sync_last_run_status", source="mlflow", status="interrupted") == 1
    assert ("mlops_sync_last_run_duration_seconds", (("source", "mlflow"),)) not in samples

    assert "# TYPE mlops_sync_requests_total counter" in text
    assert "# TYPE mlops_sync_last_success_timestamp_seconds gauge" in text


def test_no_token_or_error_text_reaches_the_metrics(
    history: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    text = render(read_health(history))
    assert SECRET not in text
    assert "401" not in text


def test_promtool_accepts_the_text(history: Engine, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        service_missing("promtool (Debian package prometheus) is not installed")
    assert promtool is not None
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=render(read_health(history)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_textfile_is_replaced_whole(history: Engine, tmp_path: Path) -> None:
    """A reader that opened the old file keeps reading all of it: the new one is renamed in."""
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir()
    path = textfile_dir / "mlops_sync.prom"
    settings = SyncConfig(metrics_textfile=str(path))
    progress = Messages()
    publish_sync_health(history, settings, progress)
    first = path.read_text()

    with path.open() as reader:
        _run(history, "prometheus", "failed", T0 + timedelta(hours=2), 3, calls=1)
        publish_sync_health(history, settings, progress)
        assert reader.read() == first

    second = path.read_text()
    assert second != first
    assert _value(_samples(second), "mlops_sync_runs_total", source="prometheus", status="failed")
    assert os.listdir(textfile_dir) == ["mlops_sync.prom"]  # no temporary file left
    assert progress.lines == [f"sync health: written to {path}"] * 2


def test_an_unwritable_textfile_is_a_message_not_an_error(history: Engine, tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "mlops_sync.prom"
    progress = Messages()
    publish_sync_health(history, SyncConfig(metrics_textfile=str(path)), progress)
    assert progress.lines == [f"sync health: cannot write {path}: No such file or directory"]


def test_nothing_configured_publishes_nothing(history: Engine) -> None:
    progress = Messages()
    publish_sync_health(history, SyncConfig(), progress)
    assert progress.lines == []


class _Pushgateway(BaseHTTPRequestHandler):
    """Records each push; answers with the status the test sets on the server."""

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server: Any = self.server
        server.pushes.append((self.command, self.path, self.headers["Content-Type"], body))
        self.send_response(server.answer)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def pushgateway() -> Iterator[Any]:
    server: Any = HTTPServer(("127.0.0.1", 0), _Pushgateway)
    server.pushes = []
    server.answer = 200
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_push_replaces_the_job_group(history: Engine, pushgateway: Any) -> None:
    progress = Messages()
    publish_sync_health(history, SyncConfig(pushgateway_url=pushgateway.url), progress)

    [(method, path, content_type, body)] = pushgateway.pushes
    assert method == "PUT"  # PUT replaces every metric of the group; POST would merge
    assert path == f"/metrics/job/{PUSHGATEWAY_JOB}"
    assert content_type.startswith("text/plain; version=0.0.4")
    samples = _samples(body.decode())
    assert _value(samples, "mlops_sync_requests_total", source="github") == 42
    assert progress.lines == [f"sync health: pushed to the Pushgateway at {pushgateway.url}"]


def test_a_refused_push_is_a_message_without_the_path(history: Engine, pushgateway: Any) -> None:
    pushgateway.answer = 503
    progress = Messages()
    url = f"{pushgateway.url}/gateway?key={SECRET}"
    publish_sync_health(history, SyncConfig(pushgateway_url=url), progress)
    assert progress.lines == [
        f"sync health: cannot push to the Pushgateway at {pushgateway.url}: Service Unavailable"
    ]
    assert SECRET not in " ".join(progress.lines)


def test_an_unreachable_pushgateway_is_a_message(history: Engine, pushgateway: Any) -> None:
    url = pushgateway.url
    pushgateway.shutdown()
    pushgateway.server_close()
    progress = Messages()
    publish_sync_health(history, SyncConfig(pushgateway_url=url), progress)
    [line] = progress.lines
    assert line.startswith(f"sync health: cannot push to the Pushgateway at {url}: ")
    assert "refused" in line.lower()


def test_the_sync_publishes_its_health_and_survives_a_failure(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "node_exporter" / "mlops_sync.prom"
    config = parse_config(
        f"""
[github]
[sync]
metrics_textfile = "{path}"
[[teams]]
name = "Ranking"
repos = ["acme/ranker"]
"""
    )

    def github(context: SyncContext) -> SourceOutcome:
        context.requests.count("GET /repos/acme/ranker/pulls", 3)
        return SourceOutcome(rows_written=5)

    monkeypatch.setattr(sync, "_connector", lambda source: github)
    progress = Messages()
    [report] = sync.run_sync(engine, config, progress=progress, snapshot=False)
    assert report.status == "ok"
    assert progress.lines[-1] == f"sync health: cannot write {path}: No such file or directory"

    path.parent.mkdir()
    sync.run_sync(engine, config, progress=progress, snapshot=False)
    assert progress.lines[-1] == f"sync health: written to {path}"
    samples = _samples(path.read_text())
    assert _value(samples, "mlops_sync_requests_total", source="github") == 6
    assert _value(samples, "mlops_sync_runs_total", source="github", status="ok") == 2
