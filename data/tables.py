"""The store's tables.

Every table that a connector or the demo writes declares its natural key in
`__natural_key__` and a matching unique constraint, so `Store.upsert` can be
idempotent: writing the same records twice changes nothing. Indexes follow the
metric queries, which always filter by parent (repo, model, endpoint, team) and
a time column.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from data.types import UTCDateTime


def _utc(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Keyed(SQLModel):
    """A table with a natural key (the columns an upsert matches on)."""

    __natural_key__: ClassVar[tuple[str, ...]]


# --- organisation -----------------------------------------------------------


class Team(Keyed, table=True):
    __tablename__ = "team"
    __natural_key__ = ("name",)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class Repo(Keyed, table=True):
    __tablename__ = "repo"
    __natural_key__ = ("full_name",)
    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(unique=True)
    default_branch: str = "main"


class TeamRepo(Keyed, table=True):
    """A repository may serve several teams (a shared feature repo, say)."""

    __tablename__ = "team_repo"
    __natural_key__ = ("team_id", "repo_id")
    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    repo_id: int = Field(foreign_key="repo.id", primary_key=True, ondelete="CASCADE", index=True)


# --- GitHub -----------------------------------------------------------------


class PullRequest(Keyed, table=True):
    __tablename__ = "pull_request"
    __natural_key__ = ("repo_id", "number")
    __table_args__ = (
        UniqueConstraint("repo_id", "number"),
        Index("ix_pull_request_repo_merged", "repo_id", "merged_at"),
        Index("ix_pull_request_repo_created", "repo_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repo.id", ondelete="CASCADE")
    number: int
    title: str = ""
    author: str = ""
    state: str = "open"
    base_ref: str = "main"
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime | None = _utc()
    merged_at: datetime | None = _utc()
    closed_at: datetime | None = _utc()


class WorkflowRun(Keyed, table=True):
    __tablename__ = "workflow_run"
    __natural_key__ = ("repo_id", "run_id")
    __table_args__ = (
        UniqueConstraint("repo_id", "run_id"),
        # Covering the CI counts: a period's runs are counted from the index alone.
        Index(
            "ix_workflow_run_repo_created",
            "repo_id",
            "created_at",
            "workflow_name",
            "head_branch",
            "status",
            "conclusion",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repo.id", ondelete="CASCADE")
    run_id: int = Field(sa_type=BigInteger)
    workflow_name: str
    event: str = "push"
    head_branch: str = "main"
    status: str = "completed"
    conclusion: str | None = None
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime | None = _utc()


class Deployment(Keyed, table=True):
    """A GitHub Deployment; its statuses decide success and timing (DESIGN §6)."""

    __tablename__ = "deployment"
    __natural_key__ = ("repo_id", "deployment_id")
    __table_args__ = (
        UniqueConstraint("repo_id", "deployment_id"),
        Index("ix_deployment_repo_created", "repo_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repo.id", ondelete="CASCADE")
    deployment_id: int = Field(sa_type=BigInteger)
    environment: str
    ref: str = "main"
    sha: str = ""
    created_at: datetime = _utc(nullable=False)


class DeploymentStatus(Keyed, table=True):
    __tablename__ = "deployment_status"
    __natural_key__ = ("deployment_id", "status_id")
    __table_args__ = (UniqueConstraint("deployment_id", "status_id"),)
    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id", ondelete="CASCADE")
    status_id: int = Field(sa_type=BigInteger)
    state: str
    created_at: datetime = _utc(nullable=False)


class Incident(Keyed, table=True):
    """An issue carrying the configured incident label."""

    __tablename__ = "incident"
    __natural_key__ = ("repo_id", "number")
    __table_args__ = (
        UniqueConstraint("repo_id", "number"),
        Index("ix_incident_repo_created", "repo_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repo.id", ondelete="CASCADE")
    number: int
    title: str = ""
    created_at: datetime = _utc(nullable=False)
    closed_at: datetime | None = _utc()
    labels: list[str] = _json_list()


class Release(Keyed, table=True):
    __tablename__ = "release"
    __natural_key__ = ("repo_id", "release_id")
    __table_args__ = (UniqueConstraint("repo_id", "release_id"),)
    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repo.id", ondelete="CASCADE")
    release_id: int = Field(sa_type=BigInteger)
    tag_name: str
    created_at: datetime = _utc(nullable=False)
    published_at: datetime | None = _utc()


# --- model registry ---------------------------------------------------------


class RegisteredModel(Keyed, table=True):
    __tablename__ = "registered_model"
    __natural_key__ = ("name",)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    description: str = ""
    created_at: datetime | None = _utc()


class TeamModel(Keyed, table=True):
    __tablename__ = "team_model"
    __natural_key__ = ("team_id", "model_id")
    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    model_id: int = Field(
        foreign_key="registered_model.id", primary_key=True, ondelete="CASCADE", index=True
    )


class ModelVersion(Keyed, table=True):
    """`version` is MLflow's string; `version_number` sorts it as an integer."""

    __tablename__ = "model_version"
    __natural_key__ = ("model_id", "version")
    __table_args__ = (
        UniqueConstraint("model_id", "version"),
        Index("ix_model_version_model_created", "model_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", ondelete="CASCADE")
    version: str
    version_number: int
    status: str = "READY"
    created_at: datetime = _utc(nullable=False)
    run_id: str | None = None
    run_start: datetime | None = _utc()
    run_end: datetime | None = _utc()
    deployed_at: datetime | None = _utc()
    aliases: list[str] = _json_list()
    tags: dict[str, str] = _json_dict()


class AliasObservation(Keyed, table=True):
    """When a sync first and last saw an alias on a version: OSS MLflow dates neither."""

    __tablename__ = "alias_observation"
    __natural_key__ = ("model_id", "alias", "version")
    __table_args__ = (UniqueConstraint("model_id", "alias", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="registered_model.id", ondelete="CASCADE")
    alias: str
    version: str
    first_seen_at: datetime = _utc(nullable=False)
    last_seen_at: datetime = _utc(nullable=False)


# --- serving endpoints ------------------------------------------------------


class Endpoint(Keyed, table=True):
    __tablename__ = "endpoint"
    __natural_key__ = ("team_id", "name")
    __table_args__ = (UniqueConstraint("team_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    name: str
    selector: str = "{}"


class EndpointDaily(Keyed, table=True):
    """One UTC day of an endpoint: counter increases and mean of `up`."""

    __tablename__ = "endpoint_daily"
    __natural_key__ = ("endpoint_id", "day")
    __table_args__ = (UniqueConstraint("endpoint_id", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="endpoint.id", ondelete="CASCADE")
    day: date
    requests: float = 0.0
    failures: float = 0.0
    availability_ratio: float | None = None


class EndpointLatencyBucket(Keyed, table=True):
    """A day's increase of one histogram bucket; quantiles of any period derive from these."""

    __tablename__ = "endpoint_latency_bucket"
    __natural_key__ = ("endpoint_id", "day", "le")
    __table_args__ = (UniqueConstraint("endpoint_id", "day", "le"),)
    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="endpoint.id", ondelete="CASCADE")
    day: date
    le: float
    count: float


class AlertRule(Keyed, table=True):
    __tablename__ = "alert_rule"
    __natural_key__ = ("group_name", "name")
    __table_args__ = (UniqueConstraint("group_name", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    group_name: str
    name: str
    expr: str
    duration_seconds: float = 0.0
    labels: dict[str, str] = _json_dict()
    seen_at: datetime = _utc(nullable=False)


# --- stakeholders -----------------------------------------------------------


class Meeting(Keyed, table=True):
    __tablename__ = "meeting"
    __natural_key__ = ("team_id", "uid")
    __table_args__ = (
        UniqueConstraint("team_id", "uid"),
        Index("ix_meeting_team_start", "team_id", "start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    uid: str
    title: str
    start: datetime = _utc(nullable=False)
    end: datetime | None = _utc()
    source: str = "form"


class MeetingAttendee(Keyed, table=True):
    __tablename__ = "meeting_attendee"
    __natural_key__ = ("meeting_id", "email")
    __table_args__ = (UniqueConstraint("meeting_id", "email"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    email: str
    attended: bool = True


# --- maturity evidence --------------------------------------------------------


class RepoScan(Keyed, table=True):
    """The paths of a repository at one commit: what the repository checks read."""

    __tablename__ = "repo_scan"
    __natural_key__ = ("repo_id", "commit_sha")
    __table_args__ = (UniqueConstraint("repo_id", "commit_sha"),)
    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repo.id", ondelete="CASCADE")
    commit_sha: str
    scanned_at: datetime = _utc(nullable=False, index=True)
    paths: list[str] = _json_list()


class ScanCheckResult(Keyed, table=True):
    __tablename__ = "scan_check_result"
    __natural_key__ = ("scan_id", "check_id")
    __table_args__ = (UniqueConstraint("scan_id", "check_id"),)
    id: int | None = Field(default=None, primary_key=True)
    scan_id: int = Field(foreign_key="repo_scan.id", ondelete="CASCADE")
    check_id: str
    status: str
    evidence: str = ""


class Attestation(Keyed, table=True):
    """A questionnaire answer; answers are kept as history, the newest one counts."""

    __tablename__ = "attestation"
    __natural_key__ = ("team_id", "check_id", "answered_at")
    __table_args__ = (UniqueConstraint("team_id", "check_id", "answered_at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    check_id: str
    answer: bool
    answered_by: str
    answered_at: datetime = _utc(nullable=False)
    evidence_url: str = ""
    expires_at: datetime = _utc(nullable=False)


class Waiver(Keyed, table=True):
    __tablename__ = "waiver"
    __natural_key__ = ("team_id", "check_id", "created_at")
    __table_args__ = (UniqueConstraint("team_id", "check_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    check_id: str
    reason: str
    created_by: str
    created_at: datetime = _utc(nullable=False)
    expires_at: datetime = _utc(nullable=False)


# --- history and bookkeeping --------------------------------------------------


class MetricSnapshot(Keyed, table=True):
    __tablename__ = "metric_snapshot"
    __natural_key__ = ("team_id", "day", "metric_id")
    __table_args__ = (UniqueConstraint("team_id", "day", "metric_id"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    day: date
    metric_id: str
    value: float | None = None
    unit: str = ""
    target: float | None = None
    status: str = "unknown"


class ScoreSnapshot(Keyed, table=True):
    __tablename__ = "score_snapshot"
    __natural_key__ = ("team_id", "day", "pillar")
    __table_args__ = (UniqueConstraint("team_id", "day", "pillar"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE")
    day: date
    pillar: str
    """DataOps, DevOps, ModelOps, or "overall"."""
    score: float | None = None
    level: int
    coverage: float | None = None
    rubric_version: str


class SyncRun(SQLModel, table=True):
    """One run of one source; history, not upserted."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_source_started", "source", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str
    started_at: datetime = _utc(nullable=False)
    ended_at: datetime | None = _utc()
    status: str = "running"
    api_calls: int = 0
    rows_written: int = 0
    error: str | None = None
    watermark: datetime | None = _utc()
    rate_limited_until: datetime | None = _utc()


class Watermark(Keyed, table=True):
    """How far a source has been read, per scope (a repository, a model, an endpoint)."""

    __tablename__ = "watermark"
    __natural_key__ = ("source", "scope")
    __table_args__ = (UniqueConstraint("source", "scope"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str
    scope: str
    value: datetime = _utc(nullable=False)


class HttpValidator(Keyed, table=True):
    """The ETag of a source's last answer to one request, for `If-None-Match`.

    Written in the transaction that stores what that answer held, so a 304 next time
    can only mean "nothing new since data that is in the store".
    """

    __tablename__ = "http_validator"
    __natural_key__ = ("source", "request")
    __table_args__ = (UniqueConstraint("source", "request"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str
    request: str
    """The request without secrets: a path and its query, or a redacted feed URL."""
    etag: str


class AppMeta(Keyed, table=True):
    """Small facts about the store itself: demo anchor and size, the store version."""

    __tablename__ = "app_meta"
    __natural_key__ = ("key",)
    key: str = Field(primary_key=True)
    value: str


ENTITY_TABLES: tuple[type[SQLModel], ...] = (
    Team,
    Repo,
    TeamRepo,
    PullRequest,
    WorkflowRun,
    Deployment,
    DeploymentStatus,
    Incident,
    Release,
    RegisteredModel,
    TeamModel,
    ModelVersion,
    AliasObservation,
    Endpoint,
    EndpointDaily,
    EndpointLatencyBucket,
    AlertRule,
    Meeting,
    MeetingAttendee,
    RepoScan,
    ScanCheckResult,
    Attestation,
    Waiver,
    MetricSnapshot,
    ScoreSnapshot,
    SyncRun,
    Watermark,
    HttpValidator,
)
"""Every table a person may want counted on the Status page, parents first."""
