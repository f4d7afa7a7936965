"""DevOps metrics from GitHub: the four DORA keys, CI success and PR cycle time (DESIGN §6)."""

from __future__ import annotations

import pandas as pd

from metrics.catalog import Measured, metric
from metrics.context import Inputs, MetricContext

_HOUR = pd.Timedelta(hours=1)
_TIME = "datetime64[us, UTC]"
_FAILED_STATES = ("failure", "error")
_FINAL_STATES = ("success", "failure", "error")
DEPLOYMENT_COLUMNS = [
    "team",
    "repo",
    "via",
    "ref",
    "created_at",
    "final_state",
    "succeeded_at",
    "succeeded",
    "failed",
]


def _from_github_deployments(data: Inputs, ctx: MetricContext) -> pd.DataFrame:
    deployments = data.deployments
    production = deployments[
        deployments["environment"].str.contains(ctx.github.production_environment, regex=True)
        & deployments["repo"].isin(data.repos_with_deployments)
    ]
    statuses = data.deployment_statuses.sort_values(["created_at", "status_id"])
    statuses = statuses[
        statuses["deployment_id"].isin(production["id"])
        & (statuses["created_at"] < pd.Timestamp(ctx.end))  # as of the period end
    ]
    first_success = (
        statuses[statuses["state"] == "success"].groupby("deployment_id")["created_at"].min()
    )
    # GitHub marks earlier deployments "inactive" when a newer one succeeds: not an outcome.
    final_state = (
        statuses[statuses["state"].isin(_FINAL_STATES)].groupby("deployment_id")["state"].last()
    )
    frame = pd.DataFrame(
        {
            "team": production["team"].to_numpy(),
            "repo": production["repo"].to_numpy(),
            "via": "deployment",
            "ref": production["deployment_id"].astype(str).to_numpy(),
            "created_at": production["created_at"].to_numpy(),
            "final_state": final_state.reindex(production["id"]).to_numpy(),
            "succeeded_at": first_success.reindex(production["id"]).to_numpy(),
        }
    )
    return frame


def is_deploy_run(
    runs: pd.DataFrame, repos_with_deployments: frozenset[str], deploy_workflow: str
) -> pd.Series:
    """Runs that stand for deployments: a deploy workflow on the default branch of a
    repository that has no GitHub Deployments."""
    return (
        ~runs["repo"].isin(repos_with_deployments)
        & runs["workflow_name"].str.contains(deploy_workflow, regex=True)
        & runs["on_default_branch"]
    )


def _from_deploy_workflows(data: Inputs, ctx: MetricContext) -> pd.DataFrame:
    runs = data.deploy_runs
    deploy_runs = runs[
        is_deploy_run(runs, data.repos_with_deployments, ctx.github.deploy_workflow)
        & (runs["status"] == "completed")
    ]
    finished = deploy_runs["updated_at"].fillna(deploy_runs["created_at"])
    state = deploy_runs["conclusion"].map({"success": "success", "failure": "failure"})
    state = state.where(finished < pd.Timestamp(ctx.end))  # an outcome after the end is unknown
    return pd.DataFrame(
        {
            "team": deploy_runs["team"].to_numpy(),
            "repo": deploy_runs["repo"].to_numpy(),
            "via": "workflow",
            "ref": deploy_runs["run_id"].astype(str).to_numpy(),
            "created_at": deploy_runs["created_at"].to_numpy(),
            "final_state": state.to_numpy(),
            "succeeded_at": finished.where(state == "success").to_numpy(),
        }
    )


def production_deployments(data: Inputs, ctx: MetricContext) -> pd.DataFrame:
    """Production deployments started in the period, with their outcome.

    A GitHub Deployment to an environment matching `production_environment`
    counts, timed by its first `success` status and judged by its last final
    status; a repository with no Deployments at all counts completed runs of a
    workflow matching `deploy_workflow` on its default branch instead.
    """
    return data.memo(
        f"production_deployments:{ctx.memo_key}", lambda: _production_deployments(data, ctx)
    )


