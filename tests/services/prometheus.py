"""A real Prometheus serving weeks of synthetic history, for the connector tests and the bench.

The history is written as OpenMetrics and turned into TSDB blocks with `promtool tsdb
create-blocks-from openmetrics`, one file per day: promtool re-reads its whole input
once per two-hour block it writes, so a single five-week file would take minutes. Prometheus
then serves those blocks on a free loopback port with a rules file and scrapes
nothing, so what it answers comes from the history alone. The Debian package's own
service (port 9090) is neither needed nor touched.

Each serving stack's metric names, labels and units are written out here on their
own rather than read from the connector's presets, so the tests check the presets.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_missing
from tests.services.process import stop

HISTORY_START = datetime(2025, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
SCRAPE_PHASE = timedelta(minutes=7, seconds=13)


@dataclass(frozen=True)
class Stack:
    """How one serving stack exposes its requests (names, status label, latency unit)."""

    requests: str
    """The request counter's series name (for Seldon, the histogram's `_count`)."""
    status_label: str
    ok_status: str
    failed_status: str
    histogram: str
    bounds: tuple[float, ...]
    """Finite bucket bounds in the stack's own unit."""
    unit_per_second: float
    histogram_by_status: bool
    labels: tuple[tuple[str, str], ...] = ()


_CLIENT_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

STACKS: dict[str, Stack] = {
    "generic": Stack(
        requests="http_requests_total",
        status_label="code",
        ok_status="200",
        failed_status="503",
        histogram="http_request_duration_seconds",
        bounds=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        unit_per_second=1.0,
        histogram_by_status=False,
    ),
    "fastapi": Stack(
        requests="http_requests_total",
        status_label="status",
        ok_status="2xx",
        failed_status="5xx",
        histogram="http_request_duration_seconds",
        bounds=(0.1, 0.5, 1.0),
        unit_per_second=1.0,
        histogram_by_status=False,
        labels=(("handler", "/predict"), ("method", "POST")),
    ),
    "bentoml": Stack(
        requests="bentoml_service_request_total",
        status_label="http_response_code",
        ok_status="200",
        failed_status="500",
        histogram="bentoml_service_request_duration_seconds",
        bounds=_CLIENT_BUCKETS,
        unit_per_second=1.0,
        histogram_by_status=True,
        labels=(("endpoint", "/classify"), ("service_name", "churn"), ("service_version", "3")),
    ),
    "seldon": Stack(
        requests="seldon_api_executor_server_requests_seconds_count",
        status_label="code",
        ok_status="200",
        failed_status="500",
        histogram="seldon_api_executor_server_requests_seconds",
        bounds=_CLIENT_BUCKETS,
        unit_per_second=1.0,
        histogram_by_status=True,
        labels=(("deployment_name", "pricing"), ("predictor_name", "default")),
    ),
    "kserve": Stack(
        requests="revision_app_request_count",
        status_label="response_code_class",
        ok_status="2xx",
        failed_status="5xx",
        histogram="request_predict_seconds",
        bounds=_CLIENT_BUCKETS,
        unit_per_second=1.0,
        histogram_by_status=False,
        labels=(("model_name", "vision"),),
    ),
    "knative": Stack(
        requests="revision_app_request_count",
        status_label="response_code_class",
        ok_status="2xx",
        failed_status="5xx",
        histogram="revision_app_request_latencies",
        bounds=(5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000),
        unit_per_second=1000.0,
        histogram_by_status=True,
        labels=(("revision_name", "nlp-00001"), ("namespace_name", "ml")),
    ),
}


@dataclass(frozen=True)
class SyntheticEndpoint:
    job: str
    stack: str
    requests_per_step: float
    failure_ratio: float
    latency_median_seconds: float
    first_day: int = 0
    """Days after the history's start before the endpoint has any sample."""
    down: tuple[datetime, datetime] | None = None
    """The target is down: `up` is 0, no other sample; the process restarts at the end,
    so its counters start again from zero (a counter reset)."""
    gap: tuple[datetime, datetime] | None = None
    """Prometheus scraped nothing at all: not even `up`."""

    @property
    def selector(self) -> str:
        return f'{{job="{self.job}"}}'


