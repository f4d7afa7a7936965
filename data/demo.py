"""The deterministic demo organisation.

The demo is how a new user meets the product and the data set every benchmark
runs on, so it must look like a real organisation (teams at visibly different
maturity, improving over a year) and be exactly reproducible: every random draw
comes from a generator seeded by the profile seed and the entity's name, and
every time is an offset from one anchor day stored in the store. It writes
through the same upsert API as the connectors, so writing it twice changes
nothing.
"""

from __future__ import annotations

import math
import random
import tomllib
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from config import DEMO_CONFIG_PATH, Config, EndpointConfig, TeamConfig, load_config
from data.organisation import register_organisation
from data.store import get_meta, key_to_id, set_meta, upsert_rows, write_transaction
from data.tables import (
    ENTITY_TABLES,
    AlertRule,
    AliasObservation,
    AppMeta,
    Attestation,
    Deployment,
    DeploymentStatus,
    Endpoint,
    EndpointDaily,
    EndpointLatencyBucket,
    Incident,
    Keyed,
    Meeting,
    MeetingAttendee,
    ModelVersion,
    PullRequest,
    RegisteredModel,
    Release,
    Repo,
    RepoScan,
    Team,
    TeamModel,
    Waiver,
    WorkflowRun,
)

PROFILES_PATH = Path(__file__).resolve().parent / "demo" / "profiles.toml"
DEMO_ANCHOR_KEY = "demo_anchor"
DEMO_SIZE_KEY = "demo_size"
SIZES = ("small", "large")
LATENCY_BUCKETS_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)
"""Prometheus client's default histogram buckets."""


class DemoError(Exception):
    """The demo cannot be written as asked (e.g. a different size is already stored)."""


@dataclass(frozen=True)
class DemoSummary:
    anchor: date
    size: str
    rows_written: int


@dataclass(frozen=True)
class DemoInfo:
    anchor: date
    size: str


# --- profiles -------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """One team's behaviour; `ramp` values move from a year ago to today."""

    values: dict[str, Any]

    def ramp(self, key: str, progress: float) -> float:
        value = self.values[key]
        if isinstance(value, list):
            start, end = float(value[0]), float(value[1])
            return start + (end - start) * min(max(progress, 0.0), 1.0)
        return float(value)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


@dataclass(frozen=True)
class DemoPlan:
    """What to generate: the organisation's config plus each team's profile and volumes."""

    size: str
    config: Config
    profiles: dict[str, Profile]
    repo_templates: dict[str, list[str]]
    seed: int
    days: int
    volumes: dict[str, int] = field(default_factory=dict)


def _read_profiles() -> dict[str, Any]:
    with PROFILES_PATH.open("rb") as handle:
        return tomllib.load(handle)


def _large_config(base: Config, spec: dict[str, Any], profile_names: list[str]) -> Config:
    teams: list[TeamConfig] = []
    for index in range(int(spec["teams"])):
        number = f"{index + 1:02d}"
        slug = f"team{number}"
        teams.append(
            TeamConfig(
                name=f"Team {number} ({profile_names[index % len(profile_names)]})",
                repos=[f"acme-large/{slug}-repo{r:02d}" for r in range(spec["repos_per_team"])],
                models=[f"{slug}-*"],
                endpoints=[
                    EndpointConfig(name=f"{slug}-api{e}", selector=f'{{job="{slug}-api{e}"}}')
                    for e in range(spec["endpoints_per_team"])
                ],
                stakeholders=[f"lead-{slug}@acme.example", f"pm-{slug}@acme.example"],
            )
        )
    return base.model_copy(update={"teams": teams})


