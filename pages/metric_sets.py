"""Which metrics each page shows in its teams × metrics table, with the column labels.

Kept out of the page scripts so that tests (and other pages) can import them:
importing a page script would run it.
"""

from __future__ import annotations

from typing import Final

HEADLINE: Final[dict[str, str]] = {
    "retrains_per_model_per_30d": "Retrains / model / 30 d",
    "time_to_deploy_hours": "Time to deploy (h)",
    "endpoint_latency_p95_ms": "p95 latency (ms)",
    "endpoint_failure_pct": "Failed calls (%)",
    "stale_models": "Stale models",
    "days_since_stakeholder_update": "Days since update",
    "deployment_frequency_per_week": "Deploys / week (tier)",
}
"""The Overview's headline metrics, in column order."""

REGISTRY: Final[dict[str, str]] = {
    "retrains_per_model_per_30d": "Retrains / model / 30 d",
    "models_meeting_retrain_target_pct": "Models meeting retrain target (%)",
    "stale_models": "Stale models",
    "time_to_deploy_hours": "Time to deploy (h, median)",
}

ENDPOINTS: Final[dict[str, str]] = {
    "endpoint_latency_p50_ms": "p50 latency (ms)",
    "endpoint_latency_p95_ms": "p95 latency (ms)",
    "endpoint_latency_p99_ms": "p99 latency (ms)",
    "endpoint_requests": "Requests",
    "endpoint_failure_pct": "Failed calls (%)",
    "endpoint_availability_pct": "Availability (%)",
}

DELIVERY: Final[dict[str, str]] = {
    "deployment_frequency_per_week": "Deploys / week",
    "lead_time_for_changes_hours": "Lead time for changes (h)",
    "change_failure_rate_pct": "Change failure rate (%)",
    "time_to_restore_hours": "Time to restore (h)",
    "ci_success_rate_pct": "CI success (%)",
    "pr_cycle_time_hours": "PR cycle time (h)",
}

STAKEHOLDERS: Final[dict[str, str]] = {
    "days_since_stakeholder_update": "Days since the last update",
    "stakeholder_update_cadence_pct": "Gaps within the cadence (%)",
    "stakeholder_attendance_pct": "Stakeholder attendance (%)",
}
