"""The configured organisation in the store: teams, their repositories and endpoints.

Both the demo and every sync write it first, so a team added to mlops.toml shows
up (with unknown metrics) before any source has data for it. Registered models
are linked to teams by the MLflow connector, which is the only one that knows
which names the teams' globs match.
"""

from __future__ import annotations

from sqlalchemy import Connection

from config import Config
from data.store import key_to_id, upsert_rows
from data.tables import Endpoint, Repo, Team, TeamRepo


def register_organisation(connection: Connection, config: Config) -> int:
    """Upsert the config's teams, repositories, team↔repo links and endpoints; returns how
    many rows it registered (existing ones included, as upserts count them)."""
    written = upsert_rows(connection, Team, [{"name": team.name} for team in config.teams])
    repos = sorted({repo for team in config.teams for repo in team.repos})
    # default_branch is left to its default on insert and to the GitHub sync afterwards.
    existing = key_to_id(connection, Repo, repos)
    upsert_rows(connection, Repo, [{"full_name": repo} for repo in repos if repo not in existing])
    written += len(repos)
    team_ids = key_to_id(connection, Team, [team.name for team in config.teams])
    repo_ids = key_to_id(connection, Repo, repos)
    written += upsert_rows(
        connection,
        TeamRepo,
        [
            {"team_id": team_ids[team.name], "repo_id": repo_ids[repo]}
            for team in config.teams
            for repo in team.repos
        ],
    )
    written += upsert_rows(
        connection,
        Endpoint,
        [
            {"team_id": team_ids[team.name], "name": endpoint.name, "selector": endpoint.selector}
            for team in config.teams
            for endpoint in team.endpoints
        ],
    )
    return written
