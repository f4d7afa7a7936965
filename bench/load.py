"""Time to a rendered Overview with 5, 10 and 20 concurrent browser sessions on one server.

One `streamlit run app.py` as a replica runs it (the demo organisation on a fresh
SQLite store, no mlops.toml) and headless Chromium. Each session is a browser
context of its own — its own cookies and websocket, as separate people — and all
the sessions of a round open the Overview at the same moment. A session's time
runs from navigation start until the headline metrics table is drawn and the
script run is over (`data-test-script-state='notRunning'`). The server is warm:
a first visit, not counted, generates the demo and fills the caches, as the
first visitor of a replica does.

Chromium renders on the same machine, so the times are upper bounds. Beside
them: the server's CPU time per Overview (its capacity, whatever else the machine
does), how busy the server was while the sessions loaded (well under 100 %: the
server waited for the browser or for a core, not for itself), the browser's CPU
time per Overview (Chromium's share of the same cores), the slowest answer
of `/_stcore/health` meanwhile (what the probe timeouts must allow) and the
server's peak memory (what its memory limit must allow).

Runs by hand, not in CI:

    python -m bench.load [--sessions 5 10 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from bench.results import record
from tests.services.streamlit import StreamlitServer, copy_settings, health, streamlit_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
HEADLINE = "Headline metrics against targets"
HEADLINE_TABLE = "[data-testid='stMain'] [data-testid='stDataFrame']"
"""The Overview's first table is the headline metrics'."""
SERVER_START_SECONDS = 120
SESSION_TIMEOUT_MS = 300_000
HEALTH_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Level:
    sessions: int
    times: list[float]
    health_max_seconds: float
    server_peak_rss_mib: float
    server_cpu_seconds_per_visit: float
    server_busy_pct: float
    browser_cpu_seconds_per_visit: float


def _peak_rss_mib(pid: int) -> float:
    """VmHWM: the process's peak resident memory so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants_cpu() -> dict[int, float]:
    """CPU seconds of each live descendant of this process (Playwright's driver, Chromium)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    own = os.getpid()
    descendants = {}
    for pid in parents:
        ancestor = parents[pid]
        while ancestor > 1 and ancestor != own:
            ancestor = parents.get(ancestor, 0)
        if ancestor == own:
            descendants[pid] = cpu[pid]
    return descendants


def _cpu_since(before: dict[int, float]) -> float:
    """CPU the browser used since `before`, counting only processes still alive."""
    return sum(now - before.get(pid, 0.0) for pid, now in _descendants_cpu().items())


@contextmanager
def _server(workdir: Path) -> Iterator[StreamlitServer]:
    """The dashboard on a free loopback port, its store a fresh SQLite file in `workdir`."""
    copy_settings(workdir)
    env = {name: value for name, value in os.environ.items() if name != "MLOPS_CONFIG"}
    env["DATABASE_URL"] = f"sqlite:///{workdir / 'mlops.db'}"
    with streamlit_server(workdir, env, start_seconds=SERVER_START_SECONDS) as running:
        yield running


class _HealthWatch:
    """Polls `/_stcore/health` in a thread and keeps the slowest answer."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            if health(self.base_url, timeout=10) != "ok":
                self.slowest = math.inf
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self._stop.wait(HEALTH_POLL_SECONDS)

    def __enter__(self) -> _HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


async def _visit(page: Page, base_url: str) -> float:
    started = time.perf_counter()
    await page.goto(base_url)
    await page.get_by_role("heading", name=HEADLINE).wait_for(state="visible")
    await page.locator(HEADLINE_TABLE).first.wait_for(state="visible")
    await page.wait_for_selector(IDLE)
    elapsed = time.perf_counter() - started
    errors = await page.locator("[data-testid='stException']").count()
    if errors:
        raise SystemExit("the Overview showed an exception")
    return elapsed


