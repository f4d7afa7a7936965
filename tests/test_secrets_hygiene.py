"""Secrets never reach the store, logs, pages or exports (DESIGN §9).

A sentinel token is put in every variable the config names as a token (GitHub,
Prometheus, MLflow). Then everything that handles tokens runs: syncs against
servers that accept it, syncs against servers that refuse it and, as a careless
proxy might, echo the request's `Authorization` header in their error body, the
same from the real command line, `cli.py scan OWNER/REPO`, every report format,
and a browser session through every page, with Sync now. Each product is then
searched for the sentinel: every row of every table, every log record (DEBUG,
in-process; stderr of the subprocesses), every CLI output, every export, every
page's HTML, and the raw bytes of every file written. The servers count the
requests that carried the sentinel, so a test that never sent it cannot pass.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from config import parse_config
from connectors.sync import run_sync
from data.db import make_engine, upgrade
from pages.common import PAGES
from tests.conftest import service_missing
from tests.fakes.github_org import FakeOrg
from tests.fakes.github_server import GitHubServer
from tests.helpers import CLI
from tests.services.streamlit import StreamlitServer, copy_settings, streamlit_server

pytestmark = pytest.mark.slow

SENTINEL = "sk-SENTINEL-9f2c41d7e3b8a6c5"
TOKEN_VARIABLES = {
    "github": "MLOPS_HYGIENE_GITHUB_TOKEN",
    "prometheus": "MLOPS_HYGIENE_PROMETHEUS_TOKEN",
    "mlflow": "MLOPS_HYGIENE_MLFLOW_TOKEN",
}
REPORT_FORMATS = ("pdf", "html", "csv", "xlsx", "md")
WAIT_SECONDS = 300


# --- Prometheus, MLflow and a careless proxy on loopback -------------------------------------


class FakeApi:
    """Prometheus' and MLflow's REST APIs as an empty store answers them, for the bearer
    sentinel only; with `refuse` set, every request gets that status and an error body
    quoting the request's `Authorization` header."""

    def __init__(self, refuse: int | None = None) -> None:
        self.refuse = refuse
        self.with_sentinel = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api._answer(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                api._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        authorization = handler.headers.get("Authorization") or ""
        if SENTINEL in authorization:
            self.with_sentinel += 1
        path = handler.path.split("?", 1)[0]
        status, body = 200, self._body(path)
        if self.refuse is not None:
            quoted = f"request refused (Authorization: {authorization})"
            status = self.refuse
            body = {"status": "error", "errorType": "bad_data", "error": quoted}
            body |= {"error_code": "INVALID_PARAMETER_VALUE", "message": quoted}
        elif authorization != f"Bearer {SENTINEL}":
            status, body = 401, {"status": "error", "error": "unauthorized"}
        raw = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    @staticmethod
    def _body(path: str) -> Any:
        if path.startswith("/api/2.0/mlflow/"):
            return {"registered_models": []} if path.endswith("registered-models/search") else {}
        if path.endswith(("/query", "/query_range")):
            kind = "matrix" if path.endswith("range") else "vector"
            return {"status": "success", "data": {"resultType": kind, "result": []}}
        if path.endswith("/rules"):
            return {"status": "success", "data": {"groups": []}}
        if path.endswith("/runtimeinfo"):
            return {"status": "success", "data": {"storageRetention": "15d"}}
        return {"status": "success", "data": {}}


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Evidence:
    """Everything the run produced, by where it came from, and proof the sentinel was used."""

    folder: Path
    store_url: str
    config: Path
    texts: dict[str, str] = field(default_factory=dict)
    """Log records, CLI outputs, sync errors, page HTML: searched as text."""
    exports: dict[str, bytes] = field(default_factory=dict)
    sent_with_sentinel: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)


class _Records(logging.Handler):
    """Every log record of the run, formatted with its exception (as a log file has it)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def _debug_logs() -> Iterator[_Records]:
    """Every logger at DEBUG, as an operator chasing a problem would set them; PyGithub
    keeps its own at INFO unless told (its DEBUG lines carry the request headers)."""
    import github as pygithub  # its import sets its logger to INFO: import it first

    records = _Records()
    root, github = logging.getLogger(), logging.getLogger(pygithub.__name__)
    levels = root.level, github.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    github.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(records)
        root.setLevel(levels[0])
        github.setLevel(levels[1])


def _config_text(
    store_url: str, github: str, prometheus: str, mlflow: str, repos: list[str]
) -> str:
    return f"""
