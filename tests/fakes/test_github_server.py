"""The fake GitHub acts like GitHub where connectors depend on it, seen from PyGithub and requests.

Connector tests trust this server for pagination, the run-search cap, rate limits, conditional
requests and failures; if it drifted from GitHub, they would pass against a fiction.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from github import Auth, Github, GithubRetry
from github.GithubException import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededExceedsMaxWait,
    RateLimitExceededException,
    UnknownObjectException,
)

from tests.fakes.github_org import FakeOrg, git_blob_sha
from tests.fakes.github_server import Fault, GitHubServer, LoggedRequest, created_filter

TOKEN = "test-token"
END = datetime(2026, 1, 15, tzinfo=UTC)
PULLS = "GET /repos/{owner}/{repo}/pulls"
ISSUES = "GET /repos/{owner}/{repo}/issues"

MakeClient = Callable[..., Github]


@pytest.fixture
def org() -> FakeOrg:
    return FakeOrg.synthetic(repos=2, prs=45, runs=60, deployments=12, seed=11, end=END)


@pytest.fixture
def server(org: FakeOrg) -> Iterator[GitHubServer]:
    with GitHubServer(org, token=TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def big_org() -> FakeOrg:
    """Read-only: volumes where pages and the 1,000-run cap matter."""
    return FakeOrg.synthetic(repos=1, prs=250, runs=1500, deployments=120, seed=5, end=END)


@pytest.fixture
def big_server(big_org: FakeOrg) -> Iterator[GitHubServer]:
    with GitHubServer(big_org, token=TOKEN) as running:
        yield running


@pytest.fixture
def clients() -> Iterator[MakeClient]:
    """PyGithub as the connector builds it; no pause between requests (its default is 0.25 s)."""
    made: list[Github] = []

    def make(server: GitHubServer, retry: GithubRetry | None = None, token: str = TOKEN) -> Github:
        client = Github(
            auth=Auth.Token(token),
            base_url=server.base_url,
            per_page=100,
            retry=retry,
            timeout=5,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.headers["Authorization"] = f"token {TOKEN}"
    yield session
    session.close()


def _statuses(server: GitHubServer, route: str) -> list[int]:
    return [entry.status for entry in server.requests if entry.route == route]


# -- the synthetic organisation ----------------------------------------------------------------


def test_synthetic_org_is_reproducible_and_has_the_requested_volumes() -> None:
    def fingerprint(org: FakeOrg) -> list[object]:
        return [
            (repo.full_name, repo.head_sha, [(p.number, p.created_at) for p in repo.pulls])
            for repo in org.repos.values()
        ]

    first = FakeOrg.synthetic(repos=2, prs=30, runs=50, deployments=10, seed=3, end=END)
    assert fingerprint(first) == fingerprint(
        FakeOrg.synthetic(repos=2, prs=30, runs=50, deployments=10, seed=3, end=END)
    )
    assert fingerprint(first) != fingerprint(
        FakeOrg.synthetic(repos=2, prs=30, runs=50, deployments=10, seed=4, end=END)
    )
    for repo in first.repos.values():
        assert (len(repo.pulls), len(repo.runs), len(repo.deployments)) == (30, 50, 10)
        assert len(repo.incidents) == 3
        unfinished = sorted(run.status for run in repo.runs if run.status != "completed")
        assert unfinished == ["in_progress", "queued"]
        for pull in repo.pulls:
            if pull.merged:
                assert repo.commit(pull.merge_commit_sha or "") is not None
        assert all(repo.commit(deployment.sha) for deployment in repo.deployments)
        assert all(run.created_at <= END for run in repo.runs)
        assert [run.id for run in repo.runs] == sorted(
            run.id for run in sorted(repo.runs, key=lambda run: run.created_at)
        )


def test_a_success_marks_earlier_successful_deployments_inactive() -> None:
    org = FakeOrg()
    org.add_repo("svc")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    old = org.add_deployment("svc", statuses=["success"], at=at)
    failed = org.add_deployment("svc", statuses=["failure"], at=at + timedelta(hours=1))
    staging = org.add_deployment("svc", environment="staging", at=at + timedelta(hours=2))
    org.add_deployment("svc", statuses=["in_progress", "success"], at=at + timedelta(hours=3))
    assert [status.state for status in old.statuses] == ["success", "inactive"]
    assert failed.state == "failure"
    assert staging.state == "success"


# -- pagination --------------------------------------------------------------------------------


def test_pygithub_pages_through_every_list_in_ceil_n_over_100_requests(
    big_org: FakeOrg, big_server: GitHubServer, clients: MakeClient
) -> None:
    model = big_org.repo("ranker")
    repo = clients(big_server).get_repo("acme/ranker")
    assert len(list(repo.get_pulls(state="all"))) == len(model.pulls) == 250
    assert len(list(repo.get_issues(state="all"))) == len(model.pulls) + len(model.issues)
    assert len(list(repo.get_deployments())) == 120
    assert big_server.count(PULLS) == math.ceil(250 / 100)
    assert big_server.count(ISSUES) == math.ceil((250 + len(model.issues)) / 100)
    assert big_server.count("GET /repos/{owner}/{repo}/deployments") == math.ceil(120 / 100)


def test_link_headers_are_formatted_as_github_does(
    org: FakeOrg, server: GitHubServer, http: requests.Session
) -> None:
    repo_id = org.repo("ranker").id
    url = f"{server.base_url}/repos/acme/ranker/pulls"

    def link(page: int) -> str:
        return f"<{server.base_url}/repositories/{repo_id}/pulls?state=all&per_page=20&page={page}>"

    first = http.get(url, params={"state": "all", "per_page": "20"})
    assert first.headers["Link"] == f'{link(2)}; rel="next", {link(3)}; rel="last"'
    middle = http.get(url, params={"state": "all", "per_page": "20", "page": "2"})
    assert middle.headers["Link"] == ", ".join(
        f'{link(page)}; rel="{rel}"'
        for rel, page in [("prev", 1), ("next", 3), ("last", 3), ("first", 1)]
    )
    last = http.get(url, params={"state": "all", "per_page": "20", "page": "3"})
    assert last.headers["Link"] == f'{link(2)}; rel="prev", {link(1)}; rel="first"'
    assert len(last.json()) == 45 - 40

    followed = http.get(first.headers["Link"].split(">")[0][1:])
    assert [pull["number"] for pull in followed.json()] == [
        pull["number"] for pull in middle.json()
    ]

    assert "Link" not in http.get(url, params={"state": "all", "per_page": "100"}).headers
    assert len(http.get(url, params={"state": "all"}).json()) == 30
    assert len(http.get(url, params={"state": "all", "per_page": "1000"}).json()) == 45
    assert server.count(PULLS) == 7


# -- workflow runs: filters and the 1,000-result cap -------------------------------------------


def test_filtered_run_queries_stop_at_1000_and_windows_recover_everything(
    big_org: FakeOrg, big_server: GitHubServer, http: requests.Session, clients: MakeClient
) -> None:
    url = f"{big_server.base_url}/repos/acme/ranker/actions/runs"
    everything = http.get(url, params={"per_page": "1"})
    assert everything.json()["total_count"] == 1500

    since = f">={(END - timedelta(days=365)).date()}"
    window = {"created": since, "per_page": "100"}
    capped = http.get(url, params=window)
    assert capped.json()["total_count"] == 1000
    assert capped.headers["Link"].endswith('page=10>; rel="last"')
    assert len(http.get(url, params={**window, "page": "10"}).json()["workflow_runs"]) == 100
    assert http.get(url, params={**window, "page": "11"}).json()["workflow_runs"] == []
    assert (
        len(http.get(url, params={"per_page": "100", "page": "15"}).json()["workflow_runs"]) == 100
    )

    repo = clients(big_server).get_repo("acme/ranker")
    assert repo.get_workflow_runs(created=since).totalCount == 1000

    times = sorted(run.created_at for run in big_org.repo("ranker").runs)
    split = times[len(times) // 2]
    before = (split - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = split.strftime("%Y-%m-%dT%H:%M:%SZ")
    seen: set[int] = set()
    for created in (f"*..{before}", f"{after}..*"):
        page = 1
        while True:
            body = http.get(
                url, params={"created": created, "per_page": "100", "page": str(page)}
            ).json()
            assert body["total_count"] < 1000
            seen.update(run["id"] for run in body["workflow_runs"])
            if not body["workflow_runs"]:
                break
            page += 1
    assert seen == {run.id for run in big_org.repo("ranker").runs}


@pytest.mark.parametrize(
    ("query", "inside", "outside"),
    [
        ("2026-01-10..2026-01-12", ["10T00:00:00", "12T23:59:59"], ["09T23:59:59", "13T00:00:00"]),
        (">=2026-01-10", ["10T00:00:00"], ["09T23:59:59"]),
        (">2026-01-10", ["11T00:00:00"], ["10T23:59:59"]),
        ("<=2026-01-10", ["10T23:59:59"], ["11T00:00:00"]),
        ("<2026-01-10", ["09T23:59:59"], ["10T00:00:00"]),
        ("2026-01-10", ["10T00:00:00", "10T23:59:59"], ["09T23:59:59", "11T00:00:00"]),
        (
            "2026-01-10T05:00:00Z..2026-01-10T06:00:00Z",
            ["10T05:00:00", "10T06:00:00"],
            ["10T06:00:01"],
        ),
        ("2026-01-10T05:00:00 00:00..*", ["10T05:00:00", "20T00:00:00"], ["10T04:59:59"]),
        ("*..2026-01-10T05:00:00+02:00", ["10T03:00:00"], ["10T03:00:01"]),
    ],
)
def test_created_filter_follows_the_search_date_syntax(
    query: str, inside: list[str], outside: list[str]
) -> None:
    matches = created_filter(query)
    for moment in inside:
        assert matches(datetime.fromisoformat(f"2026-01-{moment}+00:00")), moment
    for moment in outside:
        assert not matches(datetime.fromisoformat(f"2026-01-{moment}+00:00")), moment


def test_run_filters_and_fields(org: FakeOrg, server: GitHubServer, http: requests.Session) -> None:
    model = org.repo("ranker")
    url = f"{server.base_url}/repos/acme/ranker/actions/runs"
    for params, expected in [
        ({"status": "completed"}, [run for run in model.runs if run.status == "completed"]),
        ({"status": "success"}, [run for run in model.runs if run.conclusion == "success"]),
        ({"event": "pull_request"}, [run for run in model.runs if run.event == "pull_request"]),
        ({"branch": "main"}, [run for run in model.runs if run.head_branch == "main"]),
    ]:
        body = http.get(url, params={**params, "per_page": "100"}).json()
        assert body["total_count"] == len(expected), params
        assert {run["id"] for run in body["workflow_runs"]} == {run.id for run in expected}
    newest = http.get(url, params={"per_page": "1"}).json()["workflow_runs"][0]
    latest = max(model.runs, key=lambda run: run.created_at)
    assert (newest["id"], newest["status"], newest["conclusion"]) == (
        latest.id,
        latest.status,
        None,
    )
    assert newest["created_at"] == latest.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_issue_listing_includes_pull_requests_and_filters(
    org: FakeOrg, server: GitHubServer, http: requests.Session
) -> None:
    model = org.repo("ranker")
    url = f"{server.base_url}/repos/acme/ranker/issues"
    listed = http.get(url, params={"state": "all", "per_page": "100"}).json()
    assert len(listed) == len(model.issues) + len(model.pulls)
    assert {item["number"] for item in listed if "pull_request" in item} == {
        pull.number for pull in model.pulls
    }
    assert [item["number"] for item in listed] == sorted(
        (item["number"] for item in listed), reverse=True
    )
    incidents = http.get(url, params={"state": "all", "labels": "incident"}).json()
    assert {item["number"] for item in incidents} == {issue.number for issue in model.incidents}
    open_items = sum(i.state == "open" for i in model.issues) + sum(
        p.state == "open" for p in model.pulls
    )
    assert len(http.get(url).json()) == open_items
    since = sorted(pull.updated_at for pull in model.pulls)[30]
    recent = http.get(
        url,
        params={"state": "all", "since": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "per_page": "100"},
    ).json()
    assert {item["number"] for item in recent} == {
        i.number for i in model.issues if i.updated_at >= since
    } | {p.number for p in model.pulls if p.updated_at >= since}


# -- primary rate limit and conditional requests -----------------------------------------------


def test_primary_limit_decrements_and_answers_403_at_zero(
    server: GitHubServer, clients: MakeClient
) -> None:
    server.set_rate_limit(limit=10)
    client = clients(server)
    repo = client.get_repo("acme/ranker")
    assert client.rate_limiting == (9, 10)
    repo.get_branch("main")
    assert server.rate_limit_remaining == 8

    server.set_rate_limit(remaining=1)
    repo.get_branch("main")
    with pytest.raises(RateLimitExceededException) as refused:
        repo.get_branch("main")
    assert refused.value.status == 403
    assert (refused.value.headers or {})["x-ratelimit-remaining"] == "0"
    assert str(refused.value.data["message"]).startswith("API rate limit exceeded")
    assert client.get_rate_limit().resources.core.remaining == 0
    assert server.rate_limit_used == 10

    server.refill()
    repo.get_branch("main")
    assert server.rate_limit_remaining == 9


def test_github_retry_refuses_to_sleep_until_a_distant_reset(
    server: GitHubServer, clients: MakeClient
) -> None:
    server.set_rate_limit(remaining=0, reset_at=datetime.now(UTC) + timedelta(hours=1))
    client = clients(server, retry=GithubRetry(total=3, max_rate_limit_wait=30))
    with pytest.raises(RateLimitExceededExceedsMaxWait):
        client.get_repo("acme/ranker")


def test_not_modified_answers_do_not_count(
    org: FakeOrg, server: GitHubServer, http: requests.Session, clients: MakeClient
) -> None:
    url = f"{server.base_url}/repos/acme/ranker/pulls"
    first = http.get(url)
    etag = first.headers["ETag"]
    remaining = first.headers["X-RateLimit-Remaining"]

    unchanged = http.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["X-RateLimit-Remaining"] == remaining
    client = clients(server)
    _, data = client.requester.requestJsonAndCheck(
        "GET", "/repos/acme/ranker/pulls", headers={"If-None-Match": etag}
    )
    assert data is None
    assert (server.not_modified, server.count(PULLS), server.rate_limit_used) == (2, 3, 1)

    org.add_pull_request("ranker", title="Fresh")
    changed = http.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()[0]["title"] == "Fresh"
    assert server.rate_limit_used == 2


# -- injected faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_limit_is_retried_after_retry_after(
    org: FakeOrg, server: GitHubServer, clients: MakeClient, status: int
) -> None:
    fault = server.inject(Fault("secondary_rate_limit", path=r"/pulls$", status=status))
    client = clients(server, retry=GithubRetry(total=3, backoff_factor=0))
    pulls = list(client.get_repo("acme/ranker").get_pulls(state="all"))
    assert len(pulls) == len(org.repo("ranker").pulls)
    assert fault.fired == 1
    assert _statuses(server, PULLS) == [status, 200]
    assert server.rate_limit_used == 2


def test_secondary_limit_reaches_a_client_without_retry(
    server: GitHubServer, clients: MakeClient
) -> None:
    client = clients(server)
    server.inject(Fault("secondary_rate_limit", retry_after=60))
    with pytest.raises(RateLimitExceededException) as forbidden:
        client.get_repo("acme/ranker")
    headers = forbidden.value.headers or {}
    assert headers["retry-after"] == "60"
    assert str(forbidden.value.data["message"]).startswith(
        "You have exceeded a secondary rate limit"
    )
    assert headers["x-ratelimit-remaining"] != "0"

    server.inject(Fault("secondary_rate_limit", status=429, retry_after=60))
    with pytest.raises(GithubException) as too_many:
        client.get_repo("acme/ranker")
    assert too_many.value.status == 429
    assert server.rate_limit_used == 0


def test_a_burst_of_server_errors(server: GitHubServer, clients: MakeClient) -> None:
    server.inject(
        Fault("server_error", path=r"^/repos/acme/ranker$", status=(500, 502, 503), times=3)
    )
    repo = clients(server, retry=GithubRetry(total=5, backoff_factor=0)).get_repo("acme/ranker")
    assert repo.full_name == "acme/ranker"
    assert [entry.status for entry in server.requests] == [500, 502, 503, 200]

    server.inject(Fault("server_error", status=502))
    with pytest.raises(GithubException) as failed:
        clients(server).get_repo("acme/ranker")
    assert failed.value.status == 502


def test_a_slow_answer_times_the_client_out(server: GitHubServer, http: requests.Session) -> None:
    url = f"{server.base_url}/repos/acme/ranker/releases"
    fault = server.inject(Fault("slow", path="/releases", delay=0.5))
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(url, timeout=0.1)
    assert server.total_requests == 1
    assert http.get(url, timeout=5).status_code == 200
    assert fault.fired == 1


def test_a_truncated_body_is_invalid_json(
    server: GitHubServer, clients: MakeClient, http: requests.Session
) -> None:
    server.inject(Fault("truncated", path=r"^/repos/acme/ranker$"))
    with pytest.raises(json.JSONDecodeError):
        clients(server).get_repo("acme/ranker")

    server.inject(Fault("truncated", path="/pulls"))
    cut = http.get(f"{server.base_url}/repos/acme/ranker/pulls")
    assert cut.status_code == 200
    assert int(cut.headers["Content-Length"]) == len(cut.content)
    with pytest.raises(requests.exceptions.JSONDecodeError):
        cut.json()


def test_credentials_are_checked(server: GitHubServer, clients: MakeClient) -> None:
    with pytest.raises(BadCredentialsException):
        clients(server, token="wrong").get_repo("acme/ranker")
    url = f"{server.base_url}/repos/acme/ranker"
    refused = requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5)
    assert refused.status_code == 401
    assert refused.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }
    assert requests.get(url, timeout=5).json()["message"] == "Requires authentication"
    assert requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).ok
    assert server.rate_limit_used == 1


def test_a_token_revoked_mid_sync(server: GitHubServer, clients: MakeClient) -> None:
    server.inject(Fault("unauthorized", after=1))
    repo = clients(server).get_repo("acme/ranker")
    with pytest.raises(BadCredentialsException):
        repo.get_branch("main")


def test_faults_count_matches_fire_after_n_for_m_times_and_clear(
    server: GitHubServer, http: requests.Session
) -> None:
    releases = f"{server.base_url}/repos/acme/ranker/releases"
    fault = server.inject(Fault("server_error", path=r"/releases$", after=2, times=2))
    assert [http.get(releases).status_code for _ in range(5)] == [200, 200, 500, 500, 200]
    assert http.get(f"{server.base_url}/repos/acme/ranker").status_code == 200
    assert (fault.seen, fault.fired) == (5, 2)

    server.inject(Fault("server_error", times=None))
    assert http.get(releases).status_code == 500
    server.clear_faults()
    assert http.get(releases).status_code == 200

    server.inject(fault)
    assert [http.get(releases).status_code for _ in range(3)] == [200, 200, 500]


# -- the model behind the answers --------------------------------------------------------------


def test_mutations_show_in_the_next_answer(
    org: FakeOrg, server: GitHubServer, clients: MakeClient
) -> None:
    model = org.repo("ranker")
    repo = clients(server).get_repo("acme/ranker")

    pull = org.add_pull_request("ranker", title="Add drift alert", user="alice-ml")
    newest = repo.get_pulls(state="all", sort="updated", direction="desc")[0]
    assert (newest.number, newest.merged_at) == (pull.number, None)
    org.merge_pull_request("ranker", pull.number)
    merged = repo.get_pull(pull.number)
    assert merged.merged
    assert merged.merge_commit_sha == model.head_sha == repo.get_branch("main").commit.sha

    older = org.add_pull_request("ranker", title="Older", at=END)
    org.comment("ranker", older.number)
    assert repo.get_pulls(sort="updated", direction="desc")[0].number == older.number

    run = org.add_workflow_run("ranker", name="Deploy", status="queued")
    assert run.id in [listed.id for listed in repo.get_workflow_runs(status="queued")]
    org.start_run("ranker", run.id)
    assert run.id in [listed.id for listed in repo.get_workflow_runs(status="in_progress")]
    org.complete_run(
        "ranker", run.id, conclusion="failure", at=run.created_at + timedelta(minutes=9)
    )
    finished = repo.get_workflow_run(run.id)
    assert (finished.status, finished.conclusion) == ("completed", "failure")
    assert finished.updated_at == run.created_at + timedelta(minutes=9)

    first = org.add_deployment("ranker", statuses=["in_progress", "success"])
    org.add_deployment("ranker", statuses=["success"])
    states = [status.state for status in repo.get_deployment(first.id).get_statuses()]
    assert states == ["inactive", "success", "in_progress"]

    incident = org.add_incident("ranker", title="Serving down")
    assert incident.number in [issue.number for issue in repo.get_issues(labels=["incident"])]
    org.add_release("ranker", "v9.0.0")
    assert repo.get_releases()[0].tag_name == "v9.0.0"

    commit = org.commit_files("ranker", {"docs/model-card.md": "# Card\n", "Makefile": None})
    paths = [entry.path for entry in repo.get_git_tree(commit.sha, recursive=True).tree]
    assert "docs/model-card.md" in paths
    assert "Makefile" not in paths
    card = repo.get_contents("docs/model-card.md")
    assert not isinstance(card, list)
    assert card.decoded_content == b"# Card\n"


def test_trees_contents_and_tarball_match_the_files(
    org: FakeOrg, server: GitHubServer, clients: MakeClient, http: requests.Session
) -> None:
    model = org.repo("ranker")
    repo = clients(server).get_repo("acme/ranker")
    tree = repo.get_git_tree(model.head_sha, recursive=True)
    assert tree.sha == model.head.tree_sha
    assert {entry.path: entry.sha for entry in tree.tree if entry.type == "blob"} == {
        path: git_blob_sha(content) for path, content in model.files.items()
    }
    assert all("/" not in entry.path for entry in repo.get_git_tree("main").tree)

    readme = repo.get_contents("README.md")
    assert not isinstance(readme, list)
    assert readme.decoded_content == model.files["README.md"]
    assert readme.sha == git_blob_sha(model.files["README.md"])
    listing = repo.get_contents("src")
    assert isinstance(listing, list)
    assert [(item.type, item.path) for item in listing] == [("dir", "src/ranker")]
    raw = http.get(
        f"{server.base_url}/repos/acme/ranker/contents/pyproject.toml",
        headers={"Accept": "application/vnd.github.raw+json"},
    )
    assert raw.content == model.files["pyproject.toml"]

    archive = http.get(repo.get_archive_link("tarball"))
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        files = {
            member.name.split("/", 1)[1]: tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
            if member.isfile()
        }
    assert files == dict(model.files)
    assert http.get(f"{server.base_url}/repos/acme/ranker/tarball").content == archive.content

    history = list(repo.get_commits())
    assert [commit.sha for commit in history] == [c.sha for c in reversed(model.commits)]
    changelog = [commit.sha for commit in repo.get_commits(path="CHANGELOG.md")]
    assert changelog == [c.sha for c in reversed(model.commits) if "CHANGELOG.md" in c.changed]
    assert repo.get_commit(history[0].sha).files[0].filename == "CHANGELOG.md"


def test_users_and_the_organisation(
    org: FakeOrg, server: GitHubServer, clients: MakeClient
) -> None:
    client = clients(server)
    assert client.get_user().login == org.viewer
    assert client.get_user("alice-ml").id == org.users["alice-ml"]
    organisation = client.get_organization("acme")
    assert (organisation.login, organisation.type) == ("acme", "Organization")
    assert [repo.full_name for repo in organisation.get_repos(sort="full_name")] == sorted(
        repo.full_name for repo in org.repos.values()
    )
    assert len(list(client.get_user().get_repos())) == len(org.repos)


def test_unknown_paths_answer_404_in_githubs_shape(
    server: GitHubServer, clients: MakeClient, http: requests.Session
) -> None:
    missing = http.get(f"{server.base_url}/nothing/here")
    assert missing.status_code == 404
    assert missing.json()["message"] == "Not Found"
    assert missing.headers["X-RateLimit-Remaining"] == "4999"
    with pytest.raises(UnknownObjectException):
        clients(server).get_repo("acme/missing")


def test_an_enterprise_prefix(org: FakeOrg, clients: MakeClient) -> None:
    with GitHubServer(org, token=TOKEN, prefix="/api/v3") as server:
        assert server.base_url == f"{server.origin}/api/v3"
        pulls = list(clients(server).get_repo("acme/ranker").get_pulls(state="all"))
        assert len(pulls) == len(org.repo("ranker").pulls)
        assert all(entry.path.startswith("/api/v3/") for entry in server.requests)
        outside = requests.get(
            f"{server.origin}/repos/acme/ranker",
            headers={"Authorization": f"token {TOKEN}"},
            timeout=5,
        )
        assert outside.status_code == 404


# -- counting ----------------------------------------------------------------------------------


def test_requests_are_counted_per_route_and_logged(
    server: GitHubServer, http: requests.Session
) -> None:
    http.get(f"{server.base_url}/repos/acme/ranker/pulls", params={"state": "all", "per_page": "5"})
    http.get(f"{server.base_url}/nowhere")
    assert server.requests == [
        LoggedRequest(
            "GET", "/repos/acme/ranker/pulls", {"state": "all", "per_page": "5"}, PULLS, 200
        ),
        LoggedRequest("GET", "/nowhere", {}, None, 404),
    ]
    assert (server.total_requests, server.route_counts()) == (2, {PULLS: 1})
    server.reset_counters()
    assert (server.total_requests, server.route_counts(), server.requests) == (0, {}, [])


def test_concurrent_requests_are_all_counted(server: GitHubServer) -> None:
    def fetch() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"token {TOKEN}"
            for _ in range(10):
                assert session.get(f"{server.base_url}/repos/acme/ranker/branches/main").ok

    workers = [threading.Thread(target=fetch) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    branch = "GET /repos/{owner}/{repo}/branches/{branch}"
    assert (server.total_requests, server.count(branch), server.rate_limit_used) == (80, 80, 80)
