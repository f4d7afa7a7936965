"""Frames for the metrics: each entity for a team (or every team) and a period.

Every frame carries a `team` column, so one load serves all teams and a
metric groups by it; a repository or model shared by two teams appears once per
team, which is what per-team metrics need. Timestamp columns are UTC-aware
pandas datetimes; an empty result still has every column, with the same dtypes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, String, func, select, tuple_, type_coerce
from sqlalchemy.engine import Engine

from data.tables import (
    AlertRule,
    AliasObservation,
    Attestation,
    Deployment,
    DeploymentStatus,
    Endpoint,
    EndpointDaily,
    EndpointLatencyBucket,
    Incident,
    Meeting,
    MeetingAttendee,
    MetricSnapshot,
    ModelVersion,
    PullRequest,
    RegisteredModel,
    Repo,
    RepoScan,
    ScanCheckResult,
    ScoreSnapshot,
    SyncRun,
    Team,
    TeamModel,
    TeamRepo,
    Waiver,
    WorkflowRun,
)


@dataclass(frozen=True)
class Period:
    """Whole UTC days, both inclusive: the instants [since 00:00, until+1 00:00)."""

    since: date
    until: date

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise ValueError(f"period ends ({self.until}) before it starts ({self.since})")

    @classmethod
    def last_days(cls, days: int = 90, today: date | None = None) -> Period:
        end = today or datetime.now(UTC).date()
        return cls(since=end - timedelta(days=days - 1), until=end)

    @property
    def start(self) -> datetime:
        return datetime(self.since.year, self.since.month, self.since.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        following = self.until + timedelta(days=1)
        return datetime(following.year, following.month, following.day, tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        return Period(
            since=self.since - timedelta(days=self.days),
            until=self.since - timedelta(days=1),
        )


def _t(model: Any) -> Any:
    return model.__table__


_pauses = 0
_resume = False
_pauses_lock = threading.Lock()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while rows become a frame.

    Each fetched row is a new tuple, and every 700 new container objects start a
    collection that walks the young objects, and now and then every object alive:
    at 40 teams that is a quarter of a period's load, for rows that hold no cycles.
    Counted, as loads run in several threads and the collector is the process's.
    """
    global _pauses, _resume
    with _pauses_lock:
        if _pauses == 0:
            _resume = gc.isenabled()  # a process that turned it off keeps it off
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()


def _frame(
    engine: Engine, statement: Select[Any], time_columns: Sequence[str] = ()
) -> pd.DataFrame:
    """Run a select into a frame; timestamps become UTC-aware in one vectorised pass.

    On SQLite the timestamp text is parsed by pandas instead of row by row by
    the column type, which is what makes loading a large period fast.
    """
    if engine.dialect.name == "sqlite" and time_columns:
        statement = statement.with_only_columns(
            *[
                type_coerce(column, String()).label(column.name)
                if column.name in time_columns
                else column
                for column in statement.selected_columns
            ],
            maintain_column_froms=True,
        )
    with _collector_paused(), engine.connect() as connection:
        result = connection.execute(statement)
        # Plain tuples build a frame several times faster than Row objects.
        frame = pd.DataFrame(list(map(tuple, result.fetchall())), columns=list(result.keys()))
    if frame.empty:
        frame = frame.astype(_empty_dtypes(statement, time_columns))
    for column in time_columns:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").astype(
            "datetime64[us, UTC]"
        )
    return frame


_DTYPES = {bool: "bool", int: "int64", float: "float64", str: "str"}


def _empty_dtypes(statement: Select[Any], time_columns: Sequence[str]) -> dict[str, str]:
    """Column dtypes for an empty result, so that filters on it behave as on a full one."""
    dtypes: dict[str, str] = {}
    for column in statement.selected_columns:
        if column.name in time_columns:
            continue
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            continue
        if python_type in _DTYPES:
            dtypes[column.name] = _DTYPES[python_type]
    return dtypes


def _team_filter(team: str | None) -> list[ColumnElement[bool]]:
    return [] if team is None else [_t(Team).c.name == team]


def _in_period(column: Any, period: Period | None) -> list[ColumnElement[bool]]:
    if period is None:
        return []
    return [column >= period.start, column < period.end]


def _repo_entity(
    engine: Engine,
    model: Any,
    time_column: str,
    team: str | None,
    period: Period | None,
    time_columns: Sequence[str],
    extra: Sequence[ColumnElement[bool]] = (),
) -> pd.DataFrame:
    table, repo, link, team_table = _t(model), _t(Repo), _t(TeamRepo), _t(Team)
    statement = (
        select(
            team_table.c.name.label("team"),
            repo.c.full_name.label("repo"),
            repo.c.default_branch,
            *[c for c in table.c if c.name not in ("repo_id",)],
        )
        .join(repo, repo.c.id == table.c.repo_id)
        .join(link, link.c.repo_id == repo.c.id)
        .join(team_table, team_table.c.id == link.c.team_id)
        .where(*_team_filter(team), *_in_period(table.c[time_column], period), *extra)
    )
    return _frame(engine, statement, time_columns)


