"""The rubric file: coverage of PRACTICES.md, seed citations, references, validation."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from metrics.catalog import catalog
from metrics.repo_detectors import DETECTORS
from metrics.rubric import (
    EVIDENCE_DETECTORS,
    PILLARS,
    PRACTICES_PATH,
    RUBRIC_PATH,
    RubricError,
    aggregate_outcomes,
    checks_by_pillar,
    load_practices,
    load_rubric,
    metric_rule_outcome,
    parse_rubric,
    repo_checks,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_PRACTICES = REPO_ROOT.parent / "shared" / "PRACTICES.md"
PRACTICE_ROW = re.compile(r"^\| (P-[A-Z0-9-]+) \| (.+?) \| ([\d, ]+) \|$", re.MULTILINE)


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


def test_rubric_is_versioned_and_cached(rubric):
    assert RUBRIC_PATH.read_text(encoding="utf-8").startswith('version = "2026.11.1"\n')
    assert rubric.version == "2026.11.1"
    assert load_rubric() is rubric
    assert load_rubric(RUBRIC_PATH) is rubric


def test_every_practice_is_covered_by_a_check(rubric):
    uncovered = set(load_practices()) - rubric.practices_covered()
    assert not uncovered, f"practices without a check: {sorted(uncovered)}"


def test_the_practice_list_is_a_faithful_copy_of_practices_md():
    if not SHARED_PRACTICES.exists():
        pytest.skip(f"{SHARED_PRACTICES} is not beside this checkout")
    rows = PRACTICE_ROW.findall(SHARED_PRACTICES.read_text(encoding="utf-8"))
    table_rows = [
        line for line in SHARED_PRACTICES.read_text().splitlines() if line.startswith("| P-")
    ]
    assert len(rows) == len(table_rows), "a PRACTICES.md row did not parse"
    expected = {
        practice_id: (text, tuple(seed.strip() for seed in seeds.split(",")))
        for practice_id, text, seeds in rows
    }
    copy = {
        practice.id: (practice.practice, practice.seeds) for practice in load_practices().values()
    }
    assert copy == expected
    assert list(copy) == list(expected), "same order as PRACTICES.md"


def test_the_product_does_not_need_shared_at_run_time():
    assert PRACTICES_PATH.parent == RUBRIC_PATH.parent == REPO_ROOT / "metrics"
    assert len(load_practices()) >= 59


def test_every_why_cites_a_seed_of_the_practices_it_covers(rubric):
    practices = load_practices()
    for check in rubric.checks:
        cited = set(re.findall(r"seed (\d{3}), '", check.why))
        assert cited, f"{check.id}: `why` cites no seed as: seed 000, 'Title'"
        cited |= {"000"} if "001" in cited else set()
        seeds = {seed for practice in check.practices for seed in practices[practice].seeds}
        assert cited & seeds, f"{check.id} cites {cited}, its practices come from {seeds}"


def test_checks_are_complete_and_consistent(rubric):
    for check in rubric.checks:
        assert check.id.split(".")[0] == check.pillar.lower()
        assert 1 <= check.level <= 4
        assert 1 <= check.weight <= 5
        assert check.how_to_fix.endswith(".")
        if check.evidence == "repo":
            assert check.detector in DETECTORS
        else:
            assert check.detector in EVIDENCE_DETECTORS[check.evidence]
        if check.evidence == "metric":
            assert check.metric in catalog()
        if check.evidence == "attestation":
            assert check.question


def test_every_repository_detector_is_used(rubric):
    used = {check.detector for check in rubric.repo_checks()}
    assert used == set(DETECTORS)


def test_attestations_are_only_what_no_evidence_shows(rubric):
    attested = {check.id for check in rubric.checks if check.evidence == "attestation"}
    assert attested == {
        "modelops.rollback-procedure",
        "devops.cicd-review",
        "dataops.db-schema-review",
    }


def test_ids_the_demo_data_uses(rubric):
    rollback = rubric.check("modelops.rollback-procedure")
    assert (rollback.evidence, rollback.practices) == ("attestation", ("P-ROLLBACK",))
    review = rubric.check("devops.cicd-review")
    assert (review.evidence, review.practices) == ("attestation", ("P-CICD-REVIEW",))
    feature_store = rubric.check("dataops.feature-store")
    assert (feature_store.evidence, feature_store.detector) == ("repo", "feature_store")
    assert "P-FEATURE-STORE" in feature_store.practices
    profiles = tomllib.loads((REPO_ROOT / "data" / "demo" / "profiles.toml").read_text())
    for profile in profiles["profiles"].values():
        for entry in profile["attestations"] + profile["waivers"]:
            assert entry["check"] in rubric.by_id, entry["check"]


def test_each_pillar_has_checks_at_every_level(rubric):
    """Otherwise a pillar would reach a level without any check deciding it."""
    for pillar, checks in checks_by_pillar(rubric).items():
        assert {check.level for check in checks} == {1, 2, 3, 4}, pillar


def test_helpers(rubric):
    assert list(checks_by_pillar()) == list(PILLARS)
    assert sum(len(checks) for checks in checks_by_pillar().values()) == len(rubric.checks)
    assert repo_checks() == tuple(check for check in rubric.checks if check.evidence == "repo")
    with pytest.raises(KeyError, match=r"no check 'devops\.nope'"):
        rubric.check("devops.nope")


# --- crosswalk ---------------------------------------------------------------------------


def test_crosswalk_levels_and_sources(rubric):
    crosswalk = rubric.crosswalk
    assert [level.level for level in crosswalk.google.levels] == [0, 1, 2]
    assert [level.level for level in crosswalk.microsoft.levels] == [0, 1, 2, 3, 4]
    assert {section.id for section in crosswalk.ml_test_score.sections} == {
        "data",
        "model",
        "infrastructure",
        "monitoring",
    }
    for model in (crosswalk.google, crosswalk.microsoft, crosswalk.ml_test_score):
        assert model.source
        assert model.url.startswith("https://")


def test_google_level_is_the_highest_whose_mapped_checks_all_pass(rubric):
    google = rubric.crosswalk.google
    level_one = set(google.levels[1].checks)
    level_two = set(google.levels[2].checks)
    assert google.level_reached(set()) == 0
    assert google.level_reached(level_one) == 1
    assert google.level_reached(level_one | level_two) == 2
    assert google.level_reached(level_two) == 0, "levels are cumulative"
    assert rubric.crosswalk.microsoft.level_reached({c.id for c in rubric.checks}) == 4


def test_ml_test_score_is_the_weakest_section(rubric):
    score = rubric.crosswalk.ml_test_score
    everything = dict.fromkeys((check.id for check in rubric.checks), "automated")
    full = score.score(everything)
    assert full["final"] == min(len(section.checks) for section in score.sections)
    attested = score.score(dict.fromkeys(everything, "attested"))
    assert attested["final"] == full["final"] / 2
    assert score.score({})["final"] == 0
    assert score.band(0).startswith("More of a research project")
    assert score.band(2.5).startswith("Reasonably tested")
    assert score.band(9).startswith("Exceptional")


# --- rules the fields stand for ------------------------------------------------------------


@pytest.mark.parametrize(
    ("pass_when", "status", "value", "expected"),
    [
        ("ok", "ok", 3.0, "pass"),
        ("ok", "breach", 3.0, "fail"),
        ("ok", "unknown", None, "unknown"),
        ("known", "ok", 0.0, "pass"),
        ("known", "unknown", None, "unknown"),
        (">= 1", "ok", 1.0, "pass"),
        (">= 1", "ok", 0.5, "fail"),
        ("<= 48", "ok", 49.0, "fail"),
    ],
)
def test_metric_rule_outcome(pass_when, status, value, expected):
    assert metric_rule_outcome(pass_when, status, value) == expected


@pytest.mark.parametrize(
    ("aggregate", "outcomes", "expected"),
    [
        ("any", ["fail", "pass"], "pass"),
        ("any", ["fail", "unknown"], "fail"),
        ("all", ["fail", "pass"], "fail"),
        ("all", ["pass", "pass"], "pass"),
        ("all", ["pass", "unknown"], "unknown"),
        ("all", ["unknown"], "unknown"),
        ("any", [], "unknown"),
    ],
)
def test_aggregate_outcomes(aggregate, outcomes, expected):
    assert aggregate_outcomes(aggregate, outcomes) == expected


# --- validation -------------------------------------------------------------------------------

GOOD_CHECK = """
[[checks]]
id = "devops.readme-setup"
pillar = "DevOps"
level = 1
weight = 3
title = "README"
why = "Set up (seed 000, 'MLOps for Startups')."
how_to_fix = "Write it."
evidence = "repo"
detector = "readme_setup"
practices = ["P-README-SETUP"]
"""
CROSSWALK = """
[crosswalk.google]
name = "g"
source = "s"
url = "https://example.org"
rule = "cumulative"
levels = [{ level = 0, name = "a" }, { level = 1, name = "b" }, { level = 2, name = "c" }]

