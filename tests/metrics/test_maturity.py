"""Maturity scoring (DESIGN §7): scores, weakest-link levels, next steps, answers, waivers,
contradictions, repository aggregation and the crosswalk to public models."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from connectors.snapshots import scan_demo_repositories, snapshot_day, snapshot_period
from data import loaders
from data.db import make_engine
from data.demo import demo_config, demo_info, demo_plan, write_demo
from data.loaders import Period
from data.loaders import scan_results as load_scan_results
from data.store import key_to_id, upsert_rows, write_transaction
from data.tables import Repo, RepoScan, ScanCheckResult
from metrics.catalog import catalog
from metrics.engine import context_for
from metrics.evidence import TeamEvidence
from metrics.maturity import (
    CheckState,
    CheckStatus,
    PillarScore,
    Provenance,
    TeamScore,
    crosswalk,
    latest_by_team_and_check,
    next_steps,
    pillar_score,
    scans_by_team_and_check,
    score_team,
    score_teams,
)
from metrics.rubric import Check, Rubric, load_rubric
from tests.conftest import demo_store_at
from tests.metrics.builders import config_for, make_inputs

PERIOD = Period(date(2026, 4, 2), date(2026, 6, 30))
AS_OF = pd.Timestamp(PERIOD.end)
PILLAR_OF = {"dataops": "DataOps", "devops": "DevOps", "modelops": "ModelOps"}


# --- builders -------------------------------------------------------------------------


def make_check(check_id: str, level: int, weight: int = 1) -> Check:
    """An attestation check (the questionnaire decides it), for small synthetic rubrics."""
    return Check.model_validate(
        {
            "id": check_id,
            "pillar": PILLAR_OF[check_id.split(".")[0]],
            "level": level,
            "weight": weight,
            "title": f"title of {check_id}",
            "why": "a seed says so",
            "how_to_fix": f"fix {check_id}",
            "evidence": "attestation",
            "detector": "questionnaire",
            "practices": ["P-PRESS-RELEASE"],
            "question": f"Does the team do {check_id}?",
        }
    )


def status(check: Check, state: CheckState, provenance: Provenance = "automated") -> CheckStatus:
    return CheckStatus(check, state, provenance, f"{check.id}: {state}")


def pillar(*statuses: tuple[Check, CheckState]) -> PillarScore:
    checks = [status(check, state) for check, state in statuses]
    return pillar_score(checks[0].check.pillar if checks else "DevOps", checks)


def _level_model(name: str, levels: Sequence[Sequence[str]]) -> dict[str, Any]:
    return {
        "name": name,
        "source": f"{name} source",
        "url": "https://example.org",
        "rule": "cumulative",
        "levels": [
            {"level": index, "name": f"{name} {index}", "checks": list(checks)}
            for index, checks in enumerate(levels)
        ],
    }


def small_rubric(
    checks: Iterable[Check],
    google: Sequence[Sequence[str]] = ((), (), ()),
    microsoft: Sequence[Sequence[str]] = ((), (), (), (), ()),
    sections: dict[str, Sequence[str]] | None = None,
) -> Rubric:
    sections = sections or {}
    return Rubric.model_validate(
        {
            "version": "2026.1.1",
            "checks": list(checks),
            "crosswalk": {
                "google": _level_model("Google", google),
                "microsoft": _level_model("Microsoft", microsoft),
                "ml_test_score": {
                    "name": "ML Test Score",
                    "source": "Breck et al. 2017",
                    "url": "https://example.org",
                    "rule": "minimum-of-sections",
                    "points_automated": 1.0,
                    "points_manual": 0.5,
                    "sections": [
                        {"id": section, "name": section, "checks": list(sections.get(section, ()))}
                        for section in ("data", "model", "infrastructure", "monitoring")
                    ],
                    "bands": [
                        {"up_to": 0.0, "text": "research project"},
                        {"up_to": 2.0, "text": "first pass"},
                        {"text": "strong"},
                    ],
                },
            },
        }
    )


ATTESTATION_COLUMNS = [
    "team",
    "id",
    "check_id",
    "answer",
    "answered_by",
    "answered_at",
    "evidence_url",
    "expires_at",
]
WAIVER_COLUMNS = ["team", "id", "check_id", "reason", "created_by", "created_at", "expires_at"]
SCAN_COLUMNS = ["team", "repo", "commit_sha", "scanned_at", "check_id", "status", "evidence"]


def _frame(rows: list[dict[str, Any]], columns: list[str], times: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in times:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def answer(
    check_id: str,
    yes: bool,
    days_ago: float = 10,
    valid_days: float = 180,
    by: str = "lead@x.example",
    url: str = "https://wiki.example/runbook",
) -> dict[str, Any]:
    answered = AS_OF - pd.Timedelta(days=days_ago)
    return {
        "team": "A",
        "check_id": check_id,
        "answer": yes,
        "answered_by": by,
        "answered_at": answered,
        "evidence_url": url,
        "expires_at": answered + pd.Timedelta(days=valid_days),
    }


def attestations(*rows: dict[str, Any]) -> pd.DataFrame:
    numbered = [{**row, "id": index + 1} for index, row in enumerate(rows)]
    return _frame(numbered, ATTESTATION_COLUMNS, ("answered_at", "expires_at"))


def waiver(check_id: str, days_ago: float = 10, valid_days: float = 90) -> dict[str, Any]:
    created = AS_OF - pd.Timedelta(days=days_ago)
    return {
        "team": "A",
        "check_id": check_id,
        "reason": "no database in this service",
        "created_by": "lead@x.example",
        "created_at": created,
        "expires_at": created + pd.Timedelta(days=valid_days),
    }


def waivers(*rows: dict[str, Any]) -> pd.DataFrame:
    numbered = [{**row, "id": index + 1} for index, row in enumerate(rows)]
    return _frame(numbered, WAIVER_COLUMNS, ("created_at", "expires_at"))


def scans(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """Scan results from (repo, check_id, status)."""
    return _frame(
        [
            {
                "team": "A",
                "repo": repo,
                "commit_sha": "0" * 40,
                "scanned_at": AS_OF - pd.Timedelta(days=1),
                "check_id": check_id,
                "status": state,
                "evidence": f"{check_id} in {repo}: {state}",
            }
            for repo, check_id, state in rows
        ],
        SCAN_COLUMNS,
        ("scanned_at",),
    )


def team_evidence() -> TeamEvidence:
    rules = pd.DataFrame(
        columns=["group_name", "name", "expr", "duration_seconds", "labels", "seen_at"]
    )
    return TeamEvidence(
        team="A",
        inputs=make_inputs(),
        context=context_for(config_for("A"), ["A"], PERIOD),
        alert_rules=rules,
        selectors=(),
        model_globs=(),
    )


def score(
    rubric: Rubric | None = None,
    *,
    scan_rows: pd.DataFrame | None = None,
    answers: pd.DataFrame | None = None,
    waived: pd.DataFrame | None = None,
) -> TeamScore:
    as_of = PERIOD.end
    answered = attestations() if answers is None else answers
    waived = waivers() if waived is None else waived
    return score_team(
        "A",
        rubric or load_rubric(),
        PERIOD,
        metric_results={},
        scan_rows=scans_by_team_and_check(scans() if scan_rows is None else scan_rows).get("A", {}),
        evidence=team_evidence(),
        answers=latest_by_team_and_check(answered, "answered_at", as_of).get("A", {}),
        active_waivers=latest_by_team_and_check(waived, "created_at", as_of).get("A", {}),
    )


def result(team_score: TeamScore, check_id: str) -> CheckStatus:
    return next(s for s in team_score.checks if s.check.id == check_id)


# --- score, coverage, level ---------------------------------------------------------------

A1, B1 = make_check("devops.a", 1, 4), make_check("devops.b", 1, 2)
C2, D2, E2 = (
    make_check("devops.c", 2, 3),
    make_check("devops.d", 2, 1),
    make_check("devops.e", 2, 5),
)
F3, G4 = make_check("devops.f", 3, 2), make_check("devops.g", 4, 1)


def test_score_is_the_weighted_share_passing_with_waived_out_and_unknown_in() -> None:
    scored = pillar((A1, "pass"), (B1, "fail"), (C2, "waived"), (D2, "unknown"))
    # pass 4 of (4 + 2 + 1): the waived 3 leave the denominator, the unknown 1 stays.
    assert scored.score == pytest.approx(100 * 4 / 7)
    # decided (pass or fail) 6 of 7
    assert scored.coverage == pytest.approx(100 * 6 / 7)


def test_unknown_counts_against_the_score_not_for_it() -> None:
    undecided = pillar((A1, "pass"), (B1, "unknown"))
    failed = pillar((A1, "pass"), (B1, "fail"))
    assert undecided.score == failed.score == pytest.approx(100 * 4 / 6)
    assert undecided.coverage == pytest.approx(100 * 4 / 6)
    assert failed.coverage == 100


def test_all_waived_pillar_has_no_score_or_coverage() -> None:
    scored = pillar((A1, "waived"), (C2, "waived"))
    assert scored.score is None
    assert scored.coverage is None
    assert scored.level == 4


def test_level_is_decided_by_the_weakest_link() -> None:
    every = [(A1, "pass"), (B1, "pass"), (C2, "pass"), (D2, "pass"), (F3, "pass"), (G4, "pass")]
    assert pillar(*every).level == 4  # type: ignore[arg-type]
    # One level-1 failure: level 0, however much of level 2 and above passes.
    level1_fail = [(A1, "pass"), (B1, "fail"), (C2, "pass"), (D2, "pass"), (F3, "pass")]
    assert pillar(*level1_fail).level == 0  # type: ignore[arg-type]
    level1_unknown = [(A1, "unknown"), (B1, "pass"), (C2, "pass"), (D2, "pass")]
    assert pillar(*level1_unknown).level == 0  # type: ignore[arg-type]
    level3_fail = [(A1, "pass"), (B1, "pass"), (C2, "pass"), (F3, "fail"), (G4, "pass")]
    assert pillar(*level3_fail).level == 2  # type: ignore[arg-type]


def test_a_waived_check_does_not_block_its_level() -> None:
    assert pillar((A1, "waived"), (B1, "pass"), (C2, "pass"), (D2, "fail")).level == 1
    assert pillar((A1, "pass"), (C2, "waived"), (F3, "pass"), (G4, "pass")).level == 4


def test_overall_level_is_the_lowest_pillar_level() -> None:
    checks = [
        make_check("dataops.a", 1),
        make_check("dataops.b", 2),
        make_check("dataops.c", 3),
        make_check("devops.a", 1),
        make_check("devops.b", 2),
        make_check("modelops.a", 1),
        make_check("modelops.b", 2),
        make_check("modelops.c", 3),
        make_check("modelops.d", 4),
    ]
    yes = [
        "dataops.a",
        "dataops.b",
        "devops.a",
        "modelops.a",
        "modelops.b",
        "modelops.c",
        "modelops.d",
    ]
    team_score = score(
        small_rubric(checks),
        answers=attestations(*(answer(check, True) for check in yes), answer("dataops.c", False)),
    )
    levels = {name: p.level for name, p in team_score.pillars.items()}
    # devops.b is unanswered (unknown), dataops.c answered no.
    assert levels == {"DataOps": 2, "DevOps": 1, "ModelOps": 4}
    assert team_score.overall_level == 1
    assert team_score.overall_score == pytest.approx(100 * 7 / 9)


# --- next steps -----------------------------------------------------------------------


def test_next_steps_are_the_next_level_failing_then_unknown_heaviest_first() -> None:
    heavy_unknown = make_check("devops.h", 2, 5)
    light_fail = make_check("devops.i", 2, 1)
    heavy_fail = make_check("devops.j", 2, 3)
    scored = pillar(
        (A1, "pass"),
        (B1, "waived"),
        (heavy_unknown, "unknown"),
        (light_fail, "fail"),
        (heavy_fail, "fail"),
        (C2, "pass"),
        (F3, "fail"),  # blocks level 3, not the next level: not listed
    )
    assert scored.level == 1
    steps = next_steps({"DevOps": scored})
    assert [step.check.id for step in steps] == ["devops.j", "devops.i", "devops.h"]
    assert [step.status for step in steps] == ["fail", "fail", "unknown"]
    assert {step.unblocks_level for step in steps} == {2}
    record = steps[0].as_record()
    assert record["how_to_fix"] == "fix devops.j"
    assert record["level"] == 2


def test_next_steps_rank_the_lower_level_they_unblock_first() -> None:
    data_l1 = make_check("dataops.a", 1, 1)
    model_l1, model_l2 = make_check("modelops.a", 1, 2), make_check("modelops.b", 2, 5)
    devops = pillar((A1, "pass"), (B1, "pass"), (C2, "pass"), (F3, "pass"), (G4, "pass"))
    steps = next_steps(
        {
            "DataOps": pillar((data_l1, "unknown")),
            "DevOps": devops,
            "ModelOps": pillar((model_l1, "pass"), (model_l2, "fail")),
        }
    )
    # DataOps unblocks level 1, ModelOps level 2; DevOps is at the top level.
    assert [(step.check.id, step.unblocks_level) for step in steps] == [
        ("dataops.a", 1),
        ("modelops.b", 2),
    ]


# --- attestations, waivers, contradictions ----------------------------------------------


def test_a_valid_yes_turns_an_unknown_check_into_an_attested_pass() -> None:
    unanswered = result(score(), "devops.tests")
    assert (unanswered.status, unanswered.provenance) == ("unknown", "automated")
    answered = result(score(answers=attestations(answer("devops.tests", True))), "devops.tests")
    assert (answered.status, answered.provenance) == ("pass", "attested")
    assert "attested yes by lead@x.example" in answered.evidence
    assert "https://wiki.example/runbook" in answered.evidence
    assert not answered.contradiction


def test_questionnaire_checks_are_decided_by_the_answer() -> None:
    check_id = "modelops.rollback-procedure"
    assert result(score(), check_id).status == "unknown"
    yes = result(score(answers=attestations(answer(check_id, True))), check_id)
    no = result(score(answers=attestations(answer(check_id, False))), check_id)
    assert (yes.status, yes.provenance) == ("pass", "attested")
    assert (no.status, no.provenance) == ("fail", "attested")
    assert "attested no" in no.evidence


def test_a_no_answer_fails_an_unknown_check() -> None:
    answered = result(score(answers=attestations(answer("devops.tests", False))), "devops.tests")
    assert (answered.status, answered.provenance) == ("fail", "attested")


def test_an_expired_answer_is_unknown_and_stale() -> None:
    expired = attestations(answer("devops.tests", True, days_ago=200, valid_days=180))
    answered = result(score(answers=expired), "devops.tests")
    assert (answered.status, answered.provenance) == ("unknown", "stale")
    assert "expired" in answered.evidence


def test_the_newest_answer_before_the_period_end_counts() -> None:
    history = attestations(
        answer("devops.tests", True, days_ago=60),
        answer("devops.tests", False, days_ago=5),
        answer("devops.tests", True, days_ago=-3),  # given after the period end
    )
    assert result(score(answers=history), "devops.tests").status == "fail"


def test_attested_yes_against_failing_evidence_is_a_contradiction() -> None:
    team_score = score(
        scan_rows=scans(("o/a", "devops.tests", "fail")),
        answers=attestations(answer("devops.tests", True)),
    )
    contradicted = result(team_score, "devops.tests")
    assert (contradicted.status, contradicted.provenance) == ("fail", "automated")
    assert "attested yes" in contradicted.contradiction
    assert "devops.tests in o/a: fail" in contradicted.contradiction
    assert team_score.contradictions == [contradicted]


def test_evidence_wins_over_agreeing_or_absent_answers() -> None:
    passing = score(
        scan_rows=scans(("o/a", "devops.tests", "pass")),
        answers=attestations(answer("devops.tests", False)),
    )
    kept = result(passing, "devops.tests")
    assert (kept.status, kept.provenance, kept.contradiction) == ("pass", "automated", "")
    assert passing.contradictions == []


def test_an_active_waiver_waives_and_an_expired_one_does_nothing() -> None:
    failing = scans(("o/a", "dataops.db-migrations", "fail"))
    waived = result(
        score(scan_rows=failing, waived=waivers(waiver("dataops.db-migrations"))),
        "dataops.db-migrations",
    )
    assert waived.status == "waived"
    assert "no database in this service" in waived.evidence
    expired = waivers(waiver("dataops.db-migrations", days_ago=100, valid_days=90))
    future = waivers(waiver("dataops.db-migrations", days_ago=-1))  # made after the period
    for ignored in (expired, future):
        kept = result(score(scan_rows=failing, waived=ignored), "dataops.db-migrations")
        assert kept.status == "fail"


def test_a_waiver_leaves_the_denominator_and_unblocks_the_level() -> None:
    checks = [make_check("devops.a", 1, 2), make_check("devops.b", 1, 2)]
    rubric = small_rubric(checks)
    answers = attestations(answer("devops.a", True), answer("devops.b", False))
    without = score(rubric, answers=answers)
    with_waiver = score(rubric, answers=answers, waived=waivers(waiver("devops.b")))
    assert (without.pillars["DevOps"].score, without.pillars["DevOps"].level) == (50, 0)
    assert (with_waiver.pillars["DevOps"].score, with_waiver.pillars["DevOps"].level) == (100, 4)
    assert [step.check.id for step in without.next_steps] == ["devops.b"]


# --- repositories ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "any_expected", "all_expected"),
    [
        (("pass", "pass"), "pass", "pass"),
        (("pass", "fail"), "pass", "fail"),
        (("pass", "unknown"), "pass", "unknown"),
        (("fail", "unknown"), "fail", "fail"),
        (("unknown", "unknown"), "unknown", "unknown"),
    ],
)
def test_repositories_combine_by_the_checks_aggregate(
    statuses: tuple[str, str], any_expected: str, all_expected: str
) -> None:
    rubric = load_rubric()
    assert rubric.check("dataops.data-docs").aggregate == "any"
    assert rubric.check("devops.tests").aggregate == "all"
    rows = [
        (repo, check_id, state)
        for repo, state in zip(("o/a", "o/b"), statuses, strict=True)
        for check_id in ("dataops.data-docs", "devops.tests")
    ]
    team_score = score(scan_rows=scans(*rows))
    assert result(team_score, "dataops.data-docs").status == any_expected
    assert result(team_score, "devops.tests").status == all_expected
    if all_expected == "pass":
        assert "all 2 repositories" in result(team_score, "devops.tests").evidence


def test_a_check_without_any_scan_is_unknown() -> None:
    unscanned = result(score(), "dataops.data-docs")
    assert unscanned.status == "unknown"
    assert "no repository scan" in unscanned.evidence


# --- crosswalk -----------------------------------------------------------------------


def test_public_levels_are_cumulative() -> None:
    checks = [make_check(f"devops.c{index}", 1) for index in range(1, 5)]
    rubric = small_rubric(
        checks,
        google=((), ("devops.c1", "devops.c2"), ("devops.c3",)),
        microsoft=((), ("devops.c1",), ("devops.c2",), ("devops.c3",), ("devops.c4",)),
    )
    by_id = rubric.by_id

    def walk(states: dict[str, CheckState]) -> dict[str, Any]:
        return crosswalk(rubric, [status(by_id[c], s) for c, s in states.items()])

    every = walk(dict.fromkeys(by_id, "pass"))
    assert every["google"] == {"level": 2, "name": "Google 2"}
    assert every["microsoft"] == {"level": 4, "name": "Microsoft 4"}
    # A missing level-1 check stops the climb, however much of the higher levels passes.
    gap = walk({"devops.c1": "pass", "devops.c2": "fail", "devops.c3": "pass", "devops.c4": "pass"})
    assert (gap["google"]["level"], gap["microsoft"]["level"]) == (0, 1)
    # Waived counts as done for the level models.
    waived = walk(
        {"devops.c1": "waived", "devops.c2": "pass", "devops.c3": "pass", "devops.c4": "unknown"}
    )
    assert (waived["google"]["level"], waived["microsoft"]["level"]) == (2, 3)


def test_ml_test_score_points_and_minimum() -> None:
    ids = ["devops.d1", "devops.d2", "devops.m1", "devops.m2", "devops.i1", "devops.o1"]
    checks = [make_check(check_id, 1) for check_id in ids]
    rubric = small_rubric(
        checks,
        sections={
            "data": ("devops.d1", "devops.d2"),
            "model": ("devops.m1", "devops.m2"),
            "infrastructure": ("devops.i1",),
            "monitoring": ("devops.o1",),
        },
    )
    by_id = rubric.by_id
    statuses = [
        status(by_id["devops.d1"], "pass"),
        status(by_id["devops.d2"], "pass", "attested"),
        status(by_id["devops.m1"], "pass"),
        status(by_id["devops.m2"], "fail"),
        status(by_id["devops.i1"], "pass", "attested"),
        status(by_id["devops.o1"], "pass"),
    ]
    walked = crosswalk(rubric, statuses)["ml_test_score"]
    assert walked["data"] == 1.5  # one automated (1) + one attested (0.5)
    assert walked["model"] == 1.0
    assert walked["infrastructure"] == 0.5
    assert walked["monitoring"] == 1.0
    assert walked["final"] == 0.5  # the minimum over the sections
    assert walked["reading"] == "first pass"
    # A waived check earns no points.
    statuses[4] = status(by_id["devops.i1"], "waived")
    walked = crosswalk(rubric, statuses)["ml_test_score"]
    assert (walked["infrastructure"], walked["final"]) == (0.0, 0.0)
    assert walked["reading"] == "research project"


def test_the_real_crosswalk_tops_out_when_every_check_passes() -> None:
    rubric = load_rubric()
    every = crosswalk(rubric, [status(check, "pass") for check in rubric.checks])
    assert every["google"]["level"] == 2
    assert every["microsoft"]["level"] == 4
    sections = {s.id: len(s.checks) for s in rubric.crosswalk.ml_test_score.sections}
    assert every["ml_test_score"]["final"] == min(sections.values())
    # Google level 1 needs the pipelines: without them, level 0.
    gap = [
        status(check, "fail" if check.id == "dataops.pipelines" else "pass")
        for check in rubric.checks
    ]
    assert crosswalk(rubric, gap)["google"]["level"] == 0


# --- the acceptance case: a team failing one level-1 check -----------------------------


def _fail_check_in_newest_scans(url: str, team: str, check_id: str) -> None:
    engine = make_engine(url)
    newest = load_scan_results(engine, team)
    pairs = sorted(set(zip(newest["repo"], newest["commit_sha"], strict=True)))
    assert pairs, f"{team} has no scanned repository"
    with write_transaction(engine) as connection:
        repo_ids = key_to_id(connection, Repo, {repo for repo, _ in pairs})
        scan_ids = key_to_id(connection, RepoScan, [(repo_ids[repo], sha) for repo, sha in pairs])
        upsert_rows(
            connection,
            ScanCheckResult,
            [
                {
                    "scan_id": scan_id,
                    "check_id": check_id,
                    "status": "fail",
                    "evidence": "no data documentation found",
                }
                for scan_id in scan_ids.values()
            ],
        )
        table = ScanCheckResult.__table__  # type: ignore[attr-defined]
        stored = connection.execute(
            select(table.c.status).where(
                table.c.check_id == check_id, table.c.scan_id.in_(list(scan_ids.values()))
            )
        ).scalars()
        assert set(stored) == {"fail"}
    engine.dispose()


def _demo_scores(url: str, teams: Iterable[str] | None = None) -> list[TeamScore]:
    engine = make_engine(url)
    info, config = demo_info(engine), demo_config(engine)
    assert info is not None
    assert config is not None
    scores = score_teams(engine, config, Period.last_days(90, today=info.anchor), teams)
    engine.dispose()
    return scores


def test_one_team_alone_gets_the_same_checks_as_among_all_teams(
    demo_template: Path, tmp_path: Path
) -> None:
    """The detectors summarise the organisation once and read each team's part of it:
    a team's outcome must not depend on which other teams were scored with it."""
    url = demo_store_at(demo_template, tmp_path / "demo.db")
    everyone = {score.team: score for score in _demo_scores(url)}
    assert len(everyone) > 1
    for team, among_all in everyone.items():
        (alone,) = _demo_scores(url, [team])
        assert alone.pillars == among_all.pillars, team
        assert alone.next_steps == among_all.next_steps, team


