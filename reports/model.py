"""The one report every format renders: built once from the metrics and maturity engine.

Numbers come only from the metrics engine and maturity scoring (`metrics.engine`,
`metrics.maturity`: the same functions as the dashboard and `cli.py`, so they agree);
trends come from the daily snapshot tables, which outlive the sources'
retention. Renderers only lay this model out. Every text in it is scrubbed of
the configured tokens' values and of credentials in URLs, so no renderer can
leak one even if a source wrote one into an error or evidence text.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Final, TypeVar, cast

import pandas as pd
from sqlalchemy.engine import Engine

from config import Config, resolve_secret
from data import loaders
from data.demo import demo_info
from data.loaders import Period
from metrics.catalog import Status, catalog
from metrics.dora import tier
from metrics.engine import MetricResult, compute_from_inputs, load_inputs
from metrics.maturity import TOP_LEVEL, TeamScore, score_from_inputs
from reports.formatting import team_colour
from reports.period import ReportPeriods

REPORT_TITLE: Final = "MLOps maturity report"
HEADLINE_METRICS: Final = (
    "retrains_per_model_per_30d",
    "time_to_deploy_hours",
    "endpoint_latency_p95_ms",
    "endpoint_failure_pct",
    "stale_models",
    "days_since_stakeholder_update",
    "deployment_frequency_per_week",
)
"""What DESIGN §1 says leadership looks at first: retraining, time to deploy, latency,
failed calls, stale models, stakeholder updates, and how often the team ships."""
TREND_METRICS: Final = (
    "retrains_per_model_per_30d",
    "endpoint_latency_p95_ms",
    "endpoint_failure_pct",
    "deployment_frequency_per_week",
)
"""The headline metrics drawn over time as charts (every metric gets a sparkline)."""
NEXT_STEPS_SHOWN: Final = 3
TREND_DAYS: Final = 365
SOURCES: Final = ("github", "prometheus", "mlflow", "meetings")
"""The sources of DESIGN §5 (`sync --source`), in the order the freshness table lists them."""
OVERALL: Final = "Overall"
_SCORE_COLUMNS: Final = ["day", "pillar", "score", "level"]
_METRIC_COLUMNS: Final = ["day", "metric_id", "value", "target"]
_SECRET_MIN_LENGTH: Final = 6
"""Shorter values are not scrubbed: replacing every "1" or "abc" would garble the report."""


@dataclass(frozen=True)
class MetricLine:
    metric_id: str
    name: str
    group: str
    unit: str
    better: str
    value: float | None
    target: float | None
    status: Status
    previous: float | None
    tier: str | None
    unknown_reason: str
    headline: bool

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True)
class PillarLine:
    pillar: str
    score: float | None
    level: int
    coverage: float | None
    previous_score: float | None
    previous_level: int | None

    @property
    def change(self) -> float | None:
        if self.score is None or self.previous_score is None:
            return None
        return self.score - self.previous_score


@dataclass(frozen=True)
class CheckLine:
    check_id: str
    title: str
    pillar: str
    level: int
    weight: float
    status: str
    provenance: str
    evidence: str
    contradiction: str


@dataclass(frozen=True)
class StepLine:
    check_id: str
    title: str
    pillar: str
    level: int
    status: str
    how_to_fix: str


@dataclass(frozen=True)
class StaleModel:
    model: str
    serving_version: str
    age_days: float


@dataclass(frozen=True, eq=False)
class TeamSection:
    team: str
    colour: str
    pillars: tuple[PillarLine, ...]
    """Overall first, then DataOps, DevOps, ModelOps."""
    metrics: tuple[MetricLine, ...]
    checks: tuple[CheckLine, ...]
    next_steps: tuple[StepLine, ...]
    stale_models: tuple[StaleModel, ...]
    crosswalk: str
    score_history: pd.DataFrame = field(repr=False)
    """day, pillar, score, level: the team's stored maturity snapshots."""
    metric_history: pd.DataFrame = field(repr=False)
    """day, metric_id, value, target: the team's stored metric snapshots."""

    @property
    def overall(self) -> PillarLine:
        return self.pillars[0]

    @property
    def breaches(self) -> tuple[MetricLine, ...]:
        return tuple(line for line in self.metrics if line.status == "breach")

    @property
    def headline(self) -> tuple[MetricLine, ...]:
        by_id = {line.metric_id: line for line in self.metrics}
        return tuple(by_id[metric_id] for metric_id in HEADLINE_METRICS if metric_id in by_id)

    @property
    def top_steps(self) -> tuple[StepLine, ...]:
        return self.next_steps[:NEXT_STEPS_SHOWN]


