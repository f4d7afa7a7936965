"""GitHub connector: pull requests, workflow runs, deployments, releases, incidents and
the files the repository checks read, for every configured repository (DESIGN §8).

PyGithub does the HTTP work (Link pagination, `GithubRetry` with back-off, auth);
this module decides what to ask for and when to stop. Each list a repository has
is declared once in `LISTS` — its path, order, stop rule and store mapping — and
read by one loop that:
- asks for page one with the ETag of last time, so an unchanged list costs one
  304 answer that GitHub does not charge against the rate limit;
- follows `Link: next` only while items are newer than the list's watermark
  (lists are read newest first), so a re-sync reads what changed and no more;
- writes the list's rows, its ETag and its watermark in one transaction, so a
  crash or a rate limit loses at most the list being read.

Items are kept as the raw JSON of the list answer (`_RawItem`): PyGithub's typed
objects fetch the whole object again when a field is absent from a list payload
(N+1 requests), which a sync of a thousand runs cannot afford.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededExceedsMaxWait,
    RateLimitExceededException,
    UnknownObjectException,
)
from github.GithubObject import NonCompletableGithubObject
from github.PaginatedList import PaginatedList
from github.Requester import Requester
from sqlalchemy import Connection, or_, select
from urllib3 import BaseHTTPResponse, HTTPResponse
from urllib3.connectionpool import ConnectionPool
from urllib3.util.retry import Retry

from config import GitHubConfig, blot_out, resolve_secret
from connectors.base import RequestCounter, SourceError, SourceOutcome, SyncContext
from data.store import (
    key_to_id,
    read_validators,
    read_watermarks,
    set_validator,
    set_watermark,
    upsert_rows,
    write_transaction,
)
from data.tables import (
    Deployment,
    DeploymentStatus,
    Incident,
    Keyed,
    PullRequest,
    Release,
    Repo,
    RepoScan,
    ScanCheckResult,
    WorkflowRun,
)
from metrics.repo_detectors import MAX_FILE_BYTES, RepoSnapshot
from metrics.rubric import load_rubric
from metrics.scan import CheckResult, scan_repository

SOURCE = "github"
PER_PAGE = 100
SETTLE_DAYS = 7
"""Runs and deployments younger than this whose last known state was unfinished are read
again each sync; older ones keep their last state (GitHub cancels runs long before)."""
OVERLAP = timedelta(minutes=5)
"""Lists are re-read this far behind their watermark: GitHub's times have whole seconds and
its clock is not ours. Re-read items are upserted again, so the overlap costs nothing else."""
TERMINAL_DEPLOYMENT_STATES = frozenset({"success", "failure", "error", "inactive"})


class _RawItem(NonCompletableGithubObject):
    """A list element as GitHub sent it; reading it never triggers a request."""

    def _initAttributes(self) -> None:
        pass

    def _useAttributes(self, attributes: dict[str, Any]) -> None:
        pass


def _endpoint(url: str | None) -> str:
    """A request path as a template, so counts group by endpoint, not by repository."""
    path = urlsplit(url or "").path
    path = re.sub(r"^.*?/(repos/[^/]+/[^/]+|repositories/\d+)(?=/|$)", "/repos/{repo}", path)
    path = re.sub(r"/contents/.*$", "/contents/{path}", path)
    path = re.sub(r"/git/trees/[^/]+$", "/git/trees/{sha}", path)
    path = re.sub(r"/branches/.+$", "/branches/{branch}", path)
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


class _CountingRetry(GithubRetry):
    """GithubRetry that counts the attempts it retries and never sleeps past a bound.

    The response hook counts answers PyGithub receives; attempts that urllib3 retries
    are seen only here, so together they count every request the server answered.
    urllib3 sleeps whatever `Retry-After` says (429, 403 secondary limits); past
    `max_rate_limit_wait` this raises instead, and the sync records "rate limited".
    """

    def __init__(self, counter: RequestCounter | None = None, **kwargs: Any) -> None:
        self.counter = counter
        super().__init__(**kwargs)

    def new(self, **kwargs: Any) -> Any:
        kwargs.setdefault("counter", self.counter)
        return super().new(**kwargs)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: HTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Retry:
        if self.counter is not None:
            self.counter.count(_endpoint(url))
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        seconds = super().get_retry_after(response)
        limit = self.max_rate_limit_wait
        if seconds is not None and limit is not None and seconds > limit:
            raise RateLimitExceededExceedsMaxWait(
                response.status,
                {"message": f"Retry-After of {seconds:g} s exceeds the {limit:g} s bound"},
                dict(response.headers),
                wait=seconds,
            )
        return seconds


class _RedactTokens(logging.Filter):
    """PyGithub's DEBUG log masks the request's `Authorization` header but prints each
    answer whole, and an answer may quote the token back (a proxy's error page): blot
    the tokens this process uses out of its records. At INFO, PyGithub's default, no
    such record is made and this costs nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(token in message for token in self.tokens):
            record.msg, record.args = blot_out(message, self.tokens), None
        return True


_REDACT_TOKENS = _RedactTokens()
logging.getLogger(Requester.__module__).addFilter(_REDACT_TOKENS)


def _client(settings: GitHubConfig, token: str, counter: RequestCounter) -> Github:
    _REDACT_TOKENS.tokens.add(token)
    retry = _CountingRetry(
        counter=counter,
        total=5,
        connect=2,
        backoff_factor=0.5,
        status_forcelist=[429, *range(500, 600)],
        secondary_rate_wait=min(60.0, settings.max_wait_seconds),
        max_rate_limit_wait=settings.max_wait_seconds,
    )
    github = Github(
        auth=Auth.Token(token),
        base_url=settings.base_url.rstrip("/"),
        per_page=PER_PAGE,
        timeout=int(max(1, settings.timeout_seconds)),
        retry=retry,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    # PyGithub keeps one persistent connection per client; its session sees every answer.
    connection = github.requester._Requester__createConnection()  # type: ignore[attr-defined]
    hook = counter.response_hook(lambda response: _endpoint(response.url))
    connection.session.hooks["response"].append(hook)
    return github


def _time(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value).astimezone(UTC)


# --- what each list holds and how it maps to the store ---------------------------------


@dataclass
class _RepoState:
    full_name: str
    repo_id: int
    default_branch: str
    started_at: datetime
    history_start: datetime
    watermarks: dict[str, datetime]
    etags: dict[str, str]
    incident_label: str

    def watermark(self, list_name: str) -> datetime | None:
        return self.watermarks.get(f"{self.full_name}:{list_name}")

    def read_from(self, list_name: str) -> datetime:
        """The oldest item time a list must still read: its watermark less the overlap."""
        watermark = self.watermark(list_name)
        return self.history_start if watermark is None else watermark - OVERLAP


@dataclass(frozen=True)
class _List:
    name: str
    path: str
    """Below the repository, e.g. `/pulls`."""
    params: Callable[[_RepoState], dict[str, Any]]
    newest_first_by: str
    """The item field the list is ordered by, newest first; reading stops below the watermark."""
    write: Callable[[Connection, _RepoState, list[dict[str, Any]]], int]
    list_item: str = "items"
    """The key holding the items when the answer is an object (`workflow_runs`)."""


def _upsert(
    connection: Connection, model: type[Keyed], rows: Iterable[dict[str, Any]], repo_id: int
) -> int:
    return upsert_rows(connection, model, [{**row, "repo_id": repo_id} for row in rows])


def _pull_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": item["number"],
        "title": item.get("title") or "",
        "author": (item.get("user") or {}).get("login") or "",
        "state": item.get("state") or "open",
        "base_ref": (item.get("base") or {}).get("ref") or "",
        "created_at": _time(item["created_at"]),
        "updated_at": _time(item.get("updated_at")),
        "merged_at": _time(item.get("merged_at")),
        "closed_at": _time(item.get("closed_at")),
    }


def _run_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": item["id"],
        "workflow_name": item.get("name") or "",
        "event": item.get("event") or "",
        "head_branch": item.get("head_branch") or "",
        "status": item.get("status") or "",
        "conclusion": item.get("conclusion"),
        "created_at": _time(item["created_at"]),
        "updated_at": _time(item.get("updated_at")),
    }


