"""Scanning a repository: this project itself, a synthetic 10,000-file checkout, the shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from bench.scan import build_synthetic_checkout
from metrics.repo_detectors import RepoSnapshot
from metrics.rubric import load_rubric
from metrics.scan import (
    CheckResult,
    ScanError,
    render_table,
    scan_local,
    scan_repository,
    summarise,
    to_json,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
RECORD_KEYS = ["id", "title", "status", "provenance", "practices", "evidence"]


@pytest.fixture(scope="module")
def own_scan() -> dict[str, CheckResult]:
    return {result.id: result for result in scan_local(REPO_ROOT)}


def test_this_project_follows_the_seeds_practices_it_can(own_scan):
    """`cli.py scan .` on this repository: the foundations pass."""
    passing = {check_id for check_id, result in own_scan.items() if result.status == "pass"}
    expected = {
        "devops.readme-overview",
        "devops.readme-setup",
        "devops.codeowners",
        "devops.pre-commit",
        "devops.type-checking",
        "devops.tests",
        "devops.no-secrets",
        "devops.pinned-environment",
        "devops.project-structure",
        "devops.deploy-docs",
        "dataops.db-migrations",
    }
    assert expected <= passing, {check: own_scan[check].evidence for check in expected - passing}
    # Its CI entry point (.ci/run) is found, but not what triggers it: never a fail.
    assert own_scan["devops.ci-tests-on-pr"].status in {"pass", "unknown"}
    assert own_scan["devops.pre-commit"].evidence.startswith(".pre-commit-config.yaml:")
    # A dashboard has no model or HTTP API of its own: that cannot be decided, not failed.
    assert own_scan["devops.api-spec"].status == "unknown"
    # Its Kubernetes manifests (deploy/kubernetes) declare both probes.
    assert own_scan["devops.k8s-probes"].status == "pass"


def test_results_follow_the_rubric_and_the_json_shape(own_scan):
    rubric = load_rubric()
    assert list(own_scan) == [check.id for check in rubric.repo_checks()]
    records = json.loads(to_json(list(own_scan.values())))
    for record, check in zip(records, rubric.repo_checks(), strict=True):
        assert list(record) == RECORD_KEYS
        assert record["id"] == check.id
        assert record["title"] == check.title
        assert record["status"] in {"pass", "fail", "unknown"}
        assert record["provenance"] == "automated"
        assert record["practices"] == list(check.practices)
        assert record["evidence"]


@pytest.mark.parametrize("bare", [False, True], ids=["mature", "bare"])
def test_a_10000_file_checkout_is_scanned_reading_few_files(tmp_path, bare):
    """Speed is measured by bench/scan.py; here, that a big tree is read sparingly."""
    assert build_synthetic_checkout(tmp_path, 10_000, bare=bare) == 10_000
    snapshot = RepoSnapshot.from_directory(tmp_path)
    assert len(snapshot.paths) == 10_000
    results = scan_repository(snapshot)
    assert len(results) == len(load_rubric().repo_checks())
    assert snapshot.reads <= 60, snapshot.files_read
    counts = summarise(results)
    if bare:
        assert counts["fail"] > counts["pass"]
    else:
        assert counts["pass"] == len(results), [r for r in results if r.status != "pass"]


def test_scan_local_rejects_what_is_not_a_directory(tmp_path):
    with pytest.raises(ScanError, match="does not exist"):
        scan_local(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ScanError, match="is not a directory"):
        scan_local(tmp_path / "file.txt")


def test_an_empty_directory_is_all_unknown(tmp_path):
    results = scan_local(tmp_path)
    assert summarise(results) == {"pass": 0, "fail": 0, "unknown": len(results)}


def test_render_table_shows_every_check_and_escapes_evidence(own_scan):
    console = Console(width=200, record=True, color_system=None)
    console.print(render_table(list(own_scan.values()), title="scan"))
    text = console.export_text()
    for check_id in own_scan:
        assert check_id in text
    assert "[tool.mypy]" in text or "pyproject.toml" in text
    counts = summarise(own_scan.values())
    assert f"{counts['pass']} pass, {counts['fail']} fail, {counts['unknown']} unknown" in text