@dataclass(frozen=True)
class SourceFreshness:
    source: str
    configured: bool
    status: str
    """The newest sync run's status, or "never synced"."""
    finished_at: datetime | None
    read_up_to: datetime | None
    error: str


@dataclass(frozen=True)
class MetricDefinition:
    metric_id: str
    name: str
    unit: str
    source: str
    target_text: str
    definition: str


@dataclass(frozen=True, eq=False)
class Report:
    title: str
    generated_at: datetime
    periods: ReportPeriods
    teams: tuple[TeamSection, ...]
    rubric_version: str
    definitions: tuple[MetricDefinition, ...]
    freshness: tuple[SourceFreshness, ...]
    demo_anchor: date | None
    """Set when the store holds the generated demo organisation."""
    trend_since: date

    @property
    def level_counts(self) -> dict[int, int]:
        counts = dict.fromkeys(range(TOP_LEVEL + 1), 0)
        for section in self.teams:
            counts[section.overall.level] += 1
        return counts

    @property
    def targets_met(self) -> tuple[int, int]:
        """(metrics meeting their target, metrics with a target and a value)."""
        judged = [
            line
            for section in self.teams
            for line in section.metrics
            if line.target is not None and line.value is not None
        ]
        return sum(line.status == "ok" for line in judged), len(judged)

    @property
    def subtitle(self) -> str:
        return self.periods.description


# --- building ------------------------------------------------------------------------


def _assess(
    engine: Engine, config: Config, period: Period, teams: Sequence[str]
) -> tuple[list[MetricResult], list[TeamScore]]:
    """Metrics and scores from one load of the period's frames (as the daily snapshot does)."""
    inputs = load_inputs(engine, period, config, teams)
    results = compute_from_inputs(inputs, config, period)
    return results, score_from_inputs(engine, config, period, inputs, results)


@dataclass(frozen=True)
class _Before:
    """What the report keeps of the previous period: plain values, so that a forked process
    can send them back (metric results hold functions, which do not pickle)."""

    values: dict[tuple[str, str], float | None]
    """(team, metric id) → value."""
    scores: dict[tuple[str, str], tuple[float | None, int]]
    """(team, "Overall" or pillar) → (score, level)."""


def _before(engine: Engine, config: Config, period: Period, teams: Sequence[str]) -> _Before:
    results, scores = _assess(engine, config, period, teams)
    pillar_scores = {
        (score.team, name): (pillar.score, pillar.level)
        for score in scores
        for name, pillar in score.pillars.items()
    }
    overall = {(s.team, OVERALL): (s.overall_score, s.overall_level) for s in scores}
    return _Before({(r.team, r.metric_id): r.value for r in results}, overall | pillar_scores)