def _deployment_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "deployment_id": item["id"],
        "environment": item.get("environment") or "",
        "ref": item.get("ref") or "",
        "sha": item.get("sha") or "",
        "created_at": _time(item["created_at"]),
    }


def _release_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "release_id": item["id"],
        "tag_name": item.get("tag_name") or "",
        "created_at": _time(item["created_at"]),
        "published_at": _time(item.get("published_at")),
    }


def _incident_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": item["number"],
        "title": item.get("title") or "",
        "created_at": _time(item["created_at"]),
        "closed_at": _time(item.get("closed_at")),
        "labels": [label.get("name", "") for label in item.get("labels") or []],
    }


def _since(state: _RepoState, list_name: str) -> dict[str, Any]:
    return {"since": state.read_from(list_name).strftime("%Y-%m-%dT%H:%M:%SZ")}


LISTS: tuple[_List, ...] = (
    _List(
        name="pulls",
        path="/pulls",
        params=lambda s: {"state": "all", "sort": "updated", "direction": "desc"},
        newest_first_by="updated_at",
        write=lambda c, s, items: _upsert(c, PullRequest, map(_pull_row, items), s.repo_id),
    ),
    _List(
        name="runs",
        path="/actions/runs",
        # Unfiltered: GitHub caps filtered run queries (created=, status=…) at 1,000
        # results, while the plain list pages through everything, newest first.
        params=lambda s: {},
        newest_first_by="created_at",
        write=lambda c, s, items: _upsert(c, WorkflowRun, map(_run_row, items), s.repo_id),
        list_item="workflow_runs",
    ),
    _List(
        name="deployments",
        path="/deployments",
        params=lambda s: {},
        newest_first_by="created_at",
        write=lambda c, s, items: _upsert(c, Deployment, map(_deployment_row, items), s.repo_id),
    ),
    _List(
        name="releases",
        path="/releases",
        params=lambda s: {},
        newest_first_by="created_at",
        write=lambda c, s, items: _upsert(c, Release, map(_release_row, items), s.repo_id),
    ),
    _List(
        name="incidents",
        path="/issues",
        params=lambda s: {
            "state": "all",
            "labels": s.incident_label,
            "sort": "updated",
            "direction": "desc",
            **_since(s, "incidents"),
        },
        newest_first_by="updated_at",
        # The issues list also returns pull requests; they carry a `pull_request` key.
        write=lambda c, s, items: _upsert(
            c,
            Incident,
            (_incident_row(i) for i in items if "pull_request" not in i),
            s.repo_id,
        ),
    ),
)


