"""Computes the catalog's metrics for teams and a period: the one path every consumer uses.

Frames are loaded once for all teams and each metric runs once over all of
them, so the cost of a period grows with the data, not with teams × metrics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from config import Config, GitHubConfig
from data import loaders
from data.loaders import Period
from metrics.catalog import MetricSpec, Status, catalog
from metrics.context import Inputs, MetricContext
from metrics.delivery import is_deploy_run

_BEGINNING = date(1970, 1, 1)


@dataclass(frozen=True)
class MetricResult:
    team: str
    spec: MetricSpec
    period: Period
    value: float | None
    target: float | None
    status: Status
    all_rows: pd.DataFrame
    """Evidence rows of every team; `rows` narrows them to this team on demand."""

    @property
    def metric_id(self) -> str:
        return self.spec.id

    @property
    def rows(self) -> pd.DataFrame:
        """The records behind the value (which models are stale, which deployments failed…)."""
        if self.all_rows.empty or "team" not in self.all_rows:
            return self.all_rows
        return self.all_rows[self.all_rows["team"] == self.team].reset_index(drop=True)

    @property
    def note(self) -> str:
        return f"unknown: {self.spec.unknown_when}" if self.value is None else ""

    def as_record(self) -> dict[str, Any]:
        """The documented `cli.py metrics --format json` shape (DESIGN §5)."""
        return {
            "team": self.team,
            "metric": self.spec.id,
            "value": self.value,
            "unit": self.spec.unit,
            "target": self.target,
            "status": self.status,
            "since": self.period.since.isoformat(),
            "until": self.period.until.isoformat(),
        }


_NO_TEAM = ""
"""A team name that cannot exist (the config refuses blank names): loading a frame for it
yields an empty frame with the right columns and dtypes."""


def load_inputs(
    engine: Engine,
    period: Period,
    config: Config,
    teams: Iterable[str] | None = None,
    frames: Iterable[str] | None = None,
) -> Inputs:
    """Load what the metrics read, as of the period end.

    `frames` names the `Inputs` frames to read (default: all); the others are
    left empty, so computing a few metrics reads only what they need. One team
    is loaded alone.

    The two aggregating queries (run counts, bucket sums: a third of a 40-team load)
    run in threads beside the row loads: the database computes them in one call that
    releases the GIL. Row loads stay in this thread, as they hold the GIL to build each
    row and would only take turns: at 40 teams on two cores, a load took 1.25 s so
    against 1.67 s one after another and 1.46 s with every load in two threads (medians
    of six).
    """
    team_list = tuple(teams) if teams is not None else tuple(loaders.team_names(engine))
    team = team_list[0] if len(team_list) == 1 else None
    wanted = None if frames is None else set(frames)

    def scope(frame: str) -> str | None:
        return team if wanted is None or frame in wanted else _NO_TEAM

    history = Period(since=min(_BEGINNING, period.since), until=period.until)
    needs_runs = wanted is None or bool(wanted & {"run_counts", "deploy_runs"})
    with ThreadPoolExecutor(2, thread_name_prefix="load_inputs") as pool:
        counting = pool.submit(
            loaders.workflow_run_counts, engine, team if needs_runs else _NO_TEAM, period
        )
        summing = pool.submit(
            loaders.endpoint_bucket_totals, engine, scope("endpoint_buckets"), period
        )
        repos = loaders.team_repos(engine, team, before=period.end)
        loaded = {
            "pull_requests": loaders.pull_requests(
                engine, scope("pull_requests"), period, by="merged_at"
            ),
            "versions": loaders.model_versions(engine, scope("versions"), history),
            "endpoint_days": loaders.endpoint_days(engine, scope("endpoint_days"), period),
            "deployments": loaders.deployments(engine, scope("deployments"), period),
            "deployment_statuses": loaders.deployment_statuses(
                engine, scope("deployment_statuses"), period
            ),
            "alias_observations": loaders.alias_observations(engine, scope("alias_observations")),
            "incidents": loaders.incidents(engine, scope("incidents"), history),
            "models": loaders.registered_models(engine, scope("models")),
            "meetings": loaders.meetings(engine, scope("meetings"), history),
            "attendees": loaders.meeting_attendees(engine, scope("attendees"), history),
        }
        run_counts, endpoint_buckets = counting.result(), summing.result()
    deploy_workflow = (config.github or GitHubConfig()).deploy_workflow
    with_deployments = frozenset(repos.loc[repos["has_deployments"], "repo"])
    candidates = run_counts[is_deploy_run(run_counts, with_deployments, deploy_workflow)]
    deploy_workflows = sorted(
        set(zip(candidates["repo"], candidates["workflow_name"], strict=True))
    )
    return Inputs(
        teams=team_list,
        repos=repos,
        run_counts=run_counts,
        deploy_runs=loaders.workflow_runs_of(
            engine, deploy_workflows, scope("deploy_runs"), period
        ),
        endpoint_buckets=endpoint_buckets,
        **loaded,
    )


def context_for(config: Config, teams: Iterable[str], period: Period) -> MetricContext:
    """Targets and settings per team; a team missing from the config gets the defaults."""
    configured = {team.name: team for team in config.teams}
    team_list = list(teams)
    return MetricContext(
        period=period,
        targets={
            team: config.targets_for(team) if team in configured else config.targets
            for team in team_list
        },
        github=config.github or GitHubConfig(),
        production_aliases=tuple(
            config.mlflow.production_aliases
            if config.mlflow
            else ("champion", "production", "prod")
        ),
        stakeholders={
            team: tuple(configured[team].stakeholders) if team in configured else ()
            for team in team_list
        },
    )


def _value(values: pd.Series, team: str) -> float | None:
    value = values.get(team)
    if value is None or pd.isna(value) or math.isinf(float(value)):
        return None
    return float(value)


def check_timezones(inputs: Inputs) -> None:
    """Refuse naive timestamps: compared with UTC ones they would shift by the local offset."""
    for name, value in vars(inputs).items():
        if not isinstance(value, pd.DataFrame):
            continue
        for column, dtype in value.dtypes.items():
            if pd.api.types.is_datetime64_dtype(dtype) and not isinstance(
                dtype, pd.DatetimeTZDtype
            ):
                raise ValueError(
                    f"inputs.{name}.{column} holds naive timestamps; "
                    "localise them to UTC (Series.dt.tz_localize('UTC')) first"
                )


def compute_from_inputs(
    inputs: Inputs, config: Config, period: Period, metric_ids: Iterable[str] | None = None
) -> list[MetricResult]:
    check_timezones(inputs)
    specs = catalog()
    wanted = list(specs) if metric_ids is None else list(metric_ids)
    unknown = [metric_id for metric_id in wanted if metric_id not in specs]
    if unknown:
        raise KeyError(f"unknown metric id(s) {unknown}; known: {', '.join(specs)}")
    ctx = context_for(config, inputs.teams, period)
    results: list[MetricResult] = []
    for metric_id in wanted:
        spec = specs[metric_id]
        measured = spec.compute(inputs, ctx)
        for team in inputs.teams:
            value = _value(measured.values, team)
            target = spec.target_for(ctx.targets[team])
            results.append(
                MetricResult(
                    team=team,
                    spec=spec,
                    period=period,
                    value=value,
                    target=target,
                    status=spec.status(value, target),
                    all_rows=measured.rows,
                )
            )
    order = {team: index for index, team in enumerate(inputs.teams)}
    results.sort(key=lambda result: order[result.team])
    return results


SNAPSHOT_WINDOW_DAYS = 90
"""A daily snapshot holds each metric over the 90 days ending that day: the default period."""


def results_from_snapshots(
    snapshots: pd.DataFrame,
    period: Period,
    teams: Iterable[str],
    metric_ids: Iterable[str],
) -> list[MetricResult] | None:
    """A period's results as the snapshot of its last day recorded them, or None unless that
    snapshot covers exactly this period for every team and metric asked.

    Reading history back is what snapshots are for: a past period's values come from one
    indexed lookup instead of a recomputation over every source row. They are the values
    as known on that day (evidence rows are not kept).
    """
    if period.days != SNAPSHOT_WINDOW_DAYS or snapshots.empty:
        return None
    wanted_teams, wanted_metrics = list(teams), list(metric_ids)
    days = pd.to_datetime(snapshots["day"]).dt.date
    rows = snapshots[
        (days == period.until)
        & snapshots["team"].isin(wanted_teams)
        & snapshots["metric_id"].isin(wanted_metrics)
    ]
    by_key = {(row.team, row.metric_id): row for row in rows.itertuples(index=False)}
    if len(by_key) < len(wanted_teams) * len(wanted_metrics):
        return None
    specs, empty = catalog(), pd.DataFrame()
    results = []
    for team in wanted_teams:
        for metric_id in wanted_metrics:
            row = by_key[(team, metric_id)]
            value = None if pd.isna(row.value) else float(row.value)
            target = None if pd.isna(row.target) else float(row.target)
            status: Status = row.status
            results.append(
                MetricResult(team, specs[metric_id], period, value, target, status, empty)
            )
    return results


def compute_metrics(
    engine: Engine,
    config: Config,
    period: Period,
    teams: Iterable[str] | None = None,
    metric_ids: Iterable[str] | None = None,
) -> list[MetricResult]:
    """Every requested metric for every requested team (default: the store's teams)."""
    wanted = None if metric_ids is None else list(metric_ids)
    frames = None
    if wanted is not None:
        specs = catalog()
        frames = {
            frame for metric_id in wanted if metric_id in specs for frame in specs[metric_id].reads
        }
    inputs = load_inputs(engine, period, config, teams, frames)
    return compute_from_inputs(inputs, config, period, wanted)
