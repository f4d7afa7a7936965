"""docs/maturity.md is generated from the rubric and must be current."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics import maturity_docs
from metrics.rubric import load_practices, load_rubric


def test_docs_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert maturity_docs.main(["--check"]) == 0, capsys.readouterr().err


def test_check_reports_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "maturity.md"
    stale.write_text("# old\n", encoding="utf-8")
    monkeypatch.setattr(maturity_docs, "DOC_PATH", stale)
    assert maturity_docs.main(["--check"]) == 1
    assert maturity_docs.main([]) == 0
    assert maturity_docs.main(["--check"]) == 0


def test_every_check_is_documented_with_why_and_how_to_fix() -> None:
    text = maturity_docs.DOC_PATH.read_text(encoding="utf-8")
    for check in load_rubric().checks:
        assert f"#### `{check.id}` — {check.title}" in text
        assert f"| `{check.id}` |" in text
        assert " ".join(check.why.split()) in text
        assert " ".join(check.how_to_fix.split()) in text


def test_every_practice_has_a_coverage_row() -> None:
    text = maturity_docs.DOC_PATH.read_text(encoding="utf-8")
    coverage = text.split("## Practices → checks", 1)[1].split("\n## ", 1)[0]
    for practice_id in load_practices():
        (row,) = [line for line in coverage.splitlines() if line.startswith(f"| `{practice_id}` |")]
        assert "**none**" not in row


def test_the_scoring_rules_and_crosswalk_are_stated() -> None:
    text = maturity_docs.DOC_PATH.read_text(encoding="utf-8")
    rubric = load_rubric()
    for phrase in (
        "Waived checks leave the denominator",
        "unknown checks stay in it",
        "the weakest link decides",
        "the lowest of the three pillar levels",
        "180 days by default",
        "Contradictions",
        "failing before unknown",
        rubric.version,
        rubric.crosswalk.google.url,
        rubric.crosswalk.microsoft.url,
        rubric.crosswalk.ml_test_score.url,
    ):
        assert phrase in text
