"""GitHub sync of a realistic organisation: requests against the pagination lower bound,
and the same organisation synced by `meltanolabs-tap-github` against the same server.

Budgets (issue: GitHub connector):
- full sync <= 1.05 × the lower bound. Per repository the bound is ceil(items/100), at
  least 1, for each list the connector reads (pulls, workflow runs, deployments, each
  deployment's statuses, releases, incident issues), plus 1 git tree, plus the files the
  repository checks read (the contents requests the server logged: they are inherent).
  The fixed overhead (`GET /repos/{repo}` on a first sync, `GET /branches/{branch}` for the
  head, one `/rate_limit` preflight per sync) is shown apart; the budget is judged on
  everything the connector sent against the bound without that overhead;
- no-change re-sync <= 1 request per repository and list (its five lists and the tree,
  whose gate is the branch head: `len(LISTS) + 1`), the per-sync `/rate_limit` apart;
- fewer requests than tap-github for the same records.

A synthetic organisation (tests/fakes/github_org.py) is served by the tests' GitHub-
compatible server on loopback; the connector syncs it into a fresh SQLite store (full,
then no-change), then tap-github 1.30.1 (own venv, `.venv-tap/`, created when missing)
runs as a subprocess against the same server: a full sync with `start_date` before the
history, a no-change sync from the state it emitted, and a full sync without
`start_date`. Requests are counted from the server's log (reset between runs), the
tap's records from its Singer RECORD messages, the connector's from its store; record
keys are compared, not only counts.

The tap runs through a small launcher (`TAP_LAUNCHER`) that keeps it on loopback and
adapts it to the fake server without changing what it requests:
- its authenticator validates every token with `GET https://api.github.com/rate_limit`,
  whatever `api_url_base` says (tap_github/authenticator.py, `is_valid_token`), and there
  is no configuration that avoids it (a single `auth_token` goes through it too; without a
  token no Authorization header is sent). The launcher sends that one request to
  `api_url_base` instead, so it is counted; any other non-loopback request or connection
  is refused and reported (and `HTTPS_PROXY=http://127.0.0.1:9` would make it fail fast);
- the `issues` stream pages with `after` cursors; the fake server's Link headers carry
  `page` numbers, so the launcher pages issues by number (one request per 100 either way);
- the fake's issue payloads have no `type` key, which the tap's `post_process` reads: the
  launcher defaults it to null.
The tap is configured with `organizations` (GET /orgs/{org}/repos), not `repositories`,
which resolves repository ids with a GraphQL POST the fake server does not serve; the
organisation holds exactly the synced repositories.

    python -m bench.github_sync [--repos 10] [--prs 300] [--runs 1500] [--deployments 40]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bench.results import record
from config import Config
from connectors.github import LISTS, PER_PAGE
from connectors.sync import SyncReport, run_sync
from data.db import make_engine, upgrade
from data.tables import (
    Deployment,
    DeploymentStatus,
    Incident,
    PullRequest,
    Release,
    Repo,
    WorkflowRun,
)
from tests.fakes.github_org import INCIDENT_LABEL, FakeOrg
from tests.fakes.github_server import GitHubServer

ROOT = Path(__file__).resolve().parent.parent
TAP_VENV = ROOT / ".venv-tap"
TAP_VERSION = "1.30.1"
TOKEN_ENV = "MLOPS_BENCH_GITHUB_TOKEN"
TOKEN = "bench-token"
FULL_BUDGET = 1.05
LISTS_PER_REPO = len(LISTS) + 1
"""Each repository's lists plus its tree, gated by the branch head (as the tests count)."""
NON_LOOPBACK_MARK = "BENCH-NON-LOOPBACK"
TAP_STREAMS = (
    "pull_requests",
    "workflow_runs",
    "deployments",
    "deployment_statuses",
    "releases",
    "issues",
)
"""The tap's streams holding the records the connector stores; every other one is off
(`repositories` is their parent: the SDK still reads it, one request per organisation)."""

