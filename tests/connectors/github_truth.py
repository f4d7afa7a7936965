"""What a GitHub sync should have stored: the fake organisation's truth, the store's rows in
the same shape, and the comparison, shared by the connector and crash-safety tests.

Every row is a tuple whose first item is the repository's full name, so a test can
compare one repository's lists on their own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from data.tables import (
    Deployment,
    DeploymentStatus,
    Incident,
    PullRequest,
    Release,
    Repo,
    RepoScan,
    WorkflowRun,
)
from tests.fakes.github_org import FakeOrg


def _t(model: Any) -> Any:
    return model.__table__


def truth(org: FakeOrg) -> dict[str, set[tuple[Any, ...]]]:
    expected: dict[str, set[tuple[Any, ...]]] = {name: set() for name in STORED}
    for repo in org.repos.values():
        name = repo.full_name
        expected["pulls"] |= {
            (
                name,
                p.number,
                p.state,
                p.user,
                p.base,
                p.created_at,
                p.updated_at,
                p.merged_at,
                p.closed_at,
            )
            for p in repo.pulls
        }
        expected["runs"] |= {
            (
                name,
                r.id,
                r.name,
                r.event,
                r.head_branch,
                r.status,
                r.conclusion,
                r.created_at,
                r.updated_at,
            )
            for r in repo.runs
        }
        expected["deployments"] |= {
            (name, d.id, d.environment, d.ref, d.sha, d.created_at) for d in repo.deployments
        }
        expected["statuses"] |= {
            (name, d.id, s.id, s.state, s.created_at) for d in repo.deployments for s in d.statuses
        }
        expected["releases"] |= {
            (name, r.id, r.tag_name, r.created_at, r.published_at) for r in repo.releases
        }
        expected["incidents"] |= {
            (name, i.number, i.title, i.created_at, i.closed_at) for i in repo.incidents
        }
        expected["scans"] |= {(name, repo.head_sha, tuple(sorted(repo.files)))}
    return expected


STORED = ("pulls", "runs", "deployments", "statuses", "releases", "incidents", "scans")


def stored(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    repo = _t(Repo)
    pulls, runs, deployments = _t(PullRequest), _t(WorkflowRun), _t(Deployment)
    statuses, releases, incidents = (
        _t(DeploymentStatus),
        _t(Release),
        _t(Incident),
    )
    scans = _t(RepoScan)
    queries = {
        "pulls": select(
            repo.c.full_name,
            pulls.c.number,
            pulls.c.state,
            pulls.c.author,
            pulls.c.base_ref,
            pulls.c.created_at,
            pulls.c.updated_at,
            pulls.c.merged_at,
            pulls.c.closed_at,
        ).join(repo),
        "runs": select(
            repo.c.full_name,
            runs.c.run_id,
            runs.c.workflow_name,
            runs.c.event,
            runs.c.head_branch,
            runs.c.status,
            runs.c.conclusion,
            runs.c.created_at,
            runs.c.updated_at,
        ).join(repo),
        "deployments": select(
            repo.c.full_name,
            deployments.c.deployment_id,
            deployments.c.environment,
            deployments.c.ref,
            deployments.c.sha,
            deployments.c.created_at,
        ).join(repo),
        "statuses": select(
            repo.c.full_name,
            deployments.c.deployment_id,
            statuses.c.status_id,
            statuses.c.state,
            statuses.c.created_at,
        )
        .select_from(statuses)
        .join(deployments)
        .join(repo),
        "releases": select(
            repo.c.full_name,
            releases.c.release_id,
            releases.c.tag_name,
            releases.c.created_at,
            releases.c.published_at,
        ).join(repo),
        "incidents": select(
            repo.c.full_name,
            incidents.c.number,
            incidents.c.title,
            incidents.c.created_at,
            incidents.c.closed_at,
        ).join(repo),
    }
    with engine.connect() as connection:
        stored = {name: set(map(tuple, connection.execute(q))) for name, q in queries.items()}
        newest_scans = connection.execute(
            select(repo.c.full_name, scans.c.commit_sha, scans.c.paths, scans.c.scanned_at).join(
                repo
            )
        ).all()
    latest: dict[str, Any] = {}
    for row in newest_scans:
        if row.full_name not in latest or row.scanned_at > latest[row.full_name].scanned_at:
            latest[row.full_name] = row
    stored["scans"] = {(n, r.commit_sha, tuple(sorted(r.paths))) for n, r in latest.items()}
    return stored


def assert_store_equals_truth(engine: Engine, org: FakeOrg) -> None:
    found, expected = stored(engine), truth(org)
    for name in STORED:
        assert found[name] == expected[name], (
            f"{name}: missing {sorted(expected[name] - found[name])[:3]}, "
            f"extra {sorted(found[name] - expected[name])[:3]}"
        )
