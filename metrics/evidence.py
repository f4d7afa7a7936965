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

import pandas as pd

from data.loaders import Period
from metrics.context import Inputs, MetricContext
from metrics.modelops import serving_versions
from metrics.repo_detectors import CheckOutcome


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
    rule_matches: dict[str, pd.DataFrame] = field(default_factory=dict)
    """The alerting rules each pattern matches: one dict shared by the teams of one scoring,
    as the rules are the organisation's, so each pattern scans them once, not per team."""

    @property
    def period(self) -> Period:
        return self.context.period

    def team_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """This team's rows of an organisation-wide frame; the frame is split once for
        all teams (it lives as long as the inputs, so its id is a stable key)."""
        by_team = self.inputs.memo(
            f"team_rows:{id(frame)}", lambda: dict(tuple(frame.groupby("team")))
        )
        return by_team.get(self.team, frame.iloc[0:0])


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


@detector("registry_has_models")
def registry_has_models(evidence: TeamEvidence) -> CheckOutcome:
    models = evidence.team_rows(evidence.inputs.models)
    if not models.empty:
        return CheckOutcome("pass", f"registered models: {_listed(sorted(models['name']))}")
    if not evidence.model_globs:
        return CheckOutcome("fail", "the team lists no model name globs (`models`) in mlops.toml")
    return CheckOutcome(
        "unknown",
        f"no registered model matches {list(evidence.model_globs)}: sync MLflow "
        "(`[mlflow]`) or import model versions",
    )


def _serving(evidence: TeamEvidence) -> pd.DataFrame:
    serving = evidence.team_rows(serving_versions(evidence.inputs, evidence.context))
    return serving.dropna(subset=["serving_version"])


@detector("registry_versions_traceable")
def registry_versions_traceable(evidence: TeamEvidence) -> CheckOutcome:
    serving = _serving(evidence)
    if serving.empty:
        return CheckOutcome("unknown", "no model version of the team is in the registry")
    versions = evidence.team_rows(evidence.inputs.versions)
    linked = versions[versions["run_id"].notna()]
    traced = set(zip(linked["model"], linked["version"], strict=True))
    missing = [
        f"{model} v{version}"
        for model, version in zip(serving["model"], serving["serving_version"], strict=True)
        if (model, version) not in traced
    ]
    if missing:
        return CheckOutcome("fail", f"serving versions without a training run: {_listed(missing)}")
    return CheckOutcome("pass", f"all {len(serving)} serving versions link to their training run")


@detector("registry_models_described")
def registry_models_described(evidence: TeamEvidence) -> CheckOutcome:
    models = evidence.team_rows(evidence.inputs.models)
    if models.empty:
        return CheckOutcome("unknown", "no registered model of the team")
    blank = sorted(models.loc[models["description"].fillna("").str.strip() == "", "name"])
    if blank:
        return CheckOutcome("fail", f"models without a description: {_listed(blank)}")
    return CheckOutcome("pass", f"all {len(models)} models have a description")


@detector("registry_deployed_at_tagged")
def registry_deployed_at_tagged(evidence: TeamEvidence) -> CheckOutcome:
    versions = evidence.team_rows(evidence.inputs.versions)
    tagged = versions[versions["deployed_at"].notna()]
    if not tagged.empty:
        newest = tagged.sort_values("deployed_at").iloc[-1]
        return CheckOutcome(
            "pass",
            f"{len(tagged)} versions carry a deployed_at tag "
            f"(latest: {newest['model']} v{newest['version']})",
        )
    observations = evidence.team_rows(evidence.inputs.alias_observations)
    if observations.empty:
        return CheckOutcome("unknown", "no deployment of the team's models has been observed")
    return CheckOutcome(
        "fail",
        "versions were promoted (production alias observed) but none carries a deployed_at tag",
    )


@detector("registry_serving_alias")
def registry_serving_alias(evidence: TeamEvidence) -> CheckOutcome:
    serving = _serving(evidence)
    if serving.empty:
        return CheckOutcome("unknown", "no model version of the team is in the registry")
    unaliased = sorted(serving.loc[serving["basis"] == "newest version", "model"])
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
        matching = rules[rules["expr"].str.contains(pattern)]
        evidence.rule_matches[pattern.pattern] = matching
    if own:
        values = {
            value for selector in evidence.selectors for value in _SELECTOR_VALUE.findall(selector)
        }
        if not values:
            return CheckOutcome("unknown", "the team lists no endpoint selectors in mlops.toml")
        mentions = matching["expr"].map(lambda expr: any(value in expr for value in values))
        matching = matching[mentions.astype(bool)]
    if matching.empty:
        scope = "the team's endpoints" if own else "any target"
        return CheckOutcome("fail", f"none of {len(rules)} alerting rules covers {scope}")
    names = [
        f"{group}/{name}"
        for group, name in zip(matching["group_name"], matching["name"], strict=True)
    ]
    return CheckOutcome("pass", f"alerting rules: {_listed(sorted(names))}")


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
    meetings = evidence.team_rows(evidence.inputs.meetings)
    meetings = meetings[meetings["start"] >= pd.Timestamp(evidence.period.start)]
    if meetings.empty:
        return CheckOutcome("unknown", "no team meeting in the period")
    attendees = evidence.team_rows(evidence.inputs.attendees)
    present = attendees[attendees["attended"] & attendees["meeting_id"].isin(meetings["id"])]
    present = present[present["email"].str.casefold().isin(stakeholders)]
    per_meeting = present.groupby("meeting_id")["email"].nunique()
    joint = per_meeting[per_meeting >= 2]
    if joint.empty:
        return CheckOutcome(
            "fail", f"none of {len(meetings)} meetings in the period had two stakeholders together"
        )
    return CheckOutcome(
        "pass", f"{len(joint)} of {len(meetings)} meetings had two or more stakeholders together"
    )
