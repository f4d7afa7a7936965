"""Hypothesis properties of the metric engine over small random organisations."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import Config, TeamConfig
from data.loaders import Period
from metrics.catalog import catalog
from metrics.engine import compute_from_inputs
from metrics.histogram import histogram_quantile
from tests.metrics.builders import make_inputs

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Whole random organisations cost ~0.1 s an example: fewer of them keeps the suite quick.
ORGANISATION_PROPERTY = settings(PROPERTY, max_examples=100)
PERIOD = Period(since=date(2026, 6, 1), until=date(2026, 6, 28))
START = pd.Timestamp(PERIOD.start)
PERIOD_MINUTES = PERIOD.days * 24 * 60
DAY_MINUTES = 24 * 60
TEAMS = ("A", "B")
CONFIG = Config(
    teams=[
        TeamConfig(name="A", stakeholders=["vp@acme.com", "ds@acme.com"]),
        TeamConfig(name="B"),
    ]
)
EMAILS = ("vp@acme.com", "VP@ACME.com", "ds@acme.com", "other@acme.com")
LES = (0.05, 0.1, 0.5, math.inf)
PERCENT_IDS = [spec.id for spec in catalog().values() if spec.unit == "%"]
DURATION_IDS = [
    "lead_time_for_changes_hours",
    "pr_cycle_time_hours",
    "time_to_restore_hours",
    "time_to_deploy_hours",
]
LATENCY_IDS = ["endpoint_latency_p50_ms", "endpoint_latency_p95_ms", "endpoint_latency_p99_ms"]


def at(minutes: int) -> pd.Timestamp:
    return START + pd.Timedelta(minutes=minutes)


in_period = st.integers(0, PERIOD_MINUTES - 1)
before_end = st.integers(-200 * DAY_MINUTES, PERIOD_MINUTES - 1)
duration = st.integers(0, 10 * DAY_MINUTES)


@st.composite
def bucket_counts(draw: Any) -> list[float]:
    """Cumulative counts over LES (a real histogram's increases)."""
    increments = draw(st.lists(st.integers(0, 1000), min_size=len(LES), max_size=len(LES)))
    running, counts = 0, []
    for step in increments:
        running += step
        counts.append(float(running))
    return counts


@st.composite
def organisations(draw: Any) -> dict[str, list[dict[str, Any]]]:
    """Rows for every Inputs frame, each within the scope its loader gives it.

    Team A always has a repository with GitHub Deployments, a model registered before
    the end and a meeting in the period: empty subsets trip a known dtype bug (see
    test_modelops / test_stakeholders), which these properties are not about.
    """
    rows: dict[str, list[dict[str, Any]]] = {
        kind: []
        for kind in (
            "repos",
            "pull_requests",
            "deployments",
            "deployment_statuses",
            "deploy_runs",
            "run_counts",
            "incidents",
            "models",
            "versions",
            "alias_observations",
            "endpoint_days",
            "endpoint_buckets",
            "meetings",
            "attendees",
        )
    }
    next_id = iter(range(1, 10_000))
    repos = [("A", "o/a", True), ("A", "o/a-flow", False)]
    if draw(st.booleans()):
        repos.append(("B", "o/b", draw(st.booleans())))
    for team, repo, has_deployments in repos:
        rows["repos"].append({"team": team, "repo": repo, "has_deployments": has_deployments})
    for team, repo, has_deployments in repos:
        for _ in range(draw(st.integers(0, 4))):
            merged = draw(in_period)
            rows["pull_requests"].append(
                {
                    "team": team,
                    "repo": repo,
                    "number": next(next_id),
                    "base_ref": draw(st.sampled_from(["main", "main", "dev"])),
                    "created_at": at(merged - draw(duration)),
                    "merged_at": at(merged),
                }
            )
        for _ in range(draw(st.integers(0, 4))):
            row_id, created = next(next_id), draw(in_period)
            rows["deployments"].append(
                {
                    "team": team,
                    "repo": repo,
                    "id": row_id,
                    "deployment_id": row_id,
                    "environment": draw(st.sampled_from(["production", "production", "staging"])),
                    "created_at": at(created),
                }
            )
            moment = created
            states = [
                "pending",
                "in_progress",
                "success",
                "success",
                "failure",
                "error",
                "inactive",
            ]
            for state in draw(st.lists(st.sampled_from(states), max_size=3)):
                moment += draw(st.integers(1, 3 * DAY_MINUTES))
                rows["deployment_statuses"].append(
                    {
                        "team": team,
                        "repo": repo,
                        "deployment_id": row_id,
                        "status_id": next(next_id),
                        "state": state,
                        "created_at": at(moment),
                    }
                )
        if not has_deployments:
            for _ in range(draw(st.integers(0, 4))):
                created = draw(in_period)
                status = draw(st.sampled_from(["completed", "completed", "in_progress"]))
                rows["deploy_runs"].append(
                    {
                        "team": team,
                        "repo": repo,
                        "run_id": next(next_id),
                        "workflow_name": draw(st.sampled_from(["Deploy", "CI"])),
                        "head_branch": draw(st.sampled_from(["main", "feature"])),
                        "status": status,
                        "conclusion": None
                        if status != "completed"
                        else draw(st.sampled_from(["success", "failure", "cancelled"])),
                        "created_at": at(created),
                        "updated_at": at(created + draw(st.integers(1, 120))),
                    }
                )
        for _ in range(draw(st.integers(0, 3))):
            status = draw(st.sampled_from(["completed", "in_progress"]))
            rows["run_counts"].append(
                {
                    "team": team,
                    "repo": repo,
                    "status": status,
                    "on_default_branch": draw(st.booleans()),
                    "conclusion": None
                    if status != "completed"
                    else draw(
                        st.sampled_from(["success", "failure", "cancelled", "skipped", "timed_out"])
                    ),
                    "runs": draw(st.integers(1, 10)),
                }
            )
        for _ in range(draw(st.integers(0, 3))):
            opened = draw(st.integers(-30 * DAY_MINUTES, PERIOD_MINUTES - 1))
            closed = draw(st.none() | duration)
            rows["incidents"].append(
                {
                    "team": team,
                    "repo": repo,
                    "number": next(next_id),
                    "created_at": at(opened),
                    "closed_at": None if closed is None else at(opened + closed),
                }
            )
    for team in TEAMS:
        for index in range(draw(st.integers(1 if team == "A" else 0, 3))):
            model = f"{team}-m{index}"
            registered = draw(st.none() | before_end) if (team, index) != ("A", 0) else None
            rows["models"].append(
                {
                    "team": team,
                    "name": model,
                    "created_at": None if registered is None else at(registered),
                }
            )
            for number in range(1, draw(st.integers(0, 4)) + 1):
                created = draw(before_end)
                run_lead = draw(st.none() | st.integers(0, 600))
                deployed = draw(st.none() | duration)
                rows["versions"].append(
                    {
                        "team": team,
                        "model": model,
                        "version": str(number),
                        "created_at": at(created),
                        "run_start": None if run_lead is None else at(created - run_lead),
                        "deployed_at": None if deployed is None else at(created + deployed),
                        "aliases": draw(
                            st.lists(st.sampled_from(["champion", "staging"]), max_size=1)
                        ),
                    }
                )
                if draw(st.booleans()):
                    seen = created + draw(duration)
                    rows["alias_observations"].append(
                        {
                            "team": team,
                            "model": model,
                            "version": str(number),
                            "alias": draw(st.sampled_from(["champion", "prod", "staging"])),
                            "first_seen_at": at(seen),
                            "last_seen_at": at(seen + 60),
                        }
                    )
        for index in range(draw(st.integers(0, 2))):
            endpoint = f"{team}-api{index}"
            for day in draw(st.sets(st.integers(0, PERIOD.days - 1), max_size=3)):
                requests = draw(st.integers(0, 1000))
                rows["endpoint_days"].append(
                    {
                        "team": team,
                        "endpoint": endpoint,
                        "day": PERIOD.since + timedelta(days=day),
                        "requests": float(requests),
                        "failures": float(draw(st.integers(0, requests))),
                        "availability_ratio": draw(st.none() | st.floats(0, 1, allow_nan=False)),
                    }
                )
            for le, count in zip(LES, draw(bucket_counts()), strict=True):
                rows["endpoint_buckets"].append(
                    {"team": team, "endpoint": endpoint, "le": le, "count": count}
                )
        starts = draw(st.lists(before_end, max_size=4))
        if team == "A":
            starts.append(draw(in_period))
        for start in starts:
            meeting_id = next(next_id)
            rows["meetings"].append({"team": team, "id": meeting_id, "start": at(start)})
            for email in draw(st.sets(st.sampled_from(EMAILS), max_size=3)):
                rows["attendees"].append(
                    {
                        "team": team,
                        "meeting_id": meeting_id,
                        "email": email,
                        "attended": draw(st.booleans()),
                    }
                )
    return rows


def compute(rows: dict[str, list[dict[str, Any]]], metric_ids, period: Period = PERIOD):
    inputs = make_inputs(teams=TEAMS, **rows)
    return {
        (result.team, result.metric_id): result.value
        for result in compute_from_inputs(inputs, CONFIG, period, metric_ids)
    }


def shifted(rows: dict[str, list[dict[str, Any]]], days: int) -> dict[str, list[dict[str, Any]]]:
    delta = timedelta(days=days)

    def move(value: Any) -> Any:
        if isinstance(value, pd.Timestamp | date):
            return value + delta
        return value

    return {
        kind: [{column: move(value) for column, value in row.items()} for row in frame]
        for kind, frame in rows.items()
    }


# --- properties ---------------------------------------------------------------------------


@PROPERTY
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.floats(0, 1), st.sampled_from(["x", "y"])),
        max_size=8,
    )
)
def test_failure_pct_stays_within_0_and_100(days):
    rows = [
        {
            "endpoint": endpoint,
            "day": PERIOD.since + timedelta(days=index),
            "requests": float(requests),
            "failures": math.floor(requests * share),
        }
        for index, (requests, share, endpoint) in enumerate(days)
    ]
    value = compute({"endpoint_days": rows}, ["endpoint_failure_pct"])[
        ("A", "endpoint_failure_pct")
    ]
    assert value is None or 0.0 <= value <= 100.0