[store]
url = "{store_url}"

[github]
base_url = "{github}"
token_env = "{TOKEN_VARIABLES["github"]}"
timeout_seconds = 30

[prometheus]
url = "{prometheus}"
token_env = "{TOKEN_VARIABLES["prometheus"]}"

[mlflow]
tracking_uri = "{mlflow}"
token_env = "{TOKEN_VARIABLES["mlflow"]}"

[[teams]]
name = "Search Ranking"
repos = {repos[:1]!r}
models = ["ranker-*"]
endpoints = [{{ name = "ranker-api", selector = '{{job="ranker-api"}}' }}]

[[teams]]
name = "Fraud"
repos = {repos!r}
"""


def _sentinel_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MLOPS_CONFIG"}}
    env |= dict.fromkeys(TOKEN_VARIABLES.values(), SENTINEL)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _cli(evidence: Evidence, name: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(CLI), *arguments],
        cwd=evidence.folder,
        env=_sentinel_env(),
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=False,
    )
    evidence.texts[f"cli {name} stdout"] = result.stdout
    evidence.texts[f"cli {name} stderr"] = result.stderr
    return result


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evidence]:
    folder = tmp_path_factory.mktemp("hygiene")
    store_url = f"sqlite:///{folder / 'mlops.db'}"
    engine = make_engine(store_url)
    upgrade(engine)
    org = FakeOrg.synthetic(repos=2, prs=15, runs=20, deployments=3, seed=3)
    repos = sorted(repo.full_name for repo in org.repos.values())
    with (
        GitHubServer(org, token=SENTINEL) as github,
        FakeApi() as api,
        FakeApi(refuse=401) as refusing,
        FakeApi(refuse=400) as echoing,
        pytest.MonkeyPatch.context() as patch,
    ):
        for variable in TOKEN_VARIABLES.values():
            patch.setenv(variable, SENTINEL)
        good = _config_text(store_url, github.base_url, api.url, api.url, repos)
        configs = {
            "good": good,
            "refused": _config_text(store_url, refusing.url, refusing.url, refusing.url, repos),
            "echoed": _config_text(store_url, echoing.url, echoing.url, echoing.url, repos),
        }
        for name, text in configs.items():
            (folder / f"{name}.toml").write_text(text)
        found = Evidence(folder=folder, store_url=store_url, config=folder / "good.toml")

        with _debug_logs() as records:
            for name, text in configs.items():
                for report in run_sync(engine, parse_config(text)):
                    found.statuses[f"{name} {report.source}"] = report.status
                    found.texts[f"sync {name} {report.source} error"] = report.error or ""
        found.texts["in-process log (DEBUG)"] = "\n".join(records.lines)
        engine.dispose()

        _cli(found, "sync good", "sync", "--config", "good.toml")
        _cli(found, "sync echoed", "sync", "--config", "echoed.toml")
        _cli(found, "scan", "scan", repos[0], "--config", "good.toml", "--format", "json")
        _cli(found, "scan echoed", "scan", repos[0], "--config", "echoed.toml")
        _cli(found, "metrics", "metrics", "--config", "good.toml", "--format", "json")
        _cli(found, "score", "score", "--config", "good.toml", "--format", "json")
        for extension in REPORT_FORMATS:
            out = folder / f"report.{extension}"
            done = _cli(
                found,
                f"report {extension}",
                "report",
                "--format",
                extension,
                "--out",
                str(out),
                "--config",
                "good.toml",
            )
            assert done.returncode == 0, done.stderr
            found.exports[out.name] = out.read_bytes()

        found.sent_with_sentinel = {
            "github (requests it accepted)": github.total_requests,
            "prometheus and mlflow": api.with_sentinel,
            "refusing server": refusing.with_sentinel,
            "echoing server": echoing.with_sentinel,
        }
        yield found


# --- searching ---------------------------------------------------------------------------------


def _export_texts(name: str, content: bytes) -> list[str]:
    """What a reader of the export sees, besides its raw bytes."""
    texts = [content.decode("utf-8", errors="replace")]
    if name.endswith(".pdf"):
        from pypdf import PdfReader

        texts += [page.extract_text() or "" for page in PdfReader(BytesIO(content)).pages]
    if name.endswith(".xlsx"):
        with zipfile.ZipFile(BytesIO(content)) as archive:
            texts += [
                archive.read(member).decode("utf-8", "replace") for member in archive.namelist()
            ]
    return texts


def test_the_sentinel_was_sent_and_the_logs_were_captured(evidence: Evidence) -> None:
    """Without this, every search below could pass by never having used the token."""
    assert all(count > 0 for count in evidence.sent_with_sentinel.values()), evidence
    assert evidence.statuses["good github"] == "ok"
    assert evidence.statuses["refused github"] == "failed"
    for source in ("github", "prometheus", "mlflow"):  # the echo reached the error, redacted
        assert "Authorization: " in evidence.texts[f"sync echoed {source} error"], source
        assert "Bearer ***" in evidence.texts[f"sync echoed {source} error"] or source == "github"
    assert "Authorization: token ***" in evidence.texts["sync echoed github error"]
    log = evidence.texts["in-process log (DEBUG)"]
    assert "github.Requester DEBUG GET" in log, "PyGithub's request log was captured"
    assert "oauth token removed" in log, "PyGithub masks the Authorization header it logs"


def test_no_row_of_the_store_holds_the_sentinel(evidence: Evidence) -> None:
    engine = make_engine(evidence.store_url)
    rows = 0
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                rows += 1
                assert SENTINEL not in " ".join(map(str, row)), f"{table.name}: {row}"
    engine.dispose()
    assert rows > 100, "the syncs stored something to search"


def test_no_log_line_or_command_output_holds_the_sentinel(evidence: Evidence) -> None:
    leaked = {
        name: [line for line in text.splitlines() if SENTINEL in line][:3]
        for name, text in evidence.texts.items()
        if SENTINEL in text
    }
    assert leaked == {}


def test_no_export_holds_the_sentinel(evidence: Evidence) -> None:
    assert sorted(evidence.exports) == sorted(f"report.{ext}" for ext in REPORT_FORMATS)
    for name, content in evidence.exports.items():
        assert all(SENTINEL not in text for text in _export_texts(name, content)), name


def test_no_file_written_holds_the_sentinel(evidence: Evidence) -> None:
    """The raw bytes of the database (free pages and WAL too), the lock file, the
    exports: a value once written and later overwritten would still be found here."""
    needle = SENTINEL.encode()
    written = [path for path in evidence.folder.rglob("*") if path.is_file()]
    assert any(path.name == "mlops.db" for path in written)
    assert [str(path) for path in written if needle in path.read_bytes()] == []


# --- the browser ---------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


@contextmanager
def _dashboard(evidence: Evidence) -> Iterator[StreamlitServer]:
    """`streamlit run app.py` on the hygiene store and config, tokens in its environment."""
    copy_settings(evidence.folder)
    env = _sentinel_env() | {
        "DATABASE_URL": evidence.store_url,
        "MLOPS_CONFIG": str(evidence.config),
    }
    with streamlit_server(evidence.folder, env, start_seconds=WAIT_SECONDS) as running:
        yield running


@pytest.mark.browser
def test_no_page_shows_the_sentinel_even_after_sync_now(evidence: Evidence) -> None:
    if not CHROMIUM.is_file():
        service_missing(f"Debian's chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("the playwright Python package is not installed")
    pages: dict[str, str] = {}
    with _dashboard(evidence) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(server.base_url)
        page.wait_for_selector(IDLE)
        for title, _icon in PAGES.values():
            page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
            page.get_by_role("heading", name=title, exact=True).wait_for()
            page.wait_for_selector(IDLE)
            pages[title] = page.content()
        page.get_by_role("button", name="Sync now").click()
        page.get_by_text("Sync finished").first.wait_for()
        page.wait_for_selector(IDLE)
        pages["Settings / Status after Sync now"] = page.content()
        browser.close()
        server_log = server.log.read_text()
    assert "Sync finished" in pages["Settings / Status after Sync now"]
    leaked = [name for name, html in pages.items() if SENTINEL in html]
    assert leaked == []
    assert SENTINEL not in server_log
