"""Maturity scoring (DESIGN §7): check statuses, pillar scores and levels, next steps.

Every check gets a status from its evidence: a repository scan, the registry,
Prometheus alerting rules, meetings, a metric, or a questionnaire answer. An
attestation fills in where evidence cannot decide, is shown as a contradiction
where evidence says otherwise, and counts as unknown once expired; an active
waiver takes the check out of the score. A pillar's level is the highest level
whose checks all pass or are waived (the weakest link decides, as in Google's
ML Test Score), and the team's level is its lowest pillar's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pandas as pd
from sqlalchemy.engine import Engine

from config import Config
from data import loaders
from data.loaders import Period
from metrics.context import Inputs
from metrics.engine import MetricResult, compute_from_inputs, context_for, load_inputs
from metrics.evidence import DETECTORS, TeamEvidence
from metrics.rubric import Check, Rubric, aggregate_outcomes, load_rubric, metric_rule_outcome

CheckState = Literal["pass", "fail", "unknown", "waived"]
Provenance = Literal["automated", "attested", "stale"]
PILLARS = ("DataOps", "DevOps", "ModelOps")
TOP_LEVEL = 4


@dataclass(frozen=True)
class CheckStatus:
    check: Check
    status: CheckState
    provenance: Provenance
    evidence: str
    contradiction: str = ""
    """Set when an attestation says yes and the evidence says no."""

    def as_record(self) -> dict[str, Any]:
        """The documented check element of `score --format json` (DESIGN §5)."""
        return {
            "id": self.check.id,
            "title": self.check.title,
            "status": self.status,
            "provenance": self.provenance,
            "practices": list(self.check.practices),
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class PillarScore:
    pillar: str
    score: float | None
    """Weighted % of the pillar's checks that pass; waived checks leave the denominator."""
    level: int
    coverage: float | None
    """Weighted % of the (unwaived) checks that evidence or an answer decides."""
    checks: tuple[CheckStatus, ...]

    def as_record(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "level": self.level,
            "coverage": self.coverage,
            "checks": [status.as_record() for status in self.checks],
        }


@dataclass(frozen=True)
class NextStep:
    check: Check
    status: CheckState
    unblocks_level: int

    def as_record(self) -> dict[str, Any]:
        return {
            "id": self.check.id,
            "title": self.check.title,
            "pillar": self.check.pillar,
            "level": self.check.level,
            "weight": self.check.weight,
            "status": self.status,
            "how_to_fix": self.check.how_to_fix,
        }


@dataclass(frozen=True)
class TeamScore:
    team: str
    period: Period
    rubric_version: str
    pillars: dict[str, PillarScore]
    overall_score: float | None
    overall_level: int
    overall_coverage: float | None
    next_steps: tuple[NextStep, ...]
    crosswalk: dict[str, Any] = field(default_factory=dict)

    @property
    def checks(self) -> list[CheckStatus]:
        return [status for pillar in self.pillars.values() for status in pillar.checks]

    @property
    def contradictions(self) -> list[CheckStatus]:
        return [status for status in self.checks if status.contradiction]

    def as_record(self) -> dict[str, Any]:
        """The documented `score --format json` shape (DESIGN §5)."""
        return {
            "team": self.team,
            "overall": {
                "score": self.overall_score,
                "level": self.overall_level,
                "coverage": self.overall_coverage,
            },
            "pillars": {name: pillar.as_record() for name, pillar in self.pillars.items()},
            "next_steps": [step.as_record() for step in self.next_steps],
            "crosswalk": self.crosswalk,
            "rubric_version": self.rubric_version,
            "since": self.period.since.isoformat(),
            "until": self.period.until.isoformat(),
        }


# --- one check ------------------------------------------------------------------------


def _from_metric(check: Check, result: MetricResult | None) -> tuple[CheckState, str]:
    if result is None or result.value is None:
        reason = result.spec.unknown_when if result is not None else "the metric is not computed"
        return "unknown", f"{check.metric}: unknown ({reason})"
    rule = check.pass_when or "ok"
    target = "" if result.target is None else f", target {result.target:.4g}"
    shown = f"{check.metric} = {result.value:.4g} {result.spec.unit} (pass when {rule}{target})"
    return metric_rule_outcome(rule, result.status, result.value), shown


ScanRow = tuple[str, str, str]
"""(repository, status, evidence) of one repository's newest scan for one check."""


def _from_scans(check: Check, rows: list[ScanRow]) -> tuple[CheckState, str]:
    """Combine the team's repositories as the check's `aggregate` says; the evidence
    shown is that of a repository that decided it."""
    if not rows:
        return "unknown", "no repository scan holds this check (sync GitHub or run `cli.py scan`)"
    status = aggregate_outcomes(check.aggregate, [row[1] for row in rows])  # type: ignore[misc]
    repo, _, evidence = next((row for row in sorted(rows) if row[1] == status), sorted(rows)[0])
    every = (
        f"all {len(rows)} repositories, e.g. "
        if status == "pass" and check.aggregate == "all"
        else ""
    )
    return status, f"{every}{repo}: {evidence}"


