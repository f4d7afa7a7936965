"""Build `Inputs` from small hand-made rows.

Every Inputs frame gets the columns and dtypes `data.loaders` gives it (as read
off a loaded demo store): strings as `str`, ids as `int64`, timestamps as
`datetime64[us, UTC]`, lists and dicts as `object`. Like the loaders, an empty
frame has `object` string columns (pandas infers `str` only from values). A
test passes only the rows it cares about, as dicts; missing columns take the
defaults below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from config import Config, TeamConfig
from data.loaders import Period
from metrics.context import Inputs
from metrics.engine import MetricResult, compute_from_inputs

TIME = "datetime64[us, UTC]"
DEFAULT_TEAM = "A"
DEFAULT_REPO = "o/a"

_STR, _INT, _FLOAT, _BOOL, _OBJ = "str", "int64", "float64", "bool", "object"

# Inputs field -> {column: dtype}, in the loaders' column order.
SCHEMAS: dict[str, dict[str, str]] = {
    "models": {"team": _STR, "name": _STR, "description": _STR, "created_at": TIME},
    "versions": {
        "team": _STR,
        "model": _STR,
        "id": _INT,
        "version": _STR,
        "version_number": _INT,
        "status": _STR,
        "created_at": TIME,
        "run_id": _STR,
        "run_start": TIME,
        "run_end": TIME,
        "deployed_at": TIME,
        "aliases": _OBJ,
        "tags": _OBJ,
    },
    "alias_observations": {
        "team": _STR,
        "model": _STR,
        "alias": _STR,
        "version": _STR,
        "first_seen_at": TIME,
        "last_seen_at": TIME,
    },
    "endpoint_days": {
        "team": _STR,
        "endpoint": _STR,
        "day": _OBJ,
        "requests": _FLOAT,
        "failures": _FLOAT,
        "availability_ratio": _FLOAT,
    },
    "endpoint_buckets": {"team": _STR, "endpoint": _STR, "le": _FLOAT, "count": _FLOAT},
    "pull_requests": {
        "team": _STR,
        "repo": _STR,
        "default_branch": _STR,
        "id": _INT,
        "number": _INT,
        "title": _STR,
        "author": _STR,
        "state": _STR,
        "base_ref": _STR,
        "created_at": TIME,
        "updated_at": TIME,
        "merged_at": TIME,
        "closed_at": TIME,
    },
    "run_counts": {
        "team": _STR,
        "repo": _STR,
        "workflow_name": _STR,
        "on_default_branch": _BOOL,
        "status": _STR,
        "conclusion": _STR,
        "runs": _INT,
    },
    "deploy_runs": {
        "team": _STR,
        "repo": _STR,
        "default_branch": _STR,
        "id": _INT,
        "run_id": _INT,
        "workflow_name": _STR,
        "event": _STR,
        "head_branch": _STR,
        "status": _STR,
        "conclusion": _STR,
        "created_at": TIME,
        "updated_at": TIME,
        "on_default_branch": _BOOL,
    },
    "deployments": {
        "team": _STR,
        "repo": _STR,
        "default_branch": _STR,
        "id": _INT,
        "deployment_id": _INT,
        "environment": _STR,
        "ref": _STR,
        "sha": _STR,
        "created_at": TIME,
    },
    "deployment_statuses": {
        "team": _STR,
        "repo": _STR,
        "deployment_id": _INT,
        "status_id": _INT,
        "state": _STR,
        "created_at": TIME,
    },
    "repos": {"team": _STR, "repo": _STR, "default_branch": _STR, "has_deployments": _BOOL},
    "incidents": {
        "team": _STR,
        "repo": _STR,
        "default_branch": _STR,
        "id": _INT,
        "number": _INT,
        "title": _STR,
        "created_at": TIME,
        "closed_at": TIME,
        "labels": _OBJ,
    },
    "meetings": {
        "team": _STR,
        "id": _INT,
        "uid": _STR,
        "title": _STR,
        "start": TIME,
        "end": TIME,
        "source": _STR,
    },
    "attendees": {
        "team": _STR,
        "uid": _STR,
        "meeting_id": _INT,
        "email": _STR,
        "attended": _BOOL,
    },
}

_COMMON = {"team": DEFAULT_TEAM, "repo": DEFAULT_REPO, "default_branch": "main"}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "models": {"description": "", "created_at": None},
    "versions": {
        "status": "READY",
        "run_id": None,
        "run_start": None,
        "run_end": None,
        "deployed_at": None,
        "aliases": list,
        "tags": dict,
    },
    "alias_observations": {},
    "endpoint_days": {"endpoint": "api", "failures": 0.0, "availability_ratio": None},
    "endpoint_buckets": {"endpoint": "api"},
    "pull_requests": {
        "title": "",
        "author": "dev",
        "state": "closed",
        "base_ref": "main",
        "updated_at": None,
        "merged_at": None,
        "closed_at": None,
    },
    "run_counts": {"workflow_name": "CI", "on_default_branch": True, "status": "completed"},
    "deploy_runs": {
        "workflow_name": "Deploy",
        "event": "push",
        "head_branch": "main",
        "status": "completed",
        "updated_at": None,
    },
    "deployments": {"environment": "production", "ref": "main", "sha": ""},
    "deployment_statuses": {},
    "repos": {"has_deployments": True},
    "incidents": {"title": "incident", "closed_at": None, "labels": list},
    "meetings": {"title": "review", "end": None, "source": "test"},
    "attendees": {"attended": True},
}


def ts(text: str) -> pd.Timestamp:
    """A UTC instant, e.g. ts("2026-06-01 10:00")."""
    return pd.Timestamp(text, tz="UTC")


def _complete(kind: str, row: Mapping[str, Any], index: int) -> dict[str, Any]:
    schema = SCHEMAS[kind]
    defaults = {**_COMMON, **_DEFAULTS[kind]}
    full: dict[str, Any] = {}
    for column in schema:
        if column in row:
            full[column] = row[column]
        elif column == "id":
            full[column] = index + 1
        elif column in defaults:
            default = defaults[column]
            full[column] = default() if callable(default) else default
        elif kind == "versions" and column == "version_number":
            full[column] = int(row["version"])
        elif kind == "meetings" and column == "uid":
            full[column] = f"m{full['id']}"
        elif kind == "attendees" and column == "uid":
            full[column] = f"m{row['meeting_id']}"
        elif kind == "deploy_runs" and column == "on_default_branch":
            full[column] = None  # derived below
        elif kind == "deployment_statuses" and column == "status_id":
            full[column] = index + 1
        else:
            raise KeyError(f"{kind}: row {dict(row)} needs a value for {column!r}")
    if kind == "deploy_runs" and full["on_default_branch"] is None:
        full["on_default_branch"] = full["head_branch"] == full["default_branch"]
    unknown = set(row) - set(schema)
    if unknown:
        raise KeyError(f"{kind}: unknown column(s) {sorted(unknown)}")
    return full


def frame(kind: str, rows: Iterable[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """A frame shaped as the loader for `kind` returns it."""
    schema = SCHEMAS[kind]
    completed = [_complete(kind, row, index) for index, row in enumerate(rows)]
    columns: dict[str, pd.Series] = {}
    for column, dtype in schema.items():
        values = [row[column] for row in completed]
        if dtype == TIME:
            series = pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True))
            columns[column] = series.astype(TIME)
        elif dtype == _OBJ or (dtype == _STR and not completed):
            columns[column] = pd.Series(values, dtype=object)
        else:
            columns[column] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns)


def make_inputs(teams: Any = (DEFAULT_TEAM,), **rows: Any) -> Inputs:
    # `teams` is a sequence of names; typed Any so `**rows` dicts type-check at call sites.
    """Inputs with every frame empty except those given (as row dicts or frames)."""
    unknown = set(rows) - set(SCHEMAS)
    if unknown:
        raise KeyError(f"unknown Inputs field(s) {sorted(unknown)}")
    frames = {
        kind: value if isinstance(value, pd.DataFrame) else frame(kind, value)
        for kind, value in ((kind, rows.get(kind, ())) for kind in SCHEMAS)
    }
    return Inputs(teams=tuple(teams), **frames)


def deployment(
    row_id: int,
    created_at: str,
    states: Sequence[tuple[str, str]],
    *,
    environment: str = "production",
    team: str = DEFAULT_TEAM,
    repo: str = DEFAULT_REPO,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A GitHub Deployment row and its status rows [(state, time), ...] in order."""
    row = {
        "team": team,
        "repo": repo,
        "id": row_id,
        "deployment_id": 1000 + row_id,
        "environment": environment,
        "created_at": ts(created_at),
    }
    statuses = [
        {
            "team": team,
            "repo": repo,
            "deployment_id": row_id,
            "status_id": row_id * 100 + position,
            "state": state,
            "created_at": ts(at),
        }
        for position, (state, at) in enumerate(states)
    ]
    return row, statuses


def deployments_of(
    *specs: tuple[dict[str, Any], list[dict[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """`deployments=` and `deployment_statuses=` keyword arguments from `deployment(...)`s."""
    return {
        "deployments": [row for row, _ in specs],
        "deployment_statuses": [status for _, statuses in specs for status in statuses],
    }


def config_for(*teams: TeamConfig | str, **defaults: float) -> Config:
    """A Config with these teams (names or TeamConfigs) and optional default targets."""
    team_configs = [TeamConfig(name=team) if isinstance(team, str) else team for team in teams]
    return Config.model_validate({"teams": team_configs, "targets": defaults})


def results(
    inputs: Inputs,
    metric_id: str,
    period: Period,
    config: Config | None = None,
) -> dict[str, MetricResult]:
    """One metric through `compute_from_inputs`, keyed by team."""
    computed = compute_from_inputs(inputs, config or Config(), period, [metric_id])
    return {result.team: result for result in computed}


def value_of(
    inputs: Inputs,
    metric_id: str,
    period: Period,
    config: Config | None = None,
    team: str = DEFAULT_TEAM,
) -> float | None:
    return results(inputs, metric_id, period, config)[team].value