# --- reading --------------------------------------------------------------------------


class _RateLimited(Exception):
    def __init__(self, until: datetime) -> None:
        super().__init__(f"rate limited until {until:%Y-%m-%d %H:%M} UTC")
        self.until = until


def _rate_limit_until(exc: RateLimitExceededException) -> datetime:
    """When to try again: the primary limit's reset, else `Retry-After`, else a minute."""
    now = datetime.now(UTC)
    headers = {key.lower(): value for key, value in (exc.headers or {}).items()}
    reset = headers.get("x-ratelimit-reset")
    remaining = headers.get("x-ratelimit-remaining")
    if reset and str(reset).isdigit() and str(remaining) == "0":
        return datetime.fromtimestamp(int(reset), UTC)
    retry_after = headers.get("retry-after")
    if retry_after and str(retry_after).isdigit():
        return now + timedelta(seconds=int(retry_after))
    if isinstance(exc, RateLimitExceededExceedsMaxWait) and exc.wait is not None:
        return now + timedelta(seconds=exc.wait)
    return now + timedelta(minutes=1)


@dataclass
class _Client:
    """A PyGithub client and the one way this module asks it for JSON."""

    settings: GitHubConfig
    github: Github

    @property
    def requester(self) -> Requester:
        return self.github.requester

    def get(
        self, path: str, params: dict[str, Any] | None = None, etag: str | None = None
    ) -> tuple[dict[str, Any], Any]:
        """One GET; `(headers, None)` means 304 Not Modified."""
        headers = {"If-None-Match": etag} if etag else None
        return self.requester.requestJsonAndCheck("GET", path, parameters=params, headers=headers)

    def check_quota(self) -> None:
        """Stop before a request that the primary limit would refuse anyway."""
        remaining, _limit = self.requester.rate_limiting
        reset = datetime.fromtimestamp(self.requester.rate_limiting_resettime, UTC)
        if remaining == 0 and reset > datetime.now(UTC):
            raise _RateLimited(reset)