async def _round(browser: Browser, base_url: str, sessions: int) -> tuple[list[float], float]:
    """`sessions` fresh contexts, prepared first, then opened together; returns their times
    and the browser's CPU seconds (read before the contexts close and their renderers end)."""
    contexts = [
        await browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in range(sessions)
    ]
    try:
        pages = [await context.new_page() for context in contexts]
        for page in pages:
            page.set_default_timeout(SESSION_TIMEOUT_MS)
        before = _descendants_cpu()
        times = list(await asyncio.gather(*(_visit(page, base_url) for page in pages)))
        return times, _cpu_since(before)
    finally:
        for context in contexts:
            await context.close()


async def _measure(
    base_url: str, pid: int, levels: list[int], rounds: int
) -> tuple[float, list[Level]]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            [first_visit], _ = await _round(browser, base_url, 1)
            print(f"first visit (generates the demo): {first_visit:.1f} s", flush=True)
            results = []
            for sessions in levels:
                times: list[float] = []
                cpu_before, wall_before = _cpu_seconds(pid), time.perf_counter()
                browser_cpu = 0.0
                with _HealthWatch(base_url) as watch:
                    for _ in range(rounds):
                        round_times, round_browser_cpu = await _round(browser, base_url, sessions)
                        times += round_times
                        browser_cpu += round_browser_cpu
                cpu = _cpu_seconds(pid) - cpu_before
                busy_pct = 100 * cpu / (time.perf_counter() - wall_before)
                level = Level(
                    sessions,
                    times,
                    watch.slowest,
                    _peak_rss_mib(pid),
                    cpu / len(times),
                    busy_pct,
                    browser_cpu / len(times),
                )
                print(
                    f"{sessions} sessions: p50 {_percentile(times, 50):.2f} s, "
                    f"p95 {_percentile(times, 95):.2f} s",
                    flush=True,
                )
                results.append(level)
            return first_visit, results
        finally:
            await browser.close()


def _percentile(values: list[float], percent: float) -> float:
    """Nearest rank: a value that was measured, never an interpolation between two."""
    ranked = sorted(values)
    return ranked[max(math.ceil(percent / 100 * len(ranked)) - 1, 0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mlops-load-") as folder:
        started = time.perf_counter()
        with _server(Path(folder)) as server:
            first_visit, levels = asyncio.run(
                _measure(server.base_url, server.pid, args.sessions, args.rounds)
            )
        total = time.perf_counter() - started

    lines = [
        "One `streamlit run app.py` on the demo organisation (fresh SQLite store, no "
        "mlops.toml), warm: a first visit, not counted, generated the demo "
        f"({first_visit:.0f} s). Each session is its own browser context (cookies, "
        "websocket); a round opens all its sessions at once; time = navigation start to "
        "the headline metrics table drawn and the script run over. "
        f"{args.rounds} rounds per level. Chromium runs on the same 2 cores as the "
        "server. Server busy: its CPU time over the level's wall time (100 % = one core).",
        "",
        "| concurrent sessions | samples | p50 | p95 | max | server CPU per Overview "
        "| server busy | browser CPU per Overview | slowest /_stcore/health "
        "| server peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for level in levels:
        lines.append(
            f"| {level.sessions} | {len(level.times)} "
            f"| {_percentile(level.times, 50):.2f} s | {_percentile(level.times, 95):.2f} s "
            f"| {max(level.times):.2f} s | {level.server_cpu_seconds_per_visit:.2f} s "
            f"| {level.server_busy_pct:.0f} % "
            f"| {level.browser_cpu_seconds_per_visit:.2f} s "
            f"| {level.health_max_seconds:.2f} s "
            f"| {level.server_peak_rss_mib:.0f} MiB |"
        )
    lines += [
        "",
        f"Whole run {total:.0f} s; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (other work on the machine inflates the times). "
        "All sessions' script runs share the server's one Python process; docs/deploy.md "
        "sizes replicas, probe timeouts and the memory limit from these figures.",
    ]
    record(
        "Concurrent Overview sessions (bench/load.py)",
        "python -m bench.load --sessions "
        + " ".join(str(n) for n in args.sessions)
        + f" --rounds {args.rounds}",
        lines,
    )


if __name__ == "__main__":
    main()