REPO = "GET /repos/{owner}/{repo}"
ROUTES = {
    "pulls": f"{REPO}/pulls",
    "runs": f"{REPO}/actions/runs",
    "deployments": f"{REPO}/deployments",
    "statuses": f"{REPO}/deployments/{{deployment_id}}/statuses",
    "releases": f"{REPO}/releases",
    "incidents": f"{REPO}/issues",
    "tree": f"{REPO}/git/trees/{{tree_sha}}",
}
CONTENTS_ROUTES = (f"{REPO}/contents/{{path}}", f"{REPO}/contents")
OVERHEAD_ROUTES = (REPO, f"{REPO}/branches/{{branch}}", "GET /rate_limit")

TAP_LAUNCHER = '''
"""Run tap-github on loopback only (written and run by bench/github_sync.py)."""
import ipaddress, os, socket, sys
from urllib.parse import urlsplit

import requests
import requests.adapters
from tap_github import authenticator
from tap_github.repository_streams import IssuesStream
from tap_github.tap import TapGitHub

API = os.environ["BENCH_TAP_API_URL"].rstrip("/")
MARK = "@MARK@"


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_send = requests.adapters.HTTPAdapter.send


def _guarded_send(self, request, *args, **kwargs):
    host = urlsplit(request.url).hostname or ""
    if not _loopback(host):
        print(f"{MARK} {request.method} {request.url}", file=sys.stderr, flush=True)
        raise requests.ConnectionError(f"refused a request to {host}: not loopback")
    return _send(self, request, *args, **kwargs)


_connect = socket.socket.connect


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(str(address[0])):
        print(f"{MARK} connect {address!r}", file=sys.stderr, flush=True)
        raise ConnectionRefusedError(f"refused a connection to {address!r}: not loopback")
    return _connect(self, address)


def _is_valid_token(self):
    """The tap's own check, sent to api_url_base instead of https://api.github.com."""
    if not self.token:
        return False
    response = requests.get(f"{API}/rate_limit", headers={"Authorization": f"token {self.token}"})
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError:
        return False
    return True


_post_process = IssuesStream.post_process


def _issue_post_process(self, row, context=None):
    row.setdefault("type", None)
    return _post_process(self, row, context)


requests.adapters.HTTPAdapter.send = _guarded_send
socket.socket.connect = _guarded_connect
authenticator.TokenManager.is_valid_token = _is_valid_token
IssuesStream.use_cursor_pagination = False
IssuesStream.post_process = _issue_post_process

sys.argv[0] = "tap-github"
TapGitHub.cli()
'''.replace("@MARK@", NON_LOOPBACK_MARK)


# --- the organisation and its lower bound ----------------------------------------------


def pages(items: int) -> int:
    return max(1, math.ceil(items / PER_PAGE))


@dataclass
class LowerBound:
    routes: Counter[str]
    """Pagination lower bound per route: lists, tree and files (the budget's bound)."""
    overhead: Counter[str]
    """Fixed per-repository and per-sync requests of a first sync."""

    @property
    def total(self) -> int:
        return sum(self.routes.values())


def lower_bound(org: FakeOrg, contents_requests: int) -> LowerBound:
    routes: Counter[str] = Counter()
    for repo in org.repos.values():
        routes[ROUTES["pulls"]] += pages(len(repo.pulls))
        routes[ROUTES["runs"]] += pages(len(repo.runs))
        routes[ROUTES["deployments"]] += pages(len(repo.deployments))
        routes[ROUTES["statuses"]] += sum(pages(len(d.statuses)) for d in repo.deployments)
        routes[ROUTES["releases"]] += pages(len(repo.releases))
        routes[ROUTES["incidents"]] += pages(len(repo.incidents))
        routes[ROUTES["tree"]] += 1
    routes[CONTENTS_ROUTES[0]] = contents_requests
    repos = len(org.repos)
    overhead = Counter(
        {OVERHEAD_ROUTES[0]: repos, OVERHEAD_ROUTES[1]: repos, OVERHEAD_ROUTES[2]: 1}
    )
    return LowerBound(routes, overhead)