def demo_plan(size: str = "small") -> DemoPlan:
    if size not in SIZES:
        raise DemoError(f"unknown demo size {size!r}; choose one of {', '.join(SIZES)}")
    raw = _read_profiles()
    base = load_config(DEMO_CONFIG_PATH).config
    profiles_by_name = {name: Profile(values) for name, values in raw["profiles"].items()}
    if size == "small":
        config = base
        profiles = {team.name: profiles_by_name[raw["teams"][team.name]] for team in config.teams}
        volumes: dict[str, int] = {}
    else:
        order = list(dict.fromkeys(raw["teams"].values()))
        config = _large_config(base, raw["large"], order)
        profiles = {
            team.name: profiles_by_name[order[index % len(order)]]
            for index, team in enumerate(config.teams)
        }
        volumes = {key: int(value) for key, value in raw["large"].items()}
    return DemoPlan(
        size=size,
        config=config,
        profiles=profiles,
        repo_templates=raw["repo_templates"],
        seed=int(raw["seed"]),
        days=int(raw["days"]),
        volumes=volumes,
    )


def demo_info(engine: Engine) -> DemoInfo | None:
    """Which demo the store holds, if any."""
    with engine.connect() as connection:
        anchor = get_meta(connection, DEMO_ANCHOR_KEY)
        size = get_meta(connection, DEMO_SIZE_KEY)
    if anchor is None or size is None:
        return None
    return DemoInfo(anchor=date.fromisoformat(anchor), size=size)


def demo_config(engine: Engine) -> Config | None:
    """The configuration of the demo the store holds (the large one is generated)."""
    info = demo_info(engine)
    return None if info is None else demo_plan(info.size).config


# --- random draws -----------------------------------------------------------------


def _rng(seed: int, *names: object) -> random.Random:
    """A generator private to one entity, stable across runs and Python versions."""
    return random.Random(zlib.crc32("/".join(map(str, (seed, *names))).encode()))


def _lognormal_hours(rng: random.Random, median_hours: float, sigma: float = 0.8) -> timedelta:
    return timedelta(hours=median_hours * math.exp(rng.gauss(0.0, sigma)))


def _poisson_times(
    rng: random.Random, start: datetime, days: int, per_week: Callable[[float], float]
) -> Iterator[datetime]:
    """Event times of a Poisson process whose weekly rate follows the year's progress."""
    for day in range(days):
        rate_per_day = per_week(day / max(days - 1, 1)) / 7.0
        count = _poisson(rng, rate_per_day)
        day_start = start + timedelta(days=day)
        for offset in sorted(rng.random() for _ in range(count)):
            yield day_start + timedelta(seconds=int(offset * 86_400))


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


# --- generation -------------------------------------------------------------------


@dataclass
class _Writer:
    """Collects rows per table and writes them with the store's upsert API."""

    connection: Connection
    rows_written: int = 0

    def upsert(
        self, model: type[Keyed], rows: Sequence[dict[str, Any]] | Iterator[dict[str, Any]]
    ) -> None:
        self.rows_written += upsert_rows(self.connection, model, rows)


@dataclass
class _Context:
    plan: DemoPlan
    anchor: datetime
    start: datetime
    writer: _Writer

    def progress_of(self, moment: datetime) -> float:
        return (moment - self.start) / (self.anchor - self.start)


def _write_organisation(ctx: _Context) -> None:
    ctx.writer.rows_written += register_organisation(ctx.writer.connection, ctx.plan.config)


def _owner_profiles(plan: DemoPlan) -> dict[str, Profile]:
    """Each repository behaves like the first team that lists it."""
    owners: dict[str, Profile] = {}
    for team in plan.config.teams:
        for repo in team.repos:
            owners.setdefault(repo, plan.profiles[team.name])
    return owners


def _write_github(ctx: _Context) -> None:
    plan, connection = ctx.plan, ctx.writer.connection
    owners = _owner_profiles(plan)
    repo_ids = key_to_id(connection, Repo, list(owners))
    for repo_index, (repo, profile) in enumerate(sorted(owners.items())):
        repo_id = repo_ids[repo]
        merges = _write_pull_requests(ctx, repo, repo_id, profile)
        deploy_times = _write_deployments(ctx, repo, repo_id, profile, merges)
        _write_workflow_runs(ctx, repo, repo_id, profile, repo_index)
        _write_incidents(ctx, repo, repo_id, profile, deploy_times)
        _write_releases(ctx, repo, repo_id, deploy_times)


