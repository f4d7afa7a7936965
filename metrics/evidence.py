"""Detectors for the rubric's registry, Prometheus and meetings checks.

Each reads one team's stored evidence and answers pass / fail / unknown with the
evidence that decided it. As for repository checks, a detector that cannot
decide (the source was never synced, the team has no such data) says
`unknown`, never `fail`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

from data.loaders import Period
from metrics.context import Inputs, MetricContext
from metrics.modelops import serving_versions
from metrics.repo_detectors import CheckOutcome

T = TypeVar("T")


@dataclass(frozen=True)
class TeamEvidence:
    """What the non-repository detectors read for one team."""

    team: str
    inputs: Inputs
    context: MetricContext
    alert_rules: pd.DataFrame
    selectors: tuple[str, ...]
    """The PromQL selectors of the team's endpoints."""
    model_globs: tuple[str, ...]
    rule_matches: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """(group/name, expression) of the alerting rules each pattern matches: one dict shared
    by the teams of one scoring, as the rules are the organisation's, so each pattern scans
    them once, not per team."""

    @property
    def period(self) -> Period:
        return self.context.period

    def per_team(self, name: str, build: Callable[[], dict[str, T]]) -> T | None:
        """This team's part of an organisation-wide summary, which `build` makes once for
        all the teams that read the same inputs and context: a few pandas passes over 40
        teams instead of 40 passes over small frames (the scoring of a large organisation
        was mostly that overhead)."""
        summary = self.inputs.memo(f"evidence:{name}:{self.context.memo_key}", build)
        return summary.get(self.team)


EvidenceDetector = Callable[[TeamEvidence], CheckOutcome]
DETECTORS: dict[str, EvidenceDetector] = {}


def detector(name: str) -> Callable[[EvidenceDetector], EvidenceDetector]:
    def register(function: EvidenceDetector) -> EvidenceDetector:
        DETECTORS[name] = function
        return function

    return register