def pull_requests(
    engine: Engine, team: str | None = None, period: Period | None = None, by: str = "created_at"
) -> pd.DataFrame:
    """PRs whose `by` time (created_at, merged_at, …) lies in the period (all, without one)."""
    return _repo_entity(
        engine,
        PullRequest,
        by,
        team,
        period,
        ("created_at", "updated_at", "merged_at", "closed_at"),
    )


def workflow_runs(
    engine: Engine, team: str | None = None, period: Period | None = None
) -> pd.DataFrame:
    return _repo_entity(
        engine, WorkflowRun, "created_at", team, period, ("created_at", "updated_at")
    )


def deployments(
    engine: Engine, team: str | None = None, period: Period | None = None
) -> pd.DataFrame:
    return _repo_entity(engine, Deployment, "created_at", team, period, ("created_at",))


def incidents(
    engine: Engine, team: str | None = None, period: Period | None = None
) -> pd.DataFrame:
    return _repo_entity(engine, Incident, "created_at", team, period, ("created_at", "closed_at"))


def deployment_statuses(
    engine: Engine, team: str | None = None, period: Period | None = None
) -> pd.DataFrame:
    """Statuses of the deployments created in the period, keyed by the deployment's row id."""
    status, dep, repo, link, team_table = (
        _t(DeploymentStatus),
        _t(Deployment),
        _t(Repo),
        _t(TeamRepo),
        _t(Team),
    )
    statement = (
        select(
            team_table.c.name.label("team"),
            repo.c.full_name.label("repo"),
            status.c.deployment_id,
            status.c.status_id,
            status.c.state,
            status.c.created_at,
        )
        .join(dep, dep.c.id == status.c.deployment_id)
        .join(repo, repo.c.id == dep.c.repo_id)
        .join(link, link.c.repo_id == repo.c.id)
        .join(team_table, team_table.c.id == link.c.team_id)
        .where(*_team_filter(team), *_in_period(dep.c.created_at, period))
    )
    return _frame(engine, statement, ("created_at",))


def model_versions(
    engine: Engine, team: str | None = None, period: Period | None = None
) -> pd.DataFrame:
    """Versions created in the period, with their model's name."""
    version, model, link, team_table = (
        _t(ModelVersion),
        _t(RegisteredModel),
        _t(TeamModel),
        _t(Team),
    )
    statement = (
        select(
            team_table.c.name.label("team"),
            model.c.name.label("model"),
            *[c for c in version.c if c.name != "model_id"],
        )
        .join(model, model.c.id == version.c.model_id)
        .join(link, link.c.model_id == model.c.id)
        .join(team_table, team_table.c.id == link.c.team_id)
        .where(*_team_filter(team), *_in_period(version.c.created_at, period))
    )
    return _frame(engine, statement, ("created_at", "run_start", "run_end", "deployed_at"))


def alias_observations(engine: Engine, team: str | None = None) -> pd.DataFrame:
    observation, model, link, team_table = (
        _t(AliasObservation),
        _t(RegisteredModel),
        _t(TeamModel),
        _t(Team),
    )
    statement = (
        select(
            team_table.c.name.label("team"),
            model.c.name.label("model"),
            observation.c.alias,
            observation.c.version,
            observation.c.first_seen_at,
            observation.c.last_seen_at,
        )
        .join(model, model.c.id == observation.c.model_id)
        .join(link, link.c.model_id == model.c.id)
        .join(team_table, team_table.c.id == link.c.team_id)
        .where(*_team_filter(team))
    )
    return _frame(engine, statement, ("first_seen_at", "last_seen_at"))


def _day_filter(column: Any, period: Period | None) -> list[ColumnElement[bool]]:
    return [] if period is None else [column >= period.since, column <= period.until]


def _endpoint_entity(
    engine: Engine, model: Any, columns: Sequence[str], team: str | None, period: Period | None
) -> pd.DataFrame:
    table, endpoint, team_table = _t(model), _t(Endpoint), _t(Team)
    statement = (
        select(
            team_table.c.name.label("team"),
            endpoint.c.name.label("endpoint"),
            *[table.c[name] for name in columns],
        )
        .join(endpoint, endpoint.c.id == table.c.endpoint_id)
        .join(team_table, team_table.c.id == endpoint.c.team_id)
        .where(*_team_filter(team), *_day_filter(table.c.day, period))
    )
    frame = _frame(engine, statement)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def endpoint_days(
    engine: Engine, team: str | None = None, period: Period | None = None
) -> pd.DataFrame:
    """Each endpoint's stored days: requests, failures and mean `up`."""
    columns = ("day", "requests", "failures", "availability_ratio")
    return _endpoint_entity(engine, EndpointDaily, columns, team, period)