def _production_deployments(data: Inputs, ctx: MetricContext) -> pd.DataFrame:
    frame = pd.concat(
        [_from_github_deployments(data, ctx), _from_deploy_workflows(data, ctx)],
        ignore_index=True,
    )
    frame["team"] = frame["team"].astype("str")
    frame["repo"] = frame["repo"].astype("str")
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True).astype(_TIME)
    frame["succeeded_at"] = pd.to_datetime(frame["succeeded_at"], utc=True).astype(_TIME)
    frame.loc[frame["succeeded_at"] >= pd.Timestamp(ctx.end), "succeeded_at"] = pd.NaT
    frame["succeeded"] = frame["succeeded_at"].notna()
    frame["failed"] = frame["final_state"].isin(_FAILED_STATES)
    return frame[DEPLOYMENT_COLUMNS].sort_values("created_at", ignore_index=True)


@metric(
    id="deployment_frequency_per_week",
    name="Deployment frequency",
    unit="deploys/week",
    better="higher",
    group="DevOps",
    source="github",
    reads=("deployments", "deployment_statuses", "deploy_runs"),
    formula="successful production deployments ÷ (period days ÷ 7)",
    unknown_when="the team has no repository",
)
def deployment_frequency_per_week(data: Inputs, ctx: MetricContext) -> Measured:
    """Successful production deployments in the period per week. A deployment is
    a GitHub Deployment to an environment matching `production_environment`,
    timed by its first `success` status; for a repository with no Deployments,
    a successful run of a workflow matching `deploy_workflow` on the default
    branch."""
    deployments = production_deployments(data, ctx)
    rows = deployments[deployments["succeeded_at"] >= pd.Timestamp(ctx.start)]
    teams_with_repos = data.repos["team"].unique()
    counts = rows.groupby("team").size().reindex(teams_with_repos, fill_value=0)
    return Measured(counts / (ctx.period.days / 7), rows.reset_index(drop=True))


@metric(
    id="lead_time_for_changes_hours",
    name="Lead time for changes",
    unit="h",
    better="lower",
    group="DevOps",
    source="github",
    reads=("pull_requests", "deployments", "deployment_statuses", "deploy_runs"),
    formula="median over PRs merged to the default branch of "
    "(first production deploy ≥ merge − PR created)",
    unknown_when="no PR merged to the default branch in the period reached production",
)
def lead_time_for_changes_hours(data: Inputs, ctx: MetricContext) -> Measured:
    """Median, over PRs merged to the default branch in the period, of the time
    from the PR's creation to the first successful production deployment of its
    repository at or after the merge (before the period end). PRs not deployed
    yet are listed but not counted."""
    prs = data.pull_requests
    merged = prs[prs["merged_at"].notna() & (prs["base_ref"] == prs["default_branch"])]
    merged = merged[["team", "repo", "number", "created_at", "merged_at"]].astype(
        {"team": "str", "repo": "str"}
    )
    deployments = production_deployments(data, ctx)
    successes = deployments.loc[deployments["succeeded"], ["team", "repo", "succeeded_at"]]
    linked = pd.merge_asof(
        merged.sort_values("merged_at"),
        successes.rename(columns={"succeeded_at": "deployed_at"}).sort_values("deployed_at"),
        left_on="merged_at",
        right_on="deployed_at",
        by=["team", "repo"],
        direction="forward",
        allow_exact_matches=True,
    )
    linked["hours"] = (linked["deployed_at"] - linked["created_at"]) / _HOUR
    return Measured(linked.groupby("team")["hours"].median(), linked)


def link_incidents(data: Inputs, deployments: pd.DataFrame) -> pd.DataFrame:
    """Each incident opened before the period end, with the last successful production
    deployment of its repository before it was opened (as DevLake links them)."""
    incidents = data.incidents[["team", "repo", "number", "title", "created_at"]]
    successes = deployments.loc[
        deployments["succeeded"], ["team", "repo", "ref", "via", "succeeded_at"]
    ].rename(columns={"ref": "deployment_ref"})
    return pd.merge_asof(
        incidents.astype({"team": "str", "repo": "str"}).sort_values("created_at"),
        successes.sort_values("succeeded_at"),
        left_on="created_at",
        right_on="succeeded_at",
        by=["team", "repo"],
        direction="backward",
        allow_exact_matches=False,
    )