@ORGANISATION_PROPERTY
@given(organisations())
def test_every_percentage_metric_stays_within_0_and_100(rows):
    for (team, metric_id), value in compute(rows, PERCENT_IDS).items():
        assert value is None or 0.0 <= value <= 100.0, (team, metric_id, value)


@ORGANISATION_PROPERTY
@given(organisations(), st.integers(-400, 400))
def test_shifting_every_timestamp_keeps_durations(rows, days):
    period = Period(
        since=PERIOD.since + timedelta(days=days), until=PERIOD.until + timedelta(days=days)
    )
    assert compute(shifted(rows, days), DURATION_IDS, period) == compute(rows, DURATION_IDS)


@ORGANISATION_PROPERTY
@given(organisations(), in_period, st.integers(1, 600), st.sampled_from(["Production", "prod"]))
def test_adding_a_successful_deployment_never_lowers_frequency(rows, created, lag, environment):
    before = compute(rows, ["deployment_frequency_per_week"])
    succeeded = min(created + lag, PERIOD_MINUTES - 1)
    added = {kind: list(frame) for kind, frame in rows.items()}
    added["deployments"].append(
        {
            "team": "A",
            "repo": "o/a",
            "id": 99_999,
            "deployment_id": 99_999,
            "environment": environment,
            "created_at": at(created),
        }
    )
    added["deployment_statuses"].append(
        {
            "team": "A",
            "repo": "o/a",
            "deployment_id": 99_999,
            "status_id": 99_999,
            "state": "success",
            "created_at": at(max(succeeded, created)),
        }
    )
    after = compute(added, ["deployment_frequency_per_week"])
    for key, value in before.items():
        assert value is None or after[key] >= value
    # and team A gained exactly one deployment: + 1 / (28 / 7) per week
    assert after[("A", "deployment_frequency_per_week")] == pytest.approx(
        before[("A", "deployment_frequency_per_week")] + 0.25
    )


