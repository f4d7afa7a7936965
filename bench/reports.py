"""The PDF leadership report for the large demo organisation's 40 teams.

Budget (issue: leadership reports): <= 10 s for the PDF, measured in the process
as a scheduled job spends it: building the report (every metric and score of
every team for this quarter so far and for the last quarter, a year of
snapshots, data freshness; the previous period in a forked process, as the CLI
does) and rendering the PDF (charts included). Also
reported: the first run, `cli.py report` end to end (interpreter start and
imports included), and the other formats' render times.

The large demo is `bench/large.db` (written by `cli.py demo --size large` when
absent, with its year of metric and score snapshots).

    python -m bench.reports [--store sqlite:///bench/large.db] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from pypdf import PdfReader
from sqlalchemy.engine import Engine

from bench.metrics_scale import DEFAULT_STORE
from bench.results import record
from data.db import open_store_engine
from data.demo import demo_config, demo_info
from data.store import row_counts
from data.tables import ScoreSnapshot
from reports.formats import ReportFormat, render
from reports.model import build_report
from reports.period import parse_period

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 10.0
T = TypeVar("T")


def _large_store(url: str) -> Engine:
    """The large demo with its snapshots, written once (a few minutes) and reused."""
    engine = open_store_engine(url)
    info = demo_info(engine)
    has_history = row_counts(engine, [ScoreSnapshot])["score_snapshot"] > 0
    if info is None or info.size != "large" or not has_history:
        print("writing the large demo organisation with its history (a few minutes)…")
        subprocess.run(
            [sys.executable, "cli.py", "demo", "--size", "large", "--reset"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            check=True,
        )
    return engine


def _timed(function: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _cpu_timed(function: Callable[[], T]) -> tuple[float, float, T]:
    """Wall and CPU seconds of this process (the forked process computing the previous
    period is not counted): what it takes on an idle core, whatever else the machine runs."""
    cpu_started = time.process_time()
    wall, result = _timed(function)
    return wall, time.process_time() - cpu_started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = _large_store(args.store)
    info, config = demo_info(engine), demo_config(engine)
    assert info is not None
    assert config is not None
    periods = parse_period("quarter", info.anchor)

    runs: list[tuple[float, float, float]] = []
    for _ in range(args.repeat + 1):  # the first run separately: caches and fonts are cold
        build_s, build_cpu, report = _cpu_timed(
            partial(build_report, engine, config, periods, fork=True)
        )
        render_s, render_cpu, pdf = _cpu_timed(partial(render, report, ReportFormat.pdf))
        runs.append((build_s, render_s, build_cpu + render_cpu))
        print(f"build {build_s:.2f} s, render {render_s:.2f} s, CPU {build_cpu + render_cpu:.2f} s")
    first, warm = runs[0], runs[1:]
    build_median = statistics.median(run[0] for run in warm)
    render_median = statistics.median(run[1] for run in warm)
    total = statistics.median(run[0] + run[1] for run in warm)
    cpu = statistics.median(run[2] for run in warm)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    others = {
        output_format: _timed(partial(render, report, output_format))[0]
        for output_format in ReportFormat
        if output_format is not ReportFormat.pdf
    }
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0]

    spec = f"{periods.current.since}..{periods.current.until}"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "report.pdf"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), "report", "--format", "pdf", "--out", str(out),
             "--period", spec],
            cwd=folder,
            env={**os.environ, "DATABASE_URL": args.store},
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        cli_s = time.perf_counter() - started

    within = "within budget" if total <= BUDGET_S else "OVER BUDGET"
    lines = [
        f"Large demo anchored on {info.anchor}: {len(report.teams)} teams "
        f"(`--period quarter`: {periods.description}); a {pages}-page PDF of "
        f"{len(pdf) / 2**20:.1f} MiB.",
        "",
        "| measure | figure | budget |",
        "|---|---|---|",
        f"| PDF report, build + render (median of {args.repeat}) | {total:.2f} s | "
        f"≤ {BUDGET_S:.0f} s |",
        f"| of which building the report (metrics and scores of two periods, snapshots) | "
        f"{build_median:.2f} s | |",
        f"| of which rendering the PDF (charts, tables, sparklines) | {render_median:.2f} s | |",
        f"| this process's CPU time for the same (the previous period runs in a forked "
        f"process meanwhile) | {cpu:.2f} s | |",
        f"| first run (cold caches) | {first[0] + first[1]:.2f} s | |",
        f"| `cli.py report --format pdf` end to end (new process) | {cli_s:.2f} s | |",
        f"| peak memory of the process (max RSS) | {peak_mib:.0f} MiB | |",
        "",
        "Rendering the same report in the other formats: "
        + ", ".join(f"{f.value.upper()} {s:.2f} s" for f, s in others.items())
        + ".",
        "",
        f"Budget: <= {BUDGET_S:.0f} s for the 40-team PDF — {within}. Load average (1 min) "
        f"when the runs ended: {load:.1f} on {os.cpu_count()} cores; other work on the machine "
        "slows every figure.",
    ]
    record("Reports (bench/reports.py)", "python -m bench.reports", lines)


if __name__ == "__main__":
    main()
