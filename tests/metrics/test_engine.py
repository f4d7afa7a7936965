"""`compute_from_inputs`: statuses, targets and unknown values, independent of any metric."""

from __future__ import annotations

from datetime import date

import pytest

from config import TeamConfig
from data.loaders import Period
from metrics.catalog import catalog
from metrics.engine import compute_from_inputs
from tests.metrics.builders import config_for, make_inputs, results

JUNE = Period(since=date(2026, 6, 1), until=date(2026, 6, 30))


def test_unknown_metric_id_is_refused():
    with pytest.raises(KeyError, match="no_such_metric"):
        compute_from_inputs(make_inputs(), config_for("A"), JUNE, ["no_such_metric"])


def test_every_metric_unknown_on_empty_inputs():
    found = compute_from_inputs(make_inputs(teams=("A", "B")), config_for("A"), JUNE)
    # B is not in the config: it gets the default targets, and is still computed
    assert len(found) == 2 * len(catalog())
    assert {(result.value, result.status) for result in found} == {(None, "unknown")}
    assert all(result.note.startswith("unknown: ") for result in found)


@pytest.mark.parametrize(
    ("metric_id", "value", "target", "status"),
    [
        ("endpoint_latency_p95_ms", 300.0, 300.0, "ok"),  # lower is better: equal is ok
        ("endpoint_latency_p95_ms", 300.5, 300.0, "breach"),
        ("endpoint_availability_pct", 99.5, 99.5, "ok"),  # higher is better: equal is ok
        ("endpoint_availability_pct", 99.4, 99.5, "breach"),
        ("endpoint_latency_p50_ms", 9999.0, None, "ok"),  # no target: shown for information
        ("endpoint_latency_p50_ms", None, None, "unknown"),
    ],
)
def test_status_rule(metric_id, value, target, status):
    assert catalog()[metric_id].status(value, target) == status


def test_targets_default_and_team_override():
    config = config_for(
        TeamConfig(name="A", targets={"latency_p95_ms": 150}), "B", latency_p95_ms=250
    )
    found = results(make_inputs(teams=("A", "B", "C")), "endpoint_latency_p95_ms", JUNE, config)
    # A overrides; B and C (not configured) take the default of [targets]
    assert {team: result.target for team, result in found.items()} == {
        "A": 150.0,
        "B": 250.0,
        "C": 250.0,
    }
    assert found["A"].as_record()["target"] == 150.0