def bench_config(server: GitHubServer, org: FakeOrg, days: int) -> Config:
    return Config.model_validate(
        {
            "github": {
                "base_url": server.base_url,
                "token_env": TOKEN_ENV,
                "history_days": days + 30,
            },
            "teams": [
                {"name": "Platform", "repos": sorted(repo.full_name for repo in org.repos.values())}
            ],
        }
    )


# --- the connector ------------------------------------------------------------------------


@dataclass
class Measure:
    label: str
    routes: Counter[str]
    seconds: float
    not_modified: int = 0
    records: dict[str, set[Any]] = field(default_factory=dict)
    record_messages: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.routes.values())


def connector_sync(engine: Engine, config: Config, server: GitHubServer, label: str) -> Measure:
    server.reset_counters()
    clock = time.perf_counter()
    [report] = run_sync(engine, config, sources=["github"], snapshot=False)
    seconds = time.perf_counter() - clock
    _check_report(report, server, label)
    return Measure(label, Counter(server.route_counts()), seconds, server.not_modified)


def _check_report(report: SyncReport, server: GitHubServer, label: str) -> None:
    if report.status != "ok":
        raise SystemExit(f"connector {label} sync ended {report.status}: {report.error}")
    unrouted = [r for r in server.requests if r.route is None]
    if report.api_calls != server.total_requests or unrouted:
        raise SystemExit(
            f"connector {label}: counted {report.api_calls} requests, the server logged "
            f"{server.total_requests} ({len(unrouted)} to unknown routes)"
        )


def stored_records(engine: Engine) -> dict[str, set[Any]]:
    """The keys of what the connector stored, named like the tap's streams."""
    repo = Repo.__table__  # type: ignore[attr-defined]
    pulls = PullRequest.__table__  # type: ignore[attr-defined]
    incidents = Incident.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:

        def ids(column: Any) -> set[Any]:
            return set(connection.execute(select(column)).scalars())

        return {
            "pull_requests": set(
                map(tuple, connection.execute(select(repo.c.full_name, pulls.c.number).join(repo)))
            ),
            "workflow_runs": ids(WorkflowRun.__table__.c.run_id),  # type: ignore[attr-defined]
            "deployments": ids(Deployment.__table__.c.deployment_id),  # type: ignore[attr-defined]
            "deployment_statuses": ids(DeploymentStatus.__table__.c.status_id),  # type: ignore[attr-defined]
            "releases": ids(Release.__table__.c.release_id),  # type: ignore[attr-defined]
            "incidents": set(
                map(
                    tuple,
                    connection.execute(select(repo.c.full_name, incidents.c.number).join(repo)),
                )
            ),
        }


# --- tap-github -------------------------------------------------------------------------


def ensure_tap() -> Path:
    """The tap's executable Python, installing the pinned tap in `.venv-tap/` if missing."""
    python = TAP_VENV / "bin" / "python"
    if not (TAP_VENV / "bin" / "tap-github").exists():
        print(f"creating {TAP_VENV} with meltanolabs-tap-github=={TAP_VERSION}…", flush=True)
        subprocess.run(["python3", "-m", "venv", str(TAP_VENV)], check=True)
        subprocess.run(
            [str(TAP_VENV / "bin" / "pip"), "install", f"meltanolabs-tap-github=={TAP_VERSION}"],
            check=True,
        )
    return python


