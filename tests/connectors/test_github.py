"""The GitHub connector against a GitHub-compatible server on loopback.

The acceptance of the GitHub issue: after a full sync, a no-change re-sync and a
sync after new activity, the store equals the server's truth; every injected fault
leaves a clean `sync_run` and the next sync repairs everything; requests are counted
exactly (the server counts them too).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from config import Config, parse_config
from connectors.base import RequestCounter, SourceError
from connectors.github import LISTS, scan_remote
from connectors.sync import SyncReport, run_sync
from data.tables import (
    RepoScan,
    ScanCheckResult,
    SyncRun,
    Watermark,
)
from metrics.repo_detectors import RepoSnapshot
from metrics.scan import scan_repository
from tests.connectors.github_truth import assert_store_equals_truth as _assert_store_equals_truth
from tests.fakes.github_org import FakeOrg
from tests.fakes.github_server import Fault, GitHubServer

TOKEN_ENV = "MLOPS_TEST_GITHUB_TOKEN"
TOKEN = "test-token"
LISTS_PER_REPO = len(LISTS) + 1
"""Each repository's lists plus its branch head (the tree is read only when it moved)."""


def _t(model: Any) -> Any:
    return model.__table__


def _config(server: GitHubServer, org: FakeOrg, **github: Any) -> Config:
    settings = "\n".join(f"{key} = {value!r}" for key, value in github.items())
    repos = sorted(repo.full_name for repo in org.repos.values())
    return parse_config(
        f"""
[github]
base_url = "{server.base_url}"
token_env = "{TOKEN_ENV}"
{settings}

[[teams]]
name = "Ranking"
repos = {repos[:1]!r}

[[teams]]
name = "Platform"
repos = {repos!r}
"""
    )


@pytest.fixture
def org() -> FakeOrg:
    return FakeOrg.synthetic(repos=2, prs=130, runs=230, deployments=8, seed=7)


@pytest.fixture
def server(org: FakeOrg, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubServer]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with GitHubServer(org, token=TOKEN) as running:
        yield running


def _sync(engine: Engine, config: Config) -> SyncReport:
    [report] = run_sync(engine, config, sources=["github"], snapshot=False)
    return report


# --- full, no-change and incremental syncs ---------------------------------------------


def test_full_no_change_and_incremental_syncs_equal_the_truth(
    engine: Engine, org: FakeOrg, server: GitHubServer
) -> None:
    config = _config(server, org)
    repos = len(org.repos)

    first = _sync(engine, config)
    assert (first.status, first.error) == ("ok", None)
    assert first.api_calls == server.total_requests
    _assert_store_equals_truth(engine, org)

    before = server.total_requests
    again = _sync(engine, config)
    assert again.status == "ok"
    assert again.rows_written == 0
    assert again.api_calls == server.total_requests - before == 1 + repos * LISTS_PER_REPO
    assert server.not_modified >= repos * LISTS_PER_REPO - repos  # incidents' first `since`
    _assert_store_equals_truth(engine, org)

    ranker, features = sorted(org.repos.values(), key=lambda repo: repo.full_name)
    org.add_pull_request(ranker, title="New feature store client")
    merged = org.add_pull_request(features, title="Retrain weekly")
    org.merge_pull_request(features, merged.number)
    unfinished = [run for run in ranker.runs if run.status != "completed"]
    assert unfinished, "the synthetic organisation leaves its newest runs unfinished"
    for run in unfinished:
        org.complete_run(ranker, run.id, conclusion="success")
    org.add_workflow_run(ranker, name="CI", conclusion="failure")
    org.add_deployment(features, environment="production", statuses=("in_progress", "success"))
    org.add_incident(ranker, title="p95 latency above target")
    org.commit_files(ranker, {"Dockerfile": "FROM python:3.12-slim\n"})
    third = _sync(engine, config)
    assert (third.status, third.error) == ("ok", None)
    assert third.rows_written > 0
    _assert_store_equals_truth(engine, org)


def test_enterprise_base_url_with_an_api_prefix(engine: Engine, monkeypatch: Any) -> None:
    org = FakeOrg.synthetic(repos=1, prs=5, runs=5, deployments=2, seed=3)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with GitHubServer(org, token=TOKEN, prefix="/api/v3") as server:
        report = _sync(engine, _config(server, org))
    assert report.status == "ok"
    _assert_store_equals_truth(engine, org)


# --- faults -------------------------------------------------------------------------------


