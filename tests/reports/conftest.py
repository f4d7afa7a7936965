"""Fixtures for the report tests: a private copy of the demo store, a period fixed on the
demo's anchor day (so nothing depends on today), and `cli.py` as a user runs it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from data.db import make_engine
from data.demo import demo_info
from tests.conftest import demo_store_at
from tests.helpers import run_cli

DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]
FORMATS = ("pdf", "html", "csv", "xlsx", "md")


@dataclass(frozen=True)
class DemoStore:
    url: str
    folder: Path
    anchor: date

    def cli(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=self.folder, env={"DATABASE_URL": self.url, **(env or {})})


@pytest.fixture(scope="session")
def demo_store(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    """One copy of the demo for the read-only report tests (no mlops.toml in its folder)."""
    folder = tmp_path_factory.mktemp("reports")
    url = demo_store_at(demo_template, folder / "store" / "mlops.db")
    engine = make_engine(url)
    info = demo_info(engine)
    engine.dispose()
    assert info is not None
    return DemoStore(url, folder, info.anchor)


@pytest.fixture(scope="session")
def period_bounds(demo_store: DemoStore) -> tuple[date, date]:
    """The 90 days ending on the demo's anchor day."""
    return demo_store.anchor - timedelta(days=89), demo_store.anchor


@pytest.fixture(scope="session")
def period_spec(period_bounds: tuple[date, date]) -> str:
    since, until = period_bounds
    return f"{since.isoformat()}..{until.isoformat()}"


@pytest.fixture(scope="session")
def exports(
    demo_store: DemoStore, period_spec: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """`cli.py report` in every format for the demo organisation and the fixed period."""
    folder = tmp_path_factory.mktemp("exports")
    written = {}
    for output_format in FORMATS:
        out = folder / f"report.{output_format}"
        result = demo_store.cli(
            "report", "--format", output_format, "--out", str(out), "--period", period_spec
        )
        assert result.returncode == 0, result.stderr
        assert f"Wrote {out}" in result.stdout
        written[output_format] = out
    return written


@pytest.fixture(scope="session")
def cli_json(
    demo_store: DemoStore, period_bounds: tuple[date, date]
) -> Callable[[str], list[dict[str, Any]]]:
    """`cli.py metrics|score --format json` for every team and the fixed period."""
    since, until = period_bounds
    printed: dict[str, list[dict[str, Any]]] = {}

    def run(command: str) -> list[dict[str, Any]]:
        if command not in printed:
            result = demo_store.cli(
                command,
                "--format",
                "json",
                "--since",
                since.isoformat(),
                "--until",
                until.isoformat(),
            )
            assert result.returncode == 0, result.stderr
            printed[command] = json.loads(result.stdout)
        return printed[command]

    return run