def _listed(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# --- registry -----------------------------------------------------------------------


def _by_team(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows' `columns` as tuples per team, in the frame's order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    lists = (frame[column].tolist() for column in ["team", *columns])  # not value by value
    for team, *values in zip(*lists, strict=True):
        rows.setdefault(team, []).append(tuple(values))
    return rows


def _models(evidence: TeamEvidence) -> list[tuple[Any, ...]]:
    """(name, description) of the team's registered models."""
    models = evidence.inputs.models
    return evidence.per_team("models", lambda: _by_team(models, ["name", "description"])) or []


@detector("registry_has_models")
def registry_has_models(evidence: TeamEvidence) -> CheckOutcome:
    models = _models(evidence)
    if models:
        return CheckOutcome("pass", f"registered models: {_listed(sorted(n for n, _ in models))}")
    if not evidence.model_globs:
        return CheckOutcome("fail", "the team lists no model name globs (`models`) in mlops.toml")
    return CheckOutcome(
        "unknown",
        f"no registered model matches {list(evidence.model_globs)}: sync MLflow "
        "(`[mlflow]`) or import model versions",
    )


def _serving(evidence: TeamEvidence) -> list[tuple[Any, ...]]:
    """(model, serving version, basis) of the team's models that have a version."""

    def build() -> dict[str, list[tuple[Any, ...]]]:
        serving = serving_versions(evidence.inputs, evidence.context)
        serving = serving.dropna(subset=["serving_version"])
        return _by_team(serving, ["model", "serving_version", "basis"])

    return evidence.per_team("serving", build) or []


@detector("registry_versions_traceable")
def registry_versions_traceable(evidence: TeamEvidence) -> CheckOutcome:
    serving = _serving(evidence)
    if not serving:
        return CheckOutcome("unknown", "no model version of the team is in the registry")

    def build() -> dict[str, set[tuple[Any, ...]]]:
        versions = evidence.inputs.versions
        linked = versions[versions["run_id"].notna()]
        return {team: set(rows) for team, rows in _by_team(linked, ["model", "version"]).items()}

    traced = evidence.per_team("traced_versions", build) or set()
    missing = [
        f"{model} v{version}" for model, version, _ in serving if (model, version) not in traced
    ]
    if missing:
        return CheckOutcome("fail", f"serving versions without a training run: {_listed(missing)}")
    return CheckOutcome("pass", f"all {len(serving)} serving versions link to their training run")


@detector("registry_models_described")
def registry_models_described(evidence: TeamEvidence) -> CheckOutcome:
    models = _models(evidence)
    if not models:
        return CheckOutcome("unknown", "no registered model of the team")
    blank = sorted(
        name for name, description in models if pd.isna(description) or not str(description).strip()
    )
    if blank:
        return CheckOutcome("fail", f"models without a description: {_listed(blank)}")
    return CheckOutcome("pass", f"all {len(models)} models have a description")


@detector("registry_deployed_at_tagged")
def registry_deployed_at_tagged(evidence: TeamEvidence) -> CheckOutcome:
    def build() -> dict[str, tuple[int, str, str]]:
        versions = evidence.inputs.versions
        tagged = versions[versions["deployed_at"].notna()].sort_values("deployed_at", kind="stable")
        counts = tagged.groupby("team").size()
        newest = tagged.groupby("team").tail(1)
        return {
            team: (int(counts[team]), model, version)
            for team, model, version in zip(
                newest["team"], newest["model"], newest["version"], strict=True
            )
        }

    tagged = evidence.per_team("deployed_at_tags", build)
    if tagged is not None:
        count, model, version = tagged
        return CheckOutcome(
            "pass", f"{count} versions carry a deployed_at tag (latest: {model} v{version})"
        )
    observations = evidence.inputs.alias_observations
    observed = evidence.per_team(
        "alias_observed", lambda: dict.fromkeys(observations["team"], True)
    )
    if not observed:
        return CheckOutcome("unknown", "no deployment of the team's models has been observed")
    return CheckOutcome(
        "fail",
        "versions were promoted (production alias observed) but none carries a deployed_at tag",
    )


@detector("registry_serving_alias")
def registry_serving_alias(evidence: TeamEvidence) -> CheckOutcome:
    serving = _serving(evidence)
    if not serving:
        return CheckOutcome("unknown", "no model version of the team is in the registry")
    unaliased = sorted(model for model, _, basis in serving if basis == "newest version")
    if unaliased:
        return CheckOutcome(
            "fail",
            f"no production alias ({', '.join(evidence.context.production_aliases)}) on: "
            f"{_listed(unaliased)}",
        )
    return CheckOutcome("pass", f"all {len(serving)} models are served through a production alias")


# --- Prometheus alerting rules --------------------------------------------------------

_SELECTOR_VALUE = re.compile(r'=~?\s*"([^"]+)"')
_SERVICE = re.compile(r"(?i)\bup\b|_bucket|duration|latency|5\.\.|5xx|error|status")
_RESOURCES = re.compile(
    r"(?i)node_filesystem|node_cpu|node_memory|container_cpu|container_memory|"
    r"kube_pod_container_resource|disk|cpu|memory"
)
_MODEL = re.compile(r"(?i)drift|accuracy|prediction|psi\b|model_")
_DATA = re.compile(r"(?i)freshness|stale|row_count|rows_|data_quality|validation|expectation")


def _rules(evidence: TeamEvidence, pattern: re.Pattern[str], own: bool) -> CheckOutcome:
    rules = evidence.alert_rules
    if rules.empty:
        return CheckOutcome(
            "unknown", "no alerting rules synced from Prometheus (`[prometheus]` and a sync)"
        )
    matching = evidence.rule_matches.get(pattern.pattern)
    if matching is None:
        matched = rules[rules["expr"].str.contains(pattern)]
        matching = [
            (f"{group}/{name}", expr)
            for group, name, expr in zip(
                matched["group_name"], matched["name"], matched["expr"], strict=True
            )
        ]
        evidence.rule_matches[pattern.pattern] = matching
    if own:
        values = {
            value for selector in evidence.selectors for value in _SELECTOR_VALUE.findall(selector)
        }
        if not values:
            return CheckOutcome("unknown", "the team lists no endpoint selectors in mlops.toml")
        matching = [rule for rule in matching if any(value in rule[1] for value in values)]
    if not matching:
        scope = "the team's endpoints" if own else "any target"
        return CheckOutcome("fail", f"none of {len(rules)} alerting rules covers {scope}")
    return CheckOutcome("pass", f"alerting rules: {_listed(sorted(name for name, _ in matching))}")


@detector("alert_rules_service")
def alert_rules_service(evidence: TeamEvidence) -> CheckOutcome:
    return _rules(evidence, _SERVICE, own=True)


@detector("alert_rules_resources")
def alert_rules_resources(evidence: TeamEvidence) -> CheckOutcome:
    return _rules(evidence, _RESOURCES, own=False)


@detector("alert_rules_model")
def alert_rules_model(evidence: TeamEvidence) -> CheckOutcome:
    return _rules(evidence, _MODEL, own=True)


@detector("alert_rules_data")
def alert_rules_data(evidence: TeamEvidence) -> CheckOutcome:
    return _rules(evidence, _DATA, own=True)


# --- meetings -----------------------------------------------------------------------


@detector("meetings_cross_functional")
def meetings_cross_functional(evidence: TeamEvidence) -> CheckOutcome:
    """Pass when a meeting in the period gathered at least two of the team's stakeholders."""
    stakeholders = {
        email.casefold() for email in evidence.context.stakeholders.get(evidence.team, ())
    }
    if len(stakeholders) < 2:
        return CheckOutcome("unknown", "the team lists fewer than two stakeholders in mlops.toml")

    def build() -> dict[str, tuple[int, list[set[str]]]]:
        """Per team: its meetings in the period, and who attended each (casefolded)."""
        meetings = evidence.inputs.meetings
        meetings = meetings[meetings["start"] >= pd.Timestamp(evidence.period.start)]
        attendees = evidence.inputs.attendees
        present = attendees[attendees["attended"] & attendees["meeting_id"].isin(meetings["id"])]
        who: dict[str, dict[int, set[str]]] = {}
        for team, meeting, email in zip(
            present["team"], present["meeting_id"], present["email"].str.casefold(), strict=True
        ):
            who.setdefault(team, {}).setdefault(meeting, set()).add(email)
        counts = meetings.groupby("team").size()
        return {
            str(team): (int(count), list(who.get(str(team), {}).values()))
            for team, count in counts.items()
        }

    count, attendance = evidence.per_team("meeting_attendance", build) or (0, [])
    if not count:
        return CheckOutcome("unknown", "no team meeting in the period")
    joint = sum(len(present & stakeholders) >= 2 for present in attendance)
    if not joint:
        return CheckOutcome(
            "fail", f"none of {count} meetings in the period had two stakeholders together"
        )
    return CheckOutcome(
        "pass", f"{joint} of {count} meetings had two or more stakeholders together"
    )