def scans_by_team_and_check(scans: pd.DataFrame) -> dict[str, dict[str, list[ScanRow]]]:
    """The scan rows per team and check, in one pass over the organisation's rows."""
    grouped: dict[str, dict[str, list[ScanRow]]] = {}
    # Lists: iterating a column of strings directly goes through Arrow value by value.
    columns = (scans[name].tolist() for name in ("team", "check_id", "repo", "status", "evidence"))
    for team, check_id, repo, status, evidence in zip(*columns, strict=True):
        grouped.setdefault(team, {}).setdefault(check_id, []).append((repo, status, evidence))
    return grouped


def latest_by_team_and_check(
    frame: pd.DataFrame, time_column: str, as_of: datetime
) -> dict[str, dict[str, dict[str, Any]]]:
    """The newest row per team and check made before `as_of` (attestations, waivers),
    sorted once for every team."""
    before = frame[frame[time_column] < pd.Timestamp(as_of)].sort_values(time_column)
    newest: dict[str, dict[str, dict[str, Any]]] = {}
    for row in before.groupby(["team", "check_id"]).tail(1).to_dict("records"):
        newest.setdefault(row["team"], {})[row["check_id"]] = row
    return newest


def evaluate_check(
    check: Check,
    *,
    metric_results: dict[str, MetricResult],
    scans: dict[str, list[ScanRow]],
    evidence: TeamEvidence,
    attestations: dict[str, dict[str, Any]],
    waivers: dict[str, dict[str, Any]],
    as_of: datetime,
) -> CheckStatus:
    """One check for one team, from its evidence, answers and waivers as of `as_of`."""
    provenance: Provenance = "automated"
    if check.evidence == "attestation":
        status, shown, provenance = "unknown", "not answered in the questionnaire", "attested"
    elif check.evidence == "repo":
        status, shown = _from_scans(check, scans.get(check.id, []))
    elif check.evidence == "metric":
        status, shown = _from_metric(check, metric_results.get(check.metric or ""))
    else:
        outcome = DETECTORS[check.detector](evidence)
        status, shown = outcome.status, outcome.evidence

    contradiction = ""
    answer = attestations.get(check.id)
    if answer is not None:
        expired = answer["expires_at"] <= pd.Timestamp(as_of)
        said = "yes" if answer["answer"] else "no"
        answered = (
            f"attested {said} by {answer['answered_by']} on {answer['answered_at']:%Y-%m-%d}"
            + (f" ({answer['evidence_url']})" if answer["evidence_url"] else "")
        )
        if expired:
            if status == "unknown":
                shown, provenance = f"{answered}; expired {answer['expires_at']:%Y-%m-%d}", "stale"
        elif status == "unknown":
            status = "pass" if answer["answer"] else "fail"
            shown, provenance = answered, "attested"
        elif status == "fail" and answer["answer"]:
            contradiction = f"{answered}, but the evidence says no: {shown}"

    waiver = waivers.get(check.id)
    if waiver is not None and waiver["expires_at"] > pd.Timestamp(as_of):
        shown = (
            f"waived by {waiver['created_by']} until {waiver['expires_at']:%Y-%m-%d}: "
            f"{waiver['reason']} (evidence: {shown})"
        )
        return CheckStatus(check, "waived", provenance, shown, contradiction)
    return CheckStatus(check, status, provenance, shown, contradiction)  # type: ignore[arg-type]


# --- scores -------------------------------------------------------------------------


def pillar_score(pillar: str, statuses: Iterable[CheckStatus]) -> PillarScore:
    checks = tuple(sorted(statuses, key=lambda s: (s.check.level, -s.check.weight, s.check.id)))
    counted = [s for s in checks if s.status != "waived"]
    total = sum(s.check.weight for s in counted)
    passed = sum(s.check.weight for s in counted if s.status == "pass")
    decided = sum(s.check.weight for s in counted if s.status in ("pass", "fail"))
    level = 0
    for candidate in range(1, TOP_LEVEL + 1):
        if all(s.status in ("pass", "waived") for s in checks if s.check.level <= candidate):
            level = candidate
        else:
            break
    return PillarScore(
        pillar=pillar,
        score=100 * passed / total if total else None,
        level=level,
        coverage=100 * decided / total if total else None,
        checks=checks,
    )


def next_steps(pillars: dict[str, PillarScore]) -> tuple[NextStep, ...]:
    """The checks that block each pillar's next level: lowest level first, then heaviest,
    failing before undecided."""
    steps = [
        NextStep(status.check, status.status, pillar.level + 1)
        for pillar in pillars.values()
        if pillar.level < TOP_LEVEL
        for status in pillar.checks
        if status.check.level == pillar.level + 1 and status.status in ("fail", "unknown")
    ]
    steps.sort(key=lambda s: (s.unblocks_level, s.status != "fail", -s.check.weight, s.check.id))
    return tuple(steps)