def _write_pull_requests(
    ctx: _Context, repo: str, repo_id: int, profile: Profile
) -> list[datetime]:
    rng = _rng(ctx.plan.seed, repo, "pulls")
    per_repo = ctx.plan.volumes.get("prs_per_repo")
    if per_repo:
        weekly = per_repo / (ctx.plan.days / 7)
        times: list[datetime] = list(
            _poisson_times(rng, ctx.start, ctx.plan.days, lambda _p: weekly)
        )
    else:
        times = list(
            _poisson_times(rng, ctx.start, ctx.plan.days, lambda p: profile.ramp("prs_per_week", p))
        )
    rows, merges = [], []
    for number, created in enumerate(times, start=1):
        progress = ctx.progress_of(created)
        cycle = _lognormal_hours(rng, profile.ramp("pr_cycle_median_hours", progress))
        outcome = rng.random()
        finished = created + cycle
        merged_at = closed_at = None
        state = "open"
        if finished <= ctx.anchor and outcome < 0.88:
            merged_at = closed_at = finished
            state = "closed"
            merges.append(finished)
        elif finished <= ctx.anchor and outcome < 0.97:
            closed_at = finished
            state = "closed"
        rows.append(
            {
                "repo_id": repo_id,
                "number": number,
                "title": f"{rng.choice(_PR_VERBS)} {rng.choice(_PR_OBJECTS)}",
                "author": rng.choice(_AUTHORS),
                "state": state,
                "base_ref": "main",
                "created_at": created,
                "updated_at": closed_at or created,
                "merged_at": merged_at,
                "closed_at": closed_at,
            }
        )
    ctx.writer.upsert(PullRequest, rows)
    return sorted(merges)


def _write_deployments(
    ctx: _Context, repo: str, repo_id: int, profile: Profile, merges: list[datetime]
) -> list[tuple[datetime, bool]]:
    """Production deployments as GitHub Deployments or as deploy-workflow runs."""
    rng = _rng(ctx.plan.seed, repo, "deploys")
    times = list(
        _poisson_times(rng, ctx.start, ctx.plan.days, lambda p: profile.ramp("deploys_per_week", p))
    )
    outcomes: list[tuple[datetime, bool]] = []
    deployment_rows, status_rows, run_rows = [], [], []
    for index, started in enumerate(times, start=1):
        failed = rng.random() < profile.ramp("deploy_failure", ctx.progress_of(started))
        finished = started + timedelta(minutes=rng.randint(3, 25))
        if finished > ctx.anchor:
            continue
        outcomes.append((finished, not failed))
        if profile["deploy_via"] == "deployments":
            deployment_rows.append(
                {
                    "repo_id": repo_id,
                    "deployment_id": index,
                    "environment": "production" if rng.random() < 0.9 else "staging",
                    "ref": "main",
                    "sha": f"{zlib.crc32(f'{repo}{index}'.encode()):08x}",
                    "created_at": started,
                }
            )
            status_rows.append((index, 1, "in_progress", started + timedelta(seconds=30)))
            status_rows.append((index, 2, "failure" if failed else "success", finished))
        else:
            run_rows.append(
                {
                    "repo_id": repo_id,
                    "run_id": 9_000_000 + index,
                    "workflow_name": "Deploy to production",
                    "event": "push",
                    "head_branch": "main",
                    "status": "completed",
                    "conclusion": "failure" if failed else "success",
                    "created_at": started,
                    "updated_at": finished,
                }
            )
    if deployment_rows:
        ctx.writer.upsert(Deployment, deployment_rows)
        ids = key_to_id(
            ctx.writer.connection,
            Deployment,
            [(repo_id, row["deployment_id"]) for row in deployment_rows],
        )
        ctx.writer.upsert(
            DeploymentStatus,
            [
                {
                    "deployment_id": ids[(repo_id, dep)],
                    "status_id": dep * 10 + seq,
                    "state": state,
                    "created_at": at,
                }
                for dep, seq, state, at in status_rows
            ],
        )
    ctx.writer.upsert(WorkflowRun, run_rows)
    return outcomes