@dataclass
class _Reader(_Client):
    """A client plus the sync it serves; collects what the outcome reports."""

    context: SyncContext = field(kw_only=True)
    rows_written: int = 0
    problems: list[str] = field(default_factory=list)

    def items(
        self, spec: _List, state: _RepoState, request: str
    ) -> tuple[Iterator[dict[str, Any]] | None, str | None]:
        """The list newest first, or None when page one is unchanged since last time."""
        path = f"/repos/{state.full_name}{spec.path}"
        params = {**spec.params(state), "per_page": PER_PAGE}
        headers, data = self.get(path, params, state.etags.get(request))
        if data is None:
            return None, None
        pages = PaginatedList(
            _RawItem,
            self.requester,
            path,
            params,
            list_item=spec.list_item,
            firstData=data,
            firstHeaders=headers,
        )
        return (item.raw_data for item in pages), headers.get("etag")


def _request_key(state: _RepoState, name: str) -> str:
    return f"{state.full_name}:{name}"


def _read_list(reader: _Reader, spec: _List, state: _RepoState) -> list[dict[str, Any]] | None:
    request = _request_key(state, spec.name)
    items, etag = reader.items(spec, state, request)
    if items is None:
        return None
    floor = state.read_from(spec.name)
    kept: list[dict[str, Any]] = []
    for item in items:
        moment = _time(item.get(spec.newest_first_by))
        if moment is not None and moment < floor:
            break
        kept.append(item)
    if etag:
        state.etags[request] = etag
    return kept


def _open_runs(connection: Connection, state: _RepoState) -> list[int]:
    """Recent runs not completed when last read."""
    runs = WorkflowRun.__table__  # type: ignore[attr-defined]
    return list(
        connection.execute(
            select(runs.c.run_id).where(
                runs.c.repo_id == state.repo_id,
                runs.c.created_at >= state.started_at - timedelta(days=SETTLE_DAYS),
                runs.c.status != "completed",
            )
        ).scalars()
    )


def _unsettled_deployments(
    connection: Connection, state: _RepoState, new_environments: set[str]
) -> list[int]:
    """Deployments whose statuses may have changed since they were read: recent ones whose
    last state was not final, and the last successful one of each environment that got a
    new deployment (GitHub marks it `inactive` when the new one succeeds)."""
    deployments = Deployment.__table__  # type: ignore[attr-defined]
    statuses = DeploymentStatus.__table__  # type: ignore[attr-defined]
    recent_since = state.started_at - timedelta(days=SETTLE_DAYS)
    rows = connection.execute(
        select(
            deployments.c.deployment_id,
            deployments.c.environment,
            deployments.c.created_at,
            statuses.c.state,
            statuses.c.created_at.label("status_at"),
            statuses.c.status_id,
        )
        .select_from(deployments.outerjoin(statuses, statuses.c.deployment_id == deployments.c.id))
        .where(
            deployments.c.repo_id == state.repo_id,
            or_(
                deployments.c.created_at >= recent_since,
                deployments.c.environment.in_(sorted(new_environments)),
            ),
        )
    ).all()
    latest: dict[int, Any] = {}
    for row in rows:
        current = latest.get(row.deployment_id)
        if current is None or (
            row.state is not None
            and (
                current.state is None
                or (row.status_at, row.status_id) > (current.status_at, current.status_id)
            )
        ):
            latest[row.deployment_id] = row
    unsettled = [
        deployment_id
        for deployment_id, row in latest.items()
        if row.created_at >= recent_since and row.state not in TERMINAL_DEPLOYMENT_STATES
    ]
    superseded = [
        deployment_id
        for deployment_id, row in latest.items()
        if row.environment in new_environments and row.state == "success"
    ]
    return sorted({*unsettled, *superseded})


