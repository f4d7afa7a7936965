"""Generates docs/maturity.md from the rubric, so the published rubric is the scored one.

python -m metrics.maturity_docs          # rewrite docs/maturity.md
python -m metrics.maturity_docs --check  # exit 1 when it is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from metrics.rubric import (
    LEVELS,
    PILLARS,
    Check,
    LevelModel,
    Rubric,
    TestScoreModel,
    load_practices,
    load_rubric,
)

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "maturity.md"
ATTESTATION_EXPIRY_DAYS = 180
"""DESIGN §7: an attestation expires this many days after it is answered unless it says."""

EVIDENCE_WORDS: dict[str, str] = {
    "repo": "a repository check on each of the team's repositories' newest scan "
    "(`cli.py scan`, the GitHub sync), combined across repositories as the check says",
    "registry": "the model registry (MLflow, or imported model versions)",
    "prometheus": "the alerting rules synced from Prometheus",
    "meetings": "the team's meetings and their attendance",
    "metric": "a metric of docs/metrics.md for the period, against its rule",
    "attestation": "a questionnaire answer, for what no evidence shows",
}


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _practices(check: Check) -> str:
    return ", ".join(f"`{practice}`" for practice in check.practices)


def _rules(rubric: Rubric) -> list[str]:
    levels = [f"- **{level}** — {name}" for level, name in LEVELS.items()]
    evidence = [f"- `{kind}`: {words}." for kind, words in EVIDENCE_WORDS.items()]
    return [
        "## Levels",
        "",
        *levels,
        "",
        "## How a team is scored",
        "",
        "Every check is decided for each team, as of the end of the period, from one kind",
        "of evidence:",
        "",
        *evidence,
        "",
        "A check's **status** is `pass`, `fail`, `unknown` or `waived`. A detector that",
        "cannot decide (the source was never synced, the team has no such data) says",
        "`unknown`, never `fail`.",
        "",
        "- **Score**: a pillar's score is the weighted percentage of its checks that pass.",
        "  Waived checks leave the denominator; unknown checks stay in it, so what is not",
        "  shown does not count as done. The overall score is the same over all checks.",
        "- **Level** (the weakest link decides, as in Google's ML Test Score): a pillar's",
        "  level is the highest L such that every check of level L or lower passes or is",
        "  waived. One failing or unknown level-1 check keeps the pillar at level 0 however",
        "  many higher checks pass.",
        "- **Overall level**: the lowest of the three pillar levels.",
        "- **Coverage**: beside each pillar score, the weighted percentage of its unwaived",
        "  checks that evidence or an answer decides (pass or fail rather than unknown).",
        "- **Provenance** of each result: `automated` (read from a source), `attested`",
        "  (a questionnaire answer decided it) or `stale` (the answer that would decide it",
        "  has expired).",
        "- **Attestations** carry who answered, when, a link to evidence and an expiry",
        f"  ({ATTESTATION_EXPIRY_DAYS} days by default); the newest answer counts. Where evidence",
        "  cannot decide, a valid yes passes the check and a no fails it; an expired",
        "  answer leaves it `unknown` with provenance `stale`.",
        "- **Contradictions**: where an attestation says yes and the evidence says no, the",
        "  check stays `fail` and the contradiction is shown beside it.",
        "- **Waivers** carry a reason, who, when and an expiry. An active waiver makes the",
        "  check `waived` (out of the score, not blocking its level); an expired one has",
        "  no effect.",
        "- **Repository checks** combine a team's repositories: `any` passes when one",
        "  repository passes, else fails when one fails, else is unknown; `all` fails",
        "  when one repository fails, passes when every one passes, else is unknown.",
        "- **Next steps**: the checks of each pillar's next level (current level + 1) that",
        "  fail or are unknown, ordered by the level they unblock, failing before unknown,",
        "  then heaviest first, each with how to fix it.",
        "- Every score records the rubric version that produced it "
        f"(this document: `{rubric.version}`).",
        "",
    ]


def _detail(check: Check) -> list[str]:
    decided_by = f"`{check.evidence}` via `{check.detector}`"
    if check.evidence == "metric":
        decided_by += f": `{check.metric}` passes when `{check.pass_when}`"
    elif check.evidence == "repo":
        decided_by += f", across repositories: `{check.aggregate}`"
    lines = [
        f"#### `{check.id}` — {check.title}",
        "",
        f"- Level {check.level}, weight {check.weight}; evidence: {decided_by}.",
        f"- Practices: {_practices(check)}.",
        f"- Why: {' '.join(check.why.split())}",
        f"- How to fix: {' '.join(check.how_to_fix.split())}",
    ]
    if check.question:
        wording = "Question" if check.evidence == "attestation" else "Asked while unknown"
        lines.append(f"- {wording}: {' '.join(check.question.split())}")
    return [*lines, ""]


def _pillar(pillar: str, checks: tuple[Check, ...]) -> list[str]:
    ordered = sorted(checks, key=lambda check: check.level)
    lines = [
        f"## {pillar}",
        "",
        "| level | id | title | weight | evidence | practices |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {check.level} | `{check.id}` | {_cell(check.title)} | {check.weight} | "
        f"{check.evidence} | {_practices(check)} |"
        for check in ordered
    ]
    lines += ["", f"### {pillar} checks", ""]
    for check in ordered:
        lines += _detail(check)
    return lines


def _coverage(rubric: Rubric) -> list[str]:
    lines = [
        "## Practices → checks",
        "",
        "Every practice of PRACTICES.md (`metrics/practices.toml`) and the checks that",
        "cover it.",
        "",
        "| practice | what | checks |",
        "|---|---|---|",
    ]
    for practice in load_practices().values():
        covering = [check.id for check in rubric.checks if practice.id in check.practices]
        listed = ", ".join(f"`{check_id}`" for check_id in covering) or "**none**"
        lines.append(f"| `{practice.id}` | {_cell(practice.practice)} | {listed} |")
    return [*lines, ""]


def _level_model(title: str, model: LevelModel) -> list[str]:
    lines = [
        f"### {title}",
        "",
        f"Source: {model.source} (<{model.url}>).",
        "",
        "A level is reached when its checks and those of every lower level pass or are",
        "waived.",
        "",
        "| level | name | checks |",
        "|---|---|---|",
    ]
    for level in model.levels:
        listed = ", ".join(f"`{check}`" for check in level.checks) or "—"
        lines.append(f"| {level.level} | {_cell(level.name)} | {listed} |")
    return [*lines, ""]


def _test_score(model: TestScoreModel) -> list[str]:
    lines = [
        f"### {model.name}",
        "",
        f"Source: {model.source} (<{model.url}>).",
        "",
        f"Each passing check earns {model.points_automated:g} point when evidence decides it",
        f"and {model.points_manual:g} when it is attested; a section's points are the sum",
        "over its checks and the final score is the minimum over the sections.",
        "",
        "| section | name | checks |",
        "|---|---|---|",
    ]
    for section in model.sections:
        listed = ", ".join(f"`{check}`" for check in section.checks)
        lines.append(f"| {section.id} | {_cell(section.name)} | {listed} |")
    lines += ["", "| final score | reading |", "|---|---|"]
    lower: float | None = None
    for band in model.bands:
        if band.up_to is None:
            bound = f"> {lower:g}" if lower is not None else "any"
        elif lower is None:
            bound = f"≤ {band.up_to:g}"
        else:
            bound = f"> {lower:g} and ≤ {band.up_to:g}"
        lines.append(f"| {bound} | {_cell(band.text)} |")
        lower = band.up_to
    return [*lines, ""]


def _crosswalk(rubric: Rubric) -> list[str]:
    models = rubric.crosswalk
    return [
        "## Crosswalk to public maturity models",
        "",
        "The same check results place a team on three public models; the mapping is",
        "data (`[crosswalk]` in `metrics/rubric.toml`).",
        "",
        *_level_model(models.google.name, models.google),
        *_level_model(models.microsoft.name, models.microsoft),
        *_test_score(models.ml_test_score),
    ]


def render(rubric: Rubric | None = None) -> str:
    rubric = rubric or load_rubric()
    lines = [
        "# Maturity rubric",
        "",
        "Generated from `metrics/rubric.toml` (version "
        f"`{rubric.version}`, {len(rubric.checks)} checks) by",
        "`python -m metrics.maturity_docs`; a test fails when this file is stale.",
        "The rubric is data: an organisation may add, re-weight or drop checks.",
        "",
        *_rules(rubric),
    ]
    by_pillar = rubric.checks_by_pillar()
    for pillar in PILLARS:
        lines += _pillar(pillar, by_pillar[pillar])
    lines += _coverage(rubric)
    lines += _crosswalk(rubric)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is stale: run `python -m metrics.maturity_docs`", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
