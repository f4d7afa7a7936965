"""ModelOps metrics on hand-made registry frames; expected values worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from config import TeamConfig
from data.loaders import Period
from tests.metrics.builders import config_for, make_inputs, results, ts, value_of

# 30 whole days: [2026-06-01 00:00, 2026-07-01 00:00), so "per 30 days" divides by 1.
JUNE = Period(since=date(2026, 6, 1), until=date(2026, 6, 30))


def _version(model: str, version: int, created: str, team: str = "A", **extra):
    return {
        "team": team,
        "model": model,
        "version": str(version),
        "created_at": ts(created),
    } | extra


# --- retrains_per_model_per_30d -------------------------------------------------------


def _retrain_inputs():
    return make_inputs(
        teams=("A", "B", "C"),
        models=[
            {"team": "A", "name": "m1", "created_at": ts("2025-01-01")},
            {"team": "A", "name": "m2"},  # no creation time: assumed to exist
            {"team": "A", "name": "m3", "created_at": ts("2026-07-05")},  # after the end
            {"team": "B", "name": "b1", "created_at": ts("2025-01-01")},
        ],
        versions=[
            _version("m1", 1, "2026-05-20"),  # before the period
            _version("m1", 2, "2026-06-05"),
            _version("m1", 3, "2026-06-25"),
            _version("m2", 1, "2026-06-10"),  # a model with one version
        ],
    )


def test_retrains_count_versions_in_period_per_model():
    found = results(_retrain_inputs(), "retrains_per_model_per_30d", JUNE)
    # A: versions in June: m1 v2, m1 v3, m2 v1 = 3; models existing at the end: m1, m2 = 2
    # -> 3 / 2 / (30 / 30) = 1.5; target 30 / retrain_every_days(30) = 1 -> ok
    assert found["A"].value == pytest.approx(1.5)
    assert found["A"].target == pytest.approx(1.0)
    assert found["A"].status == "ok"
    rows = found["A"].rows.set_index("model")["versions_in_period"].to_dict()
    assert rows == {"m1": 2, "m2": 1}
    # B: one model, no version in the period -> 0 / 1 = 0 (a real zero), breach
    assert found["B"].value == 0.0
    assert found["B"].status == "breach"
    # C: no registered model -> unknown, not 0
    assert found["C"].value is None
    assert found["C"].status == "unknown"


def test_retrains_version_before_period_counts_only_in_longer_period():
    sixty = Period(since=date(2026, 5, 2), until=date(2026, 6, 30))
    # 60 days: m1 v1 (05-20) now inside too -> 4 versions / 2 models / (60 / 30) = 1.0
    assert value_of(_retrain_inputs(), "retrains_per_model_per_30d", sixty) == pytest.approx(1.0)


def test_retrains_target_override_turns_ok_into_breach():
    config = config_for(TeamConfig(name="A", targets={"retrain_every_days": 15}), "B")
    found = results(_retrain_inputs(), "retrains_per_model_per_30d", JUNE, config)
    # target 30 / 15 = 2 per 30 days; 1.5 < 2 -> breach
    assert found["A"].target == pytest.approx(2.0)
    assert found["A"].status == "breach"


# --- models_meeting_retrain_target_pct ---------------------------------------------------


def _freshness_inputs():
    return make_inputs(
        teams=("A", "B"),
        models=[{"team": "A", "name": n} for n in ("fresh", "old", "empty", "edge")]
        + [{"team": "B", "name": "b1"}],
        versions=[
            _version("fresh", 1, "2026-01-01"),
            _version("fresh", 2, "2026-06-25"),  # newest: 6 days before 07-01
            _version("old", 1, "2026-05-01"),  # 61 days old at the end
            _version("edge", 1, "2026-06-01"),  # exactly 30.0 days old: meets (<=)
            _version("b1", 1, "2026-06-29", team="B"),
        ],
    )


def test_models_meeting_retrain_target():
    found = results(_freshness_inputs(), "models_meeting_retrain_target_pct", JUNE)
    # A: fresh (6 d) yes, old (61 d) no, empty (no version) no, edge (30 d) yes -> 2/4 = 50 %
    assert found["A"].value == pytest.approx(50.0)
    assert found["A"].target == 100.0
    assert found["A"].status == "breach"
    meets = found["A"].rows.set_index("model")["meets_target"].to_dict()
    assert meets == {"fresh": True, "old": False, "empty": False, "edge": True}
    # B: its only model was retrained 2 days before the end -> 100 %, ok
    assert found["B"].value == pytest.approx(100.0)
    assert found["B"].status == "ok"


def test_models_meeting_retrain_target_uses_team_override():
    config = config_for(TeamConfig(name="A", targets={"retrain_every_days": 70}), "B")
    found = results(_freshness_inputs(), "models_meeting_retrain_target_pct", JUNE, config)
    # 70 days: old (61 d) now meets too -> 3/4 = 75 %
    assert found["A"].value == pytest.approx(75.0)


def test_models_meeting_retrain_target_unknown_without_models():
    found = results(make_inputs(), "models_meeting_retrain_target_pct", JUNE)
    assert found["A"].value is None
    assert found["A"].status == "unknown"


# --- stale_models -----------------------------------------------------------------------


def _serving_inputs():
    return make_inputs(
        teams=("A", "B"),
        models=[{"team": "A", "name": n} for n in ("obs", "cur", "new", "solo", "none")]
        + [{"team": "B", "name": "b-none"}],
        versions=[
            # obs: observed champion on v1 (before the end) beats the current alias on v2
            _version("obs", 1, "2026-01-01"),
            _version("obs", 2, "2026-06-20", aliases=["champion"]),
            # cur: no observation; v1 holds "prod" now although v2 is newer
            _version("cur", 1, "2026-02-01", aliases=["prod"]),
            _version("cur", 2, "2026-06-15"),
            # new: no production alias anywhere -> newest by version number ("10" > "9")
            _version("new", 9, "2026-01-01"),
            _version("new", 10, "2026-06-01"),
            # solo: a model with one version, 2 days old
            _version("solo", 1, "2026-06-29"),
        ],
        alias_observations=[
            {
                "model": "obs",
                "alias": "champion",
                "version": "1",
                "first_seen_at": ts("2026-01-05"),
                "last_seen_at": ts("2026-07-09"),
            },
            {  # seen only after the period end: not yet serving at the end
                "model": "obs",
                "alias": "champion",
                "version": "2",
                "first_seen_at": ts("2026-07-10"),
                "last_seen_at": ts("2026-07-12"),
            },
            {  # not a production alias
                "model": "new",
                "alias": "staging",
                "version": "9",
                "first_seen_at": ts("2026-06-02"),
                "last_seen_at": ts("2026-06-03"),
            },
        ],
    )


def test_stale_models_follow_the_serving_version():
    found = results(_serving_inputs(), "stale_models", JUNE)
    # end 2026-07-01; stale when older than 90 days:
    #   obs  -> v1 (observed alias), created 2026-01-01: 181 days -> stale
    #   cur  -> v1 (current alias),  created 2026-02-01: 150 days -> stale
    #   new  -> v10 (newest),        created 2026-06-01:  30 days -> fresh
    #   solo -> v1 (newest),         created 2026-06-29:   2 days -> fresh
    #   none -> no version: listed, not counted
    assert found["A"].value == 2.0
    assert found["A"].target == 0.0
    assert found["A"].status == "breach"
    rows = found["A"].rows.set_index("model")
    assert rows["serving_version"].to_dict() == {
        "obs": "1",
        "cur": "1",
        "new": "10",
        "solo": "1",
        "none": None,
    }
    assert rows["basis"].to_dict() == {
        "obs": "production alias (observed)",
        "cur": "production alias",
        "new": "newest version",
        "solo": "newest version",
        "none": "no version",
    }
    assert rows.loc["obs", "age_days"] == pytest.approx(181.0)
    assert rows.loc["cur", "age_days"] == pytest.approx(150.0)
    # B: its only model has no version -> unknown, not 0
    assert found["B"].value is None
    assert found["B"].status == "unknown"


def test_stale_models_override_makes_team_ok():
    config = config_for(TeamConfig(name="A", targets={"stale_after_days": 200}), "B")
    found = results(_serving_inputs(), "stale_models", JUNE, config)
    # 200 days: 181 and 150 are no longer stale -> 0, target 0 -> ok
    assert found["A"].value == 0.0
    assert found["A"].status == "ok"


def test_stale_models_version_before_period_counts():
    inputs = make_inputs(models=[{"name": "m"}], versions=[_version("m", 1, "2026-03-01")])
    # created before the period, 122 days old at 07-01 -> stale although not a retrain
    assert value_of(inputs, "stale_models", JUNE) == 1.0
    assert value_of(
        make_inputs(models=[{"name": "m"}], versions=[_version("m", 1, "2026-03-01")]),
        "retrains_per_model_per_30d",
        JUNE,
    ) == pytest.approx(0.0)


# --- time_to_deploy_hours ----------------------------------------------------------------


def _deploy_inputs(extra_versions=()):
    observation = {"last_seen_at": ts("2026-06-30")}
    return make_inputs(
        models=[{"name": "m"}],
        versions=[
            # v1: deployed_at tag, run start -> 06-02 00:00 - 06-01 00:00 = 24 h
            _version(
                "m",
                1,
                "2026-06-01 04:00",
                run_start=ts("2026-06-01 00:00"),
                deployed_at=ts("2026-06-02 00:00"),
            ),
            # v2: no tag, no run -> first production alias sighting (06-10 12:00)
            #     minus creation (06-10 00:00) = 12 h
            _version("m", 2, "2026-06-10 00:00"),
            # v3: tag wins over the later sighting -> 06-15 06:00 - 06-15 00:00 = 6 h
            _version(
                "m",
                3,
                "2026-06-15 02:00",
                run_start=ts("2026-06-15 00:00"),
                deployed_at=ts("2026-06-15 06:00"),
            ),
            # v4: only seen under a non-production alias -> not deployed
            _version("m", 4, "2026-06-18"),
            # v5: deployed before the period; v6: deployed after its end
            _version("m", 5, "2026-05-01", deployed_at=ts("2026-05-02")),
            _version("m", 6, "2026-06-29", deployed_at=ts("2026-07-02")),
            *extra_versions,
        ],
        alias_observations=[
            {"model": "m", "alias": "prod", "version": "2", "first_seen_at": ts("2026-06-11")}
            | observation,
            {
                "model": "m",
                "alias": "champion",
                "version": "2",
                "first_seen_at": ts("2026-06-10 12:00"),
            }
            | observation,
            {"model": "m", "alias": "champion", "version": "3", "first_seen_at": ts("2026-06-20")}
            | observation,
            {"model": "m", "alias": "staging", "version": "4", "first_seen_at": ts("2026-06-19")}
            | observation,
        ],
    )


def test_time_to_deploy_median_of_deployed_versions():
    found = results(_deploy_inputs(), "time_to_deploy_hours", JUNE)
    # hours: v1 24, v2 12, v3 6 -> median 12; target 168 -> ok
    assert found["A"].value == pytest.approx(12.0)
    assert found["A"].status == "ok"
    hours = found["A"].rows.set_index("version")["hours"].to_dict()
    assert hours == pytest.approx({"1": 24.0, "2": 12.0, "3": 6.0})


def test_time_to_deploy_override_breaches():
    config = config_for(TeamConfig(name="A", targets={"time_to_deploy_hours": 10}))
    found = results(_deploy_inputs(), "time_to_deploy_hours", JUNE, config)
    assert found["A"].status == "breach"  # 12 h > 10 h


def test_time_to_deploy_unknown_when_nothing_deployed_in_period():
    inputs = make_inputs(
        models=[{"name": "m"}],
        versions=[_version("m", 1, "2026-05-01", deployed_at=ts("2026-05-02"))],
    )
    found = results(inputs, "time_to_deploy_hours", JUNE)
    assert found["A"].value is None
    assert found["A"].status == "unknown"


def test_stale_and_freshness_unknown_when_every_model_is_registered_after_the_end():
    # Backfilling June for a team whose only model was registered in July: the model
    # does not exist at the period end, so both metrics are unknown (no crash, no 0).
    inputs = make_inputs(models=[{"name": "later", "created_at": ts("2026-07-05")}])
    found = results(inputs, "stale_models", JUNE)
    assert found["A"].value is None
    assert found["A"].status == "unknown"
    found = results(
        make_inputs(models=[{"name": "later", "created_at": ts("2026-07-05")}]),
        "models_meeting_retrain_target_pct",
        JUNE,
    )
    assert found["A"].value is None
    assert found["A"].status == "unknown"


def test_stale_models_unknown_without_models():
    found = results(make_inputs(), "stale_models", JUNE)
    assert found["A"].value is None
    assert found["A"].status == "unknown"


def test_retrains_unknown_without_models():
    found = results(make_inputs(), "retrains_per_model_per_30d", JUNE)
    assert found["A"].value is None
    assert found["A"].status == "unknown"


def test_a_rollback_serves_the_version_seen_last():
    """champion 3 → 4 → 3: (champion, 3) keeps its first sighting but is seen latest."""
    inputs = make_inputs(
        models=[{"name": "m"}],
        versions=[_version("m", n, "2026-01-0" + str(n)) for n in (3, 4)],
        alias_observations=[
            {
                "model": "m",
                "alias": "champion",
                "version": "3",
                "first_seen_at": ts("2026-03-01"),
                "last_seen_at": ts("2026-06-20"),
            },
            {
                "model": "m",
                "alias": "champion",
                "version": "4",
                "first_seen_at": ts("2026-05-01"),
                "last_seen_at": ts("2026-05-20"),
            },
        ],
    )
    rows = results(inputs, "stale_models", JUNE)["A"].rows.set_index("model")
    assert rows.loc["m", "serving_version"] == "3"
    # Mid-May, 4 was the one in production.
    may = Period(since=date(2026, 4, 1), until=date(2026, 5, 10))
    rows = results(inputs, "stale_models", may)["A"].rows.set_index("model")
    assert rows.loc["m", "serving_version"] == "4"
