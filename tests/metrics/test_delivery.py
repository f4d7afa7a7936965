"""DevOps metrics (DORA keys, CI, PR cycle) on hand-made GitHub frames."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data.loaders import Period
from tests.metrics.builders import (
    deployment,
    deployments_of,
    make_inputs,
    results,
    ts,
    value_of,
)

# 14 whole days: [2026-06-01, 2026-06-15), i.e. 2 weeks.
TWO_WEEKS = Period(since=date(2026, 6, 1), until=date(2026, 6, 14))
REPOS = [{"repo": "o/a", "has_deployments": True}]


def _github_deployments():
    return deployments_of(
        # success, then GitHub marks it inactive when a newer one succeeds: still a success
        deployment(
            1,
            "2026-06-02 10:00",
            [
                ("in_progress", "2026-06-02 10:01"),
                ("success", "2026-06-02 10:10"),
                ("inactive", "2026-06-05 00:00"),
            ],
        ),
        # never succeeded: no deployment for frequency, a failure for CFR
        deployment(2, "2026-06-03 09:00", [("failure", "2026-06-03 09:20")]),
        # not production
        deployment(3, "2026-06-04 09:00", [("success", "2026-06-04 09:05")], environment="staging"),
        # no final status yet: neither a deployment nor in CFR
        deployment(4, "2026-06-04 12:00", [("pending", "2026-06-04 12:01")]),
        # succeeded, then failed (rolled back): counts for frequency, fails for CFR
        deployment(
            5,
            "2026-06-05 00:00",
            [("success", "2026-06-05 01:00"), ("failure", "2026-06-05 02:00")],
        ),
        # "Prod-EU" matches the default production regex (?i)^prod
        deployment(6, "2026-06-06 00:00", [("success", "2026-06-06 00:30")], environment="Prod-EU"),
    )


def test_deployment_frequency_counts_successful_production_deployments():
    found = results(
        make_inputs(repos=REPOS, **_github_deployments()),
        "deployment_frequency_per_week",
        TWO_WEEKS,
    )["A"]
    # successful production deployments: #1, #5, #6 = 3 in 14 days -> 3 / (14 / 7) = 1.5
    assert found.value == pytest.approx(1.5)
    assert sorted(found.rows["ref"]) == ["1001", "1005", "1006"]
    assert found.status == "ok"  # no target


def test_change_failure_rate_uses_final_status():
    found = results(
        make_inputs(repos=REPOS, **_github_deployments()), "change_failure_rate_pct", TWO_WEEKS
    )["A"]
    # finished production deployments: #1 success (inactive ignored), #2 failure,
    # #5 failure (last final status), #6 success -> 2 / 4 = 50 %
    assert found.value == pytest.approx(50.0)
    failed = found.rows.set_index("ref")["change_failure"].to_dict()
    assert failed == {"1001": False, "1002": True, "1005": True, "1006": False}


def test_deployment_succeeding_after_the_period_end_does_not_count():
    inputs = make_inputs(
        repos=REPOS,
        **deployments_of(deployment(1, "2026-06-14 23:00", [("success", "2026-06-15 00:30")])),
    )
    # created inside, but its success is at/after the end (06-15 00:00) -> 0 deployments
    assert value_of(inputs, "deployment_frequency_per_week", TWO_WEEKS) == 0.0


def test_change_failure_rate_ignores_statuses_after_the_period_end():
    # As of the end (06-15 00:00), #2 has no final status; the failure posted an hour
    # later is not known then, so CFR must be what it was on 06-15: #1 only -> 0 %.
    before = deployment(1, "2026-06-10 00:00", [("success", "2026-06-10 00:10")])
    late = deployment(2, "2026-06-14 23:00", [("failure", "2026-06-15 01:00")])
    inputs = make_inputs(repos=REPOS, **deployments_of(before, late))
    assert value_of(inputs, "change_failure_rate_pct", TWO_WEEKS) == pytest.approx(0.0)


def test_change_failure_rate_ignores_deploy_runs_finishing_after_the_period_end():
    # The run started inside the period but failed at 06-15 00:05, after the end: as of
    # the end it had no outcome, so only run 1 (success) is finished -> 0 %.
    inputs = make_inputs(
        repos=[{"repo": "o/w", "has_deployments": False}],
        deploy_runs=[
            _run(1, "Deploy", "success", "2026-06-10 00:00"),
            _run(2, "Deploy", "failure", "2026-06-14 23:56"),
        ],
    )
    assert value_of(inputs, "change_failure_rate_pct", TWO_WEEKS) == pytest.approx(0.0)


def test_deployment_frequency_zero_with_repos_unknown_without():
    found = results(
        make_inputs(teams=("A", "B"), repos=REPOS),
        "deployment_frequency_per_week",
        TWO_WEEKS,
    )
    # A has a repository but no deployment: a measured 0
    assert found["A"].value == 0.0
    # B has no repository: unknown, not 0
    assert (found["B"].value, found["B"].status) == (None, "unknown")


# --- deploy workflows for repositories without GitHub Deployments ------------------------


def _run(run_id, name, conclusion, created, *, repo="o/w", branch="main", status="completed"):
    return {
        "repo": repo,
        "run_id": run_id,
        "workflow_name": name,
        "head_branch": branch,
        "status": status,
        "conclusion": conclusion,
        "created_at": ts(created),
        "updated_at": ts(created) + pd.Timedelta(minutes=9),
    }


def _workflow_inputs():
    return make_inputs(
        repos=[
            {"repo": "o/w", "has_deployments": False},
            {"repo": "o/d", "has_deployments": True},
        ],
        deploy_runs=[
            _run(1, "Deploy to production", "success", "2026-06-02 10:00"),  # counts
            _run(
                2, "Deploy to production", "success", "2026-06-03 10:00", branch="feature/x"
            ),  # feature branch: no
            _run(3, "Nightly build", "success", "2026-06-04 10:00"),  # name does not match
            _run(4, "deploy", "failure", "2026-06-05 10:00"),  # failed deployment
            _run(5, "Deploy", None, "2026-06-06 10:00", status="in_progress"),
            _run(6, "Deploy", "cancelled", "2026-06-07 10:00"),  # no outcome
            _run(7, "Deploy", "success", "2026-06-08 10:00", repo="o/d"),  # has Deployments
        ],
    )


def test_deploy_workflow_runs_stand_in_for_missing_deployments():
    found = results(_workflow_inputs(), "deployment_frequency_per_week", TWO_WEEKS)["A"]
    # only run 1 -> 1 / 2 weeks = 0.5
    assert found.value == pytest.approx(0.5)
    assert list(found.rows["ref"]) == ["1"]
    assert list(found.rows["via"]) == ["workflow"]
    # its time is the run's end: 10:00 + 9 min
    assert found.rows["succeeded_at"].iloc[0] == ts("2026-06-02 10:09")


def test_deploy_workflow_failures_count_for_change_failure_rate():
    found = results(_workflow_inputs(), "change_failure_rate_pct", TWO_WEEKS)["A"]
    # finished deploy runs: 1 success, 4 failure (cancelled 6 has no outcome) -> 50 %
    assert found.value == pytest.approx(50.0)
    assert sorted(found.rows["ref"]) == ["1", "4"]


# --- change failure rate and incidents -----------------------------------------------------


def _incident(number, opened, *, repo="o/a", closed=None):
    return {
        "repo": repo,
        "number": number,
        "created_at": ts(opened),
        "closed_at": None if closed is None else ts(closed),
    }


def _incident_inputs(incidents):
    return make_inputs(
        repos=[*REPOS, {"repo": "o/b", "has_deployments": False}],
        incidents=incidents,
        **deployments_of(
            deployment(1, "2026-06-02 23:50", [("success", "2026-06-03 00:00")]),
            deployment(2, "2026-06-07 23:50", [("success", "2026-06-08 00:00")]),
        ),
    )


def test_incident_before_any_deployment_links_to_nothing():
    found = results(
        _incident_inputs(
            [
                _incident(10, "2026-06-01 12:00"),  # before deployment #1: no link
                _incident(12, "2026-06-09 00:00", repo="o/b"),  # other repository
            ]
        ),
        "change_failure_rate_pct",
        TWO_WEEKS,
    )["A"]
    # 2 successful deployments, none caused an incident -> 0 % (a measured 0)
    assert found.value == 0.0
    assert found.status == "ok"


def test_incident_between_deployments_links_to_the_earlier_one():
    found = results(
        _incident_inputs(
            [
                _incident(10, "2026-06-01 12:00"),
                _incident(11, "2026-06-05 00:00"),  # after #1 (06-03), before #2 (06-08)
            ]
        ),
        "change_failure_rate_pct",
        TWO_WEEKS,
    )["A"]
    # #1 caused incident 11, #2 is clean -> 1 / 2 = 50 %
    assert found.value == pytest.approx(50.0)
    caused = found.rows.set_index("ref")["caused_incident"].to_dict()
    assert caused == {"1001": True, "1002": False}


def test_change_failure_rate_unknown_without_finished_deployment():
    inputs = make_inputs(
        repos=REPOS,
        **deployments_of(deployment(1, "2026-06-02 00:00", [("pending", "2026-06-02 00:01")])),
    )
    found = results(inputs, "change_failure_rate_pct", TWO_WEEKS)["A"]
    assert (found.value, found.status) == (None, "unknown")


# --- lead time for changes -----------------------------------------------------------------


def _pr(number, created, merged, *, repo="o/a", base="main"):
    return {
        "repo": repo,
        "number": number,
        "base_ref": base,
        "created_at": ts(created),
        "merged_at": None if merged is None else ts(merged),
    }


def _lead_time_inputs(prs):
    return make_inputs(
        repos=[*REPOS, {"repo": "o/b", "has_deployments": True}],
        pull_requests=prs,
        **deployments_of(
            deployment(9, "2026-06-02 12:00", [("failure", "2026-06-02 12:30")]),  # failed
            deployment(1, "2026-06-02 23:50", [("success", "2026-06-03 00:00")]),
        ),
    )


def test_lead_time_median_over_deployed_prs():
    found = results(
        _lead_time_inputs(
            [
                # merged 06-01 10:00; the failed deploy (06-02 12:30) does not count; first
                # success at/after merge 06-03 00:00 -> 06-03 00:00 - 06-01 00:00 = 48 h
                _pr(1, "2026-06-01 00:00", "2026-06-01 10:00"),
                # merged exactly at the deploy's success (at or after) -> 24 h
                _pr(2, "2026-06-02 00:00", "2026-06-03 00:00"),
                # merged after the last deployment: never deployed -> listed, NaN
                _pr(3, "2026-06-04 00:00", "2026-06-05 00:00"),
                # merged into another branch: not a change to production
                _pr(4, "2026-06-01 00:00", "2026-06-01 01:00", base="dev"),
                # another repository with no deployment of its own: NaN
                _pr(5, "2026-06-01 00:00", "2026-06-01 02:00", repo="o/b"),
            ]
        ),
        "lead_time_for_changes_hours",
        TWO_WEEKS,
    )["A"]
    # median(48, 24) = 36 h
    assert found.value == pytest.approx(36.0)
    hours = found.rows.set_index("number")["hours"]
    assert sorted(hours.index) == [1, 2, 3, 5]
    assert hours[1] == pytest.approx(48.0)
    assert hours[2] == pytest.approx(24.0)
    assert hours[[3, 5]].isna().all()


def test_lead_time_unknown_when_no_merged_pr_was_deployed():
    found = results(
        _lead_time_inputs([_pr(3, "2026-06-04 00:00", "2026-06-05 00:00")]),
        "lead_time_for_changes_hours",
        TWO_WEEKS,
    )["A"]
    assert (found.value, found.status) == (None, "unknown")
    assert len(found.rows) == 1


# --- time to restore -----------------------------------------------------------------------


def test_time_to_restore_median_of_incidents_closed_in_period():
    inputs = make_inputs(
        repos=REPOS,
        incidents=[
            _incident(1, "2026-05-31 12:00", closed="2026-06-01 12:00"),  # opened before: 24 h
            _incident(2, "2026-06-10 00:00", closed="2026-06-10 02:00"),  # 2 h
            _incident(3, "2026-06-12 00:00", closed="2026-06-16 00:00"),  # closed after end
            _incident(4, "2026-06-13 00:00"),  # still open
            _incident(5, "2026-05-01 00:00", closed="2026-05-02 00:00"),  # closed before
        ],
    )
    found = results(inputs, "time_to_restore_hours", TWO_WEEKS)["A"]
    # median(24, 2) = 13 h
    assert found.value == pytest.approx(13.0)
    assert sorted(found.rows["number"]) == [1, 2]


def test_time_to_restore_unknown_without_closed_incident():
    inputs = make_inputs(repos=REPOS, incidents=[_incident(4, "2026-06-13 00:00")])
    found = results(inputs, "time_to_restore_hours", TWO_WEEKS)["A"]
    assert (found.value, found.status) == (None, "unknown")


# --- CI success rate -----------------------------------------------------------------------


def test_ci_success_rate_excludes_cancelled_skipped_and_unfinished():
    def counts(conclusion, runs, status="completed", branch=True):
        return {
            "status": status,
            "conclusion": conclusion,
            "runs": runs,
            "on_default_branch": branch,
        }

    inputs = make_inputs(
        repos=REPOS,
        run_counts=[
            counts("success", 7),
            counts("failure", 2, branch=False),
            counts("timed_out", 1),
            counts("cancelled", 5),
            counts("skipped", 3),
            counts(None, 4, status="in_progress"),
        ],
    )
    # counted: 7 success + 2 failure + 1 timed_out = 10 -> 7 / 10 = 70 %
    found = results(inputs, "ci_success_rate_pct", TWO_WEEKS)["A"]
    assert found.value == pytest.approx(70.0)


def test_ci_success_rate_unknown_without_completed_runs():
    inputs = make_inputs(
        repos=REPOS,
        run_counts=[
            {"status": "in_progress", "conclusion": None, "runs": 2},
            {"status": "completed", "conclusion": "cancelled", "runs": 1},
        ],
    )
    found = results(inputs, "ci_success_rate_pct", TWO_WEEKS)["A"]
    assert (found.value, found.status) == (None, "unknown")


# --- PR cycle time -------------------------------------------------------------------------


def test_pr_cycle_time_median():
    inputs = make_inputs(
        pull_requests=[
            _pr(1, "2026-06-01 00:00", "2026-06-01 10:00"),  # 10 h
            _pr(2, "2026-06-02 00:00", "2026-06-03 06:00"),  # 30 h
        ]
    )
    # PRs: 10 h and 30 h -> median 20 h
    assert value_of(inputs, "pr_cycle_time_hours", TWO_WEEKS) == pytest.approx(20.0)


def test_pr_cycle_time_counts_every_merged_pr_and_skips_unmerged():
    inputs = make_inputs(
        pull_requests=[
            _pr(1, "2026-06-01 00:00", "2026-06-01 10:00"),  # 10 h
            _pr(2, "2026-06-02 00:00", "2026-06-03 06:00"),  # 30 h
            _pr(3, "2026-06-04 00:00", "2026-06-04 05:00", base="dev"),  # 5 h
            _pr(4, "2026-06-04 00:00", None),  # not merged
        ]
    )
    # median(5, 10, 30) = 10 h
    assert value_of(inputs, "pr_cycle_time_hours", TWO_WEEKS) == pytest.approx(10.0)


@pytest.mark.parametrize(
    "metric",
    [
        "deployment_frequency_per_week",
        "lead_time_for_changes_hours",
        "change_failure_rate_pct",
        "time_to_restore_hours",
        "ci_success_rate_pct",
        "pr_cycle_time_hours",
    ],
)
def test_every_devops_metric_unknown_without_data(metric):
    found = results(make_inputs(), metric, TWO_WEEKS)["A"]
    assert (found.value, found.status) == (None, "unknown")
