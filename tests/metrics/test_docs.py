"""docs/metrics.md is generated from the catalog and must be current."""

from __future__ import annotations

import pytest

from metrics import docs
from metrics.catalog import catalog

DESIGN_IDS = [  # in the order of DESIGN §6
    "retrains_per_model_per_30d",
    "models_meeting_retrain_target_pct",
    "stale_models",
    "time_to_deploy_hours",
    "endpoint_latency_p50_ms",
    "endpoint_latency_p95_ms",
    "endpoint_latency_p99_ms",
    "endpoint_requests",
    "endpoint_failure_pct",
    "endpoint_availability_pct",
    "deployment_frequency_per_week",
    "lead_time_for_changes_hours",
    "change_failure_rate_pct",
    "time_to_restore_hours",
    "ci_success_rate_pct",
    "pr_cycle_time_hours",
    "days_since_stakeholder_update",
    "stakeholder_update_cadence_pct",
    "stakeholder_attendance_pct",
]


def test_docs_check_passes(capsys):
    assert docs.main(["--check"]) == 0, capsys.readouterr().err


def test_catalog_holds_exactly_the_design_ids_in_design_order():
    assert list(catalog()) == DESIGN_IDS


@pytest.mark.parametrize("metric_id", DESIGN_IDS)
def test_catalog_entry_is_documented(metric_id):
    spec = catalog()[metric_id]
    assert spec.definition.strip()
    assert spec.unit.strip()
    assert spec.unknown_when.strip()
    assert spec.formula.strip()
    text = docs.DOC_PATH.read_text(encoding="utf-8")
    assert f"### `{metric_id}`" in text
    assert spec.definition.replace("\n", " ") in text
    assert f"Unknown when {spec.unknown_when}." in text