def tap_env(server: GitHubServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TAP_GITHUB_"))}
    env.update(
        BENCH_TAP_API_URL=server.base_url,
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
        LOGLEVEL="WARNING",
    )
    return env


@dataclass
class Tap:
    python: Path
    directory: Path
    server: GitHubServer
    org: FakeOrg
    start_date: str
    refused: list[str] = field(default_factory=list)

    @property
    def launcher(self) -> Path:
        path = self.directory / "tap_launcher.py"
        if not path.exists():
            path.write_text(TAP_LAUNCHER, encoding="utf-8")
        return path

    def config(self, *, start_date: bool) -> Path:
        settings: dict[str, Any] = {
            "api_url_base": self.server.base_url,
            "auth_token": self.server.token,
            "organizations": [self.org.login],
        }
        if start_date:
            settings["start_date"] = self.start_date
        path = self.directory / f"tap-config-{'dated' if start_date else 'undated'}.json"
        path.write_text(json.dumps(settings), encoding="utf-8")
        return path

    def _run(self, arguments: list[str], stdout: Path, label: str) -> float:
        stderr = self.directory / f"{stdout.stem}.stderr"
        clock = time.perf_counter()
        with stdout.open("wb") as out, stderr.open("wb") as err:
            finished = subprocess.run(
                [str(self.python), str(self.launcher), *arguments],
                stdout=out,
                stderr=err,
                env=tap_env(self.server),
                cwd=self.directory,
                check=False,
            )
        seconds = time.perf_counter() - clock
        text = stderr.read_text(encoding="utf-8", errors="replace")
        self.refused += [line for line in text.splitlines() if NON_LOOPBACK_MARK in line]
        if finished.returncode != 0:
            raise SystemExit(f"tap-github {label} failed ({finished.returncode}):\n{text[-3000:]}")
        return seconds

    def catalog(self) -> Path:
        discovered = self.directory / "catalog.json"
        self._run(
            ["--config", str(self.config(start_date=True)), "--discover"], discovered, "discover"
        )
        catalog = json.loads(discovered.read_text(encoding="utf-8"))
        names = {stream["tap_stream_id"] for stream in catalog["streams"]}
        missing = set(TAP_STREAMS) - names
        if missing:
            raise SystemExit(f"tap-github has no stream {sorted(missing)}")
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = stream["tap_stream_id"] in TAP_STREAMS
        selected = self.directory / "catalog-selected.json"
        selected.write_text(json.dumps(catalog), encoding="utf-8")
        return selected

    def sync(
        self, label: str, catalog: Path, *, start_date: bool, state: dict[str, Any] | None = None
    ) -> tuple[Measure, dict[str, Any] | None]:
        arguments = ["--config", str(self.config(start_date=start_date)), "--catalog", str(catalog)]
        slug = re.sub(r"\W+", "-", label).strip("-")
        if state is not None:
            state_path = self.directory / f"state-{slug}.json"
            state_path.write_text(json.dumps(state), encoding="utf-8")
            arguments += ["--state", str(state_path)]
        output = self.directory / f"tap-{slug}.jsonl"
        self.server.reset_counters()
        seconds = self._run(arguments, output, label)
        measure = Measure(
            label, Counter(self.server.route_counts()), seconds, self.server.not_modified
        )
        unrouted = [r for r in self.server.requests if r.route is None]
        if unrouted:
            raise SystemExit(f"tap-github {label} asked for unknown routes: {unrouted[:3]}")
        last_state = read_singer(output, measure)
        output.unlink()
        return measure, last_state


def read_singer(path: Path, measure: Measure) -> dict[str, Any] | None:
    """Count RECORD messages per stream and collect their keys; returns the last STATE."""
    state: dict[str, Any] | None = None
    keys: dict[str, set[Any]] = {name: set() for name in (*TAP_STREAMS, "incidents")}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            message = json.loads(line)
            if message["type"] == "STATE":
                state = message["value"]
            if message["type"] != "RECORD":
                continue
            stream, row = message["stream"], message["record"]
            measure.record_messages[stream] += 1
            full_name = f"{row.get('org')}/{row.get('repo')}"
            if stream == "pull_requests":
                keys[stream].add((full_name, row["number"]))
            elif stream == "issues":
                keys[stream].add((full_name, row["number"]))
                labels = {label.get("name") for label in row.get("labels") or []}
                if row.get("type") == "issue" and INCIDENT_LABEL in labels:
                    keys["incidents"].add((full_name, row["number"]))
            elif stream in keys:
                keys[stream].add(row["id"])
    measure.records = keys
    return state


# --- report -------------------------------------------------------------------------------


def files_requests(measure: Measure) -> int:
    """The connector's requests for the repository checks' files: head, tree, contents."""
    routes = (OVERHEAD_ROUTES[1], ROUTES["tree"], *CONTENTS_ROUTES)
    return sum(measure.routes.get(route, 0) for route in routes)


def short(route: str) -> str:
    return route.removeprefix("GET ").replace("/repos/{owner}/{repo}", "/repos/…")


def route_table(columns: list[tuple[str, Counter[str]]]) -> list[str]:
    routes = sorted({route for _name, counts in columns for route in counts})
    lines = [
        "| route | " + " | ".join(name for name, _counts in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for route in routes:
        cells = " | ".join(f"{counts.get(route, 0):,}" for _name, counts in columns)
        lines.append(f"| `{short(route)}` | {cells} |")
    totals = " | ".join(f"**{sum(counts.values()):,}**" for _name, counts in columns)
    lines.append(f"| total | {totals} |")
    return lines


def record_table(
    stored: dict[str, set[Any]], taps: list[Measure], org: FakeOrg
) -> tuple[list[str], dict[str, bool]]:
    truth = {
        "pull_requests": sum(len(r.pulls) for r in org.repos.values()),
        "workflow_runs": sum(len(r.runs) for r in org.repos.values()),
        "deployments": sum(len(r.deployments) for r in org.repos.values()),
        "deployment_statuses": sum(
            len(d.statuses) for r in org.repos.values() for d in r.deployments
        ),
        "releases": sum(len(r.releases) for r in org.repos.values()),
        "incidents": sum(len(r.incidents) for r in org.repos.values()),
    }
    header = "| records | on the server | connector stored | " + " | ".join(
        f"tap {m.label}" for m in taps
    )
    lines = [header + " |", "|---|---|---|" + "---|" * len(taps)]
    same = {m.label: True for m in taps}
    for name, expected in truth.items():
        cells = []
        for measure in taps:
            keys = measure.records.get(name, set())
            equal = keys == stored[name]
            same[measure.label] &= equal
            messages = measure.record_messages.get(name, 0) if name != "incidents" else None
            shown = f"{len(keys):,}"
            if messages is not None and messages != len(keys):
                shown += f" ({messages:,} messages)"
            cells.append(shown + ("" if equal else " ≠"))
        lines.append(
            f"| {name} | {expected:,} | {len(stored[name]):,} | " + " | ".join(cells) + " |"
        )
    for measure in taps:
        issues = measure.record_messages.get("issues", 0)
        if issues:
            lines.append(
                f"| (tap {measure.label}: `issues` stream, all issues and pull requests) | | | "
                + " | ".join(
                    f"{m.record_messages.get('issues', 0):,}" if m is measure else "" for m in taps
                )
                + " |"
            )
    return lines, same


def excess_lines(full: Measure, bound: LowerBound) -> list[str]:
    lines = []
    for route in sorted(set(full.routes) | set(bound.routes) | set(bound.overhead)):
        expected = bound.routes.get(route, 0) + bound.overhead.get(route, 0)
        made = full.routes.get(route, 0)
        if made != expected:
            lines.append(
                f"- `{short(route)}`: {made:,} made, {expected:,} expected ({made - expected:+,})"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--prs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=1500)
    parser.add_argument("--deployments", type=int, default=40)
    parser.add_argument("--releases", type=int, default=15)
    parser.add_argument("--issues", type=int, default=60)
    parser.add_argument("--incidents", type=int, default=12)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=11)
    arguments = parser.parse_args()

    python = ensure_tap()
    load_before = os.getloadavg()[0]
    clock = time.perf_counter()
    org = FakeOrg.synthetic(
        repos=arguments.repos,
        prs=arguments.prs,
        runs=arguments.runs,
        deployments=arguments.deployments,
        issues=arguments.issues,
        incidents=arguments.incidents,
        releases=arguments.releases,
        days=arguments.days,
        seed=arguments.seed,
    )
    build_seconds = time.perf_counter() - clock
    repos = len(org.repos)
    os.environ[TOKEN_ENV] = TOKEN
    with tempfile.TemporaryDirectory(prefix="github-sync-bench-") as name:
        directory = Path(name)
        with GitHubServer(org, token=TOKEN) as server:
            config = bench_config(server, org, arguments.days)
            engine = make_engine(f"sqlite:///{directory / 'mlops.db'}")
            upgrade(engine)
            full = connector_sync(engine, config, server, "full")
            contents = sum(full.routes.get(route, 0) for route in CONTENTS_ROUTES)
            again = connector_sync(engine, config, server, "no-change")
            stored = stored_records(engine)
            engine.dispose()

            # Before anything in the organisation: the tap reads the whole history.
            oldest = min(repo.created_at for repo in org.repos.values())
            start_date = f"{oldest.year - 1}-01-01T00:00:00Z"
            tap = Tap(python, directory, server, org, start_date)
            catalog = tap.catalog()
            tap_full, state = tap.sync("full", catalog, start_date=True)
            tap_again, _ = tap.sync("no-change", catalog, start_date=True, state=state)
            tap_undated, _ = tap.sync("full, no start_date", catalog, start_date=False)

    bound = lower_bound(org, contents)
    overhead = sum(full.routes.get(route, 0) for route in OVERHEAD_ROUTES)
    ratio = full.total / bound.total
    ratio_without = (full.total - overhead) / bound.total
    full_ok = ratio <= FULL_BUDGET
    preflight = again.routes.get("GET /rate_limit", 0)
    per_repo = (again.total - preflight) / repos
    again_ok = again.total - preflight <= repos * LISTS_PER_REPO
    records, same = record_table(stored, [tap_full, tap_undated], org)
    if same[tap_full.label]:
        tap_same: Measure | None = tap_full
    else:
        tap_same = tap_undated if same[tap_undated.label] else None
    full_records = full.total - files_requests(full)
    again_records = again.total - files_requests(again)
    fewer_full = tap_same is not None and full_records < tap_same.total
    fewer_again = again_records < tap_again.total
    verdict = {True: "met", False: "MISSED"}

    lines = [
        f"{repos} repositories over {arguments.days} days, each with {arguments.prs} pull "
        f"requests, {arguments.runs:,} workflow runs, {arguments.deployments} deployments "
        f"(~{bound.routes[ROUTES['statuses']] / repos:.0f} status lists), "
        f"{arguments.releases} releases, {arguments.issues} issues of which "
        f"{arguments.incidents} incidents ({build_seconds:.1f} s to build), served by "
        "tests/fakes/github_server.py on loopback. The connector syncs into a fresh SQLite "
        f"store; tap-github {TAP_VERSION} runs as a subprocess against the same server "
        "(streams pull_requests, workflow_runs, deployments, deployment_statuses, releases, "
        "issues; the rest deselected). Requests are the server's log, reset between runs.",
        "",
        "| sync | requests | 304 answers | wall time |",
        "|---|---|---|---|",
        *(
            f"| {name} | {m.total:,} | {m.not_modified:,} | {m.seconds:.2f} s |"
            for name, m in (
                ("connector full", full),
                ("connector no-change", again),
                (f"tap-github full (start_date {start_date[:10]})", tap_full),
                ("tap-github no-change (from its state)", tap_again),
                ("tap-github full, no start_date", tap_undated),
            )
        ),
        "",
        "Tap wall times include starting its Python process (catalog discovery is not timed); "
        "the connector's include the server's work, which runs in the connector's process. "
        f"Load average (1 min) {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} "
        "after: on a busy machine wall times vary from run to run; request counts do not.",
        "",
        "Full sync against the lower bound:",
        "",
        "| | requests |",
        "|---|---|",
        f"| lower bound: lists (ceil(items/100), ≥ 1 each) | "
        f"{bound.total - bound.routes[ROUTES['tree']] - contents:,} |",
        f"| lower bound: trees | {bound.routes[ROUTES['tree']]:,} |",
        "| lower bound: files read by the repository checks (contents, as logged) "
        f"| {contents:,} |",
        f"| **lower bound** | **{bound.total:,}** |",
        f"| fixed overhead made (`/repos/…` ×{repos}, `/branches/…` ×{repos}, `/rate_limit` ×1) "
        f"| {overhead:,} |",
        f"| connector full sync, all requests | {full.total:,} |",
        f"| ratio, all requests ÷ lower bound (**judged**) | **{ratio:.3f}** |",
        f"| ratio, without the fixed overhead | {ratio_without:.3f} |",
        "",
        "Requests per route:",
        "",
        *route_table(
            [
                ("lower bound + overhead", bound.routes + bound.overhead),
                ("connector full", full.routes),
                ("connector no-change", again.routes),
                ("tap full", tap_full.routes),
                ("tap no-change", tap_again.routes),
                ("tap full, no start_date", tap_undated.routes),
            ]
        ),
        "",
        "Records (distinct keys; ≠ marks a set that differs from the connector's store):",
        "",
        *records,
        "",
    ]
    excess = excess_lines(full, bound)
    lines += (
        ["Full sync, routes off the bound (with overhead):", "", *excess, ""]
        if excess
        else [
            "The full sync made exactly the lower bound plus the fixed overhead on every route.",
            "",
        ]
    )
    if tap.refused:
        lines += [f"tap-github tried to leave loopback {len(tap.refused)} times (refused):", ""]
        lines += [f"- `{line}`" for line in tap.refused[:10]] + [""]
    else:
        lines += [
            "tap-github made no non-loopback request or connection (its launcher refuses and "
            "reports any; its token check went to the server's `/rate_limit`, counted above).",
            "",
        ]
    lines += [
        "Budgets:",
        "",
        f"- full sync ≤ {FULL_BUDGET} × lower bound: {full.total:,} ÷ {bound.total:,} = "
        f"{ratio:.3f} — {verdict[full_ok]} (without the fixed overhead {ratio_without:.3f}).",
        f"- no-change re-sync ≤ 1 request per repository and list ({repos} × {LISTS_PER_REPO}: "
        f"{len(LISTS)} lists + the tree's branch-head check = {repos * LISTS_PER_REPO}): "
        f"{again.total - preflight} + {preflight} `/rate_limit` preflight = {again.total} "
        f"({per_repo:.2f} per repository) — {verdict[again_ok]}.",
        "- fewer requests than tap-github for the same records (the connector's tree, "
        "contents and branch-head requests left out: they read files for the repository "
        "checks, which the tap does not fetch): full "
        + (
            f"{full_records:,} vs {tap_same.total:,} (tap {tap_same.label})"
            if tap_same is not None
            else "not comparable, no tap run read the same records"
        )
        + f"; no-change {again_records} vs {tap_again.total:,} — "
        f"{verdict[fewer_full and fewer_again]}. With every request counted: full "
        f"{full.total:,} vs {tap_full.total:,} / {tap_undated.total:,} (tap with / without "
        f"start_date), no-change {again.total} vs {tap_again.total:,}. Same records as the "
        f"connector: tap with start_date {'yes' if same[tap_full.label] else 'NO'}, without "
        f"{'yes' if same[tap_undated.label] else 'NO'}.",
    ]
    record("GitHub sync (bench/github_sync.py)", "python -m bench.github_sync", lines)


if __name__ == "__main__":
    main()