def test_one_failing_level_1_check_sets_its_pillar_to_0_and_leads_next_steps(
    demo_template: Path, tmp_path: Path
) -> None:
    url = demo_store_at(demo_template, tmp_path / "demo.db")
    team, check_id = "Search Ranking", "dataops.data-docs"
    (before,) = _demo_scores(url, [team])
    data_ops = before.pillars["DataOps"]
    assert data_ops.level >= 1
    assert all(s.status == "pass" for s in data_ops.checks)

    _fail_check_in_newest_scans(url, team, check_id)

    (after,) = _demo_scores(url, [team])
    data_ops = after.pillars["DataOps"]
    assert data_ops.level == 0
    assert after.overall_level == 0
    by_status = {s.check.id: s.status for s in data_ops.checks}
    assert by_status.pop(check_id) == "fail"
    assert set(by_status.values()) == {"pass"}  # everything else in the pillar still passes
    pillar_steps = [step for step in after.next_steps if step.check.pillar == "DataOps"]
    assert pillar_steps[0].check.id == check_id
    assert after.next_steps[0].check.id == check_id
    assert after.next_steps[0].unblocks_level == 1
    # The other pillars are untouched.
    for name in ("DevOps", "ModelOps"):
        assert after.pillars[name] == before.pillars[name]