def crosswalk(rubric: Rubric, statuses: Iterable[CheckStatus]) -> dict[str, Any]:
    """Where the same checks put the team on public maturity models (the mapping is data)."""
    listed = list(statuses)
    passing_or_waived = {s.check.id for s in listed if s.status in ("pass", "waived")}
    earned: dict[str, Literal["automated", "attested"]] = {
        s.check.id: ("attested" if s.provenance == "attested" else "automated")
        for s in listed
        if s.status == "pass"
    }
    models = rubric.crosswalk
    test_score = models.ml_test_score.score(earned)
    google = models.google.level_reached(passing_or_waived)
    microsoft = models.microsoft.level_reached(passing_or_waived)
    return {
        "google": {"level": google, "name": models.google.levels[google].name},
        "microsoft": {"level": microsoft, "name": models.microsoft.levels[microsoft].name},
        "ml_test_score": {
            **test_score,
            "reading": models.ml_test_score.band(test_score["final"]),
        },
    }


def score_team(
    team: str,
    rubric: Rubric,
    period: Period,
    *,
    metric_results: dict[str, MetricResult],
    scan_rows: dict[str, list[ScanRow]],
    evidence: TeamEvidence,
    answers: dict[str, dict[str, Any]],
    active_waivers: dict[str, dict[str, Any]],
) -> TeamScore:
    """Score one team from its metric results, newest scan rows, answers and waivers per
    check (as `scans_by_team_and_check` and `latest_by_team_and_check` group them)."""
    as_of = period.end
    statuses = [
        evaluate_check(
            check,
            metric_results=metric_results,
            scans=scan_rows,
            evidence=evidence,
            attestations=answers,
            waivers=active_waivers,
            as_of=as_of,
        )
        for check in rubric.checks
    ]
    pillars = {
        pillar: pillar_score(pillar, [s for s in statuses if s.check.pillar == pillar])
        for pillar in PILLARS
    }
    counted = [s for s in statuses if s.status != "waived"]
    total = sum(s.check.weight for s in counted)
    passed = sum(s.check.weight for s in counted if s.status == "pass")
    decided = sum(s.check.weight for s in counted if s.status in ("pass", "fail"))
    return TeamScore(
        team=team,
        period=period,
        rubric_version=rubric.version,
        pillars=pillars,
        overall_score=100 * passed / total if total else None,
        overall_level=min(pillar.level for pillar in pillars.values()),
        overall_coverage=100 * decided / total if total else None,
        next_steps=next_steps(pillars),
        crosswalk=crosswalk(rubric, statuses),
    )


def score_from_inputs(
    engine: Engine,
    config: Config,
    period: Period,
    inputs: Inputs,
    metric_results: list[MetricResult],
    rubric: Rubric | None = None,
) -> list[TeamScore]:
    """Scores for the teams of `inputs`, reusing already computed metrics."""
    rubric = rubric or load_rubric()
    only = inputs.teams[0] if len(inputs.teams) == 1 else None
    scans = loaders.scan_results(engine, only, before=period.end)
    attestations = loaders.attestations(engine, only)
    waivers = loaders.waivers(engine, only)
    alert_rules = loaders.alert_rules(engine)
    alert_rules = alert_rules[alert_rules["seen_at"] < pd.Timestamp(period.end)]
    context = context_for(config, inputs.teams, period)
    configured = {team.name: team for team in config.teams}
    by_team: dict[str, dict[str, MetricResult]] = {}
    for result in metric_results:
        by_team.setdefault(result.team, {})[result.metric_id] = result
    # Grouped once: a filter per team and frame costs more than the scoring at 40 teams.
    scans_of = scans_by_team_and_check(scans)
    answers_of = latest_by_team_and_check(attestations, "answered_at", period.end)
    waivers_of = latest_by_team_and_check(waivers, "created_at", period.end)
    rule_matches: dict[str, list[tuple[str, str]]] = {}
    scores = []
    for team in inputs.teams:
        team_config = configured.get(team)
        evidence = TeamEvidence(
            team=team,
            inputs=inputs,
            context=context,
            alert_rules=alert_rules,
            selectors=tuple(e.selector for e in team_config.endpoints) if team_config else (),
            model_globs=tuple(team_config.models) if team_config else (),
            rule_matches=rule_matches,
        )
        scores.append(
            score_team(
                team,
                rubric,
                period,
                metric_results=by_team.get(team, {}),
                scan_rows=scans_of.get(team, {}),
                evidence=evidence,
                answers=answers_of.get(team, {}),
                active_waivers=waivers_of.get(team, {}),
            )
        )
    return scores


EVIDENCE_FRAMES = ("models", "versions", "alias_observations", "meetings", "attendees")
"""The `Inputs` frames the registry and meetings detectors read."""


def score_teams(
    engine: Engine,
    config: Config,
    period: Period,
    teams: Iterable[str] | None = None,
    metric_results: Iterable[MetricResult] | None = None,
) -> list[TeamScore]:
    """Every team's maturity for the period, judged as of its end. Pass the period's
    already computed `metric_results` (for the same teams) to skip computing them again."""
    if metric_results is None:
        inputs = load_inputs(engine, period, config, teams)
        results = compute_from_inputs(inputs, config, period)
    else:
        inputs = load_inputs(engine, period, config, teams, frames=EVIDENCE_FRAMES)
        results = list(metric_results)
    return score_from_inputs(engine, config, period, inputs, results)