def _write_workflow_runs(
    ctx: _Context, repo: str, repo_id: int, profile: Profile, repo_index: int
) -> None:
    rng = _rng(ctx.plan.seed, repo, "runs")
    per_repo = ctx.plan.volumes.get("runs_per_repo")
    if per_repo:
        weekly = per_repo / (ctx.plan.days / 7)
        rate: Callable[[float], float] = lambda _p: weekly  # noqa: E731
    else:
        rate = lambda p: profile.ramp("runs_per_week", p)  # noqa: E731

    def rows() -> Iterator[dict[str, Any]]:
        for run_number, created in enumerate(
            _poisson_times(rng, ctx.start, ctx.plan.days, rate), 1
        ):
            roll = rng.random()
            success = profile.ramp("ci_success", ctx.progress_of(created))
            if roll < 0.03:
                conclusion = "cancelled"
            elif roll < 0.05:
                conclusion = "skipped"
            else:
                conclusion = "success" if rng.random() < success else "failure"
            duration = timedelta(minutes=rng.randint(2, 30))
            running = created + duration > ctx.anchor
            yield {
                "repo_id": repo_id,
                "run_id": run_number,
                "workflow_name": "CI" if roll < 0.85 else "Nightly data checks",
                "event": "pull_request" if roll < 0.6 else ("push" if roll < 0.85 else "schedule"),
                "head_branch": "main" if roll >= 0.6 else f"feature/{run_number % 97}",
                "status": "in_progress" if running else "completed",
                "conclusion": None if running else conclusion,
                "created_at": created,
                "updated_at": min(created + duration, ctx.anchor),
            }

    ctx.writer.upsert(WorkflowRun, rows())


def _write_incidents(
    ctx: _Context, repo: str, repo_id: int, profile: Profile, deploys: list[tuple[datetime, bool]]
) -> None:
    rng = _rng(ctx.plan.seed, repo, "incidents")
    rows: list[dict[str, Any]] = []
    for deployed_at, succeeded in deploys:
        chance = profile.ramp("incident_per_deploy", ctx.progress_of(deployed_at))
        if not succeeded or rng.random() >= chance:
            continue
        opened = deployed_at + timedelta(minutes=rng.randint(10, 600))
        if opened > ctx.anchor:
            continue
        closed = opened + _lognormal_hours(rng, profile.ramp("restore_median_hours", 0.5))
        rows.append(
            {
                "repo_id": repo_id,
                "number": 100_000 + len(rows) + 1,
                "title": rng.choice(_INCIDENTS),
                "created_at": opened,
                "closed_at": closed if closed <= ctx.anchor else None,
                "labels": ["incident"],
            }
        )
    ctx.writer.upsert(Incident, rows)


def _write_releases(
    ctx: _Context, repo: str, repo_id: int, deploys: list[tuple[datetime, bool]]
) -> None:
    good = [when for when, succeeded in deploys if succeeded]
    rows = [
        {
            "repo_id": repo_id,
            "release_id": index,
            "tag_name": f"v1.{index}.0",
            "created_at": when,
            "published_at": when,
        }
        for index, when in enumerate(good[::4], start=1)
    ]
    ctx.writer.upsert(Release, rows)


@dataclass(frozen=True)
class DemoScan:
    """One scan of a demo repository: when, at which commit, and its files' text."""

    repo: str
    commit_sha: str
    scanned_at: datetime
    files: dict[str, str]