def _newest_run_ids(connection: Connection, repo_id: int) -> set[int]:
    """The runs page one holds when it answers 304: the newest PER_PAGE stored."""
    runs = WorkflowRun.__table__  # type: ignore[attr-defined]
    return set(
        connection.execute(
            select(runs.c.run_id)
            .where(runs.c.repo_id == repo_id)
            .order_by(runs.c.created_at.desc(), runs.c.run_id.desc())
            .limit(PER_PAGE)
        ).scalars()
    )


def _deployment_statuses(
    reader: _Reader, state: _RepoState, deployment_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for deployment_id in deployment_ids:
        path = f"/repos/{state.full_name}/deployments/{deployment_id}/statuses"
        params = {"per_page": PER_PAGE}
        headers, data = reader.get(path, params)
        pages = PaginatedList(
            _RawItem, reader.requester, path, params, firstData=data, firstHeaders=headers
        )
        found[deployment_id] = [item.raw_data for item in pages]
    return found


def _write_statuses(
    connection: Connection, state: _RepoState, statuses: dict[int, list[dict[str, Any]]]
) -> int:
    ids = key_to_id(connection, Deployment, [(state.repo_id, d) for d in statuses])
    return upsert_rows(
        connection,
        DeploymentStatus,
        [
            {
                "deployment_id": ids[(state.repo_id, deployment_id)],
                "status_id": status["id"],
                "state": status.get("state") or "",
                "created_at": _time(status["created_at"]),
            }
            for deployment_id, found in statuses.items()
            for status in found
        ],
    )


def _sync_list(reader: _Reader, spec: _List, state: _RepoState) -> None:
    engine = reader.context.engine
    items = _read_list(reader, spec, state)
    extra_runs: list[dict[str, Any]] = []
    statuses: dict[int, list[dict[str, Any]]] = {}
    if spec.name == "runs":
        with engine.connect() as connection:
            open_runs = _open_runs(connection, state)
            listed_runs = (
                _newest_run_ids(connection, state.repo_id)
                if items is None
                else {item["id"] for item in items}
            )
        for run_id in sorted(set(open_runs) - listed_runs):
            _headers, run = reader.get(f"/repos/{state.full_name}/actions/runs/{run_id}")
            extra_runs.append(run)
    elif spec.name == "deployments":
        listed = {item["id"]: item.get("environment") or "" for item in items or []}
        with engine.connect() as connection:
            stored = _unsettled_deployments(connection, state, set(listed.values()))
        statuses = _deployment_statuses(reader, state, dict.fromkeys([*listed, *stored]))
    request = _request_key(state, spec.name)
    with write_transaction(engine) as connection:
        if items is not None or extra_runs:
            reader.rows_written += spec.write(connection, state, [*(items or []), *extra_runs])
        if statuses:
            reader.rows_written += _write_statuses(connection, state, statuses)
        if request in state.etags:
            set_validator(connection, SOURCE, request, state.etags[request])
        set_watermark(connection, SOURCE, request, state.started_at)


# --- repository files ---------------------------------------------------------------


def _read_file(reader: _Client, full_name: str, sha: str, path: str) -> str | None:
    try:
        _headers, data = reader.get(f"/repos/{full_name}/contents/{quote(path)}", {"ref": sha})
    except UnknownObjectException:
        return None
    if not isinstance(data, dict) or data.get("encoding") != "base64":
        return None
    raw = base64.b64decode(data.get("content") or "")[:MAX_FILE_BYTES]
    if b"\x00" in raw[:8192]:
        return None
    return raw.decode("utf-8", errors="replace")


def _scan_commit(
    reader: _Client, full_name: str, commit: dict[str, Any]
) -> tuple[list[str], list[CheckResult]]:
    """One git-tree call lists every path; the detectors then read only the files they need."""
    sha = commit["sha"]
    tree_sha = commit["commit"]["tree"]["sha"]
    _headers, tree = reader.get(f"/repos/{full_name}/git/trees/{tree_sha}", {"recursive": "1"})
    paths = [entry["path"] for entry in tree.get("tree", []) if entry.get("type") == "blob"]
    snapshot = RepoSnapshot(
        paths,
        lambda path: _read_file(reader, full_name, sha, path),
        truncated=bool(tree.get("truncated")),
        label=full_name,
    )
    return paths, scan_repository(snapshot, load_rubric())


def _branch_path(full_name: str, branch: str) -> str:
    return f"/repos/{full_name}/branches/{quote(branch, safe='')}"


def _sync_files(reader: _Reader, state: _RepoState) -> None:
    """Scan the default branch's head when it moved since the last scan."""
    request = _request_key(state, "tree")
    headers, branch = reader.get(
        _branch_path(state.full_name, state.default_branch), etag=state.etags.get(request)
    )
    engine = reader.context.engine
    scan_row: dict[str, Any] | None = None
    results: list[CheckResult] = []
    if branch is not None:
        sha = branch["commit"]["sha"]
        with engine.connect() as connection:
            scanned = key_to_id(connection, RepoScan, [(state.repo_id, sha)])
        if not scanned:
            paths, results = _scan_commit(reader, state.full_name, branch["commit"])
            scan_row = {
                "repo_id": state.repo_id,
                "commit_sha": sha,
                "scanned_at": state.started_at,
                "paths": paths,
            }
    with write_transaction(engine) as connection:
        if scan_row is not None:
            reader.rows_written += upsert_rows(connection, RepoScan, [scan_row])
            key = (state.repo_id, scan_row["commit_sha"])
            scan_id = key_to_id(connection, RepoScan, [key])[key]
            reader.rows_written += upsert_rows(
                connection,
                ScanCheckResult,
                [
                    {
                        "scan_id": scan_id,
                        "check_id": r.id,
                        "status": r.status,
                        "evidence": r.evidence,
                    }
                    for r in results
                ],
            )
        if headers.get("etag"):
            set_validator(connection, SOURCE, request, headers["etag"])
        set_watermark(connection, SOURCE, request, state.started_at)


def scan_remote(
    settings: GitHubConfig, full_name: str, counter: RequestCounter
) -> list[CheckResult]:
    """`cli.py scan OWNER/REPO`: the repository checks on the default branch, nothing stored."""
    token = _token(settings)
    github = _client(settings, token, counter)
    reader = _Client(settings=settings, github=github)
    try:
        _preflight(reader)
        try:
            _headers, repo = reader.get(f"/repos/{full_name}")
            _headers, branch = reader.get(_branch_path(full_name, repo["default_branch"]))
            return _scan_commit(reader, full_name, branch["commit"])[1]
        except UnknownObjectException:
            raise SourceError(
                f"{full_name}: not found on {settings.base_url}, or the token in "
                f"${settings.token_env} cannot read it"
            ) from None
        except (GithubException, requests.RequestException, ValueError, KeyError) as exc:
            raise SourceError(f"{full_name}: {_describe(exc)}") from None
    finally:
        github.close()


# --- the sync ---------------------------------------------------------------------------


def _repositories(context: SyncContext) -> list[str]:
    """Configured repositories, least recently synced first: a rate-limited sync leaves
    the rest for next time, and next time they go first."""
    names = sorted({repo for team in context.teams for repo in team.repos})
    with context.engine.connect() as connection:
        watermarks = read_watermarks(connection, SOURCE)
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(names, key=lambda name: watermarks.get(f"{name}:tree", never))


def _repo_state(reader: _Reader, full_name: str) -> _RepoState:
    context = reader.context
    with context.engine.connect() as connection:
        repo_id = key_to_id(connection, Repo, [full_name])[full_name]
        watermarks = read_watermarks(connection, SOURCE)
        etags = read_validators(connection, SOURCE)
        repos = Repo.__table__  # type: ignore[attr-defined]
        default_branch = connection.execute(
            select(repos.c.default_branch).where(repos.c.id == repo_id)
        ).scalar_one()
    state = _RepoState(
        full_name=full_name,
        repo_id=repo_id,
        default_branch=default_branch,
        started_at=context.started_at,
        history_start=context.started_at - timedelta(days=reader.settings.history_days),
        watermarks={k: v for k, v in watermarks.items() if k.startswith(f"{full_name}:")},
        etags={k: v for k, v in etags.items() if k.startswith(f"{full_name}:")},
        incident_label=reader.settings.incident_label,
    )
    if state.watermark("tree") is None:
        # First sync of this repository: learn its default branch (and that it exists).
        _headers, repo = reader.get(f"/repos/{full_name}")
        state.default_branch = repo.get("default_branch") or state.default_branch
        with write_transaction(context.engine) as connection:
            upsert_rows(
                connection, Repo, [{"full_name": full_name, "default_branch": state.default_branch}]
            )
    return state


def _describe(exc: Exception) -> str:
    if isinstance(exc, GithubException):
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        return f"HTTP {exc.status}" + (f" {message}" if message else "")
    if isinstance(exc, requests.Timeout):
        return "timed out (raise [github] timeout_seconds if the server is slow)"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, ValueError):
        return "the answer was not valid JSON (cut short?)"
    return exc.__class__.__name__


