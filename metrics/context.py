"""What the metric functions read: every team's frames and the settings that judge them.

Metrics are computed for all teams at once (group by `team`), not team by
team: an organisation of 40 teams then costs a few vectorised passes instead
of hundreds of small ones. Frames are loaded "as of the period end": nothing at
or after `period.end` is in them, so a snapshot of a past day computed today
equals the one computed on that day (given the same store), and backfills are
honest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd

from config import GitHubConfig, Targets
from data.loaders import Period

T = TypeVar("T")


@dataclass(frozen=True)
class Inputs:
    """Every frame carries a `team` column; see `metrics.engine.load_inputs` for their scope."""

    teams: tuple[str, ...]
    models: pd.DataFrame
    """Registered models (team, name, created_at)."""
    versions: pd.DataFrame
    """Every version created before the period end."""
    alias_observations: pd.DataFrame
    endpoint_days: pd.DataFrame
    """Endpoint days inside the period."""
    endpoint_buckets: pd.DataFrame
    """Histogram bucket increases summed over the period, per endpoint and `le`."""
    pull_requests: pd.DataFrame
    """PRs merged inside the period."""
    run_counts: pd.DataFrame
    """Runs created inside the period, counted per repo, workflow, branch kind and outcome."""
    deploy_runs: pd.DataFrame
    """The individual runs of deploy workflows in repos without GitHub Deployments."""
    deployments: pd.DataFrame
    """GitHub Deployments created inside the period."""
    deployment_statuses: pd.DataFrame
    repos: pd.DataFrame
    """Each team's repositories and whether each has GitHub Deployments before the period end."""
    incidents: pd.DataFrame
    """Incidents opened before the period end."""
    meetings: pd.DataFrame
    """Meetings that started before the period end."""
    attendees: pd.DataFrame
    """Attendance of those meetings."""
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Intermediate results several metrics share (e.g. production deployments)."""

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """Compute a shared intermediate once per load."""
        if key not in self.derived:
            self.derived[key] = build()
        return self.derived[key]  # type: ignore[no-any-return]

    @property
    def repos_with_deployments(self) -> frozenset[str]:
        return frozenset(self.repos.loc[self.repos["has_deployments"], "repo"])


@dataclass(frozen=True)
class MetricContext:
    period: Period
    targets: dict[str, Targets]
    """Each team's targets (defaults with its overrides)."""
    github: GitHubConfig = field(default_factory=GitHubConfig)
    production_aliases: tuple[str, ...] = ("champion", "production", "prod")
    stakeholders: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def end(self) -> datetime:
        return self.period.end

    @property
    def memo_key(self) -> str:
        """What intermediate results depend on besides the inputs: memo keys carry it, so
        inputs computed for two periods (or two configs) never share a stale result."""
        return (
            f"{self.period.since}..{self.period.until}|{self.production_aliases}|"
            f"{self.github.production_environment}|{self.github.deploy_workflow}"
        )

    @property
    def start(self) -> datetime:
        return self.period.start

    def target(self, key: str) -> pd.Series:
        """One target per team, indexed by team, for vectorised comparisons."""
        return pd.Series(
            {team: float(getattr(targets, key)) for team, targets in self.targets.items()},
            dtype=float,
        )
