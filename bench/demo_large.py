"""Time, peak memory and store size of writing the large demo organisation.

The large demo (40 teams, 400 repos, ~1M workflow runs, ~100k PRs, 10k model
versions, a year of daily aggregates for 200 endpoints) is the data set every
other benchmark reads, so how long it takes to write is itself a budget.

    python -m bench.demo_large [--postgres URL]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import record
from data.db import make_engine
from data.store import row_counts

ROOT = Path(__file__).resolve().parent.parent


def _run_demo(url: str) -> tuple[float, float]:
    """Wall seconds and the child's peak RSS in MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "cli.py", "demo", "--size", "large", "--reset"],
        cwd=ROOT,
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kib <= before:
        peak_kib = before  # the largest child so far was an earlier one; still an upper bound
    return seconds, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="also write into this PostgreSQL URL (it is emptied)")
    args = parser.parse_args()
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "large.db"
        url = f"sqlite:///{database}"
        seconds, peak_mib = _run_demo(url)
        engine = make_engine(url)
        counts = row_counts(engine)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        size_mib = sum(p.stat().st_size for p in Path(folder).glob("large.db*")) / 2**20
        lines += [
            "| store | wall time | peak memory (RSS) | store size |",
            "|---|---|---|---|",
            f"| SQLite | {seconds:.1f} s | {peak_mib:.0f} MiB | {size_mib:.0f} MiB |",
        ]
    if args.postgres:
        seconds, peak_mib = _run_demo(args.postgres)
        engine = make_engine(args.postgres)
        with engine.connect() as connection:
            size_bytes = connection.exec_driver_sql(
                "select pg_database_size(current_database())"
            ).scalar_one()
        engine.dispose()
        lines.append(
            f"| PostgreSQL | {seconds:.1f} s | {peak_mib:.0f} MiB | "
            f"{size_bytes / 2**20:.0f} MiB (whole database) |"
        )
    lines += ["", "Rows written:", "", "| table | rows |", "|---|---|"]
    lines += [f"| {table} | {count:,} |" for table, count in counts.items() if count]
    command = "python -m bench.demo_large" + (" --postgres URL" if args.postgres else "")
    record("Large demo organisation (cli.py demo --size large)", command, lines)


if __name__ == "__main__":
    main()
