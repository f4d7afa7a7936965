"""A synthetic GitHub organisation: what the fake GitHub server serves and tests take as truth.

The model is deliberately plain (dataclasses, lists in creation order, UTC-aware datetimes at
whole seconds, as GitHub reports them) so a test can compute the expected store contents from
the same objects the server serialises. Tests mutate it while the server runs (a new pull
request, a run that finishes, a deployment, an incident, a commit) to drive incremental syncs;
every mutation takes `org.lock`, which the server also holds while it renders an answer.

Commit, tree and blob SHAs are real git object hashes of the modelled files, so anything a
client derives from them (blob SHA of a file it read, tree SHA of a commit) is consistent.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal, TypeAlias, Union

RunStatus = Literal["queued", "in_progress", "completed", "requested", "waiting", "pending"]
RunConclusion = Literal[
    "success",
    "failure",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
    "neutral",
    "stale",
]
DeploymentState = Literal[
    "error", "failure", "inactive", "in_progress", "queued", "pending", "success"
]
IssueState = Literal["open", "closed"]

INCIDENT_LABEL = "incident"

_Node: TypeAlias = dict[str, Union[bytes, "_Node"]]


def utc_seconds(moment: datetime) -> datetime:
    """GitHub reports whole seconds in UTC; naive datetimes are refused rather than guessed."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0)


def _object_digest(kind: bytes, body: bytes) -> bytes:
    return hashlib.sha1(kind + b" %d\0" % len(body) + body, usedforsecurity=False).digest()


def git_blob_sha(content: bytes) -> str:
    """The SHA git (and GitHub's contents and trees APIs) gives a file with these bytes."""
    return _object_digest(b"blob", content).hex()


@dataclass(frozen=True)
class TreeEntry:
    """One line of a recursive git tree listing (a file or a directory)."""

    path: str
    mode: str
    type: Literal["blob", "tree"]
    sha: str
    size: int | None


def git_tree(files: Mapping[str, bytes]) -> tuple[str, tuple[TreeEntry, ...]]:
    """Root tree SHA and every entry, depth first in git's order (directories sort as `name/`)."""
    root: _Node = {}
    for path, content in files.items():
        node = root
        *directories, leaf = path.split("/")
        for directory in directories:
            child = node.setdefault(directory, {})
            if not isinstance(child, dict):
                raise ValueError(f"{path!r} puts a file under the file {directory!r}")
            node = child
        node[leaf] = content

    def build(node: _Node, prefix: str) -> tuple[bytes, list[TreeEntry]]:
        body = b""
        listed: list[TreeEntry] = []
        for name, value in sorted(
            node.items(), key=lambda item: item[0] + "/" if isinstance(item[1], dict) else item[0]
        ):
            path = prefix + name
            if isinstance(value, dict):
                digest, children = build(value, path + "/")
                body += b"40000 " + name.encode() + b"\0" + digest
                listed.append(TreeEntry(path, "040000", "tree", digest.hex(), None))
                listed.extend(children)
            else:
                digest = _object_digest(b"blob", value)
                body += b"100644 " + name.encode() + b"\0" + digest
                listed.append(TreeEntry(path, "100644", "blob", digest.hex(), len(value)))
        return _object_digest(b"tree", body), listed

    digest, entries = build(root, "")
    return digest.hex(), tuple(entries)


def noreply_email(login: str, user_id: int) -> str:
    return f"{user_id}+{login}@users.noreply.github.com"


@dataclass(eq=False)
class FakeCommit:
    sha: str
    tree_sha: str
    message: str
    author: str
    date: datetime
    parents: tuple[str, ...]
    files: Mapping[str, bytes]
    """The whole snapshot at this commit (path -> content)."""
    changed: tuple[str, ...]
    """Paths added, modified or deleted relative to the first parent."""
    entries: tuple[TreeEntry, ...]


@dataclass(eq=False)
class FakePullRequest:
    id: int
    issue_id: int
    """Pull requests are issues too, with an id of their own in the issues API."""
    number: int
    title: str
    user: str
    base: str
    head: str
    head_sha: str
    created_at: datetime
    updated_at: datetime
    state: IssueState = "open"
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    merged_by: str | None = None
    draft: bool = False
    labels: list[str] = field(default_factory=list)
    body: str = ""
    comments: int = 0
    commits: int = 1
    additions: int = 1
    deletions: int = 0
    changed_files: int = 1

    @property
    def merged(self) -> bool:
        return self.merged_at is not None


@dataclass(eq=False)
class FakeIssue:
    id: int
    number: int
    title: str
    user: str
    created_at: datetime
    updated_at: datetime
    state: IssueState = "open"
    closed_at: datetime | None = None
    closed_by: str | None = None
    labels: list[str] = field(default_factory=list)
    body: str = ""
    comments: int = 0

    @property
    def is_incident(self) -> bool:
        return INCIDENT_LABEL in self.labels