FAULTS = {
    "secondary limit 403": Fault("secondary_rate_limit", r"/actions/runs$", after=1, status=403),
    "secondary limit 429": Fault("secondary_rate_limit", r"/pulls$", after=1, status=429),
    "5xx burst": Fault("server_error", r"/actions/runs$", after=2, times=3, status=(502, 503, 500)),
    "slow answer": Fault("slow", r"/statuses$", after=3, delay=2.5),
    "truncated JSON": Fault("truncated", r"/actions/runs$", after=1),
    "token revoked mid-sync": Fault("unauthorized", r"/deployments$", after=1),
    "long Retry-After": Fault("secondary_rate_limit", r"/releases$", after=1, retry_after=120),
}


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_a_fault_mid_sync_is_contained_and_the_next_sync_repairs(
    engine: Engine, org: FakeOrg, server: GitHubServer, fault: Fault
) -> None:
    config = _config(server, org, timeout_seconds=1, max_wait_seconds=5)
    server.inject(fault)
    report = _sync(engine, config)
    assert fault.fired >= 1
    expected = {
        "secondary_rate_limit": {"ok"} if fault.retry_after <= 5 else {"rate_limited"},
        "server_error": {"ok"},
        "slow": {"ok"},
        # A cut body reads as invalid JSON, or as a broken stream that urllib3 retries.
        "truncated": {"partial", "ok"},
        "unauthorized": {"failed"},
    }[fault.kind]
    assert report.status in expected, report.error
    if report.status != "ok":
        assert report.error
        assert TOKEN not in report.error
    if fault.kind == "unauthorized":
        assert report.error == (
            f"GitHub rejected the token in ${TOKEN_ENV} during the sync "
            f"(401 Bad credentials): set {TOKEN_ENV} to a valid token"
        )
    if fault.kind == "truncated" and report.status == "partial":
        assert "runs: the answer was not valid JSON" in (report.error or "")
    assert report.api_calls == server.total_requests
    with engine.connect() as connection:
        recorded = connection.execute(select(_t(SyncRun).c.status)).scalars().all()
    assert recorded == [report.status]

    server.clear_faults()
    repaired = _sync(engine, config)
    assert (repaired.status, repaired.error) == ("ok", None)
    _assert_store_equals_truth(engine, org)


def test_primary_rate_limit_records_until_and_the_rest_follow_next_time(
    engine: Engine, org: FakeOrg, server: GitHubServer
) -> None:
    config = _config(server, org)
    server.set_rate_limit(remaining=12)
    report = _sync(engine, config)
    assert report.status == "rate_limited"
    assert report.rate_limited_until == server.rate_limit_reset
    assert report.error is not None
    assert "repositories left for the next sync" in report.error
    assert server.rate_limit_remaining == 0
    with engine.connect() as connection:
        partial = connection.execute(select(_t(SyncRun).c.rate_limited_until)).scalar_one()
    assert partial == server.rate_limit_reset

    server.refill()
    repaired = _sync(engine, config)
    assert repaired.status == "ok"
    _assert_store_equals_truth(engine, org)


def test_a_bad_token_names_its_variable(
    engine: Engine, org: FakeOrg, server: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    report = _sync(engine, _config(server, org))
    assert report.status == "failed"
    assert report.error == (
        f"GitHub at {server.base_url} rejected the token in ${TOKEN_ENV} (401 Bad credentials): "
        f"set {TOKEN_ENV} to a valid token with read access to the repositories"
    )
    assert report.api_calls == 1


def test_an_unknown_repository_is_reported_and_the_others_sync(
    engine: Engine, org: FakeOrg, server: GitHubServer
) -> None:
    config = _config(server, org)
    repos = [*sorted(r.full_name for r in org.repos.values()), "acme/does-not-exist"]
    config = config.model_copy(
        update={"teams": [config.teams[0].model_copy(update={"repos": repos})]}
    )
    report = _sync(engine, config)
    assert report.status == "partial"
    assert report.error == "acme/does-not-exist: not found, or the token cannot read it (HTTP 404)"
    _assert_store_equals_truth(engine, org)


# --- repository checks ---------------------------------------------------------------------


def test_stored_scan_matches_a_scan_of_the_same_files(
    engine: Engine, org: FakeOrg, server: GitHubServer
) -> None:
    _sync(engine, _config(server, org))
    repo = sorted(org.repos.values(), key=lambda r: r.full_name)[0]
    files = {path: content.decode() for path, content in repo.files.items()}
    expected = {
        (r.id, r.status, r.evidence)
        for r in scan_repository(RepoSnapshot.from_files(files, label=repo.full_name))
    }
    results, scans = _t(ScanCheckResult), _t(RepoScan)
    with engine.connect() as connection:
        stored = set(
            map(
                tuple,
                connection.execute(
                    select(results.c.check_id, results.c.status, results.c.evidence)
                    .join(scans)
                    .where(scans.c.commit_sha == repo.head_sha)
                ),
            )
        )
    assert stored == expected

    counter = RequestCounter()
    remote = scan_remote(_config(server, org).github, repo.full_name, counter)  # type: ignore[arg-type]
    assert {(r.id, r.status, r.evidence) for r in remote} == expected
    assert counter.by_endpoint["/repos/{repo}/git/trees/{sha}"] == 1


def test_scan_remote_of_a_missing_repository(org: FakeOrg, server: GitHubServer) -> None:
    settings = _config(server, org).github
    assert settings is not None
    with pytest.raises(SourceError, match="acme/nope: not found on"):
        scan_remote(settings, "acme/nope", RequestCounter())


def test_watermarks_never_pass_the_sync_start(
    engine: Engine, org: FakeOrg, server: GitHubServer
) -> None:
    before = datetime.now(UTC)
    _sync(engine, _config(server, org))
    with engine.connect() as connection:
        values = connection.execute(select(_t(Watermark).c.value)).scalars().all()
    assert values
    assert all(before - timedelta(seconds=1) <= value <= datetime.now(UTC) for value in values)