def demo_scans(size: str, anchor: date) -> list[DemoScan]:
    """Every demo repository scanned a year ago and today, with the templates' texts.

    The demo writes the scans' paths; the connectors run the real repository checks
    on these files (data/ does not import metrics/), so scan results are what the
    detectors say, not invented.
    """
    plan = demo_plan(size)
    with (PROFILES_PATH.parent / "repo_files.toml").open("rb") as handle:
        texts: dict[str, dict[str, str]] = tomllib.load(handle)
    end = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC)
    first, last = end - timedelta(days=plan.days + 1), end - timedelta(hours=2)
    scans = []
    for repo, profile in sorted(_owner_profiles(plan).items()):
        templates: list[str] = profile["repo_template"]
        step = (last - first) / max(len(templates) - 1, 1)
        moments = [first + step * index for index in range(len(templates))]
        for index, (template, moment) in enumerate(zip(templates, moments, strict=True)):
            files = {
                path: texts.get(template, {}).get(path, "").lstrip("\n")
                for path in plan.repo_templates[template]
            }
            sha = f"{zlib.crc32(f'{repo}/{index}'.encode()):08x}{'0' * 32}"
            scans.append(DemoScan(repo, sha, moment, files))
    return scans


def _write_scans(ctx: _Context) -> None:
    connection = ctx.writer.connection
    scans = demo_scans(ctx.plan.size, ctx.anchor.date())
    repo_ids = key_to_id(connection, Repo, {scan.repo for scan in scans})
    ctx.writer.upsert(
        RepoScan,
        [
            {
                "repo_id": repo_ids[scan.repo],
                "commit_sha": scan.commit_sha,
                "scanned_at": scan.scanned_at,
                "paths": sorted(scan.files),
            }
            for scan in scans
        ],
    )


def _model_names(ctx: _Context, team: TeamConfig, profile: Profile) -> list[str]:
    prefix = team.models[0].rstrip("*").rstrip("-") if team.models else team.name.lower()
    count = ctx.plan.volumes.get("models_per_team") or (3 if profile["stale_models"] < 2 else 2)
    roles = ["core", "fallback", "experimental", "segment-a", "segment-b", "segment-c"]
    return [f"{prefix}-{roles[i % len(roles)]}{'' if i < len(roles) else i}" for i in range(count)]


def _write_registry(ctx: _Context) -> None:
    connection = ctx.writer.connection
    team_ids = key_to_id(connection, Team)
    aliases = ctx.plan.config.mlflow.production_aliases if ctx.plan.config.mlflow else ["champion"]
    for team in ctx.plan.config.teams:
        profile = ctx.plan.profiles[team.name]
        names = _model_names(ctx, team, profile)
        ctx.writer.upsert(
            RegisteredModel,
            [
                {"name": name, "description": f"{team.name} model", "created_at": ctx.start}
                for name in names
            ],
        )
        model_ids = key_to_id(connection, RegisteredModel, names)
        ctx.writer.upsert(
            TeamModel, [{"team_id": team_ids[team.name], "model_id": model_ids[n]} for n in names]
        )
        for position, name in enumerate(names):
            stale = position >= len(names) - int(profile["stale_models"])
            _write_versions(ctx, name, model_ids[name], profile, stale, aliases[0])