def _sync_repository(reader: _Reader, full_name: str) -> None:
    progress = reader.context.progress
    task = f"github {full_name}"
    progress.start(task, total=len(LISTS) + 1)
    try:
        state = _repo_state(reader, full_name)
    except UnknownObjectException:
        reader.problems.append(f"{full_name}: not found, or the token cannot read it (HTTP 404)")
        return
    for spec in LISTS:
        reader.check_quota()
        try:
            _sync_list(reader, spec, state)
        except (RateLimitExceededException, BadCredentialsException):
            raise
        except (GithubException, requests.RequestException, ValueError) as exc:
            reader.problems.append(f"{full_name} {spec.name}: {_describe(exc)}")
        progress.advance(task)
    reader.check_quota()
    try:
        _sync_files(reader, state)
    except (RateLimitExceededException, BadCredentialsException):
        raise
    except (GithubException, requests.RequestException, ValueError, KeyError) as exc:
        reader.problems.append(f"{full_name} files: {_describe(exc)}")
    progress.advance(task)


def _preflight(reader: _Client) -> None:
    """One uncharged call (`/rate_limit`) that proves the URL and the token before any work."""
    base_url = reader.settings.base_url
    env = reader.settings.token_env
    try:
        reader.get("/rate_limit")
    except BadCredentialsException:
        raise SourceError(
            f"GitHub at {base_url} rejected the token in ${env} (401 Bad credentials): "
            f"set {env} to a valid token with read access to the repositories"
        ) from None
    except RateLimitExceededException:
        raise
    except (GithubException, requests.RequestException, ValueError) as exc:
        raise SourceError(
            f"cannot use GitHub at {base_url}: {_describe(exc)}; check [github] base_url "
            "(GitHub Enterprise: https://HOST/api/v3)"
        ) from None


