"""`cli.py metrics` and `cli.py demo`: the documented shapes, one number everywhere."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from data.db import make_engine, upgrade
from data.demo import demo_config, write_demo
from data.loaders import Period
from data.store import row_counts
from metrics.catalog import catalog
from metrics.engine import compute_metrics
from tests.helpers import run_cli

ANCHOR = date(2026, 6, 30)
RECORD_KEYS = {"team", "metric", "value", "unit", "target", "status", "since", "until"}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    write_demo(engine, anchor=ANCHOR)
    engine.dispose()
    return url


def _metrics(url: str, tmp_path: Path, *args: str):
    return run_cli("metrics", *args, cwd=tmp_path, env={"DATABASE_URL": url})


def test_json_has_the_documented_shape_and_the_engine_numbers(
    demo_store: str, tmp_path: Path
) -> None:
    result = _metrics(demo_store, tmp_path, "--format", "json", "--until", ANCHOR.isoformat())
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert len(records) == 4 * len(catalog())
    assert all(set(record) == RECORD_KEYS for record in records)
    assert {record["status"] for record in records} <= {"ok", "breach", "unknown"}
    assert {record["since"] for record in records} == {"2026-04-02"}
    assert {record["until"] for record in records} == {"2026-06-30"}
    engine = make_engine(demo_store)
    config = demo_config(engine)
    assert config is not None
    expected = {
        (r.team, r.metric_id): r.value
        for r in compute_metrics(engine, config, Period(date(2026, 4, 2), ANCHOR))
    }
    assert {(r["team"], r["metric"]): r["value"] for r in records} == expected


def test_unknown_is_null_never_zero(demo_store: str, tmp_path: Path) -> None:
    # The least mature team deployed no model version in the period.
    result = _metrics(
        demo_store,
        tmp_path,
        "--format",
        "json",
        "--team",
        "Demand Forecasting",
        "--until",
        ANCHOR.isoformat(),
    )
    records = {r["metric"]: r for r in json.loads(result.stdout)}
    assert records["time_to_deploy_hours"]["value"] is None
    assert records["time_to_deploy_hours"]["status"] == "unknown"


def test_csv_matches_json(demo_store: str, tmp_path: Path) -> None:
    args = ("--team", "Fraud Detection", "--since", "2026-05-01", "--until", "2026-05-31")
    as_json = json.loads(_metrics(demo_store, tmp_path, "--format", "json", *args).stdout)
    as_csv = list(
        csv.DictReader(io.StringIO(_metrics(demo_store, tmp_path, "--format", "csv", *args).stdout))
    )
    assert [row["metric"] for row in as_csv] == [r["metric"] for r in as_json]
    for row, record in zip(as_csv, as_json, strict=True):
        if record["value"] is None:
            assert row["value"] == ""
        else:
            assert float(row["value"]) == pytest.approx(record["value"])


def test_table_lists_every_metric(demo_store: str, tmp_path: Path) -> None:
    result = _metrics(
        demo_store, tmp_path, "--team", "Search Ranking", "--until", ANCHOR.isoformat()
    )
    assert result.returncode == 0
    for metric_id in catalog():
        assert metric_id in result.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--since", "2026-13-01"), "--since"),
        (("--until", "yesterday"), "--until"),
        (("--since", "2026-05-02", "--until", "2026-05-01"), "before --since"),
        (("--team", "Nobody"), "unknown team 'Nobody'"),
        (("--format", "xml"), "xml"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    demo_store: str, tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    result = _metrics(demo_store, tmp_path, *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert named in result.stderr


@pytest.mark.slow
def test_demo_command_twice_changes_no_row_count(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = run_cli("demo", cwd=tmp_path, env={"DATABASE_URL": url})
    assert first.returncode == 0, first.stderr
    counts = row_counts(make_engine(url))
    # every two weeks from the first full 90-day window (day 275 before the anchor) on,
    # plus the day before the default period (day 90 before the anchor)
    assert counts["metric_snapshot"] == 4 * len(catalog()) * 21
    assert counts["score_snapshot"] == 4 * 4 * 21  # three pillars and overall
    second = run_cli("demo", cwd=tmp_path, env={"DATABASE_URL": url})
    assert second.returncode == 0, second.stderr
    assert row_counts(make_engine(url)) == counts
    assert "Demo organisation (small, anchored on" in second.stdout
