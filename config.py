"""The `mlops.toml` contract (DESIGN §4): a pydantic model, loading and validation.

A bad file must stop the program with the key path and the reason on one line,
never a traceback, so every failure surfaces as `ConfigError`. Secrets never
live in the file: it only names environment variables (or `st.secrets` keys),
resolved by `resolve_secret` at the moment of use and never kept.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "mlops.db"
DEFAULT_STORE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"
DEMO_CONFIG_PATH = PROJECT_ROOT / "data" / "demo" / "mlops.toml"
EXAMPLE_CONFIG_PATH = PROJECT_ROOT / "mlops.example.toml"


class ConfigError(Exception):
    """A configuration problem, worded for a person: where it is and how to fix it."""


class _AtKey(ValueError):
    """A validation error that belongs to a key below the one being validated.

    A list-level check (unique team names, say) can then point at `teams[1].name`
    rather than at `teams`.
    """

    def __init__(self, loc: tuple[int | str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


Regex = Annotated[str, Field(min_length=1), AfterValidator(_check_regex)]
EnvVarName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
RepoName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
HttpUrl = Annotated[str, Field(pattern=r"^https?://[^\s/]+")]


class _Section(BaseModel):
    """Unknown keys are errors: a typo must not silently disable a setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreConfig(_Section):
    url: str = DEFAULT_STORE_URL

    @field_validator("url")
    @classmethod
    def _known_dialect(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError(
                "must be a SQLAlchemy URL starting with sqlite:/// or postgresql+psycopg://"
            )
        return value


class GitHubConfig(_Section):
    base_url: HttpUrl = "https://api.github.com"
    token_env: EnvVarName = "GITHUB_TOKEN"
    production_environment: Regex = "(?i)^prod"
    deploy_workflow: Regex = "(?i)deploy"
    incident_label: str = Field(default="incident", min_length=1)
    history_days: int = Field(default=365, gt=0, le=3650)
    timeout_seconds: float = Field(default=30, gt=0, le=600)
    max_wait_seconds: float = Field(default=60, ge=0, le=3600)
    """A sync never sleeps longer on a rate limit: it records "rate limited until T"."""


PrometheusPreset = Literal["generic", "fastapi", "bentoml", "seldon", "kserve", "knative"]


class PrometheusConfig(_Section):
    url: HttpUrl = "http://localhost:9090"
    token_env: EnvVarName | None = None
    latency_histogram: str = Field(default="http_request_duration_seconds", min_length=1)
    requests_total: str = Field(default="http_requests_total", min_length=1)
    status_label: str = Field(default="code", min_length=1)
    failure_status: Regex = "5.."
    preset: PrometheusPreset = "generic"


class MlflowConfig(_Section):
    tracking_uri: HttpUrl = "http://localhost:5000"
    token_env: EnvVarName = "MLFLOW_TRACKING_TOKEN"
    production_aliases: list[str] = Field(
        default_factory=lambda: ["champion", "production", "prod"], min_length=1
    )


class Targets(_Section):
    retrain_every_days: float = Field(default=30, gt=0)
    stale_after_days: float = Field(default=90, gt=0)
    time_to_deploy_hours: float = Field(default=168, gt=0)
    latency_p95_ms: float = Field(default=300, gt=0)
    failure_rate_pct: float = Field(default=1.0, ge=0, le=100)
    availability_pct: float = Field(default=99.5, ge=0, le=100)
    meeting_every_days: float = Field(default=42, gt=0)
    stakeholder_attendance_pct: float = Field(default=75, ge=0, le=100)


class TargetOverrides(_Section):
    """Per-team overrides: only the keys a team sets replace the defaults."""

    retrain_every_days: float | None = Field(default=None, gt=0)
    stale_after_days: float | None = Field(default=None, gt=0)
    time_to_deploy_hours: float | None = Field(default=None, gt=0)
    latency_p95_ms: float | None = Field(default=None, gt=0)
    failure_rate_pct: float | None = Field(default=None, ge=0, le=100)
    availability_pct: float | None = Field(default=None, ge=0, le=100)
    meeting_every_days: float | None = Field(default=None, gt=0)
    stakeholder_attendance_pct: float | None = Field(default=None, ge=0, le=100)


class EndpointConfig(_Section):
    name: str = Field(min_length=1)
    selector: str = Field(pattern=r"^\{.*\}$", default="{}")


class SyncConfig(_Section):
    """Where `cli.py sync` publishes its own health, so monitoring sees a sync that stopped."""

    metrics_textfile: str | None = None
    pushgateway_url: HttpUrl | None = None
    """Pushed to `<url>/metrics/job/mlops_sync`, replacing the previous push."""

    @field_validator("metrics_textfile")
    @classmethod
    def _prom_suffix(cls, value: str | None) -> str | None:
        if value is not None and not value.endswith(".prom"):
            raise ValueError(
                "must end in .prom: node_exporter's textfile collector reads only those"
            )
        return value

    @field_validator("pushgateway_url")
    @classmethod
    def _no_credentials(cls, value: str | None) -> str | None:
        if value is not None and "@" in value.split("/")[2]:
            raise ValueError("must not carry a user or password: secrets never live in this file")
        return value


class MeetingsConfig(_Section):
    ics: str | None = None
    csv: str | None = None
    title: Regex = ".*"


class TeamConfig(_Section):
    name: str = Field(min_length=1)
    repos: list[RepoName] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    endpoints: list[EndpointConfig] = Field(default_factory=list)
    meetings: MeetingsConfig | None = None
    stakeholders: list[Email] = Field(default_factory=list)
    targets: TargetOverrides = Field(default_factory=TargetOverrides)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @model_validator(mode="after")
    def _unique_endpoints(self) -> TeamConfig:
        first_index: dict[str, int] = {}
        for index, endpoint in enumerate(self.endpoints):
            earlier = first_index.setdefault(endpoint.name, index)
            if earlier != index:
                raise _AtKey(
                    ("endpoints", index, "name"),
                    f"{endpoint.name!r} repeats endpoints[{earlier}].name; "
                    "endpoint names must be unique within a team",
                )
        return self


class Config(_Section):
    store: StoreConfig = Field(default_factory=StoreConfig)
    github: GitHubConfig | None = None
    prometheus: PrometheusConfig | None = None
    mlflow: MlflowConfig | None = None
    sync: SyncConfig = Field(default_factory=SyncConfig)
    targets: Targets = Field(default_factory=Targets)
    teams: list[TeamConfig] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)

    @field_validator("teams")
    @classmethod
    def _unique_team_names(cls, teams: list[TeamConfig]) -> list[TeamConfig]:
        first_index: dict[str, int] = {}
        for index, team in enumerate(teams):
            earlier = first_index.setdefault(team.name.casefold(), index)
            if earlier != index:
                raise _AtKey(
                    (index, "name"),
                    f"{team.name!r} repeats teams[{earlier}].name; team names must be unique",
                )
        return teams

    def team(self, name: str) -> TeamConfig:
        for team in self.teams:
            if team.name == name:
                return team
        raise ConfigError(f"unknown team {name!r}; configured teams: {self.team_names()}")

    def team_names(self) -> list[str]:
        return [team.name for team in self.teams]

    def targets_for(self, team_name: str) -> Targets:
        """The default targets with the team's own overrides applied."""
        overrides = self.team(team_name).targets.model_dump(exclude_none=True)
        return self.targets.model_copy(update=overrides)