@dataclass(frozen=True)
class History:
    endpoints: tuple[SyntheticEndpoint, ...]
    start: datetime = HISTORY_START
    days: int = 35
    step: timedelta = timedelta(minutes=30)

    @property
    def end(self) -> datetime:
        return self.start + self.days * DAY

    def endpoint(self, job: str) -> SyntheticEndpoint:
        return next(endpoint for endpoint in self.endpoints if endpoint.job == job)


RESET_DAY = 12
GAP_DAY = 20


def _at(day: int, hour: int) -> datetime:
    return HISTORY_START + day * DAY + timedelta(hours=hour)


TEST_HISTORY = History(
    endpoints=(
        SyntheticEndpoint(
            "ranker-api", "generic", 120, 0.004, 0.08, down=(_at(RESET_DAY, 8), _at(RESET_DAY, 10))
        ),
        SyntheticEndpoint(
            "fraud-api", "generic", 60, 0.02, 0.15, gap=(_at(GAP_DAY, 6), _at(GAP_DAY, 14))
        ),
        SyntheticEndpoint("reco-fastapi", "fastapi", 40, 0.01, 0.2, first_day=5),
        SyntheticEndpoint("churn-bento", "bentoml", 30, 0.005, 0.05),
        SyntheticEndpoint("pricing-seldon", "seldon", 50, 0.008, 0.03),
        SyntheticEndpoint("vision-kserve", "kserve", 20, 0.03, 0.4),
        SyntheticEndpoint("nlp-knative", "knative", 25, 0.015, 0.12),
    )
)
"""Five weeks of 30-minute samples: a counter reset on `RESET_DAY` (ranker-api), an
eight-hour scrape gap on `GAP_DAY` (fraud-api), a late start (reco-fastapi), and one
endpoint for each serving stack."""


def _alert(name: str, expr: str, seconds: int, severity: str) -> dict[str, Any]:
    return {"alert": name, "expr": expr, "for": f"{seconds}s", "labels": {"severity": severity}}


TEST_RULES: dict[str, Any] = {
    "groups": [
        {
            "name": "ranker-api.rules",
            "rules": [
                _alert("EndpointDown", 'up{job="ranker-api"} == 0', 300, "page"),
                _alert(
                    "HighLatencyP95",
                    "histogram_quantile(0.95, sum by (le) "
                    '(rate(http_request_duration_seconds_bucket{job="ranker-api"}[5m]))) > 0.3',
                    600,
                    "page",
                ),
                _alert(
                    "High5xxRate",
                    'sum(rate(http_requests_total{job="ranker-api",code=~"5.."}[5m])) '
                    '/ sum(rate(http_requests_total{job="ranker-api"}[5m])) > 0.01',
                    300,
                    "ticket",
                ),
                {
                    "record": "job:http_requests:rate5m",
                    "expr": "sum by (job) (rate(http_requests_total[5m]))",
                },
            ],
        },
        {
            "name": "node.rules",
            "rules": [
                _alert(
                    "DiskAlmostFull",
                    "node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1",
                    900,
                    "ticket",
                ),
                _alert(
                    "CPUSaturated",
                    'avg by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m])) > 0.9',
                    900,
                    "ticket",
                ),
                _alert(
                    "MemoryPressure",
                    "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.1",
                    600,
                    "ticket",
                ),
            ],
        },
        {
            "name": "billing.rules",
            "rules": [_alert("BillingDown", 'up{job="billing-api"} == 0', 300, "page")],
        },
    ]
}
"""Rules about ranker-api, resource rules, a recording rule and another team's rule."""


# --- history as OpenMetrics -------------------------------------------------------------------


def _labels(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f'{name}="{value}"' for name, value in pairs) + "}"


def _bound_text(bound: float) -> str:
    return repr(float(bound))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}"


@dataclass
class _Series:
    family: str
    kind: str
    name: str
    labels: str
    lines_by_day: dict[int, list[str]] = field(default_factory=dict)

    def add(self, day: int, timestamp: int, value: float) -> None:
        self.lines_by_day.setdefault(day, []).append(
            f"{self.name}{self.labels} {_number(value)} {timestamp}\n"
        )


def _family_of(stack: Stack) -> tuple[str, str]:
    """The OpenMetrics family and type of a stack's request counter."""
    if stack.requests.endswith("_total"):
        return stack.requests.removesuffix("_total"), "counter"
    return stack.requests, "unknown"


