"""A GitHub-compatible REST server on loopback, answering from a `FakeOrg`.

GitHub itself is out of reach in tests, and recorded answers cannot show what a connector must
survive: pagination over hundreds of items, the 1,000-result cap on filtered workflow-run
queries, a primary rate limit that really runs out, conditional requests, secondary limits,
5xx bursts, timeouts and cut bodies. This server reproduces those from GitHub's documented
behaviour, renders payloads key for key like the examples in GitHub's OpenAPI description
(github/rest-api-description, API version 2022-11-28), and counts every request, so tests
can assert how many calls a sync made. Only GET is served.

Behaviour worth knowing when reading a test:

- Every request with a valid token counts against the primary limit, except `GET /rate_limit`
  and a `304 Not Modified` answer. At zero the answer is 403 with GitHub's primary message and
  `x-ratelimit-remaining: 0`; the window rolls over at `x-ratelimit-reset` as on GitHub.
- Link headers point at `/repositories/{id}/…` (and `/organizations/{id}/…`) as GitHub's do;
  those aliases are served, and counted under the `/repos/{owner}/{repo}/…` route.
- A workflow-run query with any of actor, branch, check_suite_id, created, event, head_sha or
  status yields at most 1,000 runs: `total_count` stops at 1,000 and later pages are empty.
- Injected faults do not count against the primary limit, except `slow` and `truncated`,
  which wrap a normal answer.
"""

from __future__ import annotations

import base64
import difflib
import gzip
import hashlib
import io
import json
import math
import re
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from tests.fakes.github_org import (
    FakeCommit,
    FakeDeployment,
    FakeDeploymentStatus,
    FakeIssue,
    FakeOrg,
    FakePullRequest,
    FakeRelease,
    FakeRepo,
    FakeWorkflow,
    FakeWorkflowRun,
    TreeEntry,
    git_blob_sha,
    noreply_email,
)

Json = Any
T = TypeVar("T")

DOCS = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = RATE_LIMIT_DOCS + "#about-secondary-rate-limits"
RUN_SEARCH_CAP = 1000
"""Filtered workflow-run queries stop here (GitHub's documented limit)."""
_RUN_FILTERS = ("actor", "branch", "check_suite_id", "created", "event", "head_sha", "status")
_RUN_STATUSES = {"queued", "in_progress", "completed", "requested", "waiting", "pending"}

FaultKind = Literal["secondary_rate_limit", "server_error", "slow", "truncated", "unauthorized"]
_DEFAULT_STATUS: dict[str, tuple[int, ...]] = {
    "secondary_rate_limit": (403,),
    "server_error": (500,),
    "unauthorized": (401,),
    "slow": (200,),
    "truncated": (200,),
}


@dataclass
class Fault:
    """A failure injected into requests whose path matches `path` (a regex, `re.search`).

    The first `after` matching requests pass untouched; the next `times` (None: all) fail:
    - `secondary_rate_limit`: `status` 403 or 429, `Retry-After: retry_after` and GitHub's
      secondary-limit message;
    - `server_error`: `status` in 5xx; a tuple such as (502, 503, 500) is cycled per firing;
    - `slow`: the normal answer, sent `delay` seconds late (set it above the client timeout);
    - `truncated`: the normal status and headers, with the body cut in half and a Content-Length
      that matches the cut body, so the client reads invalid JSON without a transport error;
    - `unauthorized`: 401 Bad credentials, as for a token revoked mid-sync.
    The path is the one after the API prefix, with `/repositories/{id}` resolved to
    `/repos/{owner}/{repo}` (tarball downloads: `/_codeload/…`). `seen` and `fired` count
    matches and failures.
    """

    kind: FaultKind
    path: str = ""
    after: int = 0
    times: int | None = 1
    status: int | tuple[int, ...] | None = None
    retry_after: int = 1
    delay: float = 0.0
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)
        statuses = self.statuses
        if self.kind == "secondary_rate_limit" and not set(statuses) <= {403, 429}:
            raise ValueError("a secondary rate limit answers 403 or 429")
        if self.kind == "server_error" and not all(500 <= code < 600 for code in statuses):
            raise ValueError("server errors are 5xx")
        if self.kind not in {"secondary_rate_limit", "server_error"} and self.status is not None:
            raise ValueError(f"a {self.kind} fault has no status of its own")
        if self.kind == "slow" and self.delay <= 0:
            raise ValueError("a slow fault needs a delay in seconds")

    @property
    def statuses(self) -> tuple[int, ...]:
        if self.status is None:
            return _DEFAULT_STATUS[self.kind]
        return self.status if isinstance(self.status, tuple) else (self.status,)

    def _observe(self, path: str, *, may_fire: bool) -> int | None:
        """Count a matching request; the status to answer with when this fault fires."""
        if not self._pattern.search(path):
            return None
        self.seen += 1
        exhausted = self.times is not None and self.fired >= self.times
        if not may_fire or self.seen <= self.after or exhausted:
            return None
        self.fired += 1
        return self.statuses[(self.fired - 1) % len(self.statuses)]


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    """As requested, with the API prefix and without the query string."""
    query: dict[str, str]
    route: str | None
    """The route template, e.g. `GET /repos/{owner}/{repo}/pulls`; None when nothing matched."""
    status: int


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error_body(status: int, message: str, documentation_url: str = DOCS) -> Json:
    return {"message": message, "documentation_url": documentation_url, "status": str(status)}


@dataclass
class _Request:
    method: str
    path: str
    """Canonical: after the prefix, `/repositories/{id}` resolved."""
    link_path: str
    """What Link headers carry for this path (`/repositories/{id}/…`)."""
    query: list[tuple[str, str]]
    headers: Message
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str) -> str | None:
        values = [value for key, value in self.query if key == name]
        return values[-1] if values else None


@dataclass
class _Answer:
    body: Json | bytes | None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[_Request], _Answer]


@dataclass(frozen=True)
class _Route:
    template: str
    pattern: re.Pattern[str]
    handler: Handler

    @classmethod
    def of(cls, template: str, handler: Handler) -> _Route:
        regex = ""
        for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
            regex += re.escape(literal)
            if name:
                part = ".+" if name in {"path", "ref", "branch"} else "[^/]+"
                regex += f"(?P<{name}>{part})"
        return cls(template, re.compile(regex), handler)