def _write_versions(
    ctx: _Context, name: str, model_id: int, profile: Profile, stale: bool, alias: str
) -> None:
    """Versions every `retrain_every_days` (jittered); a stale model stopped long ago."""
    rng = _rng(ctx.plan.seed, name, "versions")
    fixed_count = ctx.plan.volumes.get("versions_per_model")
    end = ctx.anchor - timedelta(days=rng.randint(130, 200)) if stale else ctx.anchor
    created_times: list[datetime] = []
    if fixed_count:
        slot = (end - ctx.start) / fixed_count
        created_times = [ctx.start + slot * (i + rng.uniform(0.1, 0.9)) for i in range(fixed_count)]
    else:
        moment = ctx.start + timedelta(days=rng.uniform(0, 10))
        while moment < end:
            created_times.append(moment)
            gap_days = profile.ramp("retrain_every_days", ctx.progress_of(moment))
            moment += timedelta(days=gap_days * rng.uniform(0.7, 1.3))
    versions: list[dict[str, Any]] = []
    observations: list[dict[str, Any]] = []
    serving: tuple[str, datetime] | None = None
    for number, created in enumerate(created_times, start=1):
        run_start = created - timedelta(hours=rng.uniform(0.5, 6))
        delay = _lognormal_hours(
            rng, profile.ramp("version_to_deploy_median_hours", ctx.progress_of(created))
        )
        deployed = created + delay
        promoted = deployed <= ctx.anchor and rng.random() < 0.8
        tags = {"git_sha": f"{zlib.crc32(f'{name}{number}'.encode()):08x}"}
        if promoted and profile["tag_deployed_at"]:
            tags["deployed_at"] = deployed.isoformat()
        if promoted:
            serving = (str(number), deployed)
            observations.append(
                {
                    "model_id": model_id,
                    "alias": alias,
                    "version": str(number),
                    "first_seen_at": deployed + timedelta(minutes=rng.randint(5, 60)),
                }
            )
        versions.append(
            {
                "model_id": model_id,
                "version": str(number),
                "version_number": number,
                "status": "READY",
                "created_at": created,
                "run_id": f"{zlib.crc32(f'{name}/run/{number}'.encode()):08x}" * 4,
                "run_start": run_start,
                "run_end": created - timedelta(minutes=rng.randint(1, 20)),
                "deployed_at": deployed if promoted and profile["tag_deployed_at"] else None,
                "aliases": [],
                "tags": tags,
            }
        )
    if serving is not None:
        for version in versions:
            if version["version"] == serving[0]:
                version["aliases"] = [alias]
    for index, observation in enumerate(observations):
        following = (
            observations[index + 1]["first_seen_at"]
            if index + 1 < len(observations)
            else ctx.anchor
        )
        observation["last_seen_at"] = max(following, observation["first_seen_at"])
    ctx.writer.upsert(ModelVersion, versions)
    ctx.writer.upsert(AliasObservation, observations)


def _write_endpoints(ctx: _Context) -> None:
    connection = ctx.writer.connection
    team_ids = key_to_id(connection, Team)
    endpoint_ids = key_to_id(connection, Endpoint)
    for team in ctx.plan.config.teams:
        profile = ctx.plan.profiles[team.name]
        for share_index, endpoint in enumerate(team.endpoints):
            endpoint_id = endpoint_ids[(team_ids[team.name], endpoint.name)]
            share = 1.0 / (share_index + 1)
            _write_endpoint_days(ctx, endpoint.name, endpoint_id, profile, share)


def _write_endpoint_days(
    ctx: _Context, name: str, endpoint_id: int, profile: Profile, share: float
) -> None:
    """Daily counter and bucket increases of a log-normal latency distribution."""
    rng = _rng(ctx.plan.seed, name, "endpoint")
    daily_rows, bucket_rows = [], []
    for day_index in range(ctx.plan.days):
        day = (ctx.start + timedelta(days=day_index)).date()
        progress = day_index / max(ctx.plan.days - 1, 1)
        requests = round(profile.ramp("requests_per_day", progress) * share * rng.uniform(0.8, 1.2))
        bad_day = rng.random() < 0.03
        failure_pct = profile.ramp("failure_pct", progress) * (
            4 if bad_day else rng.uniform(0.6, 1.4)
        )
        availability = profile.ramp("availability", progress)
        if bad_day:
            availability -= rng.uniform(0.005, 0.03)
        daily_rows.append(
            {
                "endpoint_id": endpoint_id,
                "day": day,
                "requests": float(requests),
                "failures": float(round(requests * failure_pct / 100)),
                "availability_ratio": round(min(max(availability, 0.0), 1.0), 5),
            }
        )
        p50 = profile.ramp("latency_p50_ms", progress) / 1000 * (1.5 if bad_day else 1.0)
        p95 = profile.ramp("latency_p95_ms", progress) / 1000 * (1.8 if bad_day else 1.0)
        mu, sigma = math.log(p50), math.log(p95 / p50) / 1.6449
        for le in LATENCY_BUCKETS_SECONDS:
            share_below = (
                1.0
                if math.isinf(le)
                else 0.5 * (1 + math.erf((math.log(le) - mu) / (sigma * math.sqrt(2))))
            )
            bucket_rows.append(
                {
                    "endpoint_id": endpoint_id,
                    "day": day,
                    "le": le,
                    "count": float(round(requests * share_below)),
                }
            )
    ctx.writer.upsert(EndpointDaily, daily_rows)
    ctx.writer.upsert(EndpointLatencyBucket, bucket_rows)


