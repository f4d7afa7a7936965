"""Daily metric and maturity snapshots: what keeps trends alive after sources forget.

A snapshot of day D stores every metric and pillar score of every team for the
90 days ending on D, computed as of D's end. Sources keep little history (Prometheus: 15
days by default), so trends over months are drawn from these rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from sqlalchemy.engine import Engine

from config import Config
from data.demo import DemoSummary, demo_info, demo_plan, demo_scans, ensure_demo, write_demo
from data.loaders import Period
from data.store import key_to_id, upsert_rows, write_transaction
from data.tables import MetricSnapshot, Repo, RepoScan, ScanCheckResult, ScoreSnapshot, Team
from metrics.engine import (
    SNAPSHOT_WINDOW_DAYS,
    MetricResult,
    compute_from_inputs,
    load_inputs,
)
from metrics.maturity import TeamScore, score_from_inputs
from metrics.repo_detectors import RepoSnapshot
from metrics.rubric import load_rubric
from metrics.scan import scan_repository

DEMO_HISTORY_STEP_DAYS = 14
"""The demo's year of history is a snapshot every two weeks: enough for monthly trends,
and quick enough (about 27 snapshots) for a first start."""


def snapshot_period(day: date) -> Period:
    return Period.last_days(SNAPSHOT_WINDOW_DAYS, today=day)


def _records(
    results: Iterable[MetricResult], team_ids: dict[str, int], day: date
) -> list[dict[str, object]]:
    return [
        {
            "team_id": team_ids[result.team],
            "day": day,
            "metric_id": result.metric_id,
            "value": result.value,
            "unit": result.spec.unit,
            "target": result.target,
            "status": result.status,
        }
        for result in results
        if result.team in team_ids
    ]


def _score_records(
    scores: Iterable[TeamScore], team_ids: dict[str, int], day: date
) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for score in scores:
        if score.team not in team_ids:
            continue
        pillars = [(name, p.score, p.level, p.coverage) for name, p in score.pillars.items()]
        pillars.append(
            ("overall", score.overall_score, score.overall_level, score.overall_coverage)
        )
        records += [
            {
                "team_id": team_ids[score.team],
                "day": day,
                "pillar": pillar,
                "score": value,
                "level": level,
                "coverage": coverage,
                "rubric_version": score.rubric_version,
            }
            for pillar, value, level, coverage in pillars
        ]
    return records


def snapshot_day(engine: Engine, config: Config, day: date) -> int:
    """Compute and store every team's metrics and maturity for `day`; returns rows written."""
    period = snapshot_period(day)
    inputs = load_inputs(engine, period, config)
    results = compute_from_inputs(inputs, config, period)
    scores = score_from_inputs(engine, config, period, inputs, results)
    with write_transaction(engine) as connection:
        team_ids = key_to_id(connection, Team)
        written = upsert_rows(connection, MetricSnapshot, _records(results, team_ids, day))
        written += upsert_rows(connection, ScoreSnapshot, _score_records(scores, team_ids, day))
        return written


def backfill_snapshots(
    engine: Engine,
    config: Config,
    days: Iterable[date],
    progress: Callable[[date], None] | None = None,
) -> int:
    """Snapshots of the given days, oldest first."""
    written = 0
    for day in sorted(set(days)):
        if progress is not None:
            progress(day)
        written += snapshot_day(engine, config, day)
    return written


def demo_history_days(size: str, anchor: date) -> list[date]:
    """Every `DEMO_HISTORY_STEP_DAYS` back from the anchor to the history's start, plus the
    last day of the period before the default one, whose recorded values the Overview's
    "what changed" reads on a fresh demo."""
    first = demo_history_start(size, anchor)
    days = [anchor - timedelta(days=back) for back in range(0, (anchor - first).days + 1)]
    stepped = days[::DEMO_HISTORY_STEP_DAYS]
    return sorted({*stepped, anchor - timedelta(days=SNAPSHOT_WINDOW_DAYS)})


def demo_history_start(size: str, anchor: date) -> date:
    """The first day whose 90-day window lies wholly inside the demo's year: earlier
    snapshots would average over days with no data and draw a false ramp."""
    return anchor - timedelta(days=demo_plan(size).days - SNAPSHOT_WINDOW_DAYS)


def write_demo_with_history(
    engine: Engine,
    size: str = "small",
    reset: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """The demo organisation plus a year of snapshots, so trends show at once."""
    summary = write_demo(engine, size=size, reset=reset, progress=progress)
    if progress is not None:
        progress("demo: repository checks…")
    scan_demo_repositories(engine, size, summary.anchor)
    config = demo_plan(size).config
    backfill_snapshots(
        engine,
        config,
        demo_history_days(size, summary.anchor),
        progress=None if progress is None else lambda day: progress(f"snapshots: {day}…"),
    )
    return summary


def ensure_demo_with_history(engine: Engine) -> bool:
    """On first start, fill an empty store with the demo and its history. True when it wrote."""
    if not ensure_demo(engine):
        return False
    info = demo_info(engine)
    if info is not None:
        scan_demo_repositories(engine, info.size, info.anchor)
        backfill_snapshots(
            engine, demo_plan(info.size).config, demo_history_days(info.size, info.anchor)
        )
    return True


def scan_demo_repositories(engine: Engine, size: str, anchor: date) -> int:
    """Run the real repository checks on the demo's repository files and store the results."""
    scans = demo_scans(size, anchor)
    rubric = load_rubric()
    with write_transaction(engine) as connection:
        repo_ids = key_to_id(connection, Repo, {scan.repo for scan in scans})
        scan_ids = key_to_id(
            connection, RepoScan, [(repo_ids[scan.repo], scan.commit_sha) for scan in scans]
        )
        rows = [
            {
                "scan_id": scan_ids[(repo_ids[scan.repo], scan.commit_sha)],
                "check_id": result.id,
                "status": result.status,
                "evidence": result.evidence,
            }
            for scan in scans
            for result in scan_repository(
                RepoSnapshot.from_files(scan.files, label=scan.repo), rubric
            )
        ]
        return upsert_rows(connection, ScanCheckResult, rows)
