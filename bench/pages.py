"""Script-run time of every dashboard page under Streamlit's AppTest on the large demo.

Budget (issue 7): <= 3 s cold and <= 0.5 s warm per page. Cold is the page's
first run with `st.cache_data`, the loaded metric inputs (`pages.common._inputs`)
and the built figures (`pages.charts._kept`) empty (the engine and the demo config,
which `st.cache_resource` keeps for the whole server, are already open, as they are
for any page but the first a server shows), the median of `--cold` such runs (the
machines are shared VMs: one sample moves by a third from run to run); warm is the
median of further reruns. Pages show all 40 teams (the sidebar's "All teams"); the
Team page shows the first team. Each AppTest run includes app.py (config, store,
sidebar) and, because AppTest starts every rerun at the page file, the page's
hand-over to app.py (`page_setup`).

The large demo is `bench/large.db` (written by bench.metrics_scale's
`large_store` when absent); the demo's repository scans and year of metric and
score snapshots are added to it when it has none, as `cli.py demo --size large`
writes them.

    python -m bench.pages [--store sqlite:///bench/large.db] [--cold 3] [--warm 5]
                          [--page Overview …]

`--page` measures only the named pages and prints their figures without writing
them to bench/RESULTS.md, which keeps the table of a whole run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from bench.metrics_scale import DEFAULT_STORE, large_store
from bench.results import record
from connectors.snapshots import backfill_snapshots, demo_history_days, scan_demo_repositories
from data.demo import demo_info, demo_plan
from data.store import row_counts
from data.tables import MetricSnapshot, Team
from pages.common import PAGES

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
COLD_BUDGET_S = 3.0
WARM_BUDGET_S = 0.5


def with_history(engine: Engine) -> int:
    """The demo's year of snapshots, as `cli.py demo --size large` writes them (every 14
    days, plus the end of the period before the default one, which the Overview's "what
    changed" reads), written once; returns the metric snapshot rows in the store."""
    existing = row_counts(engine, [MetricSnapshot])["metric_snapshot"]
    if existing:
        return existing
    info = demo_info(engine)
    assert info is not None
    days = demo_history_days(info.size, info.anchor)
    print(f"adding the demo's {len(days)} days of snapshots to the large demo (minutes)…")
    scan_demo_repositories(engine, info.size, info.anchor)
    backfill_snapshots(engine, demo_plan(info.size).config, days)
    return row_counts(engine, [MetricSnapshot])["metric_snapshot"]


def _app(url: str) -> AppTest:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("MLOPS_CONFIG", None)
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run().run()  # app.py, then the landing page, as a browser's first load
    assert not at.exception, at.exception
    return at


def _open(at: AppTest, page: str) -> None:
    at.switch_page(page).run()


def _forget() -> None:
    """What a sync or an edit makes stale: every cached result, the loaded inputs and
    the built figures."""
    import streamlit as st

    from pages.charts import _kept
    from pages.common import _inputs

    st.cache_data.clear()
    _inputs.clear()
    _kept.clear()


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@contextmanager
def _breakdown() -> Iterator[dict[str, float]]:
    """Seconds spent in the parts of a page run that can be slow (AppTest runs the script
    in its own thread, so a profiler in this one sees nothing: the parts are wrapped)."""
    import streamlit as st

    import pages.common as common

    spent: dict[str, float] = defaultdict(float)
    parts: list[tuple[object, str, str]] = [
        (common, "metric_results", "metric results (engine or cache)"),
        (common, "metric_history", "snapshots (cache)"),
        (common, "team_scores", "maturity scores (rubric or cache)"),
        (st, "plotly_chart", "st.plotly_chart (figure check + JSON)"),
        (
            st.delta_generator.DeltaGenerator,
            "plotly_chart",
            "st.plotly_chart (figure check + JSON)",
        ),
        (st, "dataframe", "st.dataframe"),
        (st.delta_generator.DeltaGenerator, "dataframe", "st.dataframe"),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in parts]

    def timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        return wrapper

    for (owner, name, label), (_, _, original) in zip(parts, originals, strict=True):
        setattr(owner, name, timed(original, label))
    try:
        yield spent
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def _where(at: AppTest, page: str, cold: bool) -> str:
    """One run of the page, cold or warm, split into its parts; the rest is figure
    building, app.py and Streamlit itself. The parts nest (scores read metric results)."""

    at.switch_page(page).run()
    if cold:
        _forget()
    with _breakdown() as spent:
        total = _timed(at.run)
    shown = sorted(spent.items(), key=lambda item: -item[1])
    parts = [f"{label} {seconds:.2f} s" for label, seconds in shown if seconds >= 0.005]
    return f"{total:.2f} s {'cold' if cold else 'warm'}: " + ", ".join(parts)


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--warm", type=int, default=5)
    titles = [title for title, _icon in PAGES.values()]
    parser.add_argument("--page", action="append", choices=titles, help="only this page")
    args = parser.parse_args()
    chosen = {page: title for page, (title, _) in PAGES.items() if title in (args.page or titles)}
    engine = large_store(args.store)
    snapshots = with_history(engine)
    info = demo_info(engine)
    assert info is not None
    teams = row_counts(engine, [Team])["team"]
    engine.dispose()

    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # no mlops.toml: the demo's own config, as on a first start
        at = _app(args.store)
        figures: list[tuple[str, float, float, list[float], list[float]]] = []
        for page, title in chosen.items():
            cold_runs = []
            for _ in range(args.cold):
                _forget()
                cold_runs.append(_timed(partial(_open, at, page)))
                assert not at.exception, (page, at.exception)
                assert not at.error, (page, [str(e.value) for e in at.error])
            warm_runs = [_timed(at.run) for _ in range(args.warm)]
            cold, warm = statistics.median(cold_runs), statistics.median(warm_runs)
            figures.append((title, cold, warm, cold_runs, warm_runs))
            print(f"{title}: cold {cold:.2f} s, warm {warm:.2f} s")
        slow = [
            (page, title)
            for (page, title), (_, cold, warm, _cold_runs, _warm_runs) in zip(
                chosen.items(), figures, strict=True
            )
            if cold > COLD_BUDGET_S or warm > WARM_BUDGET_S
        ]
        hotspots = {
            title: "; ".join(_where(at, page, cold) for cold in (True, False))
            for page, title in slow
        }
        for title, where in hotspots.items():
            print(f"{title}: {where}")
    if args.page:
        return

    lines = [
        f"Large demo anchored on {info.anchor}: {teams} teams, {snapshots:,} metric snapshot "
        f"rows; the default period (90 days ending {info.anchor}); all teams in view.",
        "",
        f"| page | cold (median of {args.cold}) | slowest cold run | warm (median of "
        f"{args.warm}) | slowest warm run | within budget (≤ 3 s cold, ≤ 0.5 s warm) |",
        "|---|---|---|---|---|---|",
    ]
    for title, cold, warm, cold_runs, warm_runs in figures:
        ok = cold <= COLD_BUDGET_S and warm <= WARM_BUDGET_S
        lines.append(
            f"| {title} | {cold:.2f} s | {max(cold_runs):.2f} s | {warm:.2f} s | "
            f"{max(warm_runs):.2f} s | {'yes' if ok else 'NO'} |"
        )
    if hotspots:
        lines += ["", "Where the pages over budget spend a cold and a warm run:", ""]
        lines += [f"- {title}: {where}" for title, where in hotspots.items()]
    record("Pages (bench/pages.py)", "python -m bench.pages", lines)


if __name__ == "__main__":
    main()