def _write_meetings(ctx: _Context) -> None:
    connection = ctx.writer.connection
    team_ids = key_to_id(connection, Team)
    for team in ctx.plan.config.teams:
        profile = ctx.plan.profiles[team.name]
        rng = _rng(ctx.plan.seed, team.name, "meetings")
        title = _MEETING_TITLES.get(team.name, f"{team.name} stakeholder update")
        meetings, attendance = [], []
        moment = ctx.start + timedelta(days=rng.uniform(0, 20), hours=14)
        number = 0
        while moment <= ctx.anchor:
            number += 1
            uid = f"demo-{zlib.crc32(team.name.encode()):08x}-{number}@acme.example"
            meetings.append(
                {
                    "team_id": team_ids[team.name],
                    "uid": uid,
                    "title": f"{title} #{number}",
                    "start": moment,
                    "end": moment + timedelta(hours=1),
                    "source": "demo",
                }
            )
            share = profile.ramp("attendance", ctx.progress_of(moment))
            attendance.append((uid, {email: rng.random() < share for email in team.stakeholders}))
            gap = profile.ramp("meeting_every_days", ctx.progress_of(moment))
            moment += timedelta(days=gap * rng.uniform(0.75, 1.3))
        ctx.writer.upsert(Meeting, meetings)
        meeting_ids = key_to_id(
            connection, Meeting, [(team_ids[team.name], uid) for uid, _ in attendance]
        )
        ctx.writer.upsert(
            MeetingAttendee,
            [
                {
                    "meeting_id": meeting_ids[(team_ids[team.name], uid)],
                    "email": email,
                    "attended": came,
                }
                for uid, people in attendance
                for email, came in people.items()
            ],
        )


def _write_assessments(ctx: _Context) -> None:
    team_ids = key_to_id(ctx.writer.connection, Team)
    attestations, waivers = [], []
    for team in ctx.plan.config.teams:
        profile = ctx.plan.profiles[team.name]
        for item in profile["attestations"]:
            answered = ctx.anchor - timedelta(days=item["days_ago"], hours=-10)
            attestations.append(
                {
                    "team_id": team_ids[team.name],
                    "check_id": item["check"],
                    "answer": item["answer"],
                    "answered_by": item["by"],
                    "answered_at": answered,
                    "evidence_url": "https://wiki.acme.example/runbooks/" + item["check"],
                    "expires_at": answered + timedelta(days=180),
                }
            )
        for item in profile["waivers"]:
            created = ctx.anchor - timedelta(days=item["days_ago"], hours=-10)
            waivers.append(
                {
                    "team_id": team_ids[team.name],
                    "check_id": item["check"],
                    "reason": item["reason"],
                    "created_by": item["by"],
                    "created_at": created,
                    "expires_at": created + timedelta(days=item["expires_in_days"]),
                }
            )
    ctx.writer.upsert(Attestation, attestations)
    ctx.writer.upsert(Waiver, waivers)


