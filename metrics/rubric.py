"""The maturity rubric: `metrics/rubric.toml` as validated data (DESIGN §7).

The rubric is data an organisation may edit; this module is its schema. A mistake is
reported with the check id and the field (`check 'devops.tests', field 'level': …`),
never a traceback: unknown fields, duplicate ids, practice ids that are not
PRACTICES.md ids, detectors that do not exist, metric ids the catalog does not know,
levels outside 1–4, crosswalks that name unknown checks.

The practice ids come from `metrics/practices.toml`, the product's copy of
../shared/PRACTICES.md (a test keeps the two equal).
"""

from __future__ import annotations

import operator
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from metrics.repo_detectors import DETECTORS

RUBRIC_PATH = Path(__file__).with_name("rubric.toml")
PRACTICES_PATH = Path(__file__).with_name("practices.toml")

Pillar = Literal["DataOps", "DevOps", "ModelOps"]
PILLARS: tuple[Pillar, ...] = ("DataOps", "DevOps", "ModelOps")
Evidence = Literal["repo", "registry", "prometheus", "meetings", "metric", "attestation"]
Aggregate = Literal["any", "all"]
Outcome = Literal["pass", "fail", "unknown"]

LEVELS: dict[int, str] = {
    0: "no practice",
    1: "foundations (version control, docs, tests)",
    2: "automated training and data",
    3: "automated deployment and monitoring",
    4: "full operations (alerts, retraining triggers, rollback, scale)",
}

EVIDENCE_DETECTORS: dict[str, tuple[str, ...]] = {
    "metric": ("metric_rule",),
    "attestation": ("questionnaire",),
    "registry": (
        "registry_has_models",
        "registry_versions_traceable",
        "registry_models_described",
        "registry_serving_alias",
        "registry_deployed_at_tagged",
    ),
    "prometheus": (
        "alert_rules_service",
        "alert_rules_resources",
        "alert_rules_model",
        "alert_rules_data",
    ),
    "meetings": ("meetings_cross_functional",),
}
"""The detectors of the non-repository evidence kinds. `metric_rule` is
`metric_rule_outcome` below and `questionnaire` is the stored attestation; the registry,
Prometheus and meetings functions read stored evidence and are implemented with the
scoring (they must keep these names). Repository detectors are `repo_detectors.DETECTORS`."""

PRACTICE_ID = re.compile(r"^P-[A-Z0-9]+(-[A-Z0-9]+)*$")
"""PRACTICES.md ids: `P-` and upper-case words (`P-K8S-PROBES` has a digit)."""
CHECK_ID = re.compile(r"^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$")
VERSION = re.compile(r"^\d{4}\.\d{1,2}\.\d+$")
_COMPARISON = re.compile(r"^(<=|>=|<|>|==)\s*(-?\d+(?:\.\d+)?)$")
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
}


class RubricError(ValueError):
    """A rubric or practices file that cannot be used; the message names what and where."""


# --- practices --------------------------------------------------------------------------


@dataclass(frozen=True)
class Practice:
    id: str
    practice: str
    seeds: tuple[str, ...]