def test_score_records_carry_the_rubric_version_and_period() -> None:
    record = score().as_record()
    assert record["rubric_version"] == load_rubric().version
    assert (record["since"], record["until"]) == ("2026-04-02", "2026-06-30")
    assert set(record["pillars"]) == {"DataOps", "DevOps", "ModelOps"}


# --- daily snapshots ---------------------------------------------------------------------


def _snapshot_counts(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    return loaders.metric_snapshots(engine), loaders.score_snapshots(engine)


def test_snapshot_day_writes_every_metric_and_pillar_once(engine: Engine) -> None:
    summary = write_demo(engine)
    scan_demo_repositories(engine, summary.size, summary.anchor)
    config = demo_plan(summary.size).config
    teams = loaders.team_names(engine)
    assert len(teams) == 4

    snapshot_day(engine, config, summary.anchor)
    metrics, scores = _snapshot_counts(engine)
    assert len(metrics) == len(teams) * len(catalog())
    assert not metrics.duplicated(["team", "metric_id"]).any()
    assert set(metrics["team"]) == set(teams)
    assert len(scores) == 4 * len(teams)
    for _, rows in scores.groupby("team"):
        assert sorted(rows["pillar"]) == ["DataOps", "DevOps", "ModelOps", "overall"]
    assert set(scores["day"].astype(str)) == {summary.anchor.isoformat()}
    assert set(scores["rubric_version"]) == {load_rubric().version}

    # The snapshot holds the same levels as scoring the same period directly.
    direct = score_teams(engine, config, snapshot_period(summary.anchor))
    stored = {(row.team, row.pillar): row.level for row in scores.itertuples()}
    for team_score in direct:
        assert stored[(team_score.team, "overall")] == team_score.overall_level
        for name, scored in team_score.pillars.items():
            assert stored[(team_score.team, name)] == scored.level

    snapshot_day(engine, config, summary.anchor)  # idempotent: upserts by (team, day, …)
    again_metrics, again_scores = _snapshot_counts(engine)
    assert (len(again_metrics), len(again_scores)) == (len(metrics), len(scores))


def test_demo_history_shows_the_elite_team_maturing_before_today(demo_template: Path) -> None:
    engine = make_engine(f"sqlite:///{demo_template}")
    info = demo_info(engine)
    assert info is not None
    history = loaders.score_snapshots(engine, "Search Ranking")
    engine.dispose()
    overall = history[(history["pillar"] == "overall") & (history["day"] < info.anchor)]
    assert len(overall) >= 15
    assert overall["level"].max() >= 1