[crosswalk.microsoft]
name = "m"
source = "s"
url = "https://example.org"
rule = "cumulative"
levels = [
  { level = 0, name = "a" }, { level = 1, name = "b" }, { level = 2, name = "c" },
  { level = 3, name = "d" }, { level = 4, name = "e", checks = ["devops.readme-setup"] },
]

[crosswalk.ml_test_score]
name = "t"
source = "s"
url = "https://example.org"
rule = "minimum-of-sections"
points_automated = 1.0
points_manual = 0.5
sections = [
  { id = "data", name = "d", checks = [] },
  { id = "model", name = "m", checks = [] },
  { id = "infrastructure", name = "i", checks = [] },
  { id = "monitoring", name = "o", checks = [] },
]
bands = [{ up_to = 0.0, text = "a" }, { text = "b" }]
"""


def _rubric_text(*checks: str, crosswalk: str = CROSSWALK) -> str:
    return 'version = "2026.11.1"\n' + "".join(checks) + crosswalk


def test_a_minimal_rubric_is_valid():
    rubric = parse_rubric(_rubric_text(GOOD_CHECK))
    assert [check.id for check in rubric.checks] == ["devops.readme-setup"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("level = 1", "level = 5"), "check 'devops.readme-setup', field 'level': must be 1–4"),
        (("level = 1", "level = 0"), "check 'devops.readme-setup', field 'level': must be 1–4"),
        (("weight = 3", "weight = 9"), "field 'weight': must be 1–5, got 9"),
        (
            ('"P-README-SETUP"', '"P-readme"'),
            "check 'devops.readme-setup', field 'practices': 'P-readme' not in the PRACTICES.md",
        ),
        (('"P-README-SETUP"', '"P-NOPE"'), "field 'practices': 'P-NOPE' not in PRACTICES.md"),
        (
            ('"readme_setup"', '"readme_magic"'),
            "field 'detector': 'readme_magic' is not a known repo detector",
        ),
        (
            ('pillar = "DevOps"', 'pillar = "MLOps"'),
            "field 'pillar': Input should be 'DataOps', 'DevOps' or 'ModelOps'",
        ),
        (
            ('pillar = "DevOps"', 'pillar = "DataOps"'),
            "check 'devops.readme-setup': id: 'devops.readme-setup' must start with dataops.",
        ),
        (
            ('title = "README"', 'title = "README"\ncolour = "blue"'),
            "field 'colour': Extra inputs are not permitted",
        ),
        (('evidence = "repo"', 'evidence = "github"'), "field 'evidence': Input should be"),
        (
            ('id = "devops.readme-setup"', 'id = "DevOps README"'),
            "field 'id': 'DevOps README' is not pillar.slug",
        ),
    ],
)
def test_bad_checks_are_rejected_naming_the_check_and_field(change, message):
    old, new = change
    with pytest.raises(RubricError) as raised:
        parse_rubric(_rubric_text(GOOD_CHECK.replace(old, new, 1)), source="bad.toml")
    assert str(raised.value).startswith("bad.toml is not a valid rubric:")
    assert message in str(raised.value)


def test_a_duplicate_id_is_rejected():
    with pytest.raises(
        RubricError, match=r"duplicate check id 'devops\.readme-setup' \(checks #1 and #2\)"
    ):
        parse_rubric(_rubric_text(GOOD_CHECK, GOOD_CHECK))


def test_metric_and_attestation_checks_need_their_fields():
    metric = (
        GOOD_CHECK.replace('evidence = "repo"', 'evidence = "metric"')
        .replace('"readme_setup"', '"metric_rule"')
        .replace("practices =", 'metric = "no_such_metric"\npass_when = "ok"\npractices =')
    )
    with pytest.raises(RubricError, match=r"metric: 'no_such_metric' is not in metrics\.catalog"):
        parse_rubric(_rubric_text(metric))
    bad_rule = metric.replace('"no_such_metric"', '"stale_models"').replace('"ok"', '"fine"')
    with pytest.raises(RubricError, match="pass_when: 'fine' is not ok, known or a comparison"):
        parse_rubric(_rubric_text(bad_rule))
    attestation = GOOD_CHECK.replace('evidence = "repo"', 'evidence = "attestation"').replace(
        '"readme_setup"', '"questionnaire"'
    )
    with pytest.raises(RubricError, match="question: an attestation check needs"):
        parse_rubric(_rubric_text(attestation))


def test_crosswalk_must_name_known_checks_and_number_levels():
    unknown = CROSSWALK.replace('checks = ["devops.readme-setup"]', 'checks = ["devops.ghost"]')
    with pytest.raises(
        RubricError, match=r"crosswalk\.microsoft names unknown checks: devops\.ghost"
    ):
        parse_rubric(_rubric_text(GOOD_CHECK, crosswalk=unknown))
    misnumbered = CROSSWALK.replace('{ level = 2, name = "c" }]', '{ level = 3, name = "c" }]')
    with pytest.raises(RubricError, match="levels must be numbered 0, 1, 2"):
        parse_rubric(_rubric_text(GOOD_CHECK, crosswalk=misnumbered))


def test_unreadable_or_invalid_files_say_so(tmp_path):
    with pytest.raises(RubricError, match="cannot read the rubric"):
        load_rubric(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("version = \n")
    with pytest.raises(RubricError, match=r"broken\.toml is not valid TOML"):
        load_rubric(broken)