def _endpoint_series(endpoint: SyntheticEndpoint, history: History) -> list[_Series]:
    """Every sample of one endpoint, per series and per day, in time order."""
    stack = STACKS[endpoint.stack]
    rng = random.Random(endpoint.job)
    base = [("job", endpoint.job), ("instance", f"{endpoint.job}:8080"), *stack.labels]
    statuses = (stack.ok_status, stack.failed_status)
    up = _Series("up", "gauge", "up", _labels(base))
    requests = {
        status: _Series(
            *_family_of(stack), stack.requests, _labels([*base, (stack.status_label, status)])
        )
        for status in statuses
    }
    histogram_keys = statuses if stack.histogram_by_status else ("",)
    bounds = [*stack.bounds, math.inf]

    def histogram_labels(key: str) -> list[tuple[str, str]]:
        return [*base, (stack.status_label, key)] if key else list(base)

    buckets = {
        (key, bound): _Series(
            stack.histogram,
            "histogram",
            f"{stack.histogram}_bucket",
            _labels(
                [
                    *histogram_labels(key),
                    ("le", "+Inf" if math.isinf(bound) else _bound_text(bound)),
                ]
            ),
        )
        for key in histogram_keys
        for bound in bounds
    }
    sums = {
        key: _Series(
            stack.histogram, "histogram", f"{stack.histogram}_sum", _labels(histogram_labels(key))
        )
        for key in histogram_keys
    }
    counts = {
        key: _Series(
            stack.histogram, "histogram", f"{stack.histogram}_count", _labels(histogram_labels(key))
        )
        for key in histogram_keys
    }
    sigma = 0.7
    mu = math.log(endpoint.latency_median_seconds)
    share_below = [
        1.0
        if math.isinf(bound)
        else 0.5
        * (1 + math.erf((math.log(bound / stack.unit_per_second) - mu) / (sigma * math.sqrt(2))))
        for bound in bounds
    ]
    mean_latency = endpoint.latency_median_seconds * math.exp(sigma**2 / 2) * stack.unit_per_second
    totals = dict.fromkeys(statuses, 0.0)
    bucket_totals = dict.fromkeys(buckets, 0.0)
    latency_sums = dict.fromkeys(histogram_keys, 0.0)
    # Scrapes never land on midnight exactly, so each sample belongs to one day's window.
    first = history.start + endpoint.first_day * DAY + SCRAPE_PHASE
    steps = (history.end - first) // history.step + 1
    for index in range(steps):
        moment = first + index * history.step
        day = (moment - history.start) // DAY
        timestamp = int(moment.timestamp())
        if endpoint.gap and endpoint.gap[0] <= moment < endpoint.gap[1]:
            continue
        if endpoint.down and endpoint.down[0] <= moment < endpoint.down[1]:
            up.add(day, timestamp, 0)
            totals = dict.fromkeys(statuses, 0.0)
            bucket_totals = dict.fromkeys(buckets, 0.0)
            latency_sums = dict.fromkeys(histogram_keys, 0.0)
            continue
        up.add(day, timestamp, 1)
        hour = moment.hour + moment.minute / 60
        served = round(
            endpoint.requests_per_step
            * (1 + 0.5 * math.sin(2 * math.pi * (hour - 9) / 24))
            * rng.uniform(0.8, 1.2)
        )
        failed = min(served, round(served * endpoint.failure_ratio * rng.uniform(0, 2)))
        new = {stack.ok_status: served - failed, stack.failed_status: failed}
        for status in statuses:
            totals[status] += new[status]
            if stack.requests != f"{stack.histogram}_count":
                requests[status].add(day, timestamp, totals[status])
        for key in histogram_keys:
            observed = new[key] if key else served
            for bound, share in zip(bounds, share_below, strict=True):
                bucket_totals[(key, bound)] += round(observed * share)
                buckets[(key, bound)].add(day, timestamp, bucket_totals[(key, bound)])
            latency_sums[key] += observed * mean_latency
            sums[key].add(day, timestamp, latency_sums[key])
            counts[key].add(day, timestamp, bucket_totals[(key, math.inf)])
    separate_requests = (
        [] if stack.requests == f"{stack.histogram}_count" else list(requests.values())
    )
    return [up, *separate_requests, *buckets.values(), *sums.values(), *counts.values()]