@dataclass(eq=False)
class FakeWorkflow:
    id: int
    name: str
    path: str
    created_at: datetime
    updated_at: datetime
    state: str = "active"
    runs_started: int = 0
    """Drives run_number, which GitHub counts per workflow."""


@dataclass(eq=False)
class FakeWorkflowRun:
    id: int
    workflow_id: int
    name: str
    path: str
    run_number: int
    event: str
    head_branch: str
    head_sha: str
    display_title: str
    actor: str
    status: RunStatus
    conclusion: RunConclusion | None
    created_at: datetime
    updated_at: datetime
    run_started_at: datetime
    check_suite_id: int
    pull_request_numbers: list[int] = field(default_factory=list)
    run_attempt: int = 1


@dataclass(eq=False)
class FakeDeploymentStatus:
    id: int
    state: DeploymentState
    created_at: datetime
    creator: str
    environment: str
    description: str = ""


@dataclass(eq=False)
class FakeDeployment:
    id: int
    sha: str
    ref: str
    environment: str
    created_at: datetime
    creator: str
    task: str = "deploy"
    description: str = ""
    production_environment: bool = False
    transient_environment: bool = False
    statuses: list[FakeDeploymentStatus] = field(default_factory=list)
    """Chronological; the API lists them newest first."""

    @property
    def state(self) -> DeploymentState | None:
        return self.statuses[-1].state if self.statuses else None

    @property
    def updated_at(self) -> datetime:
        return self.statuses[-1].created_at if self.statuses else self.created_at


@dataclass(eq=False)
class FakeRelease:
    id: int
    tag_name: str
    name: str
    target_commitish: str
    author: str
    created_at: datetime
    published_at: datetime | None
    draft: bool = False
    prerelease: bool = False
    body: str = ""


@dataclass(eq=False)
class FakeRepo:
    owner: str
    name: str
    id: int
    created_at: datetime
    default_branch: str = "main"
    description: str = ""
    private: bool = True
    language: str | None = "Python"
    topics: list[str] = field(default_factory=list)
    commits: list[FakeCommit] = field(default_factory=list)
    branches: dict[str, str] = field(default_factory=dict)
    """Branch name -> head commit SHA."""
    pulls: list[FakePullRequest] = field(default_factory=list)
    issues: list[FakeIssue] = field(default_factory=list)
    """Issues proper; pull requests live in `pulls` (the issues API lists both)."""
    workflows: list[FakeWorkflow] = field(default_factory=list)
    runs: list[FakeWorkflowRun] = field(default_factory=list)
    deployments: list[FakeDeployment] = field(default_factory=list)
    releases: list[FakeRelease] = field(default_factory=list)
    last_number: int = 0
    """Issues and pull requests share one number sequence per repository."""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def head(self) -> FakeCommit:
        """The head commit of the default branch."""
        head = self.commit(self.branches[self.default_branch])
        assert head is not None
        return head

    @property
    def head_sha(self) -> str:
        return self.branches[self.default_branch]

    @property
    def files(self) -> Mapping[str, bytes]:
        """The default branch's files (path -> content)."""
        return self.head.files

    @property
    def pushed_at(self) -> datetime:
        return max((commit.date for commit in self.commits), default=self.created_at)

    @property
    def incidents(self) -> list[FakeIssue]:
        return [issue for issue in self.issues if issue.is_incident]

    def commit(self, ref: str) -> FakeCommit | None:
        """A commit by branch name, full SHA or unambiguous SHA prefix (at least 4 characters)."""
        sha = self.branches.get(ref, ref)
        for commit in reversed(self.commits):
            if commit.sha == sha:
                return commit
        if len(sha) >= 4 and re.fullmatch(r"[0-9a-f]+", sha):
            found = [commit for commit in self.commits if commit.sha.startswith(sha)]
            if len(found) == 1:
                return found[0]
        return None

    def pull(self, number: int) -> FakePullRequest:
        for pull in self.pulls:
            if pull.number == number:
                return pull
        raise KeyError(f"{self.full_name} has no pull request #{number}")

    def issue(self, number: int) -> FakeIssue:
        for issue in self.issues:
            if issue.number == number:
                return issue
        raise KeyError(f"{self.full_name} has no issue #{number}")

    def run(self, run_id: int) -> FakeWorkflowRun:
        for run in self.runs:
            if run.id == run_id:
                return run
        raise KeyError(f"{self.full_name} has no workflow run {run_id}")

    def deployment(self, deployment_id: int) -> FakeDeployment:
        for deployment in self.deployments:
            if deployment.id == deployment_id:
                return deployment
        raise KeyError(f"{self.full_name} has no deployment {deployment_id}")

    def workflow(self, name: str) -> FakeWorkflow | None:
        for workflow in self.workflows:
            if workflow.name == name:
                return workflow
        return None