def meetings(engine: Engine, team: str | None = None, period: Period | None = None) -> pd.DataFrame:
    meeting, team_table = _t(Meeting), _t(Team)
    statement = (
        select(team_table.c.name.label("team"), *[c for c in meeting.c if c.name != "team_id"])
        .join(team_table, team_table.c.id == meeting.c.team_id)
        .where(*_team_filter(team), *_in_period(meeting.c.start, period))
    )
    return _frame(engine, statement, ("start", "end"))


def meeting_attendees(
    engine: Engine, team: str | None = None, period: Period | None = None
) -> pd.DataFrame:
    attendee, meeting, team_table = _t(MeetingAttendee), _t(Meeting), _t(Team)
    statement = (
        select(
            team_table.c.name.label("team"),
            meeting.c.uid,
            attendee.c.meeting_id,
            attendee.c.email,
            attendee.c.attended,
        )
        .join(meeting, meeting.c.id == attendee.c.meeting_id)
        .join(team_table, team_table.c.id == meeting.c.team_id)
        .where(*_team_filter(team), *_in_period(meeting.c.start, period))
    )
    return _frame(engine, statement)


def repo_scans(engine: Engine, team: str | None = None) -> pd.DataFrame:
    """Every scan of the team's repositories; the newest per repository is the evidence."""
    return _repo_entity(engine, RepoScan, "scanned_at", team, None, ("scanned_at",))


def _team_entity(
    engine: Engine, model: Any, team: str | None, time_columns: Sequence[str]
) -> pd.DataFrame:
    table, team_table = _t(model), _t(Team)
    statement = (
        select(team_table.c.name.label("team"), *[c for c in table.c if c.name != "team_id"])
        .join(team_table, team_table.c.id == table.c.team_id)
        .where(*_team_filter(team))
    )
    return _frame(engine, statement, time_columns)


def attestations(engine: Engine, team: str | None = None) -> pd.DataFrame:
    return _team_entity(engine, Attestation, team, ("answered_at", "expires_at"))


def waivers(engine: Engine, team: str | None = None) -> pd.DataFrame:
    return _team_entity(engine, Waiver, team, ("created_at", "expires_at"))


def metric_snapshots(engine: Engine, team: str | None = None) -> pd.DataFrame:
    return _team_entity(engine, MetricSnapshot, team, ())


def score_snapshots(engine: Engine, team: str | None = None) -> pd.DataFrame:
    return _team_entity(engine, ScoreSnapshot, team, ())


def team_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(_t(Team).c.name).order_by(_t(Team).c.name)).scalars())


def latest_sync_runs(engine: Engine) -> pd.DataFrame:
    """The newest run of each source, for the Status page's freshness table."""
    runs = _t(SyncRun)
    statement = select(*runs.c).order_by(runs.c.source, runs.c.started_at.desc())
    frame = _frame(engine, statement, ("started_at", "ended_at", "watermark", "rate_limited_until"))
    return frame.drop_duplicates("source", keep="first").reset_index(drop=True)


def registered_models(engine: Engine, team: str | None = None) -> pd.DataFrame:
    """The team's registered models, including those with no version yet."""
    model, link, team_table = _t(RegisteredModel), _t(TeamModel), _t(Team)
    statement = (
        select(
            team_table.c.name.label("team"),
            model.c.name,
            model.c.description,
            model.c.created_at,
        )
        .join(link, link.c.model_id == model.c.id)
        .join(team_table, team_table.c.id == link.c.team_id)
        .where(*_team_filter(team))
    )
    return _frame(engine, statement, ("created_at",))


def team_repos(
    engine: Engine, team: str | None = None, before: datetime | None = None
) -> pd.DataFrame:
    """The team's repositories, and whether each has any GitHub Deployment before `before`."""
    repo, link, team_table, deployment = _t(Repo), _t(TeamRepo), _t(Team), _t(Deployment)
    has_deployments = select(deployment.c.id).where(deployment.c.repo_id == repo.c.id)
    if before is not None:
        has_deployments = has_deployments.where(deployment.c.created_at < before)
    statement = (
        select(
            team_table.c.name.label("team"),
            repo.c.full_name.label("repo"),
            repo.c.default_branch,
            has_deployments.exists().label("has_deployments"),
        )
        .join(link, link.c.repo_id == repo.c.id)
        .join(team_table, team_table.c.id == link.c.team_id)
        .where(*_team_filter(team))
    )
    return _frame(engine, statement)