def _write_alert_rules(ctx: _Context) -> None:
    """Each team's alert kinds per endpoint, plus the platform's resource alerts."""
    templates: dict[str, list[dict[str, str]]] = _read_profiles()["alert_templates"]
    rows = [
        {
            "group_name": "platform",
            "name": rule["name"],
            "expr": rule["expr"],
            "seen_at": ctx.start - timedelta(days=1),
        }
        for rule in templates["resources"]
    ]
    for team in ctx.plan.config.teams:
        profile = ctx.plan.profiles[team.name]
        seen = ctx.anchor - timedelta(days=int(profile["alerts_since_days"]), hours=1)
        for kind in profile["alerts"]:
            for endpoint in team.endpoints:
                job = endpoint.name
                rows += [
                    {
                        "group_name": f"{job}.rules",
                        "name": rule["name"],
                        "expr": rule["expr"].replace("{job}", job),
                        "duration_seconds": 300.0,
                        "labels": {"severity": "page" if kind == "service" else "ticket"},
                        "seen_at": seen,
                    }
                    for rule in templates[kind]
                ]
    ctx.writer.upsert(AlertRule, rows)


_STEPS: tuple[tuple[str, Callable[[_Context], None]], ...] = (
    ("teams, repositories and endpoints", _write_organisation),
    ("pull requests, CI runs, deployments and incidents", _write_github),
    ("model registry", _write_registry),
    ("endpoint daily aggregates", _write_endpoints),
    ("stakeholder meetings", _write_meetings),
    ("attestations and waivers", _write_assessments),
    ("repository scans", _write_scans),
    ("alerting rules", _write_alert_rules),
)


def _clear(connection: Connection) -> None:
    tables: tuple[type[SQLModel], ...] = (*ENTITY_TABLES, AppMeta)
    for model in reversed(tables):
        connection.execute(delete(_table(model)))


def _table(model: type[SQLModel]) -> Any:
    return model.__table__  # type: ignore[attr-defined]


def write_demo(
    engine: Engine,
    size: str = "small",
    reset: bool = False,
    anchor: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Write the demo in one transaction; without reset, reuse the stored anchor day."""
    plan = demo_plan(size)
    stored = demo_info(engine)
    if stored is not None and stored.size != size and not reset:
        raise DemoError(
            f"the store holds the {stored.size} demo; "
            f"pass --reset to replace it with the {size} one"
        )
    if anchor is None:
        anchor = stored.anchor if stored is not None and not reset else datetime.now(UTC).date()
    anchor_moment = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC)
    with write_transaction(engine) as connection:
        if reset:
            _clear(connection)
        writer = _Writer(connection)
        ctx = _Context(
            plan=plan,
            anchor=anchor_moment,
            start=anchor_moment - timedelta(days=plan.days),
            writer=writer,
        )
        for label, step in _STEPS:
            if progress is not None:
                progress(f"demo: {label}…")
            step(ctx)
        set_meta(connection, DEMO_ANCHOR_KEY, anchor.isoformat())
        set_meta(connection, DEMO_SIZE_KEY, size)
    return DemoSummary(anchor=anchor, size=size, rows_written=writer.rows_written)


def ensure_demo(engine: Engine) -> bool:
    """On first start: fill an empty store with the small demo. True when it wrote."""
    with engine.connect() as connection:
        has_team = connection.execute(_table(Team).select().limit(1)).first() is not None
    if has_team:
        return False
    write_demo(engine)
    return True


_AUTHORS = ("amara", "bo", "chen", "dana", "eli", "farah", "gus", "hana", "ivo", "jun")
_PR_VERBS = ("Add", "Fix", "Refactor", "Speed up", "Document", "Test", "Tune", "Remove")
_PR_OBJECTS = (
    "feature pipeline",
    "serving handler",
    "training config",
    "data validation",
    "drift monitor",
    "batch scorer",
    "model card",
    "CI workflow",
    "Helm chart",
    "retraining trigger",
)
_INCIDENTS = (
    "Latency spike after deploy",
    "Scoring endpoint returns 5xx",
    "Stale features served",
    "Model output drifted",
    "Batch job missed its window",
)
_MEETING_TITLES = {
    "Search Ranking": "Ranking review",
    "Fraud Detection": "Fraud model update",
    "Recommendations": "Recs sync",
    "Demand Forecasting": "Forecast stakeholder review",
}
