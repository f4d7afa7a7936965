"""The registry, Prometheus alert-rule and meetings detectors (`metrics.evidence`).

Each detector has a pass, a fail and an unknown case; unknown is what a detector
says when its source has no data for the team, never fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
import pytest

from config import EndpointConfig, TeamConfig
from data.loaders import Period
from metrics.context import Inputs
from metrics.engine import context_for
from metrics.evidence import DETECTORS, TeamEvidence
from metrics.rubric import EVIDENCE_DETECTORS
from tests.metrics.builders import config_for, make_inputs, ts

PERIOD = Period(date(2026, 4, 2), date(2026, 6, 30))
SELECTOR = '{job="fraud-api"}'
LEAD, SCIENTIST, PRODUCT = "lead@x.example", "ds@x.example", "pm@x.example"
RULE_COLUMNS = ("group_name", "name", "expr", "duration_seconds", "labels", "seen_at")


def alert_rules(*rules: tuple[str, str, str]) -> pd.DataFrame:
    """A frame shaped as `data.loaders.alert_rules` returns it, from (group, name, expr)."""
    rows = [
        {
            "group_name": group,
            "name": name,
            "expr": expr,
            "duration_seconds": 300.0,
            "labels": {"severity": "page"},
            "seen_at": ts("2026-06-01 00:00"),
        }
        for group, name, expr in rules
    ]
    frame = pd.DataFrame(rows, columns=list(RULE_COLUMNS))
    frame["seen_at"] = pd.to_datetime(frame["seen_at"], utc=True)
    return frame


NO_RULES = alert_rules()


def evidence(
    inputs: Inputs | None = None,
    *,
    rules: pd.DataFrame = NO_RULES,
    selectors: Sequence[str] = (SELECTOR,),
    model_globs: Sequence[str] = ("fraud-*",),
    stakeholders: Iterable[str] = (),
) -> TeamEvidence:
    team = TeamConfig(
        name="A",
        models=list(model_globs),
        endpoints=[EndpointConfig(name=f"e{i}", selector=s) for i, s in enumerate(selectors)],
        stakeholders=list(stakeholders),
    )
    return TeamEvidence(
        team="A",
        inputs=inputs or make_inputs(),
        context=context_for(config_for(team), ["A"], PERIOD),
        alert_rules=rules,
        selectors=tuple(selectors),
        model_globs=tuple(model_globs),
    )


def outcome(name: str, team_evidence: TeamEvidence) -> tuple[str, str]:
    result = DETECTORS[name](team_evidence)
    return result.status, result.evidence


def test_every_rubric_evidence_detector_is_implemented() -> None:
    named = {
        name for kind in ("registry", "prometheus", "meetings") for name in EVIDENCE_DETECTORS[kind]
    }
    assert named <= set(DETECTORS)


# --- registry -----------------------------------------------------------------------

MODEL = {"name": "fraud-xgb", "description": "Card fraud scorer", "created_at": ts("2026-01-01")}


def version(number: int, **row: Any) -> dict[str, Any]:
    return {
        "model": "fraud-xgb",
        "version": str(number),
        "created_at": ts(f"2026-0{number}-01"),
        **row,
    }


def test_registry_has_models() -> None:
    status, shown = outcome("registry_has_models", evidence(make_inputs(models=[MODEL])))
    assert status == "pass"
    assert "fraud-xgb" in shown
    # Globs configured but nothing registered: the registry was never synced, or is empty.
    assert outcome("registry_has_models", evidence())[0] == "unknown"
    # The team declares no model at all.
    assert outcome("registry_has_models", evidence(model_globs=()))[0] == "fail"


def test_registry_has_models_ignores_other_teams() -> None:
    inputs = make_inputs(("A", "B"), models=[{**MODEL, "team": "B"}])
    assert outcome("registry_has_models", evidence(inputs))[0] == "unknown"


def test_registry_models_described() -> None:
    described = make_inputs(models=[MODEL])
    assert outcome("registry_models_described", evidence(described))[0] == "pass"
    blank = make_inputs(models=[MODEL, {**MODEL, "name": "fraud-lgbm", "description": "  "}])
    status, shown = outcome("registry_models_described", evidence(blank))
    assert status == "fail"
    assert "fraud-lgbm" in shown
    assert "fraud-xgb" not in shown
    assert outcome("registry_models_described", evidence())[0] == "unknown"


def test_registry_versions_traceable() -> None:
    traced = make_inputs(
        models=[MODEL], versions=[version(1, run_id="r1"), version(2, run_id="r2")]
    )
    assert outcome("registry_versions_traceable", evidence(traced))[0] == "pass"
    # The serving (newest) version has no training run.
    untraced = make_inputs(models=[MODEL], versions=[version(1, run_id="r1"), version(2)])
    status, shown = outcome("registry_versions_traceable", evidence(untraced))
    assert status == "fail"
    assert "fraud-xgb v2" in shown
    no_versions = make_inputs(models=[MODEL])
    assert outcome("registry_versions_traceable", evidence(no_versions))[0] == "unknown"
    assert outcome("registry_versions_traceable", evidence())[0] == "unknown"


def test_registry_versions_traceable_judges_the_serving_version() -> None:
    # v2 (no run) is newer, but the production alias points at v1, which has one.
    inputs = make_inputs(
        models=[MODEL],
        versions=[version(1, run_id="r1", aliases=["champion"]), version(2)],
    )
    assert outcome("registry_versions_traceable", evidence(inputs))[0] == "pass"


def test_registry_serving_alias() -> None:
    aliased = make_inputs(models=[MODEL], versions=[version(1, aliases=["production"])])
    assert outcome("registry_serving_alias", evidence(aliased))[0] == "pass"
    observed = make_inputs(
        models=[MODEL],
        versions=[version(1), version(2)],
        alias_observations=[
            {
                "model": "fraud-xgb",
                "alias": "champion",
                "version": "1",
                "first_seen_at": ts("2026-02-02"),
                "last_seen_at": ts("2026-06-01"),
            }
        ],
    )
    assert outcome("registry_serving_alias", evidence(observed))[0] == "pass"
    unaliased = make_inputs(models=[MODEL], versions=[version(1, aliases=["staging"])])
    status, shown = outcome("registry_serving_alias", evidence(unaliased))
    assert status == "fail"
    assert "fraud-xgb" in shown
    assert outcome("registry_serving_alias", evidence(make_inputs(models=[MODEL])))[0] == "unknown"


def test_registry_deployed_at_tagged() -> None:
    tagged = make_inputs(
        models=[MODEL], versions=[version(1), version(2, deployed_at=ts("2026-02-03"))]
    )
    status, shown = outcome("registry_deployed_at_tagged", evidence(tagged))
    assert status == "pass"
    assert "fraud-xgb v2" in shown
    promoted_untagged = make_inputs(
        models=[MODEL],
        versions=[version(1)],
        alias_observations=[
            {
                "model": "fraud-xgb",
                "alias": "production",
                "version": "1",
                "first_seen_at": ts("2026-01-02"),
                "last_seen_at": ts("2026-06-01"),
            }
        ],
    )
    assert outcome("registry_deployed_at_tagged", evidence(promoted_untagged))[0] == "fail"
    # Versions exist but no deployment was ever observed: cannot tell.
    never_deployed = make_inputs(models=[MODEL], versions=[version(1)])
    assert outcome("registry_deployed_at_tagged", evidence(never_deployed))[0] == "unknown"


# --- Prometheus alerting rules -------------------------------------------------------

OWN_LATENCY = ("fraud", "HighLatency", 'histogram_quantile(0.95, x_bucket{job="fraud-api"}) > 0.3')
OWN_DOWN = ("fraud", "EndpointDown", 'up{job="fraud-api"} == 0')
OTHER_DOWN = ("search", "EndpointDown", 'up{job="search-api"} == 0')
OWN_DRIFT = ("fraud", "Drift", 'model_prediction_drift_score{job="fraud-api"} > 0.2')
OTHER_DRIFT = ("search", "Drift", 'model_prediction_drift_score{job="search-api"} > 0.2')
DISK = (
    "platform",
    "DiskAlmostFull",
    "node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1",
)
FRESHNESS = (
    "fraud",
    "FeatureDataStale",
    'time() - feature_data_freshness_timestamp_seconds{job="fraud-api"} > 86400',
)
OTHER_FRESHNESS = (
    "search",
    "FeatureDataStale",
    'time() - feature_data_freshness_timestamp_seconds{job="search-api"} > 86400',
)
UNRELATED = ("misc", "Watchdog", "vector(1)")


@pytest.mark.parametrize(
    ("name", "passing", "failing"),
    [
        ("alert_rules_service", [OWN_DOWN, OWN_LATENCY], [OTHER_DOWN, UNRELATED]),
        ("alert_rules_model", [OWN_DRIFT], [OTHER_DRIFT, OWN_DOWN]),
        ("alert_rules_resources", [DISK], [UNRELATED, FRESHNESS]),
        ("alert_rules_data", [FRESHNESS], [OTHER_FRESHNESS, UNRELATED, DISK]),
    ],
)
def test_alert_rule_detectors(
    name: str, passing: list[tuple[str, str, str]], failing: list[tuple[str, str, str]]
) -> None:
    status, shown = outcome(name, evidence(rules=alert_rules(*passing, *failing)))
    assert status == "pass"
    for group, rule, _ in passing:
        assert f"{group}/{rule}" in shown
    status, shown = outcome(name, evidence(rules=alert_rules(*failing)))
    assert status == "fail", shown
    assert f"none of {len(failing)} alerting rules" in shown
    # Prometheus never synced: no rules at all is undecidable, not a failure.
    assert outcome(name, evidence(rules=NO_RULES))[0] == "unknown"


@pytest.mark.parametrize("name", ["alert_rules_service", "alert_rules_model", "alert_rules_data"])
def test_team_alerts_are_unknown_without_selectors(name: str) -> None:
    rules = alert_rules(OWN_DOWN, OWN_DRIFT, FRESHNESS)
    assert outcome(name, evidence(rules=rules, selectors=()))[0] == "unknown"


def test_resource_alerts_are_organisation_wide() -> None:
    organisation_wide = evidence(rules=alert_rules(DISK), selectors=())
    assert outcome("alert_rules_resources", organisation_wide)[0] == "pass"


# --- meetings ---------------------------------------------------------------------------


def meeting_inputs(attendance: Mapping[int, Sequence[tuple[str, bool]]], start: str) -> Inputs:
    return make_inputs(
        meetings=[
            {"id": meeting_id, "start": ts(start), "end": ts(start) + pd.Timedelta(hours=1)}
            for meeting_id in attendance
        ],
        attendees=[
            {"meeting_id": meeting_id, "email": email, "attended": attended}
            for meeting_id, people in attendance.items()
            for email, attended in people
        ],
    )


STAKEHOLDERS = (LEAD, SCIENTIST, PRODUCT)


def test_meetings_cross_functional_pass() -> None:
    inputs = meeting_inputs({1: [(LEAD, True), (PRODUCT.upper(), True)]}, "2026-06-01 10:00")
    status, shown = outcome(
        "meetings_cross_functional", evidence(inputs, stakeholders=STAKEHOLDERS)
    )
    assert status == "pass"
    assert shown.startswith("1 of 1 meetings")


def test_meetings_cross_functional_fail() -> None:
    # Two meetings: one with a single stakeholder, one where the second stayed away.
    inputs = meeting_inputs(
        {
            1: [(LEAD, True), ("outsider@x.example", True)],
            2: [(LEAD, True), (SCIENTIST, False)],
        },
        "2026-06-01 10:00",
    )
    status, shown = outcome(
        "meetings_cross_functional", evidence(inputs, stakeholders=STAKEHOLDERS)
    )
    assert status == "fail"
    assert "none of 2 meetings" in shown


def meeting_status(inputs: Inputs | None, stakeholders: Sequence[str]) -> str:
    return outcome("meetings_cross_functional", evidence(inputs, stakeholders=stakeholders))[0]


def test_meetings_cross_functional_unknown() -> None:
    joint = meeting_inputs({1: [(LEAD, True), (PRODUCT, True)]}, "2026-06-01 10:00")
    assert meeting_status(joint, STAKEHOLDERS) == "pass"
    # Fewer than two stakeholders configured: nothing to gather.
    assert meeting_status(joint, (LEAD,)) == "unknown"
    # No meeting at all, or only before the period: no data, not a failure.
    assert meeting_status(None, STAKEHOLDERS) == "unknown"
    before = meeting_inputs({1: [(LEAD, True), (PRODUCT, True)]}, "2026-01-10 10:00")
    assert meeting_status(before, STAKEHOLDERS) == "unknown"