@ORGANISATION_PROPERTY
@given(organisations(), in_period)
def test_adding_a_successful_deploy_run_never_lowers_frequency(rows, created):
    before = compute(rows, ["deployment_frequency_per_week"])
    added = {kind: list(frame) for kind, frame in rows.items()}
    added["deploy_runs"].append(
        {
            "team": "A",
            "repo": "o/a-flow",
            "run_id": 99_999,
            "workflow_name": "Deploy",
            "head_branch": "main",
            "status": "completed",
            "conclusion": "success",
            "created_at": at(created),
            "updated_at": at(created),
        }
    )
    after = compute(added, ["deployment_frequency_per_week"])
    for key, value in before.items():
        assert value is None or after[key] >= value
    assert after[("A", "deployment_frequency_per_week")] == pytest.approx(
        before[("A", "deployment_frequency_per_week")] + 0.25
    )


@st.composite
def endpoint_buckets(draw: Any) -> list[dict[str, Any]]:
    rows = []
    for endpoint in range(draw(st.integers(1, 3))):
        bounds = draw(st.sets(st.sampled_from(LES[:-1]), min_size=1)) | {math.inf}
        for le in sorted(bounds):
            rows.append(
                {
                    "endpoint": f"api{endpoint}",
                    "le": le,
                    "count": float(draw(st.integers(0, 1000))),  # may even be non-monotonic
                }
            )
    return rows


@PROPERTY
@given(endpoint_buckets())
def test_pooled_latency_quantiles_are_monotonic_in_q(rows):
    values = compute({"endpoint_buckets": rows}, LATENCY_IDS)
    p50, p95, p99 = (values[("A", metric)] for metric in LATENCY_IDS)
    if p50 is None:
        assert p95 is None
        assert p99 is None
    else:
        assert p50 <= p95 <= p99


@PROPERTY
@given(
    bucket_counts(),
    bucket_counts(),
    st.sampled_from(list(zip(LATENCY_IDS, (0.5, 0.95, 0.99), strict=True))),
)
def test_quantile_of_two_days_pooled_equals_quantile_of_summed_counts(day1, day2, metric_q):
    metric, q = metric_q
    rows = [
        {"endpoint": "api", "le": le, "count": count}
        for counts in (day1, day2)
        for le, count in zip(LES, counts, strict=True)
    ]
    value = compute({"endpoint_buckets": rows}, [metric])[("A", metric)]
    expected = histogram_quantile(q, LES, [a + b for a, b in zip(day1, day2, strict=True)])
    if math.isnan(expected):
        assert value is None
    else:
        assert value == pytest.approx(expected * 1000, rel=1e-12)