def workflow_run_counts(
    engine: Engine, team: str | None = None, period: Period | None = None
) -> pd.DataFrame:
    """Runs created in the period, counted per repository, workflow, branch and outcome.

    A year of a large organisation holds millions of runs; the CI metrics need
    only these counts, so the database does the counting.
    """
    run, repo, link, team_table = _t(WorkflowRun), _t(Repo), _t(TeamRepo), _t(Team)
    keys = (
        team_table.c.name.label("team"),
        repo.c.full_name.label("repo"),
        run.c.workflow_name,
        (run.c.head_branch == repo.c.default_branch).label("on_default_branch"),
        run.c.status,
        run.c.conclusion,
    )
    statement = (
        select(*keys, func.count().label("runs"))
        .join(repo, repo.c.id == run.c.repo_id)
        .join(link, link.c.repo_id == repo.c.id)
        .join(team_table, team_table.c.id == link.c.team_id)
        .where(*_team_filter(team), *_in_period(run.c.created_at, period))
        .group_by(*keys)
    )
    frame = _frame(engine, statement)
    frame["on_default_branch"] = frame["on_default_branch"].astype(bool)
    return frame


def workflow_runs_of(
    engine: Engine,
    workflows: Sequence[tuple[str, str]],
    team: str | None = None,
    period: Period | None = None,
) -> pd.DataFrame:
    """The individual runs of the given (repository, workflow name) pairs."""
    run, repo = _t(WorkflowRun), _t(Repo)
    wanted = [tuple_(repo.c.full_name, run.c.workflow_name).in_(list(workflows))]
    if not workflows:
        wanted = [run.c.id.is_(None)]  # an empty frame with every column
    frame = _repo_entity(
        engine,
        WorkflowRun,
        "created_at",
        team,
        period,
        ("created_at", "updated_at"),
        extra=wanted,
    )
    frame["on_default_branch"] = frame["head_branch"] == frame["default_branch"]
    return frame


def endpoint_bucket_totals(
    engine: Engine, team: str | None = None, period: Period | None = None
) -> pd.DataFrame:
    """Each endpoint's histogram bucket increases summed over the period's days, per `le`."""
    bucket, endpoint, team_table = _t(EndpointLatencyBucket), _t(Endpoint), _t(Team)
    keys = (team_table.c.name.label("team"), endpoint.c.name.label("endpoint"), bucket.c.le)
    statement = (
        select(*keys, func.sum(bucket.c.count).label("count"))
        .join(endpoint, endpoint.c.id == bucket.c.endpoint_id)
        .join(team_table, team_table.c.id == endpoint.c.team_id)
        .where(*_team_filter(team), *_day_filter(bucket.c.day, period))
        .group_by(*keys)
    )
    return _frame(engine, statement)


def scan_results(
    engine: Engine, team: str | None = None, before: datetime | None = None
) -> pd.DataFrame:
    """The check results of each of the team's repositories' newest scan (before `before`)."""
    scan, result, repo, link, team_table = (
        _t(RepoScan),
        _t(ScanCheckResult),
        _t(Repo),
        _t(TeamRepo),
        _t(Team),
    )
    newest_query = select(scan.c.repo_id, func.max(scan.c.scanned_at).label("scanned_at"))
    if before is not None:
        newest_query = newest_query.where(scan.c.scanned_at < before)
    newest = newest_query.group_by(scan.c.repo_id).subquery()
    statement = (
        select(
            team_table.c.name.label("team"),
            repo.c.full_name.label("repo"),
            scan.c.commit_sha,
            scan.c.scanned_at,
            result.c.check_id,
            result.c.status,
            result.c.evidence,
        )
        .join(
            newest,
            (newest.c.repo_id == scan.c.repo_id) & (newest.c.scanned_at == scan.c.scanned_at),
        )
        .join(result, result.c.scan_id == scan.c.id)
        .join(repo, repo.c.id == scan.c.repo_id)
        .join(link, link.c.repo_id == repo.c.id)
        .join(team_table, team_table.c.id == link.c.team_id)
        .where(*_team_filter(team))
    )
    return _frame(engine, statement, ("scanned_at",))


def alert_rules(engine: Engine) -> pd.DataFrame:
    """Every alerting rule the Prometheus sync found (rules are not owned by a team)."""
    rules = _t(AlertRule)
    return _frame(engine, select(*[c for c in rules.c if c.name != "id"]), ("seen_at",))
