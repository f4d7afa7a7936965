"""DORA tiers at the boundaries of each band (metrics/dora_tiers.toml)."""

from __future__ import annotations

import pytest

from metrics.catalog import catalog
from metrics.dora import dora_metric_ids, tier, tier_words


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (30.0, "elite"),
        (7.0, "elite"),  # at least daily: 7 per week
        (6.99, "high"),
        (1.0, "high"),  # weekly
        (0.99, "medium"),
        (0.230137, "medium"),  # monthly: 7 / 30.42 per week
        (0.23, "low"),
        (0.0, "low"),
    ],
)
def test_deployment_frequency_tiers(value, expected):
    assert tier("deployment_frequency_per_week", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "elite"),
        (24.0, "elite"),  # less than a day (bound inclusive)
        (24.01, "high"),
        (168.0, "high"),  # a week
        (168.01, "medium"),
        (730.0, "medium"),  # a month
        (730.01, "low"),
    ],
)
def test_lead_time_tiers(value, expected):
    assert tier("lead_time_for_changes_hours", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "elite"),
        (5.0, "elite"),
        (5.01, "high"),
        (10.0, "high"),
        (10.01, "medium"),
        (20.0, "medium"),
        (20.01, "low"),
        (100.0, "low"),
    ],
)
def test_change_failure_rate_tiers(value, expected):
    assert tier("change_failure_rate_pct", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, "elite"),
        (1.0, "elite"),  # an hour
        (1.01, "high"),
        (24.0, "high"),  # a day
        (24.01, "medium"),
        (168.0, "medium"),  # a week
        (168.01, "low"),
    ],
)
def test_time_to_restore_tiers(value, expected):
    assert tier("time_to_restore_hours", value) == expected


def test_unknown_value_and_untiered_metric_have_no_tier():
    assert tier("lead_time_for_changes_hours", None) is None
    assert tier("pr_cycle_time_hours", 5.0) is None
    assert tier("no_such_metric", 5.0) is None


def test_the_four_keys_are_tiered_catalog_metrics_with_words():
    ids = dora_metric_ids()
    assert sorted(ids) == sorted(
        [
            "deployment_frequency_per_week",
            "lead_time_for_changes_hours",
            "change_failure_rate_pct",
            "time_to_restore_hours",
        ]
    )
    assert set(ids) <= set(catalog())
    for metric_id in ids:
        for name in ("elite", "high", "medium", "low"):
            assert tier_words(metric_id, name)
