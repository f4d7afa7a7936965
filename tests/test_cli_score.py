"""`cli.py score` and `cli.py scan`: the documented JSON shapes (DESIGN §5), the engine's
numbers, and exit code 2 with one line on bad input."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from data.db import make_engine
from data.demo import demo_config
from data.loaders import Period
from metrics.maturity import score_teams
from metrics.rubric import load_rubric
from tests.conftest import demo_store_at
from tests.helpers import error_lines, run_cli

TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]
RECORD_KEYS = {
    "team",
    "overall",
    "pillars",
    "next_steps",
    "crosswalk",
    "rubric_version",
    "since",
    "until",
}
PILLAR_KEYS = {"score", "level", "coverage", "checks"}
CHECK_KEYS = {"id", "title", "status", "provenance", "practices", "evidence"}
STATUSES = {"pass", "fail", "unknown", "waived"}
PROVENANCES = {"automated", "attested", "stale"}


@pytest.fixture(scope="module")
def demo_url(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_store_at(demo_template, tmp_path_factory.mktemp("score") / "demo.db")


def _cli(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env={"DATABASE_URL": url})


@pytest.fixture(scope="module")
def records(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    result = _cli(demo_url, tmp_path_factory.mktemp("cwd"), "score", "--format", "json")
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, list)
    return parsed


def test_score_json_has_exactly_the_documented_keys(records: list[dict[str, Any]]) -> None:
    rubric = load_rubric()
    assert [record["team"] for record in records] == TEAMS
    for record in records:
        assert set(record) == RECORD_KEYS
        assert set(record["overall"]) == {"score", "level", "coverage"}
        assert set(record["pillars"]) == {"DataOps", "DevOps", "ModelOps"}
        assert record["rubric_version"] == rubric.version
        assert set(record["crosswalk"]) == {"google", "microsoft", "ml_test_score"}
        seen: list[str] = []
        for name, pillar in record["pillars"].items():
            assert set(pillar) == PILLAR_KEYS
            assert 0 <= pillar["level"] <= 4
            for check in pillar["checks"]:
                assert set(check) == CHECK_KEYS
                assert check["status"] in STATUSES
                assert check["provenance"] in PROVENANCES
                assert check["practices"] == list(rubric.check(check["id"]).practices)
                assert rubric.check(check["id"]).pillar == name
                assert check["evidence"]
                seen.append(check["id"])
        assert sorted(seen) == sorted(check.id for check in rubric.checks)
        assert record["overall"]["level"] == min(
            pillar["level"] for pillar in record["pillars"].values()
        )
        for step in record["next_steps"]:
            assert step["status"] in {"fail", "unknown"}
            assert step["how_to_fix"]


def test_demo_teams_differ_visibly(records: list[dict[str, Any]]) -> None:
    by_team = {record["team"]: record for record in records}
    elite, low = by_team["Search Ranking"], by_team["Demand Forecasting"]
    assert elite["overall"]["level"] > low["overall"]["level"]
    assert elite["overall"]["score"] > low["overall"]["score"] + 30
    assert elite["crosswalk"]["google"]["level"] > low["crosswalk"]["google"]["level"]
    assert len({record["overall"]["score"] for record in records}) == len(TEAMS)
    statuses = {
        check["status"]
        for record in records
        for pillar in record["pillars"].values()
        for check in pillar["checks"]
    }
    assert {"pass", "fail", "waived"} <= statuses
    provenances = {
        check["provenance"]
        for record in records
        for pillar in record["pillars"].values()
        for check in pillar["checks"]
    }
    assert "attested" in provenances


def test_score_json_is_the_engine_numbers(demo_url: str, records: list[dict[str, Any]]) -> None:
    since, until = records[0]["since"], records[0]["until"]
    engine = make_engine(demo_url)
    config = demo_config(engine)
    assert config is not None
    period = Period(date.fromisoformat(since), date.fromisoformat(until))
    expected = [score.as_record() for score in score_teams(engine, config, period)]
    engine.dispose()
    assert records == json.loads(json.dumps(expected, default=str))


def test_score_one_team(demo_url: str, tmp_path: Path, records: list[dict[str, Any]]) -> None:
    result = _cli(demo_url, tmp_path, "score", "--format", "json", "--team", "Fraud Detection")
    assert result.returncode == 0, result.stderr
    (record,) = json.loads(result.stdout)
    assert record == next(r for r in records if r["team"] == "Fraud Detection")


def test_score_table_names_every_team(demo_url: str, tmp_path: Path) -> None:
    result = _cli(demo_url, tmp_path, "score")
    assert result.returncode == 0, result.stderr
    for team in TEAMS:
        assert team in result.stdout
    assert "next:" in result.stdout


def test_score_unknown_team_exits_2_with_one_line(demo_url: str, tmp_path: Path) -> None:
    result = _cli(demo_url, tmp_path, "score", "--team", "Nobody", "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = error_lines(result)
    assert len(lines) == 1
    assert "Nobody" in lines[0]


# --- scan ------------------------------------------------------------------------------


def _checkout(root: Path) -> Path:
    root.mkdir()
    (root / "README.md").write_text(
        "# Demo\n\nScores transactions for fraud.\n\n## Setup\n\n    pip install -e .\n"
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_model.py").write_text("def test_model():\n    assert True\n")
    (root / "Dockerfile").write_text("FROM python:3.12-slim\n")
    return root


def test_scan_path_json_gives_the_check_shape(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "repo")
    result = run_cli("scan", str(checkout), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    checks = json.loads(result.stdout)
    rubric = load_rubric()
    assert [check["id"] for check in checks] == [check.id for check in rubric.repo_checks()]
    for check in checks:
        assert set(check) == CHECK_KEYS
        assert check["status"] in {"pass", "fail", "unknown"}
        assert check["provenance"] == "automated"
        assert check["practices"] == list(rubric.check(check["id"]).practices)
    by_id = {check["id"]: check for check in checks}
    assert by_id["devops.tests"]["status"] == "pass"
    assert by_id["devops.containers"]["status"] == "pass"
    assert "Dockerfile" in by_id["devops.containers"]["evidence"]


def test_scan_owner_repo_without_a_token_names_the_variable(tmp_path: Path) -> None:
    """OWNER/REPO goes through the GitHub connector (tested against a fake GitHub in
    tests/connectors/test_github.py); without a token it says which variable to set."""
    result = run_cli("scan", "octo/model-service", cwd=tmp_path, env={"GITHUB_TOKEN": ""})
    assert result.returncode == 1
    assert error_lines(result) == [
        "error: no GitHub token: set the environment variable GITHUB_TOKEN (named by "
        "[github] token_env) to a token that can read the repositories"
    ]


def test_scan_missing_directory_exits_2(tmp_path: Path) -> None:
    result = run_cli("scan", "/no/such/dir", "--format", "json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = error_lines(result)
    assert len(lines) == 1
    assert "/no/such/dir" in lines[0]