class LoadedConfig(BaseModel):
    """A validated config plus where it came from, for the Status page and messages."""

    model_config = ConfigDict(frozen=True)

    config: Config
    source: str
    is_demo: bool
    store_url: str


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _section_model(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model that validates the table at `loc` (for suggesting a misspelt key)."""
    model: type[BaseModel] | None = Config
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = None if field is None else _model_in(field.annotation)
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside `X`, `X | None` or `list[X]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _unknown_key_message(loc: tuple[int | str, ...]) -> str:
    message = "unknown key"
    model = _section_model(loc[:-1])
    if model is not None and isinstance(loc[-1], str):
        close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {close[0]!r}?"
    return message + " (see `python cli.py init` for every key)"


def _describe(error: ValidationError, source: str) -> str:
    """One line: the first problem with its key path, and how many more there are."""
    problems = error.errors()
    first = problems[0]
    loc = tuple(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, _AtKey):
        loc += cause.loc
    if first["type"] == "extra_forbidden":
        message = _unknown_key_message(loc)
    elif first["type"] == "missing":
        message = "required key is missing"
    elif first["type"] != "value_error" and isinstance(first["input"], str | int | float):
        shown = repr(first["input"])
        message += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
    line = f"{source}: {_location(loc)}: {message}"
    if len(problems) > 1:
        line += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return line


def parse_config(text: str, source: str = "mlops.toml") -> Config:
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def config_path(explicit: str | Path | None = None) -> Path | None:
    """`--config FILE`, else `$MLOPS_CONFIG`, else `./mlops.toml`, else None (demo)."""
    if explicit is not None:
        return Path(explicit)
    from_env = os.environ.get("MLOPS_CONFIG")
    if from_env:
        return Path(from_env)
    local = Path.cwd() / "mlops.toml"
    return local if local.is_file() else None


def load_config(explicit: str | Path | None = None) -> LoadedConfig:
    path = config_path(explicit)
    is_demo = path is None
    path = DEMO_CONFIG_PATH if path is None else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found (create one with `python cli.py init`)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the config file is not UTF-8 text") from None
    config = parse_config(text, source=str(path))
    store_url = os.environ.get("DATABASE_URL") or config.store.url
    return LoadedConfig(config=config, source=str(path), is_demo=is_demo, store_url=store_url)


def _streamlit_secret(name: str) -> str | None:
    """`name in st.secrets` raises when no secrets file exists: guard it."""
    try:
        import streamlit as st

        value = st.secrets.get(name)
    except Exception:  # no secrets file, or not running under Streamlit
        return None
    return str(value) if value else None


def resolve_secret(env_name: str | None) -> str | None:
    """Read a token when it is needed; callers must not store or log the value."""
    if not env_name:
        return None
    return os.environ.get(env_name) or _streamlit_secret(env_name)


SECRET_MIN_LENGTH = 6
"""Shorter values are not blotted out: "***" in place of every "ab" would garble text."""


def redact_secrets(text: str, config: Config) -> str:
    """`text` with the value of every token the config names replaced by `***`.

    For error text from a source before it is stored or shown: a server or a proxy in
    between may quote the request, `Authorization` header and all, in its answer."""
    names = {
        section.token_env
        for section in (config.github, config.prometheus, config.mlflow)
        if section is not None and section.token_env
    }
    return blot_out(text, {value for name in names if (value := resolve_secret(name))})


def blot_out(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` (the longest first, so no part of one is left)
    replaced by `***`."""
    for value in sorted((v for v in secrets if len(v) >= SECRET_MIN_LENGTH), key=len)[::-1]:
        text = text.replace(value, "***")
    return text