_ID_BASES = {
    "user": 5_000_001,
    "repo": 700_000_001,
    "pull": 1_900_000_001,
    "issue": 2_600_000_001,
    "workflow": 90_000_001,
    "run": 11_000_000_001,
    "check_suite": 30_000_000_001,
    "deployment": 1_500_000_001,
    "deployment_status": 3_000_000_001,
    "release": 180_000_001,
}

_WORKFLOW_NAME = re.compile(rb"^name:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", re.MULTILINE)

FileContent = str | bytes | None


class FakeOrg:
    """An organisation with repositories and their activity; see the module docstring.

    `clock` gives the time of mutations that pass no `at` (default: the real UTC time),
    because a sync's watermark is wall-clock "now" and activity a test adds must land after it.
    """

    def __init__(
        self,
        login: str = "acme",
        *,
        viewer: str = "dashboard-bot",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.login = login
        self.viewer = viewer
        self.repos: dict[str, FakeRepo] = {}
        self.users: dict[str, int] = {}
        self.lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._next_ids = dict(_ID_BASES)
        self.id = 9_000_001
        self.created_at = datetime(2019, 3, 4, 9, 30, tzinfo=UTC)
        self.user_id(viewer)

    # -- identities ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return utc_seconds(self._clock())

    def user_id(self, login: str) -> int:
        with self.lock:
            if login not in self.users:
                self.users[login] = self._new_id("user")
            return self.users[login]

    def _new_id(self, kind: str) -> int:
        value = self._next_ids[kind]
        self._next_ids[kind] = value + 1
        return value

    def repo(self, repo: FakeRepo | str) -> FakeRepo:
        """A repository by object, name or full name (case-insensitive, as GitHub resolves it)."""
        if isinstance(repo, FakeRepo):
            return repo
        owner, _, name = repo.rpartition("/")
        if owner and owner.lower() != self.login.lower():
            raise KeyError(f"{repo} is not in the {self.login} organisation")
        for candidate in self.repos.values():
            if candidate.name.lower() == name.lower():
                return candidate
        raise KeyError(f"no repository {repo!r} in {self.login}")

    def repo_by_id(self, repo_id: int) -> FakeRepo | None:
        return next((repo for repo in self.repos.values() if repo.id == repo_id), None)

    def _at(self, at: datetime | None) -> datetime:
        return self.now() if at is None else utc_seconds(at)

    # -- repositories and commits -------------------------------------------------------------

    def add_repo(
        self,
        name: str,
        *,
        files: Mapping[str, str | bytes] | None = None,
        default_branch: str = "main",
        created_at: datetime | None = None,
        description: str = "",
        private: bool = True,
        topics: Iterable[str] = (),
        author: str | None = None,
    ) -> FakeRepo:
        """A repository with one initial commit holding `files`; workflows come from its YAML."""
        with self.lock:
            if name.lower() in (existing.lower() for existing in self.repos):
                raise ValueError(f"{self.login}/{name} exists already")
            at = self._at(created_at)
            repo = FakeRepo(
                owner=self.login,
                name=name,
                id=self._new_id("repo"),
                created_at=at,
                default_branch=default_branch,
                description=description,
                private=private,
                topics=list(topics),
            )
            self.repos[name] = repo
            initial = dict(files or {"README.md": f"# {name}\n"})
            self._commit(repo, default_branch, initial, "Initial commit", author or self.viewer, at)
            return repo

    def commit_files(
        self,
        repo: FakeRepo | str,
        files: Mapping[str, FileContent],
        *,
        message: str | None = None,
        branch: str | None = None,
        author: str | None = None,
        at: datetime | None = None,
    ) -> FakeCommit:
        """A new commit on `branch` (default branch if None) that writes files; None deletes one."""
        with self.lock:
            target = self.repo(repo)
            return self._commit(
                target,
                branch or target.default_branch,
                files,
                message or "Update " + ", ".join(sorted(files)),
                author or self.viewer,
                self._at(at),
            )

    def _commit(
        self,
        repo: FakeRepo,
        branch: str,
        changes: Mapping[str, FileContent],
        message: str,
        author: str,
        at: datetime,
    ) -> FakeCommit:
        parent_sha = repo.branches.get(branch) or repo.branches.get(repo.default_branch)
        parent = repo.commit(parent_sha) if parent_sha else None
        files = dict(parent.files) if parent else {}
        changed: list[str] = []
        for path, content in changes.items():
            path = path.strip("/")
            if content is None:
                if files.pop(path, None) is not None:
                    changed.append(path)
                continue
            data = content.encode() if isinstance(content, str) else content
            if files.get(path) != data:
                files[path] = data
                changed.append(path)
        tree_sha, entries = git_tree(files)
        parents = (parent.sha,) if parent else ()
        user_id = self.user_id(author)
        stamp = f"{author} <{noreply_email(author, user_id)}> {int(at.timestamp())} +0000"
        body = (
            f"tree {tree_sha}\n"
            + "".join(f"parent {sha}\n" for sha in parents)
            + f"author {stamp}\ncommitter {stamp}\n\n{message}\n"
        )
        commit = FakeCommit(
            sha=_object_digest(b"commit", body.encode()).hex(),
            tree_sha=tree_sha,
            message=message,
            author=author,
            date=at,
            parents=parents,
            files=files,
            changed=tuple(sorted(changed)),
            entries=entries,
        )
        repo.commits.append(commit)
        repo.branches[branch] = commit.sha
        for relative in (entry.path for entry in entries if entry.type == "blob"):
            match = re.fullmatch(r"\.github/workflows/([^/]+)\.ya?ml", relative)
            if match and not any(w.path == relative for w in repo.workflows):
                found = _WORKFLOW_NAME.search(files[relative])
                workflow_name = found.group(1).decode() if found else match.group(1)
                self._add_workflow(repo, workflow_name, relative, at)
        return commit

    def _add_workflow(self, repo: FakeRepo, name: str, path: str, at: datetime) -> FakeWorkflow:
        workflow = FakeWorkflow(
            id=self._new_id("workflow"), name=name, path=path, created_at=at, updated_at=at
        )
        repo.workflows.append(workflow)
        return workflow

    # -- pull requests, issues, incidents -----------------------------------------------------

    def _next_number(self, repo: FakeRepo) -> int:
        repo.last_number += 1
        return repo.last_number

    def add_pull_request(
        self,
        repo: FakeRepo | str,
        *,
        title: str | None = None,
        user: str | None = None,
        base: str | None = None,
        head: str | None = None,
        draft: bool = False,
        labels: Iterable[str] = (),
        additions: int = 12,
        deletions: int = 3,
        at: datetime | None = None,
    ) -> FakePullRequest:
        with self.lock:
            target = self.repo(repo)
            when = self._at(at)
            number = self._next_number(target)
            author = user or self.viewer
            self.user_id(author)
            head_ref = head or f"{author.split('[')[0]}/change-{number}"
            pull = FakePullRequest(
                id=self._new_id("pull"),
                issue_id=self._new_id("issue"),
                number=number,
                title=title or f"Change {number}",
                user=author,
                base=base or target.default_branch,
                head=head_ref,
                head_sha=hashlib.sha1(
                    f"{target.full_name}#{number}:{head_ref}".encode(), usedforsecurity=False
                ).hexdigest(),
                created_at=when,
                updated_at=when,
                draft=draft,
                labels=list(labels),
                additions=additions,
                deletions=deletions,
            )
            target.pulls.append(pull)
            return pull

    def merge_pull_request(
        self,
        repo: FakeRepo | str,
        number: int,
        *,
        by: str | None = None,
        at: datetime | None = None,
    ) -> FakePullRequest:
        """Squash-merge: one commit on the base branch (a CHANGELOG line), closed and merged."""
        with self.lock:
            target = self.repo(repo)
            pull = target.pull(number)
            if pull.state != "open":
                raise ValueError(f"{target.full_name}#{number} is {pull.state}")
            when = self._at(at)
            base_head = target.commit(target.branches.get(pull.base, target.head_sha))
            changelog = base_head.files.get("CHANGELOG.md", b"# Changelog\n") if base_head else b""
            commit = self._commit(
                target,
                pull.base,
                {"CHANGELOG.md": changelog + f"- {pull.title} (#{number})\n".encode()},
                f"{pull.title} (#{number})",
                pull.user,
                when,
            )
            pull.state = "closed"
            pull.merged_at = pull.closed_at = pull.updated_at = when
            pull.merge_commit_sha = commit.sha
            pull.merged_by = by or self.viewer
            self.user_id(pull.merged_by)
            return pull

    def close_pull_request(
        self, repo: FakeRepo | str, number: int, *, at: datetime | None = None
    ) -> FakePullRequest:
        """Closed without merging."""
        with self.lock:
            pull = self.repo(repo).pull(number)
            pull.state = "closed"
            pull.closed_at = pull.updated_at = self._at(at)
            return pull

    def add_issue(
        self,
        repo: FakeRepo | str,
        *,
        title: str | None = None,
        user: str | None = None,
        labels: Iterable[str] = (),
        body: str = "",
        at: datetime | None = None,
        closed_at: datetime | None = None,
    ) -> FakeIssue:
        with self.lock:
            target = self.repo(repo)
            when = self._at(at)
            number = self._next_number(target)
            author = user or self.viewer
            self.user_id(author)
            issue = FakeIssue(
                id=self._new_id("issue"),
                number=number,
                title=title or f"Issue {number}",
                user=author,
                created_at=when,
                updated_at=when,
                labels=list(labels),
                body=body,
            )
            target.issues.append(issue)
            if closed_at is not None:
                self.close_issue(target, number, at=closed_at)
            return issue

    def add_incident(
        self,
        repo: FakeRepo | str,
        *,
        title: str | None = None,
        user: str | None = None,
        labels: Iterable[str] = (),
        at: datetime | None = None,
        closed_at: datetime | None = None,
    ) -> FakeIssue:
        """An issue labelled `incident` (plus `labels`), closed when `closed_at` is given."""
        return self.add_issue(
            repo,
            title=title or "Production incident",
            user=user,
            labels=[INCIDENT_LABEL, *labels],
            body="Customer-facing failure; see the runbook.",
            at=at,
            closed_at=closed_at,
        )

    def close_issue(
        self,
        repo: FakeRepo | str,
        number: int,
        *,
        by: str | None = None,
        at: datetime | None = None,
    ) -> FakeIssue:
        with self.lock:
            issue = self.repo(repo).issue(number)
            issue.state = "closed"
            issue.closed_at = issue.updated_at = self._at(at)
            issue.closed_by = by or issue.user
            return issue

    def comment(
        self, repo: FakeRepo | str, number: int, *, at: datetime | None = None
    ) -> FakePullRequest | FakeIssue:
        """A comment on an issue or pull request: no state change, but `updated_at` moves."""
        with self.lock:
            target = self.repo(repo)
            item: FakePullRequest | FakeIssue
            try:
                item = target.pull(number)
            except KeyError:
                item = target.issue(number)
            item.comments += 1
            item.updated_at = self._at(at)
            return item

    # -- workflow runs ------------------------------------------------------------------------

    def add_workflow_run(
        self,
        repo: FakeRepo | str,
        *,
        name: str = "CI",
        event: str = "push",
        branch: str | None = None,
        sha: str | None = None,
        status: RunStatus = "completed",
        conclusion: RunConclusion | None = None,
        duration: timedelta = timedelta(minutes=5),
        actor: str | None = None,
        pull_request: int | None = None,
        at: datetime | None = None,
    ) -> FakeWorkflowRun:
        """A run created at `at`; if completed, `conclusion` (default success) after `duration`.

        An unknown workflow name creates the workflow, as a workflow file pushed later would.
        """
        with self.lock:
            target = self.repo(repo)
            when = self._at(at)
            workflow = target.workflow(name) or self._add_workflow(
                target,
                name,
                f".github/workflows/{re.sub(r'[^a-z0-9]+', '-', name.lower())}.yml",
                when,
            )
            workflow.runs_started += 1
            head_branch = branch or target.default_branch
            title = f"Run {workflow.runs_started}"
            pulls: list[int] = []
            if pull_request is not None:
                pull = target.pull(pull_request)
                head_branch, sha, title, pulls = (
                    pull.head,
                    sha or pull.head_sha,
                    pull.title,
                    [pull.number],
                )
            head_sha = sha or target.branches.get(head_branch, target.head_sha)
            commit = target.commit(head_sha)
            if commit is not None and pull_request is None:
                title = commit.message.splitlines()[0]
            run_actor = actor or self.viewer
            self.user_id(run_actor)
            started = when + timedelta(seconds=3)
            finished = status == "completed"
            run = FakeWorkflowRun(
                id=self._new_id("run"),
                workflow_id=workflow.id,
                name=workflow.name,
                path=workflow.path,
                run_number=workflow.runs_started,
                event=event,
                head_branch=head_branch,
                head_sha=head_sha,
                display_title=title,
                actor=run_actor,
                status=status,
                conclusion=(conclusion or "success") if finished else None,
                created_at=when,
                updated_at=started + duration if finished else when,
                run_started_at=started if status != "queued" else when,
                check_suite_id=self._new_id("check_suite"),
                pull_request_numbers=pulls,
            )
            target.runs.append(run)
            return run

    def start_run(
        self, repo: FakeRepo | str, run_id: int, *, at: datetime | None = None
    ) -> FakeWorkflowRun:
        """queued -> in_progress."""
        with self.lock:
            run = self.repo(repo).run(run_id)
            run.status = "in_progress"
            run.run_started_at = run.updated_at = self._at(at)
            return run

    def complete_run(
        self,
        repo: FakeRepo | str,
        run_id: int,
        *,
        conclusion: RunConclusion = "success",
        at: datetime | None = None,
    ) -> FakeWorkflowRun:
        """An unfinished run finishes: status completed, `updated_at` moves to `at`."""
        with self.lock:
            run = self.repo(repo).run(run_id)
            if run.status == "completed":
                raise ValueError(f"run {run_id} is completed already")
            run.status = "completed"
            run.conclusion = conclusion
            run.updated_at = self._at(at)
            return run

    # -- deployments --------------------------------------------------------------------------

    def add_deployment(
        self,
        repo: FakeRepo | str,
        *,
        environment: str = "production",
        ref: str | None = None,
        sha: str | None = None,
        statuses: Iterable[DeploymentState | tuple[DeploymentState, datetime]] = ("success",),
        creator: str | None = None,
        production: bool | None = None,
        at: datetime | None = None,
    ) -> FakeDeployment:
        """A deployment of `ref` (default branch) with statuses in order.

        A bare state is dated one minute after the previous status (or the deployment);
        `(state, datetime)` pins its time. See `add_deployment_status` for `inactive`.
        """
        with self.lock:
            target = self.repo(repo)
            when = self._at(at)
            deploy_ref = ref or target.default_branch
            resolved = target.commit(sha or deploy_ref)
            who = creator or self.viewer
            self.user_id(who)
            deployment = FakeDeployment(
                id=self._new_id("deployment"),
                sha=resolved.sha if resolved else (sha or target.head_sha),
                ref=deploy_ref,
                environment=environment,
                created_at=when,
                creator=who,
                description=f"Deploy {deploy_ref} to {environment}",
                production_environment=(
                    production if production is not None else environment.lower().startswith("prod")
                ),
            )
            target.deployments.append(deployment)
            previous = when
            for status in statuses:
                state, status_at = status if isinstance(status, tuple) else (status, None)
                previous = status_at or previous + timedelta(minutes=1)
                self.add_deployment_status(target, deployment.id, state, at=previous)
            return deployment

    def add_deployment_status(
        self,
        repo: FakeRepo | str,
        deployment_id: int,
        state: DeploymentState,
        *,
        auto_inactive: bool = True,
        at: datetime | None = None,
    ) -> FakeDeploymentStatus:
        """A status on a deployment; with `auto_inactive`, as on GitHub, a `success` marks every
        earlier deployment to the same environment whose last state is `success` `inactive`."""
        with self.lock:
            target = self.repo(repo)
            deployment = target.deployment(deployment_id)
            when = self._at(at)
            status = self._status(deployment, state, when)
            if state == "success" and auto_inactive:
                for other in target.deployments:
                    if (
                        other is not deployment
                        and other.environment == deployment.environment
                        and other.created_at <= deployment.created_at
                        and other.state == "success"
                        and not other.transient_environment
                    ):
                        self._status(other, "inactive", when)
            return status

    def _status(
        self, deployment: FakeDeployment, state: DeploymentState, at: datetime
    ) -> FakeDeploymentStatus:
        status = FakeDeploymentStatus(
            id=self._new_id("deployment_status"),
            state=state,
            created_at=at,
            creator=deployment.creator,
            environment=deployment.environment,
            description={
                "success": "Deployment finished successfully.",
                "failure": "Deployment failed.",
                "error": "Deployment errored.",
                "inactive": "Superseded by a newer deployment.",
            }.get(state, f"Deployment {state.replace('_', ' ')}."),
        )
        deployment.statuses.append(status)
        return status

    # -- releases -----------------------------------------------------------------------------

    def add_release(
        self,
        repo: FakeRepo | str,
        tag: str,
        *,
        name: str | None = None,
        target: str | None = None,
        author: str | None = None,
        draft: bool = False,
        prerelease: bool = False,
        at: datetime | None = None,
    ) -> FakeRelease:
        with self.lock:
            owner = self.repo(repo)
            when = self._at(at)
            who = author or self.viewer
            self.user_id(who)
            release = FakeRelease(
                id=self._new_id("release"),
                tag_name=tag,
                name=name or tag,
                target_commitish=target or owner.default_branch,
                author=who,
                created_at=when,
                published_at=None if draft else when,
                draft=draft,
                prerelease=prerelease,
                body=f"Release {tag}",
            )
            owner.releases.append(release)
            return release

    # -- synthetic data -----------------------------------------------------------------------

    @classmethod
    def synthetic(
        cls,
        repos: int = 3,
        prs: int = 40,
        runs: int = 120,
        deployments: int = 20,
        *,
        issues: int = 8,
        incidents: int = 3,
        releases: int = 4,
        days: int = 90,
        seed: int = 0,
        end: datetime | None = None,
        login: str = "acme",
        viewer: str = "dashboard-bot",
        clock: Callable[[], datetime] | None = None,
    ) -> FakeOrg:
        """An organisation with `repos` repositories, each with the given volumes over `days`.

        Counts are per repository. The data is a pure function of the arguments: `end`
        defaults to today's midnight (UTC), so pass it for byte-identical data across days.
        Activity is replayed in time order through the mutation methods, so ids grow with
        time, deployments ship the commit at the head of the branch at that moment and
        merged pull requests are commits. The two newest runs of each repository are left
        unfinished (queued / in progress) for look-back logic to pick up.
        """
        org = cls(login, viewer=viewer, clock=clock)
        finish = utc_seconds(end) if end else org.now().replace(hour=0, minute=0, second=0)
        start = finish - timedelta(days=days)
        for index in range(repos):
            base = _REPO_NAMES[index % len(_REPO_NAMES)]
            name = base if index < len(_REPO_NAMES) else f"{base}-{index // len(_REPO_NAMES) + 1}"
            _Replay(org, random.Random(f"{seed}:{index}"), name, index, start, finish).run(
                prs=prs,
                runs=runs,
                deployments=deployments,
                issues=issues,
                incidents=incidents,
                releases=releases,
            )
        return org


_REPO_NAMES = (
    "ranker",
    "features",
    "churn-model",
    "fraud-detector",
    "recommender",
    "demand-forecast",
    "embeddings",
    "data-pipelines",
    "serving-gateway",
    "labeling-tools",
)
_PEOPLE = (
    "alice-ml",
    "bob-data",
    "carol-ops",
    "dave-sci",
    "erin-eng",
    "frank-mle",
    "grace-ds",
    "heidi-sre",
)
_DEPLOY_OUTCOMES: tuple[DeploymentState, ...] = ("success", "failure", "error")
_RUN_OUTCOMES: tuple[RunConclusion, ...] = ("success", "failure", "cancelled", "skipped")
_PR_TITLES = (
    "Add feature drift check",
    "Bump scikit-learn",
    "Retrain with last month's data",
    "Fix flaky serving test",
    "Cache feature lookups",
    "Log model signature to MLflow",
    "Tune batch size for inference",
    "Add canary rollout step",
    "Refactor training pipeline",
    "Document the evaluation metrics",
)


def _initial_files(rng: random.Random, name: str, index: int) -> dict[str, str]:
    """A plausible ML service; optional parts vary by repository so repo checks differ."""
    package = name.replace("-", "_")
    files = {
        "README.md": f"# {name}\n\nTraining and serving code for the {name} model.\n",
        "pyproject.toml": (
            f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
            'dependencies = ["mlflow>=2.10", "scikit-learn>=1.4", "fastapi>=0.110"]\n\n'
            '[tool.ruff]\nline-length = 100\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
        ),
        f"src/{package}/__init__.py": '"""The model package."""\n',
        f"src/{package}/train.py": (
            "import mlflow\n\n\ndef train() -> None:\n"
            "    with mlflow.start_run():\n        mlflow.log_param('seed', 0)\n"
        ),
        f"src/{package}/serve.py": (
            "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/health')\n"
            "def health() -> dict[str, str]:\n    return {'status': 'ok'}\n"
        ),
        "tests/test_train.py": (
            f"from {package}.train import train\n\n\ndef test_train():\n    train()\n"
        ),
        ".github/workflows/ci.yml": (
            "name: CI\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - uses: actions/checkout@v4\n"
            "      - run: pip install -e . && pytest\n"
        ),
        "CHANGELOG.md": "# Changelog\n",
    }
    optional = {
        ".github/workflows/deploy.yml": (
            "name: Deploy\non:\n  push:\n    branches: [main]\njobs:\n  deploy:\n"
            "    runs-on: ubuntu-latest\n    environment: production\n"
            "    steps:\n      - run: ./deploy.sh\n"
        ),
        "Dockerfile": f"FROM python:3.11-slim\nCOPY . /app\nRUN pip install /app\n"
        f'CMD ["uvicorn", "{package}.serve:app"]\n',
        "MLproject": (
            f"name: {name}\nentry_points:\n  main:\n    command: python -m {package}.train\n"
        ),
        "dvc.yaml": "stages:\n  train:\n    cmd: python -m train\n    deps: [data/train.csv]\n",
        "Makefile": "test:\n\tpytest\n",
        ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n",
    }
    for path, content in optional.items():
        if index == 0 or rng.random() < 0.6:
            files[path] = content
    return files


class _Replay:
    """Builds one synthetic repository by replaying its activity in time order."""

    def __init__(
        self,
        org: FakeOrg,
        rng: random.Random,
        name: str,
        index: int,
        start: datetime,
        end: datetime,
    ) -> None:
        self.org, self.rng, self.start, self.end = org, rng, start, end
        created = start - timedelta(days=rng.randint(30, 365), minutes=rng.randint(0, 1439))
        self.repo = org.add_repo(
            name,
            files=_initial_files(rng, name, index),
            created_at=created,
            description=f"The {name} model: training pipeline and serving API.",
            topics=["mlops", "machine-learning"],
            author=rng.choice(_PEOPLE),
        )
        self._queue: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._sequence = 0
        self._open_pulls: list[int] = []

    def at(self, moment: datetime, action: Callable[[datetime], None]) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (utc_seconds(moment), self._sequence, action))

    def moment(self, latest: datetime | None = None) -> datetime:
        span = ((latest or self.end) - self.start).total_seconds()
        return self.start + timedelta(seconds=self.rng.uniform(0, span))

    def run(
        self, *, prs: int, runs: int, deployments: int, issues: int, incidents: int, releases: int
    ) -> None:
        for _ in range(prs):
            self.at(self.moment(self.end - timedelta(hours=2)), self._open_pull)
        for _ in range(issues):
            self.at(self.moment(), self._open_issue)
        for _ in range(incidents):
            self.at(self.moment(self.end - timedelta(hours=1)), self._open_incident)
        for _ in range(deployments):
            self.at(self.moment(self.end - timedelta(minutes=30)), self._deploy)
        for number in range(releases):
            offset = (self.end - self.start) * (number + 1) / (releases + 1)
            self.at(self.start + offset, partial(self._release, number))
        unfinished = min(2, runs)
        for _ in range(runs - unfinished):
            self.at(self.moment(self.end - timedelta(minutes=30)), self._finished_run)
        for position in range(unfinished):
            status: RunStatus = "queued" if position == 0 else "in_progress"
            moment = self.end - timedelta(minutes=self.rng.randint(1, 20))
            self.at(moment, partial(self._run, status=status))
        while self._queue:
            when, _, action = heapq.heappop(self._queue)
            action(when)

    def _hours(self, median: float) -> timedelta:
        return timedelta(hours=min(self.rng.lognormvariate(0, 1.0) * median, 24 * 30))

    def _open_pull(self, when: datetime) -> None:
        bot = self.rng.random() < 0.08
        pull = self.org.add_pull_request(
            self.repo,
            title="Bump mlflow" if bot else self.rng.choice(_PR_TITLES),
            user="dependabot[bot]" if bot else self.rng.choice(_PEOPLE),
            labels=["dependencies"] if bot else [],
            draft=not bot and self.rng.random() < 0.05,
            additions=self.rng.randint(1, 400),
            deletions=self.rng.randint(0, 150),
            at=when,
        )
        self._open_pulls.append(pull.number)
        outcome = self.rng.random()
        closes = when + self._hours(18)
        if outcome < 0.1 or closes >= self.end:
            return
        merge = outcome < 0.88
        self.at(closes, partial(self._close_pull, pull.number, merge))

    def _close_pull(self, number: int, merge: bool, when: datetime) -> None:
        self._open_pulls.remove(number)
        if merge:
            self.org.merge_pull_request(self.repo, number, by=self.rng.choice(_PEOPLE), at=when)
        else:
            self.org.close_pull_request(self.repo, number, at=when)

    def _open_issue(self, when: datetime) -> None:
        issue = self.org.add_issue(
            self.repo,
            title=self.rng.choice(("Model latency regression", "Add monitoring", "Docs gap")),
            user=self.rng.choice(_PEOPLE),
            labels=[self.rng.choice(("bug", "enhancement", "documentation"))],
            at=when,
        )
        closes = when + self._hours(72)
        if self.rng.random() < 0.7 and closes < self.end:
            self.at(closes, partial(self._close_issue, issue.number))

    def _open_incident(self, when: datetime) -> None:
        incident = self.org.add_incident(
            self.repo,
            title=self.rng.choice(
                ("Serving 5xx spike", "Stale predictions", "Feature store outage")
            ),
            user=self.rng.choice(_PEOPLE),
            labels=[self.rng.choice(("sev1", "sev2", "sev3"))],
            at=when,
        )
        closes = when + self._hours(4)
        if closes < self.end:
            self.at(closes, partial(self._close_issue, incident.number))

    def _close_issue(self, number: int, when: datetime) -> None:
        self.org.close_issue(self.repo, number, by=self.rng.choice(_PEOPLE), at=when)

    def _deploy(self, when: datetime) -> None:
        environment = "production" if self.rng.random() < 0.6 else "staging"
        final = self.rng.choices(_DEPLOY_OUTCOMES, weights=(85, 10, 5))[0]
        started = when + timedelta(seconds=self.rng.randint(20, 90))
        finished = started + timedelta(minutes=self.rng.randint(3, 15))
        self.org.add_deployment(
            self.repo,
            environment=environment,
            creator="github-actions[bot]",
            statuses=[("in_progress", started), (final, finished)],
            at=when,
        )

    def _release(self, number: int, when: datetime) -> None:
        self.org.add_release(
            self.repo, f"v0.{number + 1}.0", author=self.rng.choice(_PEOPLE), at=when
        )

    def _finished_run(self, when: datetime) -> None:
        self._run(when, "completed")

    def _run(self, when: datetime, status: RunStatus) -> None:
        has_deploy = self.repo.workflow("Deploy") is not None
        roll = self.rng.random()
        name = "Deploy" if has_deploy and roll < 0.2 else "CI"
        event = self.rng.choices(
            ("push", "pull_request", "schedule", "workflow_dispatch"), weights=(40, 50, 5, 5)
        )[0]
        if name == "Deploy":
            event = "push" if event == "pull_request" else event
        pull = (
            self.rng.choice(self._open_pulls)
            if event == "pull_request" and self._open_pulls
            else None
        )
        if event == "pull_request" and pull is None:
            event = "push"
        conclusion = self.rng.choices(_RUN_OUTCOMES, weights=(85, 10, 3, 2))[0]
        self.org.add_workflow_run(
            self.repo,
            name=name,
            event=event,
            status=status,
            conclusion=conclusion if status == "completed" else None,
            duration=timedelta(seconds=self.rng.randint(90, 1500)),
            actor=self.rng.choice(_PEOPLE),
            pull_request=pull,
            at=when,
        )