def ts(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _node_id(kind: str, identity: object) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{identity}".encode()).decode()


def _b64_lines(content: bytes) -> str:
    encoded = base64.b64encode(content).decode()
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _moment(text: str) -> tuple[datetime, datetime]:
    """[start, stop) named by a search-syntax date (a whole day) or date-time (a second)."""
    text = text.strip().replace(" ", "+")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return day, day + timedelta(days=1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _HttpError(422, f"Invalid date {text!r}") from exc
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return moment, moment + timedelta(seconds=1)


def created_filter(query: str) -> Callable[[datetime], bool]:
    """GitHub's search date syntax: `A..B` (`*` for an open side), `>=A`, `>A`, `<=A`, `<A`, `A`."""
    query = query.strip()
    start: datetime | None = None
    stop: datetime | None = None
    if ".." in query:
        low, high = query.split("..", 1)
        start = None if low.strip() == "*" else _moment(low)[0]
        stop = None if high.strip() == "*" else _moment(high)[1]
    elif query.startswith(">="):
        start = _moment(query[2:])[0]
    elif query.startswith(">"):
        start = _moment(query[1:])[1]
    elif query.startswith("<="):
        stop = _moment(query[2:])[1]
    elif query.startswith("<"):
        stop = _moment(query[1:])[0]
    else:
        start, stop = _moment(query)
    return lambda at: (start is None or at >= start) and (stop is None or at < stop)


def _sorted(
    items: Sequence[T], key: Callable[[T], Any], direction: str | None, default: str
) -> list[T]:
    if (direction or default) not in {"asc", "desc"}:
        raise _HttpError(422, f"Invalid direction {direction!r}")
    return sorted(items, key=key, reverse=(direction or default) == "desc")


_REPO_URL_SUFFIXES = (
    ("archive_url", "/{archive_format}{/ref}"),
    ("assignees_url", "/assignees{/user}"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("branches_url", "/branches{/branch}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("comments_url", "/comments{/number}"),
    ("commits_url", "/commits{/sha}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("contents_url", "/contents/{+path}"),
    ("contributors_url", "/contributors"),
    ("deployments_url", "/deployments"),
    ("downloads_url", "/downloads"),
    ("events_url", "/events"),
    ("forks_url", "/forks"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_url", ""),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("issue_events_url", "/issues/events{/number}"),
    ("issues_url", "/issues{/number}"),
    ("keys_url", "/keys{/key_id}"),
    ("labels_url", "/labels{/name}"),
    ("languages_url", "/languages"),
    ("merges_url", "/merges"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("pulls_url", "/pulls{/number}"),
    ("releases_url", "/releases{/id}"),
    ("ssh_url", ""),
    ("stargazers_url", "/stargazers"),
    ("statuses_url", "/statuses/{sha}"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("tags_url", "/tags"),
    ("teams_url", "/teams"),
    ("trees_url", "/git/trees{/sha}"),
)
_RATE_RESOURCES = {
    "search": 30,
    "graphql": 5000,
    "integration_manifest": 5000,
    "source_import": 100,
    "actions_runner_registration": 10000,
    "scim": 15000,
    "dependency_snapshots": 100,
    "code_search": 10,
    "code_scanning_autofix": 10,
}
_SECURITY_AND_ANALYSIS = {
    "advanced_security": {"status": "enabled"},
    "secret_scanning": {"status": "enabled"},
    "secret_scanning_push_protection": {"status": "disabled"},
    "secret_scanning_non_provider_patterns": {"status": "disabled"},
    "secret_scanning_delegated_alert_dismissal": {"status": "disabled"},
}
_VERIFICATION = {
    "verified": False,
    "reason": "unsigned",
    "signature": None,
    "payload": None,
    "verified_at": None,
}


class _Api:
    """Route handlers and renderers: model objects to GitHub's JSON, URLs pointing back here."""

    def __init__(self, org: FakeOrg, api: str, web: str) -> None:
        self.org = org
        self.api = api
        self.web = web
        self.host = urlsplit(web).netloc

    # -- renderers ----------------------------------------------------------------------------

    def user(self, login: str, kind: str | None = None) -> Json:
        identity = self.org.user_id(login) if kind != "Organization" else self.org.id
        user_type = kind or ("Bot" if login.endswith("[bot]") else "User")
        url = f"{self.api}/users/{quote(login)}"
        return {
            "login": login,
            "id": identity,
            "node_id": _node_id(user_type, identity),
            "avatar_url": f"{self.web}/avatars/u/{identity}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/{quote(login)}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": user_type,
            "site_admin": False,
        }

    def owner(self) -> Json:
        return self.user(self.org.login, "Organization")

    def repo_api(self, repo: FakeRepo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def repo_web(self, repo: FakeRepo) -> str:
        return f"{self.web}/{repo.full_name}"

    def repo_simple(self, repo: FakeRepo) -> Json:
        """The short form embedded in workflow runs."""
        url = self.repo_api(repo)
        data: Json = {
            "id": repo.id,
            "node_id": _node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.owner(),
            "private": repo.private,
            "html_url": self.repo_web(repo),
            "description": repo.description or None,
            "fork": False,
            "url": url,
        }
        for key, suffix in _REPO_URL_SUFFIXES:
            if key == "git_url":
                data[key] = f"git://{self.host}/{repo.full_name}.git"
            elif key == "ssh_url":
                data[key] = f"git@{urlsplit(self.web).hostname}:{repo.full_name}.git"
            else:
                data[key] = url + suffix
        data["hooks_url"] = f"{url}/hooks"
        return data

    def _repo_common(self, repo: FakeRepo) -> Json:
        data = self.repo_simple(repo)
        hooks = data.pop("hooks_url")
        open_items = sum(issue.state == "open" for issue in repo.issues) + sum(
            pull.state == "open" for pull in repo.pulls
        )
        data.update(
            {
                "clone_url": f"{self.repo_web(repo)}.git",
                "mirror_url": None,
                "hooks_url": hooks,
                "svn_url": self.repo_web(repo),
                "homepage": None,
                "language": repo.language,
                "forks_count": 0,
                "stargazers_count": 0,
                "watchers_count": 0,
                "size": sum(len(content) for content in repo.files.values()) // 1024,
                "default_branch": repo.default_branch,
                "open_issues_count": open_items,
                "is_template": False,
                "topics": list(repo.topics),
                "has_issues": True,
                "has_projects": True,
                "has_wiki": False,
                "has_pages": False,
                "has_downloads": True,
                "has_discussions": False,
                "archived": False,
                "disabled": False,
                "visibility": "private" if repo.private else "public",
                "pushed_at": ts(repo.pushed_at),
                "created_at": ts(repo.created_at),
                "updated_at": ts(max(repo.pushed_at, repo.created_at)),
                "permissions": {"admin": False, "push": False, "pull": True},
            }
        )
        return data

    def repo_minimal(self, repo: FakeRepo) -> Json:
        """The form of organisation listings and pull-request heads and bases."""
        data = self._repo_common(repo)
        data["security_and_analysis"] = _SECURITY_AND_ANALYSIS
        return data

    def repo_full(self, repo: FakeRepo) -> Json:
        data = self._repo_common(repo)
        data.update(
            {
                "forks": 0,
                "open_issues": data["open_issues_count"],
                "watchers": 0,
                "allow_rebase_merge": True,
                "template_repository": None,
                "temp_clone_token": "",
                "allow_squash_merge": True,
                "allow_auto_merge": False,
                "delete_branch_on_merge": True,
                "allow_merge_commit": False,
                "allow_forking": False,
                "subscribers_count": len(self.org.users),
                "network_count": 0,
                "license": None,
                "organization": self.owner(),
            }
        )
        return data

    def label(self, repo: FakeRepo, name: str) -> Json:
        digest = hashlib.sha1(f"{repo.full_name}:{name}".encode(), usedforsecurity=False)
        identity = int(digest.hexdigest()[:9], 16)
        return {
            "id": identity,
            "node_id": _node_id("Label", identity),
            "url": f"{self.repo_api(repo)}/labels/{quote(name)}",
            "name": name,
            "description": None,
            "color": "d73a4a" if name == "incident" else digest.hexdigest()[-6:],
            "default": name in {"bug", "enhancement", "documentation"},
        }

    def pull(
        self,
        repo: FakeRepo,
        pull: FakePullRequest,
        *,
        full: bool = False,
        embedded: Json | None = None,
    ) -> Json:
        """`embedded`: the head and base repository, rendered once per page by list answers."""
        embedded = embedded or self.repo_minimal(repo)
        url = f"{self.repo_api(repo)}/pulls/{pull.number}"
        issue = f"{self.repo_api(repo)}/issues/{pull.number}"
        html = f"{self.repo_web(repo)}/pull/{pull.number}"
        statuses = f"{self.repo_api(repo)}/statuses/{pull.head_sha}"
        review_comment = f"{self.repo_api(repo)}/pulls/comments{{/number}}"
        data: Json = {
            "url": url,
            "id": pull.id,
            "node_id": _node_id("PullRequest", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": review_comment,
            "comments_url": f"{issue}/comments",
            "statuses_url": statuses,
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user(pull.user),
            "body": pull.body or None,
            "labels": [self.label(repo, name) for name in pull.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": ts(pull.created_at),
            "updated_at": ts(pull.updated_at),
            "closed_at": ts(pull.closed_at),
            "merged_at": ts(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{repo.owner}:{pull.head}",
                "ref": pull.head,
                "sha": pull.head_sha,
                "user": self.owner(),
                "repo": embedded,
            },
            "base": {
                "label": f"{repo.owner}:{pull.base}",
                "ref": pull.base,
                "sha": repo.branches.get(pull.base, repo.head_sha),
                "user": self.owner(),
                "repo": embedded,
            },
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": issue},
                "comments": {"href": f"{issue}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": review_comment},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": "CONTRIBUTOR" if pull.user.endswith("[bot]") else "MEMBER",
            "auto_merge": None,
            "draft": pull.draft,
        }
        if full:
            is_open = pull.state == "open"
            data.update(
                {
                    "merged": pull.merged,
                    "mergeable": True if is_open else None,
                    "rebaseable": True if is_open else None,
                    "mergeable_state": "clean" if is_open else "unknown",
                    "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
                    "comments": pull.comments,
                    "review_comments": 0,
                    "maintainer_can_modify": False,
                    "commits": pull.commits,
                    "additions": pull.additions,
                    "deletions": pull.deletions,
                    "changed_files": pull.changed_files,
                }
            )
        return data

    def issue(self, repo: FakeRepo, item: FakeIssue | FakePullRequest) -> Json:
        is_pull = isinstance(item, FakePullRequest)
        identity = item.issue_id if isinstance(item, FakePullRequest) else item.id
        url = f"{self.repo_api(repo)}/issues/{item.number}"
        html = f"{self.repo_web(repo)}/{'pull' if is_pull else 'issues'}/{item.number}"
        closed_by = item.merged_by if isinstance(item, FakePullRequest) else item.closed_by
        data: Json = {
            "id": identity,
            "node_id": _node_id("Issue", identity),
            "url": url,
            "repository_url": self.repo_api(repo),
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": html,
            "number": item.number,
            "state": item.state,
            "title": item.title,
            "body": item.body or None,
            "user": self.user(item.user),
            "pinned_comment": None,
            "labels": [self.label(repo, name) for name in item.labels],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": item.comments,
        }
        if isinstance(item, FakePullRequest):
            pull_url = f"{self.repo_api(repo)}/pulls/{item.number}"
            data["pull_request"] = {
                "url": pull_url,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": ts(item.merged_at),
            }
        data.update(
            {
                "closed_at": ts(item.closed_at),
                "created_at": ts(item.created_at),
                "updated_at": ts(item.updated_at),
                "closed_by": self.user(closed_by) if closed_by and item.state == "closed" else None,
                "author_association": "MEMBER",
                "state_reason": "completed" if item.state == "closed" and not is_pull else None,
            }
        )
        return data

    def run(
        self,
        repo: FakeRepo,
        run: FakeWorkflowRun,
        *,
        with_pulls: bool = True,
        embedded: Json | None = None,
    ) -> Json:
        """`embedded`: the repository, rendered once per page by list answers."""
        embedded = embedded or self.repo_simple(repo)
        url = f"{self.repo_api(repo)}/actions/runs/{run.id}"
        commit = repo.commit(run.head_sha) if len(run.head_sha) == 40 else None
        author = commit.author if commit else run.actor
        identity = {"name": author, "email": noreply_email(author, self.org.user_id(author))}
        pulls = []
        for number in run.pull_request_numbers if with_pulls else []:
            pull = repo.pull(number)
            short = {"id": repo.id, "url": self.repo_api(repo), "name": repo.name}
            pulls.append(
                {
                    "url": f"{self.repo_api(repo)}/pulls/{number}",
                    "id": pull.id,
                    "number": number,
                    "head": {"ref": pull.head, "sha": pull.head_sha, "repo": short},
                    "base": {
                        "ref": pull.base,
                        "sha": repo.branches.get(pull.base, repo.head_sha),
                        "repo": short,
                    },
                }
            )
        return {
            "id": run.id,
            "name": run.name,
            "node_id": _node_id("WorkflowRun", run.id),
            "check_suite_id": run.check_suite_id,
            "check_suite_node_id": _node_id("CheckSuite", run.check_suite_id),
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": run.path,
            "run_number": run.run_number,
            "event": run.event,
            "display_title": run.display_title,
            "status": run.status,
            "conclusion": run.conclusion,
            "workflow_id": run.workflow_id,
            "url": url,
            "html_url": f"{self.repo_web(repo)}/actions/runs/{run.id}",
            "pull_requests": pulls,
            "created_at": ts(run.created_at),
            "updated_at": ts(run.updated_at),
            "actor": self.user(run.actor),
            "run_attempt": run.run_attempt,
            "run_started_at": ts(run.run_started_at),
            "triggering_actor": self.user(run.actor),
            "jobs_url": f"{url}/jobs",
            "logs_url": f"{url}/logs",
            "check_suite_url": f"{self.repo_api(repo)}/check-suites/{run.check_suite_id}",
            "artifacts_url": f"{url}/artifacts",
            "cancel_url": f"{url}/cancel",
            "rerun_url": f"{url}/rerun",
            "workflow_url": f"{self.repo_api(repo)}/actions/workflows/{run.workflow_id}",
            "head_commit": {
                "id": run.head_sha,
                "tree_id": commit.tree_sha
                if commit
                else hashlib.sha1(run.head_sha.encode(), usedforsecurity=False).hexdigest(),
                "message": commit.message if commit else run.display_title,
                "timestamp": ts(commit.date if commit else run.created_at),
                "author": identity,
                "committer": identity,
            },
            "repository": embedded,
            "head_repository": embedded,
        }

    def workflow(self, repo: FakeRepo, workflow: FakeWorkflow) -> Json:
        url = f"{self.repo_api(repo)}/actions/workflows/{workflow.id}"
        stamp = "%Y-%m-%dT%H:%M:%S.000+00:00"
        return {
            "id": workflow.id,
            "node_id": _node_id("Workflow", workflow.id),
            "name": workflow.name,
            "path": workflow.path,
            "state": workflow.state,
            "created_at": workflow.created_at.strftime(stamp),
            "updated_at": workflow.updated_at.strftime(stamp),
            "url": url,
            "html_url": f"{self.repo_web(repo)}/blob/{repo.default_branch}/{workflow.path}",
            "badge_url": f"{self.repo_web(repo)}/workflows/{quote(workflow.name)}/badge.svg",
        }

    def deployment(self, repo: FakeRepo, deployment: FakeDeployment) -> Json:
        url = f"{self.repo_api(repo)}/deployments/{deployment.id}"
        return {
            "url": url,
            "id": deployment.id,
            "node_id": _node_id("Deployment", deployment.id),
            "sha": deployment.sha,
            "ref": deployment.ref,
            "task": deployment.task,
            "payload": {},
            "original_environment": deployment.environment,
            "environment": deployment.environment,
            "description": deployment.description,
            "creator": self.user(deployment.creator),
            "created_at": ts(deployment.created_at),
            "updated_at": ts(deployment.updated_at),
            "statuses_url": f"{url}/statuses",
            "repository_url": self.repo_api(repo),
            "transient_environment": deployment.transient_environment,
            "production_environment": deployment.production_environment,
        }

    def deployment_status(
        self, repo: FakeRepo, deployment: FakeDeployment, status: FakeDeploymentStatus
    ) -> Json:
        url = f"{self.repo_api(repo)}/deployments/{deployment.id}"
        log = f"{self.repo_web(repo)}/actions/deployments/{deployment.id}"
        return {
            "url": f"{url}/statuses/{status.id}",
            "id": status.id,
            "node_id": _node_id("DeploymentStatus", status.id),
            "state": status.state,
            "creator": self.user(status.creator),
            "description": status.description,
            "environment": status.environment,
            "target_url": log,
            "created_at": ts(status.created_at),
            "updated_at": ts(status.created_at),
            "deployment_url": url,
            "repository_url": self.repo_api(repo),
            "environment_url": "",
            "log_url": log,
        }

    def release(self, repo: FakeRepo, release: FakeRelease) -> Json:
        url = f"{self.repo_api(repo)}/releases/{release.id}"
        tag = quote(release.tag_name)
        return {
            "url": url,
            "html_url": f"{self.repo_web(repo)}/releases/tag/{tag}",
            "assets_url": f"{url}/assets",
            "upload_url": f"{self.web}/api/uploads/repos/{repo.full_name}/releases/"
            f"{release.id}/assets{{?name,label}}",
            "tarball_url": f"{self.repo_api(repo)}/tarball/{tag}",
            "zipball_url": f"{self.repo_api(repo)}/zipball/{tag}",
            "id": release.id,
            "node_id": _node_id("Release", release.id),
            "tag_name": release.tag_name,
            "target_commitish": release.target_commitish,
            "name": release.name,
            "body": release.body,
            "draft": release.draft,
            "prerelease": release.prerelease,
            "immutable": False,
            "created_at": ts(release.created_at),
            "published_at": ts(release.published_at),
            "author": self.user(release.author),
            "assets": [],
        }

    def commit(self, repo: FakeRepo, commit: FakeCommit, *, detail: bool = False) -> Json:
        url = f"{self.repo_api(repo)}/commits/{commit.sha}"
        person = {
            "name": commit.author,
            "email": noreply_email(commit.author, self.org.user_id(commit.author)),
            "date": ts(commit.date),
        }
        data: Json = {
            "url": url,
            "sha": commit.sha,
            "node_id": _node_id("Commit", f"{repo.id}:{commit.sha}"),
            "html_url": f"{self.repo_web(repo)}/commit/{commit.sha}",
            "comments_url": f"{url}/comments",
            "commit": {
                "url": f"{self.repo_api(repo)}/git/commits/{commit.sha}",
                "author": person,
                "committer": person,
                "message": commit.message,
                "tree": {
                    "url": f"{self.repo_api(repo)}/git/trees/{commit.tree_sha}",
                    "sha": commit.tree_sha,
                },
                "comment_count": 0,
                "verification": _VERIFICATION,
            },
            "author": self.user(commit.author),
            "committer": self.user(commit.author),
            "parents": [
                {
                    "url": f"{self.repo_api(repo)}/commits/{parent}",
                    "sha": parent,
                    "html_url": f"{self.repo_web(repo)}/commit/{parent}",
                }
                for parent in commit.parents
            ],
        }
        if detail:
            files = self._changes(repo, commit)
            additions = sum(change["additions"] for change in files)
            deletions = sum(change["deletions"] for change in files)
            data["stats"] = {
                "additions": additions,
                "deletions": deletions,
                "total": additions + deletions,
            }
            data["files"] = files
        return data

    def _changes(self, repo: FakeRepo, commit: FakeCommit) -> list[Json]:
        parent = repo.commit(commit.parents[0]) if commit.parents else None
        before = parent.files if parent else {}
        changes = []
        for path in commit.changed:
            old, new = before.get(path), commit.files.get(path)
            diff = list(
                difflib.unified_diff(
                    (old or b"").decode(errors="replace").splitlines(),
                    (new or b"").decode(errors="replace").splitlines(),
                    lineterm="",
                )
            )[2:]
            additions = sum(1 for line in diff if line.startswith("+"))
            deletions = sum(1 for line in diff if line.startswith("-"))
            changes.append(
                {
                    "sha": git_blob_sha(new if new is not None else old or b""),
                    "filename": path,
                    "additions": additions,
                    "deletions": deletions,
                    "changes": additions + deletions,
                    "status": "added" if old is None else "removed" if new is None else "modified",
                    "raw_url": f"{self.repo_web(repo)}/raw/{commit.sha}/{quote(path)}",
                    "blob_url": f"{self.repo_web(repo)}/blob/{commit.sha}/{quote(path)}",
                    "contents_url": (
                        f"{self.repo_api(repo)}/contents/{quote(path)}?ref={commit.sha}"
                    ),
                    "patch": "\n".join(diff),
                }
            )
        return changes

    def tree_entry(self, repo: FakeRepo, entry: TreeEntry, relative: str) -> Json:
        kind = "blobs" if entry.type == "blob" else "trees"
        data: Json = {"path": relative, "mode": entry.mode, "type": entry.type, "sha": entry.sha}
        if entry.size is not None:
            data["size"] = entry.size
        data["url"] = f"{self.repo_api(repo)}/git/{kind}/{entry.sha}"
        return data

    def content_entry(self, repo: FakeRepo, entry: TreeEntry, ref: str) -> Json:
        is_file = entry.type == "blob"
        url = f"{self.repo_api(repo)}/contents/{quote(entry.path)}?ref={quote(ref)}"
        git = f"{self.repo_api(repo)}/git/{'blobs' if is_file else 'trees'}/{entry.sha}"
        kind = "blob" if is_file else "tree"
        html = f"{self.repo_web(repo)}/{kind}/{quote(ref)}/{quote(entry.path)}"
        return {
            "type": "file" if is_file else "dir",
            "size": entry.size or 0,
            "name": entry.path.rsplit("/", 1)[-1],
            "path": entry.path,
            "sha": entry.sha,
            "url": url,
            "git_url": git,
            "html_url": html,
            "download_url": f"{self.repo_web(repo)}/raw/{quote(ref)}/{quote(entry.path)}"
            if is_file
            else None,
            "_links": {"self": url, "git": git, "html": html},
        }

    # -- lookups ------------------------------------------------------------------------------

    def _repo(self, request: _Request) -> FakeRepo:
        owner, name = request.params["owner"], request.params["repo"]
        if owner.lower() != self.org.login.lower():
            raise _HttpError(404, "Not Found")
        try:
            return self.org.repo(name)
        except KeyError:
            raise _HttpError(404, "Not Found") from None

    def _commit_or_404(self, repo: FakeRepo, ref: str) -> FakeCommit:
        commit = repo.commit(ref)
        if commit is None:
            raise _HttpError(404, f"No commit found for SHA: {ref}")
        return commit

    @staticmethod
    def _number(request: _Request, name: str) -> int:
        value = request.params[name]
        if not value.isdigit():
            raise _HttpError(404, "Not Found")
        return int(value)

    @staticmethod
    def _state(request: _Request) -> str:
        state = request.arg("state") or "open"
        if state not in {"open", "closed", "all"}:
            raise _HttpError(422, f"Invalid state {state!r}")
        return state

    # -- handlers: users and organisation -----------------------------------------------------

    def get_user(self, request: _Request) -> _Answer:
        data = self.user(self.org.viewer)
        data.update(
            {
                "name": self.org.viewer,
                "company": None,
                "blog": "",
                "location": None,
                "email": None,
                "hireable": None,
                "bio": None,
                "twitter_username": None,
                "public_repos": 0,
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "created_at": ts(self.org.created_at),
                "updated_at": ts(self.org.created_at),
            }
        )
        return _Answer(data)

    def get_named_user(self, request: _Request) -> _Answer:
        login = request.params["username"]
        if login.lower() == self.org.login.lower():
            return self._organisation()
        if login not in self.org.users:
            raise _HttpError(404, "Not Found")
        return _Answer(self.user(login))

    def get_org(self, request: _Request) -> _Answer:
        self._check_org(request)
        return self._organisation()

    def _organisation(self) -> _Answer:
        login = self.org.login
        url = f"{self.api}/orgs/{login}"
        private = sum(1 for repo in self.org.repos.values() if repo.private)
        return _Answer(
            {
                "login": login,
                "id": self.org.id,
                "node_id": _node_id("Organization", self.org.id),
                "url": url,
                "repos_url": f"{url}/repos",
                "events_url": f"{url}/events",
                "hooks_url": f"{url}/hooks",
                "issues_url": f"{url}/issues",
                "members_url": f"{url}/members{{/member}}",
                "public_members_url": f"{url}/public_members{{/member}}",
                "avatar_url": f"{self.web}/avatars/u/{self.org.id}?v=4",
                "description": None,
                "name": login,
                "company": None,
                "blog": "",
                "location": None,
                "email": None,
                "twitter_username": None,
                "is_verified": False,
                "has_organization_projects": True,
                "has_repository_projects": True,
                "public_repos": len(self.org.repos) - private,
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "html_url": f"{self.web}/{login}",
                "created_at": ts(self.org.created_at),
                "updated_at": ts(self.org.created_at),
                "archived_at": None,
                "type": "Organization",
                "total_private_repos": private,
                "owned_private_repos": private,
            }
        )

    def _check_org(self, request: _Request) -> None:
        if request.params["org"].lower() != self.org.login.lower():
            raise _HttpError(404, "Not Found")

    def _listed_repos(self, request: _Request, default_sort: str) -> list[FakeRepo]:
        sort = request.arg("sort") or default_sort
        keys: dict[str, Callable[[FakeRepo], Any]] = {
            "created": lambda repo: (repo.created_at, repo.id),
            "updated": lambda repo: (repo.pushed_at, repo.id),
            "pushed": lambda repo: (repo.pushed_at, repo.id),
            "full_name": lambda repo: repo.full_name.lower(),
        }
        if sort not in keys:
            raise _HttpError(422, f"Invalid sort {sort!r}")
        repos = list(self.org.repos.values())
        kind = request.arg("type") or "all"
        if kind == "public":
            repos = [repo for repo in repos if not repo.private]
        elif kind == "private":
            repos = [repo for repo in repos if repo.private]
        elif kind == "forks":
            repos = []
        default = "asc" if sort == "full_name" else "desc"
        return _sorted(repos, keys[sort], request.arg("direction"), default)

    def get_org_repos(self, request: _Request) -> _Answer:
        self._check_org(request)
        repos = self._listed_repos(request, "created")
        return self._listing(request, repos, self.repo_minimal)

    def get_user_repos(self, request: _Request) -> _Answer:
        repos = self._listed_repos(request, "full_name")
        return self._listing(request, repos, self.repo_full)

    # -- handlers: repository data ------------------------------------------------------------

    def get_repo(self, request: _Request) -> _Answer:
        return _Answer(self.repo_full(self._repo(request)))

    def get_pulls(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        state = self._state(request)
        pulls = [pull for pull in repo.pulls if state == "all" or pull.state == state]
        if base := request.arg("base"):
            pulls = [pull for pull in pulls if pull.base == base]
        if head := request.arg("head"):
            owner, _, ref = head.rpartition(":")
            if owner and owner.lower() != repo.owner.lower():
                pulls = []
            pulls = [pull for pull in pulls if pull.head == ref]
        sort = request.arg("sort") or "created"
        keys: dict[str, Callable[[FakePullRequest], Any]] = {
            "created": lambda pull: (pull.created_at, pull.number),
            "updated": lambda pull: (pull.updated_at, pull.number),
            "popularity": lambda pull: (pull.comments, pull.number),
            "long-running": lambda pull: (pull.created_at, pull.number),
        }
        if sort not in keys:
            raise _HttpError(422, f"Invalid sort {sort!r}")
        default = "desc" if sort == "created" else "asc"
        pulls = _sorted(pulls, keys[sort], request.arg("direction"), default)
        embedded = self.repo_minimal(repo)
        return self._listing(request, pulls, lambda pull: self.pull(repo, pull, embedded=embedded))

    def get_pull(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        try:
            pull = repo.pull(self._number(request, "number"))
        except KeyError:
            raise _HttpError(404, "Not Found") from None
        return _Answer(self.pull(repo, pull, full=True))

    def get_issues(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        state = self._state(request)
        items: list[FakeIssue | FakePullRequest] = [*repo.issues, *repo.pulls]
        items = [item for item in items if state == "all" or item.state == state]
        if labels := request.arg("labels"):
            wanted = {name.strip() for name in labels.split(",") if name.strip()}
            items = [item for item in items if wanted <= set(item.labels)]
        if since := request.arg("since"):
            start = _moment(since)[0]
            items = [item for item in items if item.updated_at >= start]
        if creator := request.arg("creator"):
            items = [item for item in items if item.user == creator]
        sort = request.arg("sort") or "created"
        keys: dict[str, Callable[[FakeIssue | FakePullRequest], Any]] = {
            "created": lambda item: (item.created_at, item.number),
            "updated": lambda item: (item.updated_at, item.number),
            "comments": lambda item: (item.comments, item.number),
        }
        if sort not in keys:
            raise _HttpError(422, f"Invalid sort {sort!r}")
        items = _sorted(items, keys[sort], request.arg("direction"), "desc")
        return self._listing(request, items, lambda item: self.issue(repo, item))

    def get_issue(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        number = self._number(request, "number")
        item: FakeIssue | FakePullRequest
        try:
            item = repo.issue(number)
        except KeyError:
            try:
                item = repo.pull(number)
            except KeyError:
                raise _HttpError(404, "Not Found") from None
        return _Answer(self.issue(repo, item))

    def get_workflows(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        page, headers, total = self._page(request, repo.workflows)
        body = {"total_count": total, "workflows": [self.workflow(repo, w) for w in page]}
        return _Answer(body, headers=headers)

    def get_runs(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        runs = sorted(repo.runs, key=lambda run: (run.created_at, run.id), reverse=True)
        if actor := request.arg("actor"):
            runs = [run for run in runs if run.actor == actor]
        if branch := request.arg("branch"):
            runs = [run for run in runs if run.head_branch == branch]
        if event := request.arg("event"):
            runs = [run for run in runs if run.event == event]
        if status := request.arg("status"):
            if status in _RUN_STATUSES:
                runs = [run for run in runs if run.status == status]
            else:
                runs = [run for run in runs if run.conclusion == status]
        if head_sha := request.arg("head_sha"):
            runs = [run for run in runs if run.head_sha == head_sha]
        if suite := request.arg("check_suite_id"):
            runs = [run for run in runs if str(run.check_suite_id) == suite]
        if created := request.arg("created"):
            matches = created_filter(created)
            runs = [run for run in runs if matches(run.created_at)]
        filtered = any(request.arg(name) for name in _RUN_FILTERS)
        page, headers, total = self._page(request, runs, RUN_SEARCH_CAP if filtered else None)
        with_pulls = request.arg("exclude_pull_requests") not in {"1", "true"}
        embedded = self.repo_simple(repo)
        body = {
            "total_count": total,
            "workflow_runs": [
                self.run(repo, run, with_pulls=with_pulls, embedded=embedded) for run in page
            ],
        }
        return _Answer(body, headers=headers)

    def get_run(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        try:
            run = repo.run(self._number(request, "run_id"))
        except KeyError:
            raise _HttpError(404, "Not Found") from None
        return _Answer(self.run(repo, run))

    def get_deployments(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        deployments = sorted(repo.deployments, key=lambda item: item.id, reverse=True)
        for name in ("sha", "ref", "task", "environment"):
            if (value := request.arg(name)) is not None:
                deployments = [item for item in deployments if getattr(item, name) == value]
        return self._listing(request, deployments, lambda item: self.deployment(repo, item))

    def _deployment(self, request: _Request) -> tuple[FakeRepo, FakeDeployment]:
        repo = self._repo(request)
        try:
            return repo, repo.deployment(self._number(request, "deployment_id"))
        except KeyError:
            raise _HttpError(404, "Not Found") from None

    def get_deployment(self, request: _Request) -> _Answer:
        repo, deployment = self._deployment(request)
        return _Answer(self.deployment(repo, deployment))

    def get_deployment_statuses(self, request: _Request) -> _Answer:
        repo, deployment = self._deployment(request)
        statuses = sorted(deployment.statuses, key=lambda status: status.id, reverse=True)
        return self._listing(
            request, statuses, lambda status: self.deployment_status(repo, deployment, status)
        )

    def get_releases(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        releases = sorted(repo.releases, key=lambda item: (item.created_at, item.id), reverse=True)
        return self._listing(request, releases, lambda item: self.release(repo, item))

    def get_branch(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        name = request.params["branch"]
        if name not in repo.branches:
            raise _HttpError(404, "Branch not found")
        url = f"{self.repo_api(repo)}/branches/{quote(name, safe='')}"
        return _Answer(
            {
                "name": name,
                "commit": self.commit(repo, self._commit_or_404(repo, repo.branches[name])),
                "_links": {"self": url, "html": f"{self.repo_web(repo)}/tree/{quote(name)}"},
                "protected": False,
                "protection": {
                    "enabled": False,
                    "required_status_checks": {
                        "enforcement_level": "off",
                        "contexts": [],
                        "checks": [],
                    },
                },
                "protection_url": f"{url}/protection",
            }
        )

    def get_commits(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        head = self._commit_or_404(repo, request.arg("sha") or repo.default_branch)
        history: list[FakeCommit] = []
        current: FakeCommit | None = head
        while current is not None:
            history.append(current)
            current = repo.commit(current.parents[0]) if current.parents else None
        if path := request.arg("path"):
            path = path.strip("/")
            history = [
                commit
                for commit in history
                if any(
                    changed == path or changed.startswith(path + "/") for changed in commit.changed
                )
            ]
        if since := request.arg("since"):
            start = _moment(since)[0]
            history = [commit for commit in history if commit.date >= start]
        if until := request.arg("until"):
            stop = _moment(until)[0]
            history = [commit for commit in history if commit.date <= stop]
        if author := request.arg("author"):
            history = [commit for commit in history if commit.author == author]
        return self._listing(request, history, lambda commit: self.commit(repo, commit))

    def get_commit(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        return _Answer(
            self.commit(repo, self._commit_or_404(repo, request.params["ref"]), detail=True)
        )

    def get_tree(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        sha = request.params["tree_sha"]
        recursive = request.arg("recursive") is not None
        found = self._tree(repo, sha)
        if found is None:
            raise _HttpError(404, "Not Found")
        tree_sha, entries, prefix = found
        listed = []
        for entry in entries:
            if not entry.path.startswith(prefix):
                continue
            relative = entry.path[len(prefix) :]
            if recursive or "/" not in relative:
                listed.append(self.tree_entry(repo, entry, relative))
        return _Answer(
            {
                "sha": tree_sha,
                "url": f"{self.repo_api(repo)}/git/trees/{tree_sha}",
                "tree": listed,
                "truncated": False,
            }
        )

    @staticmethod
    def _tree(repo: FakeRepo, sha: str) -> tuple[str, tuple[TreeEntry, ...], str] | None:
        """A tree by commit, branch, root tree SHA or subtree SHA: (sha, entries, path prefix)."""
        commit = repo.commit(sha)
        if commit is not None:
            return commit.tree_sha, commit.entries, ""
        for candidate in reversed(repo.commits):
            if candidate.tree_sha == sha:
                return sha, candidate.entries, ""
            for entry in candidate.entries:
                if entry.type == "tree" and entry.sha == sha:
                    return sha, candidate.entries, entry.path + "/"
        return None

    def get_blob(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        sha = request.params["file_sha"]
        for commit in reversed(repo.commits):
            for entry in commit.entries:
                if entry.type == "blob" and entry.sha == sha:
                    content = commit.files[entry.path]
                    return _Answer(
                        {
                            "sha": sha,
                            "node_id": _node_id("Blob", f"{repo.id}:{sha}"),
                            "size": len(content),
                            "url": f"{self.repo_api(repo)}/git/blobs/{sha}",
                            "content": _b64_lines(content),
                            "encoding": "base64",
                        }
                    )
        raise _HttpError(404, "Not Found")

    def get_contents(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        ref = request.arg("ref") or repo.default_branch
        commit = repo.commit(ref)
        if commit is None:
            raise _HttpError(404, f"No commit found for the ref {ref}")
        path = request.params.get("path", "").strip("/")
        if path in commit.files:
            content = commit.files[path]
            if "raw" in (request.headers.get("Accept") or ""):
                return _Answer(content, headers={"Content-Type": "application/vnd.github.raw"})
            entry = next(item for item in commit.entries if item.path == path)
            listed = self.content_entry(repo, entry, ref)
            return _Answer(
                {
                    "type": "file",
                    "encoding": "base64",
                    "size": len(content),
                    "name": listed["name"],
                    "path": path,
                    "content": _b64_lines(content),
                    "sha": entry.sha,
                    **{key: listed[key] for key in ("url", "git_url", "html_url", "download_url")},
                    "_links": listed["_links"],
                }
            )
        prefix = path + "/" if path else ""
        children = [
            self.content_entry(repo, entry, ref)
            for entry in commit.entries
            if entry.path.startswith(prefix) and "/" not in entry.path[len(prefix) :]
        ]
        if not children:
            raise _HttpError(404, "Not Found")
        return _Answer(children)

    def get_tarball(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        ref = request.params.get("ref") or repo.default_branch
        self._commit_or_404(repo, ref)
        location = f"{self.web}/_codeload/{repo.full_name}/legacy.tar.gz/{quote(ref, safe='')}"
        return _Answer(None, status=302, headers={"Location": location})

    # -- handlers outside the API prefix (no token, no rate limit) ----------------------------

    def get_codeload(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        commit = self._commit_or_404(repo, request.params["ref"])
        top = f"{repo.owner}-{repo.name}-{commit.sha[:7]}"
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for entry in commit.entries:
                info = tarfile.TarInfo(f"{top}/{entry.path}")
                info.mtime = int(commit.date.timestamp())
                if entry.type == "tree":
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    archive.addfile(info)
                else:
                    content = commit.files[entry.path]
                    info.size, info.mode = len(content), 0o644
                    archive.addfile(info, io.BytesIO(content))
        return _Answer(
            gzip.compress(buffer.getvalue(), mtime=0),
            headers={
                "Content-Type": "application/x-gzip",
                "Content-Disposition": f"attachment; filename={top}.tar.gz",
            },
        )

    def get_raw(self, request: _Request) -> _Answer:
        repo = self._repo(request)
        commit = self._commit_or_404(repo, request.params["ref"])
        path = request.params["path"]
        if path not in commit.files:
            raise _HttpError(404, "Not Found")
        return _Answer(commit.files[path], headers={"Content-Type": "text/plain; charset=utf-8"})

    # -- pagination ---------------------------------------------------------------------------

    def _listing(
        self, request: _Request, items: Sequence[T], render: Callable[[T], Json]
    ) -> _Answer:
        page, headers, _ = self._page(request, items)
        return _Answer([render(item) for item in page], headers=headers)

    def _page(
        self, request: _Request, items: Sequence[T], cap: int | None = None
    ) -> tuple[Sequence[T], dict[str, str], int]:
        """One page as GitHub serves it: `per_page` (default 30, at most 100), `page` from 1,
        and a Link header with prev / next / last / first whenever there is more than one page."""
        per_page = _int(request.arg("per_page"), 30)
        per_page = 30 if per_page < 1 else min(per_page, 100)
        page = max(_int(request.arg("page"), 1), 1)
        if cap is not None:
            items = items[:cap]
        last = max(1, math.ceil(len(items) / per_page))
        rels = []
        if page > 1:
            rels.append(("prev", page - 1))
        if page < last:
            rels.extend([("next", page + 1), ("last", last)])
        if page > 1:
            rels.append(("first", 1))
        headers = {}
        if rels:
            headers["Link"] = ", ".join(
                f'<{self._page_url(request, number)}>; rel="{rel}"' for rel, number in rels
            )
        return items[(page - 1) * per_page : page * per_page], headers, len(items)

    def _page_url(self, request: _Request, number: int) -> str:
        pairs: list[tuple[str, str]] = []
        placed = False
        for key, value in request.query:
            if key == "page":
                if not placed:
                    pairs.append(("page", str(number)))
                    placed = True
                continue
            pairs.append((key, value))
        if not placed:
            pairs.append(("page", str(number)))
        return f"{self.api}{request.link_path}?{urlencode(pairs)}"


@dataclass
class _Exchange:
    """One request on its way to an answer; `_send` logs it under `route`."""

    handler: _RequestHandler
    path: str
    query: list[tuple[str, str]]
    route: str | None = None
    delay: float = 0.0
    """A slow fault's pause, taken after logging so counters never lag behind the client."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: GitHubServer) -> None:
        self.app = app
        super().__init__(("127.0.0.1", 0), _RequestHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that gave up (timeouts, closed pools) are part of the tests, not errors."""


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"
    sys_version = ""
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.app._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the server keeps its own request log."""


class GitHubServer:
    """A GitHub REST API on 127.0.0.1 (a free port), serving `org`; use it as a context manager.

    `base_url` is what a client passes to `Github(base_url=...)`; `prefix` (e.g. "/api/v3")
    puts the API where GitHub Enterprise Server has it. `token` is the only accepted token
    (`Authorization: token X` or `Bearer X`); None accepts any request.
    """

    def __init__(
        self,
        org: FakeOrg,
        *,
        token: str | None = "test-token",
        prefix: str = "",
        rate_limit: int = 5000,
        rate_limit_window: timedelta = timedelta(hours=1),
    ) -> None:
        if prefix and not re.fullmatch(r"(/[\w.-]+)+", prefix):
            raise ValueError(f"prefix {prefix!r} must look like /api/v3")
        self.org = org
        self.token = token
        self.prefix = prefix
        self._lock = threading.Lock()
        self._limit = rate_limit
        self._used = 0
        self._window = int(rate_limit_window.total_seconds())
        self._reset_at = int(time.time()) + self._window
        self._faults: list[Fault] = []
        self._log: list[LoggedRequest] = []
        self._route_counts: Counter[str] = Counter()
        self._not_modified = 0
        self._request_ids = 0
        self._stopping = threading.Event()
        self._httpd = _HTTPServer(self)
        self.origin = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.base_url = self.origin + prefix
        api = _Api(org, self.base_url, self.origin)
        self._routes = [
            _Route.of(template, handler)
            for template, handler in [
                ("/user", api.get_user),
                ("/user/repos", api.get_user_repos),
                ("/users/{username}", api.get_named_user),
                ("/rate_limit", self._rate_limit_answer),
                ("/orgs/{org}", api.get_org),
                ("/orgs/{org}/repos", api.get_org_repos),
                ("/repos/{owner}/{repo}", api.get_repo),
                ("/repos/{owner}/{repo}/pulls", api.get_pulls),
                ("/repos/{owner}/{repo}/pulls/{number}", api.get_pull),
                ("/repos/{owner}/{repo}/issues", api.get_issues),
                ("/repos/{owner}/{repo}/issues/{number}", api.get_issue),
                ("/repos/{owner}/{repo}/actions/workflows", api.get_workflows),
                ("/repos/{owner}/{repo}/actions/runs", api.get_runs),
                ("/repos/{owner}/{repo}/actions/runs/{run_id}", api.get_run),
                ("/repos/{owner}/{repo}/deployments", api.get_deployments),
                ("/repos/{owner}/{repo}/deployments/{deployment_id}", api.get_deployment),
                (
                    "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
                    api.get_deployment_statuses,
                ),
                ("/repos/{owner}/{repo}/releases", api.get_releases),
                ("/repos/{owner}/{repo}/branches/{branch}", api.get_branch),
                ("/repos/{owner}/{repo}/commits", api.get_commits),
                ("/repos/{owner}/{repo}/commits/{ref}", api.get_commit),
                ("/repos/{owner}/{repo}/git/trees/{tree_sha}", api.get_tree),
                ("/repos/{owner}/{repo}/git/blobs/{file_sha}", api.get_blob),
                ("/repos/{owner}/{repo}/contents", api.get_contents),
                ("/repos/{owner}/{repo}/contents/{path}", api.get_contents),
                ("/repos/{owner}/{repo}/tarball", api.get_tarball),
                ("/repos/{owner}/{repo}/tarball/{ref}", api.get_tarball),
            ]
        ]
        self._origin_routes = [
            _Route.of("/_codeload/{owner}/{repo}/legacy.tar.gz/{ref}", api.get_codeload),
            _Route.of("/{owner}/{repo}/raw/{ref_name}/{path}", api.get_raw),
        ]
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> GitHubServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-github",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> GitHubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- primary rate limit -------------------------------------------------------------------

    def _roll_window(self) -> None:
        now = int(time.time())
        if now >= self._reset_at:
            self._used = 0
            self._reset_at = now + self._window

    @property
    def rate_limit_remaining(self) -> int:
        with self._lock:
            self._roll_window()
            return max(self._limit - self._used, 0)

    @property
    def rate_limit_used(self) -> int:
        with self._lock:
            self._roll_window()
            return self._used

    @property
    def rate_limit_reset(self) -> datetime:
        with self._lock:
            self._roll_window()
            return datetime.fromtimestamp(self._reset_at, UTC)

    def set_rate_limit(
        self,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        reset_at: datetime | None = None,
    ) -> None:
        """Change the primary limit while the server runs (e.g. `remaining=3` to run out soon)."""
        with self._lock:
            self._roll_window()
            if limit is not None:
                self._limit = limit
            if reset_at is not None:
                self._reset_at = int(reset_at.timestamp())
            if remaining is not None:
                self._used = self._limit - remaining

    def refill(self) -> None:
        """A fresh window: nothing used, resetting one window from now."""
        with self._lock:
            self._used = 0
            self._reset_at = int(time.time()) + self._window

    def _rate_headers(self) -> dict[str, str]:
        with self._lock:
            self._roll_window()
            return {
                "X-RateLimit-Limit": str(self._limit),
                "X-RateLimit-Remaining": str(max(self._limit - self._used, 0)),
                "X-RateLimit-Reset": str(self._reset_at),
                "X-RateLimit-Used": str(self._used),
                "X-RateLimit-Resource": "core",
            }

    def _take_from_limit(self) -> bool:
        with self._lock:
            self._roll_window()
            if self._used >= self._limit:
                return False
            self._used += 1
            return True

    def _give_back(self) -> None:
        with self._lock:
            self._used = max(self._used - 1, 0)

    def _rate_limit_answer(self, request: _Request) -> _Answer:
        with self._lock:
            self._roll_window()
            core = {
                "limit": self._limit,
                "used": self._used,
                "remaining": max(self._limit - self._used, 0),
                "reset": self._reset_at,
            }
            resources: Json = {"core": core}
            for name, limit in _RATE_RESOURCES.items():
                resources[name] = {
                    "limit": limit,
                    "used": 0,
                    "remaining": limit,
                    "reset": self._reset_at,
                }
        return _Answer({"resources": resources, "rate": dict(core)})

    # -- faults -------------------------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        """Add a fault (checked in the order added; the first that fires wins).

        Its `seen` and `fired` counts restart, so one `Fault` value (a parametrize case, say)
        behaves the same each time it is injected.
        """
        with self._lock:
            fault.seen = fault.fired = 0
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fault_for(self, path: str) -> tuple[Fault, int] | None:
        with self._lock:
            chosen = None
            for fault in self._faults:
                status = fault._observe(path, may_fire=chosen is None)
                if status is not None:
                    chosen = (fault, status)
            return chosen

    # -- counters -----------------------------------------------------------------------------

    @property
    def total_requests(self) -> int:
        with self._lock:
            return len(self._log)

    @property
    def not_modified(self) -> int:
        """How many answers were 304 Not Modified."""
        with self._lock:
            return self._not_modified

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def count(self, route: str) -> int:
        """Requests to one route template, e.g. `count("GET /repos/{owner}/{repo}/pulls")`."""
        with self._lock:
            return self._route_counts[route]

    def route_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._route_counts)

    def reset_counters(self) -> None:
        with self._lock:
            self._log.clear()
            self._route_counts.clear()
            self._not_modified = 0

    # -- request handling ---------------------------------------------------------------------

    def _canonical(self, path: str) -> tuple[str, str]:
        """(path to route, path for Link headers): GitHub links to /repositories/{id}/…"""
        found = re.fullmatch(r"/repositories/(\d+)(/.*)?", path)
        if found:
            repo = self.org.repo_by_id(int(found.group(1)))
            if repo is not None:
                return f"/repos/{repo.full_name}{found.group(2) or ''}", path
        found = re.fullmatch(r"/organizations/(\d+)(/.*)?", path)
        if found and int(found.group(1)) == self.org.id:
            return f"/orgs/{self.org.login}{found.group(2) or ''}", path
        found = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if found and found.group(1).lower() == self.org.login.lower():
            try:
                repo = self.org.repo(found.group(2))
            except KeyError:
                return path, path
            return path, f"/repositories/{repo.id}{found.group(3) or ''}"
        found = re.fullmatch(r"/orgs/([^/]+)(/.*)?", path)
        if found and found.group(1).lower() == self.org.login.lower():
            return path, f"/organizations/{self.org.id}{found.group(2) or ''}"
        return path, path

    @staticmethod
    def _match(routes: Sequence[_Route], path: str) -> tuple[_Route, dict[str, str]] | None:
        for route in routes:
            found = route.pattern.fullmatch(path)
            if found:
                params = {name: unquote(value) for name, value in found.groupdict().items()}
                if "ref_name" in params:
                    params["ref"] = params.pop("ref_name")
                return route, params
        return None

    def _authorised(self, headers: Message) -> str | None:
        """None when the request may proceed, else the 401 message."""
        if self.token is None:
            return None
        scheme, _, credential = (headers.get("Authorization") or "").strip().partition(" ")
        if not scheme:
            return "Requires authentication"
        if scheme.lower() in {"token", "bearer"} and credential.strip() == self.token:
            return None
        return "Bad credentials"

    def _serve(self, handler: _RequestHandler) -> None:
        split = urlsplit(handler.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        self._respond(_Exchange(handler, split.path, query))

    def _respond(self, exchange: _Exchange) -> None:
        method, raw_path, query = exchange.handler.command, exchange.path, exchange.query
        headers = exchange.handler.headers
        owned = raw_path.lower().startswith(f"/{self.org.login.lower()}/")
        origin = self._match(self._origin_routes, raw_path)
        if origin is not None and (owned or raw_path.startswith("/_codeload/")):
            exchange.route = f"{method} {origin[0].template}"
            request = _Request(method, raw_path, raw_path, query, headers, origin[1])
            fault = self._fault_for(raw_path)
            self._finish(exchange, request, origin[0], fault, counted=False)
            return
        if not raw_path.startswith(self.prefix + "/") and raw_path != self.prefix:
            self._send_error(exchange, 404, "Not Found")
            return
        with self.org.lock:
            path, link_path = self._canonical(raw_path[len(self.prefix) :] or "/")
        found = self._match(self._routes, path)
        route = found[0] if found else None
        request = _Request(method, path, link_path, query, headers, found[1] if found else {})
        exchange.route = f"{method} {route.template}" if route else None
        problem = self._authorised(headers)
        if problem is not None:
            self._send_error(exchange, 401, problem)
            return
        fault = self._fault_for(path)
        counted = route is None or route.template != "/rate_limit"
        self._finish(exchange, request, route, fault, counted=counted)

    def _finish(
        self,
        exchange: _Exchange,
        request: _Request,
        route: _Route | None,
        fault: tuple[Fault, int] | None,
        *,
        counted: bool,
    ) -> None:
        truncate = False
        if fault is not None:
            kind, status = fault[0].kind, fault[1]
            if kind == "secondary_rate_limit":
                message = (
                    "You have exceeded a secondary rate limit. Please wait a few minutes before "
                    "you try again. If you reach out to GitHub Support for help, please include "
                    f"the request ID {self._next_request_id()}."
                )
                retry_after = {"Retry-After": str(fault[0].retry_after)}
                self._send_error(exchange, status, message, SECONDARY_DOCS, retry_after)
                return
            if kind in {"server_error", "unauthorized"}:
                message = "Server Error" if kind == "server_error" else "Bad credentials"
                self._send_error(exchange, status, message)
                return
            if kind == "slow":
                exchange.delay = fault[0].delay
            truncate = kind == "truncated"
        if counted and not self._take_from_limit():
            user = self.org.users.get(self.org.viewer, 0)
            message = (
                f"API rate limit exceeded for user ID {user}. If you reach out to GitHub Support "
                f"for help, please include the request ID {self._next_request_id()}."
            )
            self._send_error(exchange, 403, message, RATE_LIMIT_DOCS)
            return
        if route is None:
            self._send_error(exchange, 404, "Not Found")
            return
        try:
            with self.org.lock:
                answer = route.handler(request)
        except _HttpError as error:
            self._send_error(exchange, error.status, error.message)
            return
        headers = dict(answer.headers)
        if isinstance(answer.body, bytes):
            body = answer.body
        elif answer.body is None:
            body = b""
        else:
            body = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":")).encode()
        if answer.status == 200:
            etag = f'W/"{hashlib.sha256(body).hexdigest()}"'
            headers["ETag"] = etag
            if self._etag_matches(request.headers.get("If-None-Match"), etag):
                if counted:
                    self._give_back()
                self._send(exchange, 304, headers, b"")
                return
        if truncate:
            body = body[: len(body) // 2]
        self._send(exchange, answer.status, headers, body)

    @staticmethod
    def _etag_matches(header: str | None, etag: str) -> bool:
        if not header:
            return False
        opaque = etag.removeprefix("W/")
        return any(
            tag.strip() == "*" or tag.strip().removeprefix("W/") == opaque
            for tag in header.split(",")
        )

    def _next_request_id(self) -> str:
        with self._lock:
            self._request_ids += 1
            return f"C0DE:{self._request_ids:06X}:{self._request_ids * 7919:08X}"

    def _send_error(
        self,
        exchange: _Exchange,
        status: int,
        message: str,
        documentation_url: str = DOCS,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        body = json.dumps(_error_body(status, message, documentation_url)).encode()
        self._send(exchange, status, dict(headers or {}), body)

    def _send(self, exchange: _Exchange, status: int, headers: dict[str, str], body: bytes) -> None:
        """Count and log first: a client must never see an answer the counters do not hold yet."""
        handler = exchange.handler
        entry = LoggedRequest(
            handler.command, exchange.path, dict(exchange.query), exchange.route, status
        )
        with self._lock:
            self._log.append(entry)
            if exchange.route is not None:
                self._route_counts[exchange.route] += 1
            if status == 304:
                self._not_modified += 1
        if exchange.delay:
            self._stopping.wait(exchange.delay)
        merged = {
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "private, max-age=60, s-maxage=60",
            "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-OAuth-Scopes": "repo, read:org",
            "X-Accepted-OAuth-Scopes": "repo",
            "X-GitHub-Request-Id": self._next_request_id(),
            **self._rate_headers(),
            **headers,
        }
        try:
            handler.send_response(status)
            for name, value in merged.items():
                if status == 304 and name == "Content-Type":
                    continue
                handler.send_header(name, value)
            if status != 304:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if body:
                handler.wfile.write(body)
        except OSError:
            handler.close_connection = True