def write_history(history: History, directory: Path) -> list[Path]:
    """One OpenMetrics file per day; families stay contiguous inside each file."""
    directory.mkdir(parents=True, exist_ok=True)
    by_family: dict[str, list[_Series]] = {}
    kinds: dict[str, str] = {}
    for endpoint in history.endpoints:
        for series in _endpoint_series(endpoint, history):
            by_family.setdefault(series.family, []).append(series)
            kinds[series.family] = series.kind
    paths = []
    for day in range(history.days):
        path = directory / f"day-{day:04d}.om"
        with path.open("w", encoding="utf-8") as handle:
            for family, members in by_family.items():
                lines = [line for series in members for line in series.lines_by_day.get(day, [])]
                if lines:
                    handle.write(f"# TYPE {family} {kinds[family]}\n")
                    handle.writelines(lines)
            handle.write("# EOF\n")
        paths.append(path)
    return paths


def create_blocks(files: list[Path], tsdb: Path) -> None:
    """`promtool tsdb create-blocks-from openmetrics` on each file, a few at a time."""
    tsdb.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> None:
        subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(path), str(tsdb)],
            check=True,
            capture_output=True,
        )

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, files))


# --- the server --------------------------------------------------------------------------------


def missing_binaries() -> list[str]:
    return [name for name in ("prometheus", "promtool") if shutil.which(name) is None]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class PrometheusService:
    url: str
    history: History


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus was not ready within {timeout} s: {log.read_text()[-2000:]}")


@contextmanager
def serve_history(
    history: History, directory: Path, rules: dict[str, Any] | None = None
) -> Iterator[PrometheusService]:
    """Build the history's TSDB blocks under `directory` and serve them inside the `with`."""
    create_blocks(write_history(history, directory / "openmetrics"), directory / "tsdb")
    rule_files = []
    if rules is not None:
        (directory / "rules.yml").write_text(json.dumps(rules, indent=1))  # JSON is YAML
        rule_files.append("rules.yml")
    (directory / "prometheus.yml").write_text(
        json.dumps({"global": {"evaluation_interval": "1m"}, "rule_files": rule_files})
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = directory / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'tsdb'}",
                "--storage.tsdb.retention.time=10y",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            cwd=directory,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(url, process, log, timeout=60)
            yield PrometheusService(url=url, history=history)
        finally:
            stop(process)


def tsdb_blocks(url: str) -> tuple[int, int]:
    """(blocks loaded, compactions so far), from the server's own metrics."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as answer:
        text = answer.read().decode()
    values = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line.startswith(("prometheus_tsdb_blocks_loaded ", "prometheus_tsdb_compactions_total "))
    }
    return (
        int(values["prometheus_tsdb_blocks_loaded"]),
        int(values["prometheus_tsdb_compactions_total"]),
    )


def wait_for_compaction(url: str, timeout: float = 900, poll: float = 5) -> int:
    """Wait until Prometheus has merged the backfilled two-hour blocks, as a server that
    ran through the history would have; returns the number of blocks then loaded."""
    deadline = time.monotonic() + timeout
    counts: list[int] = []
    while time.monotonic() < deadline:
        blocks, compactions = tsdb_blocks(url)
        counts.append(blocks)
        if compactions and counts[-3:] == [blocks] * 3:
            return blocks
        time.sleep(poll)
    raise RuntimeError(f"prometheus was still compacting after {timeout} s ({counts[-1]} blocks)")


def query(url: str, promql: str, at: datetime) -> list[dict[str, Any]]:
    """An instant query straight over HTTP, independent of the connector's client."""
    parameters = urllib.parse.urlencode({"query": promql, "time": f"{at.timestamp():.3f}"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{parameters}", timeout=30) as answer:
        payload = json.load(answer)
    result: list[dict[str, Any]] = payload["data"]["result"]
    return result


@pytest.fixture(scope="session")
def prometheus_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusService]:
    """Prometheus 2.x with `TEST_HISTORY` and `TEST_RULES`, for the whole session."""
    missing = missing_binaries()
    if missing:
        service_missing(
            f"{' and '.join(missing)} not installed (Debian package prometheus: "
            "apt-get install prometheus)"
        )
    with serve_history(TEST_HISTORY, tmp_path_factory.mktemp("prometheus"), TEST_RULES) as service:
        yield service