@cache
def load_practices(path: Path = PRACTICES_PATH) -> dict[str, Practice]:
    """The practice ids of PRACTICES.md, in its order."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"cannot read the practice list {path}: {exc}") from exc
    practices: dict[str, Practice] = {}
    for practice_id, entry in document.items():
        if not PRACTICE_ID.match(practice_id) or not isinstance(entry, Mapping):
            raise RubricError(f"{path}: {practice_id!r} is not a practice id table (P-WORDS)")
        practices[practice_id] = Practice(
            id=practice_id,
            practice=str(entry.get("practice", "")),
            seeds=tuple(str(seed) for seed in entry.get("seeds", ())),
        )
    return practices


@cache
def _metric_ids() -> frozenset[str]:
    from metrics.catalog import catalog

    return frozenset(catalog())


# --- checks -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Check(_Strict):
    id: str
    pillar: Pillar
    level: int
    weight: int
    title: str = Field(min_length=1)
    why: str = Field(min_length=1)
    how_to_fix: str = Field(min_length=1)
    evidence: Evidence
    detector: str
    practices: tuple[str, ...]
    question: str | None = None
    """Questionnaire wording: required for attestations; elsewhere asked while unknown."""
    metric: str | None = None
    pass_when: str | None = None
    aggregate: Aggregate = "any"
    """Repository checks: how a team's repositories combine (see `aggregate_outcomes`)."""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not CHECK_ID.match(value):
            raise ValueError(f"{value!r} is not pillar.slug in lower case (e.g. devops.pre-commit)")
        return value

    @field_validator("level")
    @classmethod
    def _level_range(cls, value: int) -> int:
        if not 1 <= value <= 4:
            levels = ", ".join(f"{level} {name}" for level, name in LEVELS.items() if level)
            raise ValueError(f"must be 1–4 ({levels}), got {value}")
        return value

    @field_validator("weight")
    @classmethod
    def _weight_range(cls, value: int) -> int:
        if not 1 <= value <= 5:
            raise ValueError(f"must be 1–5, got {value}")
        return value

    @field_validator("detector")
    @classmethod
    def _known_detector(cls, value: str, info: ValidationInfo) -> str:
        evidence = info.data.get("evidence")
        if evidence is None:
            return value  # the evidence field has its own error
        known = tuple(DETECTORS) if evidence == "repo" else EVIDENCE_DETECTORS[evidence]
        if value not in known:
            raise ValueError(
                f"{value!r} is not a known {evidence} detector (known: {', '.join(known)})"
            )
        return value

    @field_validator("practices")
    @classmethod
    def _known_practices(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one PRACTICES.md id")
        malformed = [practice for practice in value if not PRACTICE_ID.match(practice)]
        if malformed:
            raise ValueError(
                f"{', '.join(map(repr, malformed))} not in the PRACTICES.md id format "
                "(P- and upper-case words, e.g. P-PRECOMMIT)"
            )
        unknown = [practice for practice in value if practice not in load_practices()]
        if unknown:
            raise ValueError(
                f"{', '.join(map(repr, unknown))} not in PRACTICES.md (metrics/practices.toml)"
            )
        if len(set(value)) != len(value):
            raise ValueError("lists a practice twice")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Check:
        prefix = self.id.split(".", 1)[0]
        if prefix != self.pillar.lower():
            raise ValueError(f"id: {self.id!r} must start with {self.pillar.lower()}.")
        if self.evidence == "attestation" and not self.question:
            raise ValueError("question: an attestation check needs the questionnaire's wording")
        if self.evidence == "metric":
            if self.metric is None or self.pass_when is None:
                raise ValueError("metric, pass_when: a metric check needs both")
            if self.metric not in _metric_ids():
                raise ValueError(f"metric: {self.metric!r} is not in metrics.catalog")
            if self.pass_when not in ("ok", "known") and not _COMPARISON.match(self.pass_when):
                raise ValueError(
                    f"pass_when: {self.pass_when!r} is not ok, known or a comparison like '>= 1'"
                )
        elif self.metric is not None or self.pass_when is not None:
            raise ValueError("metric, pass_when: only metric checks take them")
        if "aggregate" in self.model_fields_set and self.evidence != "repo":
            raise ValueError("aggregate: only repository checks combine across repositories")
        return self


# --- crosswalk --------------------------------------------------------------------------


class CrosswalkLevel(_Strict):
    level: int = Field(ge=0)
    name: str
    checks: tuple[str, ...] = ()


class LevelModel(_Strict):
    """A public maturity model whose levels are reached cumulatively."""

    name: str
    source: str = Field(min_length=1)
    url: str
    rule: Literal["cumulative"]
    levels: tuple[CrosswalkLevel, ...]

    @model_validator(mode="after")
    def _numbered_from_zero(self) -> LevelModel:
        numbers = [level.level for level in self.levels]
        if numbers != list(range(len(numbers))):
            raise ValueError(f"levels must be numbered 0, 1, 2… in order, got {numbers}")
        return self

    def level_reached(self, passing: Iterable[str]) -> int:
        """The highest level whose mapped checks, and those of every lower level, all pass
        (`passing`: ids of checks that pass or are waived)."""
        passed = set(passing)
        reached = 0
        for level in self.levels:
            if not set(level.checks) <= passed:
                break
            reached = level.level
        return reached


TestSection = Literal["data", "model", "infrastructure", "monitoring"]


class ScoreSection(_Strict):
    id: TestSection
    name: str
    checks: tuple[str, ...]


class ScoreBand(_Strict):
    up_to: float | None = None
    text: str


class TestScoreModel(_Strict):
    """The ML Test Score: sections of tests, points per passing test, the minimum wins."""

    name: str
    source: str = Field(min_length=1)
    url: str
    rule: Literal["minimum-of-sections"]
    points_automated: float = Field(gt=0)
    points_manual: float = Field(gt=0)
    sections: tuple[ScoreSection, ...]
    bands: tuple[ScoreBand, ...]

    @model_validator(mode="after")
    def _complete(self) -> TestScoreModel:
        ids = sorted(section.id for section in self.sections)
        if ids != sorted(("data", "model", "infrastructure", "monitoring")):
            raise ValueError(f"sections must be data, model, infrastructure, monitoring; got {ids}")
        bounds = [band.up_to for band in self.bands]
        if not bounds or bounds[-1] is not None or None in bounds[:-1]:
            raise ValueError("bands: every band but the last needs up_to; the last has none")
        limits = [bound for bound in bounds if bound is not None]
        if limits != sorted(limits):
            raise ValueError("bands: up_to must increase")
        return self

    def score(self, passing: Mapping[str, Literal["automated", "attested"]]) -> dict[str, float]:
        """Points per section and `final` (the minimum), from passing checks' provenance."""
        points = {"automated": self.points_automated, "attested": self.points_manual}
        sections: dict[str, float] = {
            section.id: sum(points[passing[check]] for check in section.checks if check in passing)
            for section in self.sections
        }
        return {**sections, "final": min(sections.values())}

    def band(self, final_score: float) -> str:
        return next(
            band.text for band in self.bands if band.up_to is None or final_score <= band.up_to
        )


class Crosswalk(_Strict):
    google: LevelModel
    microsoft: LevelModel
    ml_test_score: TestScoreModel

    @model_validator(mode="after")
    def _level_counts(self) -> Crosswalk:
        if len(self.google.levels) != 3:
            raise ValueError("google: Google's MLOps levels are 0–2")
        if len(self.microsoft.levels) != 5:
            raise ValueError("microsoft: Microsoft's MLOps maturity levels are 0–4")
        return self

    def check_ids(self) -> dict[str, set[str]]:
        """Every check id each model names."""
        return {
            "google": {check for level in self.google.levels for check in level.checks},
            "microsoft": {check for level in self.microsoft.levels for check in level.checks},
            "ml_test_score": {
                check for section in self.ml_test_score.sections for check in section.checks
            },
        }


# --- the rubric ---------------------------------------------------------------------------


class Rubric(_Strict):
    version: str
    checks: tuple[Check, ...] = Field(min_length=1)
    crosswalk: Crosswalk

    @field_validator("version")
    @classmethod
    def _calendar_version(cls, value: str) -> str:
        if not VERSION.match(value):
            raise ValueError(f"{value!r} is not YYYY.MM.N (e.g. 2026.11.1)")
        return value

    @model_validator(mode="after")
    def _references(self) -> Rubric:
        seen: dict[str, int] = {}
        for index, check in enumerate(self.checks, start=1):
            if check.id in seen:
                raise ValueError(
                    f"duplicate check id {check.id!r} (checks #{seen[check.id]} and #{index})"
                )
            seen[check.id] = index
        for model, ids in self.crosswalk.check_ids().items():
            if unknown := sorted(ids - set(seen)):
                raise ValueError(f"crosswalk.{model} names unknown checks: {', '.join(unknown)}")
        return self

    @property
    def by_id(self) -> dict[str, Check]:
        return {check.id: check for check in self.checks}

    def check(self, check_id: str) -> Check:
        try:
            return self.by_id[check_id]
        except KeyError:
            raise KeyError(f"no check {check_id!r} in rubric {self.version}") from None

    def checks_by_pillar(self) -> dict[Pillar, tuple[Check, ...]]:
        return {
            pillar: tuple(check for check in self.checks if check.pillar == pillar)
            for pillar in PILLARS
        }

    def repo_checks(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.evidence == "repo")

    def practices_covered(self) -> set[str]:
        return {practice for check in self.checks for practice in check.practices}


def _describe(error: ErrorDetails, document: Mapping[str, Any]) -> str:
    """One validation error as "check 'id', field 'name': reason"."""
    location = error["loc"]
    message = error["msg"].removeprefix("Value error, ")
    where = "rubric"
    fields = [str(part) for part in location]
    if len(location) >= 2 and location[0] == "checks" and isinstance(location[1], int):
        raw_checks = document.get("checks")
        raw = raw_checks[location[1]] if isinstance(raw_checks, list) else None
        check_id = raw.get("id") if isinstance(raw, Mapping) else None
        where = f"check {check_id!r}" if check_id else f"check #{location[1] + 1}"
        fields = [str(part) for part in location[2:]]
    if error["type"] in ("less_than_equal", "greater_than_equal", "literal_error", "int_type"):
        message += f" (got {error['input']!r})"
    return f"{where}, field {'.'.join(fields)!r}: {message}" if fields else f"{where}: {message}"


def parse_rubric(text: str, source: str = "rubric.toml") -> Rubric:
    """Validate rubric TOML text; RubricError lists every problem, one per line."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{source} is not valid TOML: {exc}") from exc
    try:
        return Rubric.model_validate(document)
    except ValidationError as exc:
        problems = [_describe(error, document) for error in exc.errors()]
        raise RubricError(f"{source} is not a valid rubric:\n  " + "\n  ".join(problems)) from None


@cache
def _load(path: Path) -> Rubric:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(f"cannot read the rubric {path}: {exc.strerror}") from exc
    return parse_rubric(text, source=str(path))


def load_rubric(path: str | Path | None = None) -> Rubric:
    """The rubric at `path` (default `metrics/rubric.toml`), validated once and cached."""
    return _load(Path(path).resolve() if path is not None else RUBRIC_PATH)


def checks_by_pillar(rubric: Rubric | None = None) -> dict[Pillar, tuple[Check, ...]]:
    return (rubric or load_rubric()).checks_by_pillar()


def repo_checks(rubric: Rubric | None = None) -> tuple[Check, ...]:
    return (rubric or load_rubric()).repo_checks()


# --- rules the rubric's fields stand for ---------------------------------------------------


def metric_rule_outcome(pass_when: str, status: str, value: float | None) -> Outcome:
    """A metric check's outcome: `ok` = the metric's status is ok; `known` = it has a
    value; `>= 1`, `<= 48`… compare the value. No value (status unknown): unknown."""
    if value is None or status == "unknown":
        return "unknown"
    if pass_when == "known":
        return "pass"
    if pass_when == "ok":
        return "pass" if status == "ok" else "fail"
    match = _COMPARISON.match(pass_when)
    if match is None:
        raise ValueError(f"pass_when {pass_when!r} is not ok, known or a comparison")
    return "pass" if _COMPARE[match.group(1)](value, float(match.group(2))) else "fail"


def aggregate_outcomes(aggregate: Aggregate, outcomes: Iterable[Outcome]) -> Outcome:
    """A repository check over a team's repositories. `any`: pass if one repository
    passes, else fail if one fails, else unknown. `all`: fail if one fails, pass if every
    one passes, else unknown (an undecided repository may be the failing one)."""
    seen = set(outcomes)
    if aggregate == "any":
        return "pass" if "pass" in seen else "fail" if "fail" in seen else "unknown"
    return "fail" if "fail" in seen else "pass" if seen == {"pass"} else "unknown"