@metric(
    id="change_failure_rate_pct",
    name="Change failure rate",
    unit="%",
    better="lower",
    group="DevOps",
    source="github",
    reads=("deployments", "deployment_statuses", "deploy_runs", "incidents"),
    formula="% of production deployments that failed or were followed by an incident "
    "before the next",
    unknown_when="no production deployment finished in the period",
)
def change_failure_rate_pct(data: Inputs, ctx: MetricContext) -> Measured:
    """Percentage of the production deployments started in the period (with a
    final status) that failed (last status failure or error) or caused an
    incident: an `incident_label` issue linked to it because it was the last
    successful production deployment of the repository before the issue was
    opened."""
    deployments = production_deployments(data, ctx)
    finished = deployments[deployments["final_state"].notna()].copy()
    links = link_incidents(data, deployments).dropna(subset=["deployment_ref"])
    caused = pd.MultiIndex.from_frame(links[["team", "repo", "via", "deployment_ref"]])
    keys = pd.MultiIndex.from_frame(finished[["team", "repo", "via", "ref"]])
    finished["caused_incident"] = keys.isin(caused)
    finished["change_failure"] = finished["failed"] | finished["caused_incident"]
    values = 100 * finished.groupby("team")["change_failure"].mean()
    return Measured(values, finished.reset_index(drop=True))


@metric(
    id="time_to_restore_hours",
    name="Time to restore service",
    unit="h",
    better="lower",
    group="DevOps",
    source="github",
    reads=("incidents",),
    formula="median (closed − opened) of incidents closed in the period",
    unknown_when="no incident was closed in the period",
)
def time_to_restore_hours(data: Inputs, ctx: MetricContext) -> Measured:
    """Median time from opening to closing of the incident issues closed in the
    period."""
    incidents = data.incidents
    closed = incidents[
        (incidents["closed_at"] >= pd.Timestamp(ctx.start))
        & (incidents["closed_at"] < pd.Timestamp(ctx.end))
    ]
    rows = closed[["team", "repo", "number", "title", "created_at", "closed_at"]].assign(
        hours=(closed["closed_at"] - closed["created_at"]) / _HOUR
    )
    return Measured(rows.groupby("team")["hours"].median(), rows.reset_index(drop=True))


@metric(
    id="ci_success_rate_pct",
    name="CI success rate",
    unit="%",
    better="higher",
    group="DevOps",
    source="github",
    reads=("run_counts",),
    formula="% of completed workflow runs concluded success, excluding cancelled and skipped",
    unknown_when="no completed workflow run in the period",
)
def ci_success_rate_pct(data: Inputs, ctx: MetricContext) -> Measured:
    """Percentage of the workflow runs created in the period and completed that
    concluded `success`; cancelled and skipped runs are left out."""
    counts = data.run_counts
    counted = counts[
        (counts["status"] == "completed") & ~counts["conclusion"].isin(("cancelled", "skipped"))
    ]
    rows = (
        counted.assign(successes=counted["runs"].where(counted["conclusion"] == "success", 0))
        .groupby(["team", "repo", "workflow_name"])[["runs", "successes"]]
        .sum()
        .reset_index()
    )
    totals = rows.groupby("team")[["runs", "successes"]].sum()
    return Measured(100 * totals["successes"] / totals["runs"], rows)


@metric(
    id="pr_cycle_time_hours",
    name="PR cycle time",
    unit="h",
    better="lower",
    group="DevOps",
    source="github",
    reads=("pull_requests",),
    formula="median (merged − created) of PRs merged in the period",
    unknown_when="no PR was merged in the period",
)
def pr_cycle_time_hours(data: Inputs, ctx: MetricContext) -> Measured:
    """Median time from a pull request's creation to its merge, over PRs merged in
    the period."""
    prs = data.pull_requests
    merged = prs[prs["merged_at"].notna()]
    rows = merged[["team", "repo", "number", "title", "created_at", "merged_at"]].assign(
        hours=(merged["merged_at"] - merged["created_at"]) / _HOUR
    )
    return Measured(rows.groupby("team")["hours"].median(), rows.reset_index(drop=True))