def _in_forked_process(engine: Engine, task: Callable[[], _Before]) -> Callable[[], _Before]:
    """Start `task` in a forked process at once; the returned function waits for its result.

    A period's metrics and scores are single-threaded pandas work, so computing the previous
    period in a second process while this one computes the current period nearly halves the
    wait on two cores. Fork is safe only in a process with no other thread (the CLI), never
    in the dashboard's server.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def run() -> None:
        engine.dispose(close=False)  # the parent's pooled connections stay the parent's
        try:
            sender.send(task())
        except Exception as exc:
            sender.send(exc)
        finally:
            sender.close()

    process = context.Process(target=run, daemon=True)
    process.start()
    sender.close()

    def result() -> _Before:
        try:
            answer = receiver.recv()
        except EOFError:
            raise RuntimeError("computing the previous period stopped without an answer") from None
        finally:
            receiver.close()
            process.join()
        if isinstance(answer, Exception):
            raise answer
        return cast(_Before, answer)

    return result


def _metric_lines(
    results: Iterable[MetricResult], before: _Before, team: str
) -> tuple[MetricLine, ...]:
    lines = []
    for result in results:
        if result.team != team:
            continue
        spec = result.spec
        lines.append(
            MetricLine(
                metric_id=spec.id,
                name=spec.name,
                group=spec.group,
                unit=spec.unit,
                better=spec.better,
                value=result.value,
                target=result.target,
                status=result.status,
                previous=before.values.get((team, spec.id)),
                tier=tier(spec.id, result.value),
                unknown_reason=spec.unknown_when if result.value is None else "",
                headline=spec.id in HEADLINE_METRICS,
            )
        )
    return tuple(lines)


def _pillar_lines(score: TeamScore, before: _Before) -> tuple[PillarLine, ...]:
    now = {OVERALL: (score.overall_score, score.overall_level, score.overall_coverage)} | {
        name: (pillar.score, pillar.level, pillar.coverage)
        for name, pillar in score.pillars.items()
    }
    lines = []
    for name, (value, level, coverage) in now.items():
        previous_score, previous_level = before.scores.get((score.team, name), (None, None))
        lines.append(PillarLine(name, value, level, coverage, previous_score, previous_level))
    return tuple(lines)


def _stale_models(results: Iterable[MetricResult]) -> dict[str, tuple[StaleModel, ...]]:
    """Each team's stale models, oldest first, from the `stale_models` metric's evidence."""
    rows = next((r.all_rows for r in results if r.metric_id == "stale_models"), None)
    if rows is None or rows.empty or "stale" not in rows:
        return {}
    stale = rows[rows["stale"].astype(bool)].sort_values("age_days", ascending=False)
    found: dict[str, list[StaleModel]] = {}
    for team, model, version, age in zip(
        stale["team"], stale["model"], stale["serving_version"], stale["age_days"], strict=True
    ):
        found.setdefault(str(team), []).append(StaleModel(str(model), str(version), float(age)))
    return {team: tuple(models) for team, models in found.items()}


def _crosswalk(score: TeamScore) -> str:
    walk = score.crosswalk
    if not walk:
        return ""
    google, microsoft, test_score = walk["google"], walk["microsoft"], walk["ml_test_score"]
    return (
        f"Google MLOps level {google['level']} ({google['name']}) · "
        f"Microsoft MLOps maturity {microsoft['level']} ({microsoft['name']}) · "
        f"ML Test Score ≈ {test_score['final']:g}"
    )


def _histories(
    engine: Engine, period: Period, teams: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame, date]:
    """The snapshots of the year up to the period end, for the teams shown."""
    since = period.until - timedelta(days=TREND_DAYS)
    frames: list[pd.DataFrame] = []
    for frame in (loaders.score_snapshots(engine), loaders.metric_snapshots(engine)):
        frame = frame.assign(day=pd.to_datetime(frame["day"]))
        wanted = (
            frame["team"].isin(list(teams))
            & (frame["day"] >= pd.Timestamp(since))
            & (frame["day"] <= pd.Timestamp(period.until))
        )
        frames.append(frame[wanted].sort_values("day", ignore_index=True))
    first_days = [frame["day"].min() for frame in frames if not frame.empty]
    if first_days:
        since = max(since, min(first_days).date())
    return frames[0], frames[1], since


def _freshness(engine: Engine, config: Config) -> tuple[SourceFreshness, ...]:
    runs = loaders.latest_sync_runs(engine)
    newest = {str(row["source"]): row for row in runs.to_dict("records")}
    configured = {
        "github": config.github is not None,
        "prometheus": config.prometheus is not None,
        "mlflow": config.mlflow is not None,
        "meetings": any(
            team.meetings is not None and bool(team.meetings.ics or team.meetings.csv)
            for team in config.teams
        ),
    }
    lines = []
    for source in [*SOURCES, *sorted(set(newest) - set(SOURCES))]:
        run = newest.get(source)
        if run is None:
            lines.append(
                SourceFreshness(
                    source, configured.get(source, False), "never synced", None, None, ""
                )
            )
            continue
        error = [] if pd.isna(run["error"]) else str(run["error"]).strip().splitlines()
        lines.append(
            SourceFreshness(
                source=source,
                configured=configured.get(source, False),
                status=str(run["status"]),
                finished_at=_moment(run["ended_at"]),
                read_up_to=_moment(run["watermark"]),
                error=error[0] if error else "",
            )
        )
    return tuple(lines)


def _moment(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    moment: datetime = pd.Timestamp(value).to_pydatetime()
    return moment


def _definitions() -> tuple[MetricDefinition, ...]:
    return tuple(
        MetricDefinition(
            spec.id,
            spec.name,
            spec.unit,
            spec.source,
            spec.target_text,
            " ".join(spec.definition.split()),
        )
        for spec in catalog().values()
    )


def build_report(
    engine: Engine,
    config: Config,
    periods: ReportPeriods,
    teams: Sequence[str] | None = None,
    *,
    generated_at: datetime | None = None,
    fork: bool = False,
) -> Report:
    """Every team's section (default: the store's teams) for the period and the one before.

    `fork`: compute the previous period in a forked process meanwhile; only for a caller
    with no other thread, on Linux (the CLI).
    """
    store_teams = loaders.team_names(engine)
    shown = list(store_teams if teams is None else teams)
    previous = partial(_before, engine, config, periods.previous, shown)
    before = _in_forked_process(engine, previous) if fork else None
    results, scores = _assess(engine, config, periods.current, shown)
    earlier = before() if before is not None else previous()
    score_history, metric_history, trend_since = _histories(engine, periods.current, shown)
    scores_by_team = _by_team(score_history, _SCORE_COLUMNS)
    metrics_by_team = _by_team(metric_history, _METRIC_COLUMNS)
    stale_models = _stale_models(results)
    sections = []
    for score in scores:
        team = score.team
        sections.append(
            TeamSection(
                team=team,
                colour=team_colour(team, store_teams),
                pillars=_pillar_lines(score, earlier),
                metrics=_metric_lines(results, earlier, team),
                checks=tuple(
                    CheckLine(
                        s.check.id,
                        s.check.title,
                        s.check.pillar,
                        s.check.level,
                        s.check.weight,
                        s.status,
                        s.provenance,
                        s.evidence,
                        s.contradiction,
                    )
                    for s in score.checks
                ),
                next_steps=tuple(
                    StepLine(
                        step.check.id,
                        step.check.title,
                        step.check.pillar,
                        step.check.level,
                        step.status,
                        step.check.how_to_fix,
                    )
                    for step in score.next_steps
                ),
                stale_models=stale_models.get(team, ()),
                crosswalk=_crosswalk(score),
                score_history=scores_by_team.get(team, score_history.iloc[0:0][_SCORE_COLUMNS]),
                metric_history=metrics_by_team.get(team, metric_history.iloc[0:0][_METRIC_COLUMNS]),
            )
        )
    demo = demo_info(engine)
    report = Report(
        title=REPORT_TITLE,
        generated_at=generated_at or datetime.now(UTC),
        periods=periods,
        teams=tuple(sections),
        rubric_version=scores[0].rubric_version if scores else "",
        definitions=_definitions(),
        freshness=_freshness(engine, config),
        demo_anchor=None if demo is None else demo.anchor,
        trend_since=trend_since,
    )
    return scrubbed(report, secret_values(config))


def _by_team(frame: pd.DataFrame, columns: list[str]) -> dict[str, pd.DataFrame]:
    return {
        str(team): rows[columns].reset_index(drop=True)
        for team, rows in frame.groupby("team", sort=False)
    }


# --- keeping secrets out -------------------------------------------------------------


def secret_values(config: Config) -> tuple[str, ...]:
    """The values of the tokens the config names, and of any `*TOKEN*` environment variable:
    read only to be blotted out of the report."""
    names = {
        section.token_env
        for section in (config.github, config.prometheus, config.mlflow)
        if section is not None and section.token_env
    }
    names |= {name for name in os.environ if "TOKEN" in name.upper()}
    values = {resolve_secret(name) for name in names}
    return tuple(sorted((v for v in values if v and len(v) >= _SECRET_MIN_LENGTH), key=len))[::-1]


_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s@]+@")
_Scrubbed = TypeVar("_Scrubbed")


def scrub_text(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return _URL_CREDENTIALS.sub("***@", text) if "@" in text else text


def scrubbed(value: _Scrubbed, secrets: Sequence[str]) -> _Scrubbed:
    """`value` with every string inside it (dataclasses, tuples) scrubbed; frames are left
    alone, as they hold only days, ids and numbers."""

    def clean(inner: Any) -> Any:
        return scrubbed(inner, secrets)

    result: Any
    if isinstance(value, str):
        result = scrub_text(value, secrets)
    elif isinstance(value, tuple):
        result = tuple(clean(item) for item in value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
        result = dataclasses.replace(value, **changes)
    else:
        result = value
    return result  # type: ignore[no-any-return]