def _token(settings: GitHubConfig) -> str:
    token = resolve_secret(settings.token_env)
    if not token:
        raise SourceError(
            f"no GitHub token: set the environment variable {settings.token_env} "
            "(named by [github] token_env) to a token that can read the repositories"
        )
    return token


def sync_github(context: SyncContext) -> SourceOutcome:
    settings = context.config.github
    if settings is None:
        raise SourceError("[github] is not configured in mlops.toml")
    token = _token(settings)
    github = _client(settings, token, context.requests)
    reader = _Reader(context=context, settings=settings, github=github)
    repositories = _repositories(context)
    done = 0
    try:
        _preflight(reader)
        for full_name in repositories:
            _sync_repository(reader, full_name)
            done += 1
    except RateLimitExceededException as exc:
        until = _rate_limit_until(exc)
        return _rate_limited(reader, until, repositories[done:])
    except _RateLimited as exc:
        return _rate_limited(reader, exc.until, repositories[done:])
    except BadCredentialsException:
        raise SourceError(
            f"GitHub rejected the token in ${settings.token_env} during the sync "
            f"(401 Bad credentials): set {settings.token_env} to a valid token"
        ) from None
    finally:
        github.close()
    return SourceOutcome(
        rows_written=reader.rows_written,
        status="partial" if reader.problems else "ok",
        error="\n".join(reader.problems) or None,
        watermark=context.started_at,
    )


def _rate_limited(reader: _Reader, until: datetime, left: list[str]) -> SourceOutcome:
    shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
    lines = [
        f"rate limited until {until:%Y-%m-%d %H:%M} UTC: {len(left)} repositories "
        f"left for the next sync ({shown})",
        *reader.problems,
    ]
    return SourceOutcome(
        rows_written=reader.rows_written,
        status="rate_limited",
        error="\n".join(lines),
        rate_limited_until=until,
    )
