"""The MLflow model registry (DESIGN §8): models the teams' globs name, their versions and aliases.

OSS MLflow dates neither alias moves nor stage transitions, so every sync records
the alias → version mappings it sees (`AliasObservation`), and the metrics date a
deployment by the first sync that saw a production alias on it, unless the CD
pipeline tagged the version `deployed_at`. The REST paths and the bearer token are
the same on Databricks, so one client serves both.

Incremental: a model whose `last_updated_timestamp` is older than its watermark and
whose aliases are as stored keeps its stored versions (creating or deleting a version
moves that timestamp; aliases and version tags do not, hence the alias comparison).
Its aliases are observed on every sync all the same: they come with the model search.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from sqlalchemy import Connection, delete, select, update

from config import MlflowConfig, TeamConfig, resolve_secret
from connectors.base import RequestCounter, SourceError, SourceOutcome, SyncContext
from data.store import key_to_id, read_watermarks, set_watermark, upsert_rows, write_transaction
from data.tables import AliasObservation, ModelVersion, RegisteredModel, Team, TeamModel

SOURCE = "mlflow"
API_PATH = "/api/2.0/mlflow/"
DEPLOYED_AT_TAG = "deployed_at"
RUN_IDS_PER_SEARCH = 100
"""Run ids named in one `runs/search` filter: short enough for any server's filter parser."""
TIMEOUT_SECONDS = (10.0, 60.0)
"""Connect and read timeouts of each request: a dead server must not hang a sync."""
RETRIED_STATUSES = frozenset({429, 503})
MAX_ATTEMPTS = 3
MAX_RETRY_WAIT_SECONDS = 30.0
"""A longer `Retry-After` is cut to this: a sync started from the UI must not sleep for long."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Listing:
    """One paged REST search: where it is, how it is called, which key holds its items."""

    endpoint: str
    method: Literal["GET", "POST"]
    items_key: str
    page_size: int


REGISTERED_MODELS = Listing("registered-models/search", "GET", "registered_models", 1000)
MODEL_VERSIONS = Listing("model-versions/search", "GET", "model_versions", 1000)
EXPERIMENTS = Listing("experiments/search", "POST", "experiments", 1000)
RUNS = Listing("runs/search", "POST", "runs", 1000)


def _endpoint_of(response: requests.Response) -> str:
    path = urlsplit(response.url).path
    return path.partition(API_PATH)[2] or path


class RegistryClient:
    """The REST API with the bearer token, request counting, paging and one-line errors."""

    def __init__(self, settings: MlflowConfig, counter: RequestCounter) -> None:
        self._token_env = settings.token_env
        self._base_url = settings.tracking_uri.rstrip("/") + API_PATH
        self._session = requests.Session()
        token = resolve_secret(settings.token_env)
        self._has_token = bool(token)
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        self._session.hooks["response"].append(counter.response_hook(_endpoint_of))

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._session.close()

    def items(self, listing: Listing, query: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a search, page after page (`page_token` until none comes back)."""
        page_token: str | None = None
        while True:
            page: dict[str, Any] = {**query, "max_results": listing.page_size}
            if page_token:
                page["page_token"] = page_token
            body = self._call(listing, page)
            yield from body.get(listing.items_key, [])
            page_token = body.get("next_page_token")
            if not page_token:
                return

    def _call(self, listing: Listing, payload: dict[str, Any]) -> dict[str, Any]:
        url = self._base_url + listing.endpoint
        is_get = listing.method == "GET"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self._session.request(
                    listing.method,
                    url,
                    params=payload if is_get else None,
                    json=None if is_get else payload,
                    timeout=TIMEOUT_SECONDS,
                )
            except requests.RequestException as exc:
                raise SourceError(
                    f"cannot reach MLflow at {url} ({type(exc).__name__}); "
                    "check [mlflow] tracking_uri"
                ) from None
            if response.status_code not in RETRIED_STATUSES or attempt == MAX_ATTEMPTS:
                break
            time.sleep(_retry_wait_seconds(response, attempt))
        if response.status_code != 200:
            raise SourceError(self._refusal(url, response))
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceError(
                f"{url} did not answer MLflow JSON: [mlflow] tracking_uri must be the address "
                "of an MLflow tracking server"
            )
        return body

    def _refusal(self, url: str, response: requests.Response) -> str:
        status = f"HTTP {response.status_code}"
        if response.status_code in (401, 403):
            if self._has_token:
                return (
                    f"MLflow at {url} refused the token in ${self._token_env} ({status}); "
                    "renew it, or point [mlflow] token_env at the right variable"
                )
            return (
                f"MLflow at {url} needs a token ({status}): set ${self._token_env} "
                "(the variable [mlflow] token_env names)"
            )
        detail = _error_detail(response)
        if response.status_code == 404 and not detail:
            return (
                f"no MLflow REST API at {url} ({status}): [mlflow] tracking_uri must be the "
                "server's base URL (the API lives under its /api/2.0/mlflow/)"
            )
        return f"MLflow at {url} answered {status}" + (f": {detail}" if detail else "")


def _error_detail(response: requests.Response) -> str:
    """MLflow's `error_code: message`, on one short line; empty for a non-MLflow answer."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict) or "error_code" not in body:
        return ""
    text = f"{body['error_code']}: {body.get('message', '')}"
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:197] + "..."


def _retry_wait_seconds(response: requests.Response, attempt: int) -> float:
    try:
        asked = float(response.headers.get("Retry-After", ""))
    except ValueError:
        asked = 2.0 ** (attempt - 1)
    return min(max(asked, 0.0), MAX_RETRY_WAIT_SECONDS)


# --- payload mapping ---------------------------------------------------------------


def from_epoch_ms(value: int | str | None) -> datetime | None:
    """MLflow's epoch milliseconds (JSON numbers, or strings from protobuf int64) as UTC."""
    if value is None or value == "":
        return None
    return _EPOCH + timedelta(milliseconds=int(value))


def parse_deployed_at(value: str) -> datetime:
    """A `deployed_at` tag: ISO 8601 (naive means UTC) or epoch milliseconds.

    Raises ValueError for anything else, so the caller can ignore the tag with a note.
    """
    text = value.strip()
    try:
        if text.isdigit():
            return _EPOCH + timedelta(milliseconds=int(text))
        moment = datetime.fromisoformat(text)
    except OverflowError:
        raise ValueError(f"{value!r} is out of range") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def alias_map(model: Mapping[str, Any]) -> dict[str, list[str]]:
    """Version → its aliases (sorted), from a registered-model payload."""
    mapping: dict[str, list[str]] = {}
    for entry in model.get("aliases", []):
        mapping.setdefault(str(entry["version"]), []).append(str(entry["alias"]))
    return {version: sorted(names) for version, names in mapping.items()}


def model_row(model: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": model["name"],
        "description": model.get("description") or "",
        "created_at": from_epoch_ms(model.get("creation_timestamp")),
    }


RunTimes = tuple[datetime | None, datetime | None]


def version_row(
    model_id: int,
    version: Mapping[str, Any],
    aliases: Mapping[str, list[str]],
    run_times: RunTimes,
    notes: list[str],
) -> dict[str, Any]:
    """A `model-versions/search` item as a `ModelVersion` row; a bad `deployed_at` adds a note."""
    number = str(version["version"])
    tags = {str(tag["key"]): str(tag.get("value", "")) for tag in version.get("tags", [])}
    deployed_at = None
    if DEPLOYED_AT_TAG in tags:
        try:
            deployed_at = parse_deployed_at(tags[DEPLOYED_AT_TAG])
        except ValueError:
            notes.append(
                f"{version['name']} version {number}: ignored the {DEPLOYED_AT_TAG} tag "
                f"{tags[DEPLOYED_AT_TAG]!r} (neither ISO 8601 nor epoch milliseconds)"
            )
    run_start, run_end = run_times
    return {
        "model_id": model_id,
        "version": number,
        "version_number": int(number),
        "status": version.get("status") or "READY",
        "created_at": from_epoch_ms(version["creation_timestamp"]),
        "run_id": version.get("run_id") or None,
        "run_start": run_start,
        "run_end": run_end,
        "deployed_at": deployed_at,
        "aliases": aliases.get(number, []),
        "tags": tags,
    }


def run_times_of(run: Mapping[str, Any]) -> tuple[str, RunTimes]:
    """A `runs/search` item as (run id, (start, end)); end is None while the run goes on."""
    info = run["info"]
    run_id = str(info.get("run_id") or info["run_uuid"])
    return run_id, (from_epoch_ms(info.get("start_time")), from_epoch_ms(info.get("end_time")))


def _quoted(value: str) -> str:
    """A string literal of MLflow's filter grammar (it reads double quotes as well)."""
    return f'"{value}"' if "'" in value else f"'{value}'"


def name_filters(globs: Iterable[str]) -> list[str | None]:
    """`name LIKE` filters that cover every glob (None: search unfiltered).

    On a registry many teams share, a filter per literal prefix pages through the
    teams' models only. They may over-match (LIKE's `_`, case-insensitive
    databases, Databricks' substring LIKE): the globs decide afterwards.
    """
    prefixes = sorted({re.split(r"[*?\[]", glob, maxsplit=1)[0] for glob in globs})
    if not prefixes or "" in prefixes or any("'" in p and '"' in p for p in prefixes):
        return [None]
    kept: list[str] = []
    for prefix in prefixes:  # sorted, so a prefix comes right before the ones it covers
        if not kept or not prefix.startswith(kept[-1]):
            kept.append(prefix)
    return [f"name LIKE {_quoted(prefix + '%')}" for prefix in kept]


def matches(name: str, globs: Iterable[str]) -> bool:
    return any(fnmatchcase(name, glob) for glob in globs)


# --- sync --------------------------------------------------------------------------


@dataclass(frozen=True)
class _StoredVersion:
    run_id: str | None
    run_start: datetime | None
    run_end: datetime | None
    aliases: tuple[str, ...]


@dataclass
class _ModelRead:
    """What one sync read of one model; `versions` is None when the stored ones still hold."""

    payload: dict[str, Any]
    stored: dict[str, _StoredVersion]
    versions: list[dict[str, Any]] | None = None

    @property
    def name(self) -> str:
        return str(self.payload["name"])

    def runs_to_look_up(self) -> set[str]:
        """Run ids of listed versions whose run times are not stored, or the run had not ended."""
        wanted: set[str] = set()
        for version in self.versions or []:
            run_id = version.get("run_id")
            stored = self.stored.get(str(version["version"]))
            if run_id and not (stored and stored.run_id == run_id and stored.run_end):
                wanted.add(run_id)
        return wanted

    def run_times(self, version: Mapping[str, Any], looked_up: Mapping[str, RunTimes]) -> RunTimes:
        run_id = version.get("run_id")
        stored = self.stored.get(str(version["version"]))
        if not run_id:
            return None, None
        if run_id in looked_up:
            return looked_up[run_id]
        if stored and stored.run_id == run_id:
            return stored.run_start, stored.run_end
        return None, None  # the run is deleted for good, or hidden from this token


def _matching_models(client: RegistryClient, globs: Sequence[str]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name_filter in name_filters(globs):
        query = {} if name_filter is None else {"filter": name_filter}
        for model in client.items(REGISTERED_MODELS, query):
            if matches(model["name"], globs):
                found[model["name"]] = model
    return [found[name] for name in sorted(found)]


def _stored_versions(
    connection: Connection, names: list[str]
) -> dict[str, dict[str, _StoredVersion]]:
    version, model = ModelVersion.__table__, RegisteredModel.__table__  # type: ignore[attr-defined]
    statement = (
        select(
            model.c.name,
            version.c.version,
            version.c.run_id,
            version.c.run_start,
            version.c.run_end,
            version.c.aliases,
        )
        .join(model, model.c.id == version.c.model_id)
        .where(model.c.name.in_(names))
    )
    stored: dict[str, dict[str, _StoredVersion]] = {name: {} for name in names}
    for row in connection.execute(statement):
        stored[row.name][row.version] = _StoredVersion(
            row.run_id, row.run_start, row.run_end, tuple(sorted(row.aliases))
        )
    return stored


def _unchanged(read: _ModelRead, watermark: datetime | None) -> bool:
    updated = from_epoch_ms(read.payload.get("last_updated_timestamp"))
    stored_aliases = {v: list(s.aliases) for v, s in read.stored.items() if s.aliases}
    return (
        watermark is not None
        and updated is not None
        and updated < watermark
        and alias_map(read.payload) == stored_aliases
    )


def _look_up_runs(client: RegistryClient, run_ids: Sequence[str]) -> dict[str, RunTimes]:
    """Run times by batched `runs/search` (never one `runs/get` per version).

    `runs/search` only searches the experiments it is given, and a model version does
    not say which experiment its run belongs to, so every experiment is named.
    """
    if not run_ids:
        return {}
    experiment_ids = [
        str(experiment["experiment_id"])
        for experiment in client.items(EXPERIMENTS, {"view_type": "ALL"})
    ]
    found: dict[str, RunTimes] = {}
    if not experiment_ids:
        return found
    for start in range(0, len(run_ids), RUN_IDS_PER_SEARCH):
        chunk = run_ids[start : start + RUN_IDS_PER_SEARCH]
        query = {
            "experiment_ids": experiment_ids,
            "filter": f"attributes.run_id IN ({', '.join(_quoted(run) for run in chunk)})",
            "run_view_type": "ALL",
        }
        found.update(run_times_of(run) for run in client.items(RUNS, query))
    return found


def _unlink_unmatched(connection: Connection, teams: Sequence[TeamConfig]) -> None:
    """Drop team ↔ model links that the teams' globs no longer name (the config changed)."""
    link, model = TeamModel.__table__, RegisteredModel.__table__  # type: ignore[attr-defined]
    team_ids = key_to_id(connection, Team, [team.name for team in teams])
    for team in teams:
        linked = connection.execute(
            select(model.c.id, model.c.name)
            .join(link, link.c.model_id == model.c.id)
            .where(link.c.team_id == team_ids[team.name])
        )
        stale = [row.id for row in linked if not matches(row.name, team.models)]
        if stale:
            connection.execute(
                delete(link).where(
                    link.c.team_id == team_ids[team.name], link.c.model_id.in_(stale)
                )
            )


def _observe_aliases(
    connection: Connection, model_id: int, aliases: Mapping[str, list[str]], seen_at: datetime
) -> int:
    """Insert mappings seen for the first time; only move `last_seen_at` of known ones."""
    pairs = [(alias, version) for version, names in aliases.items() for alias in names]
    known = key_to_id(connection, AliasObservation, [(model_id, *pair) for pair in pairs])
    first_seen = [
        {
            "model_id": model_id,
            "alias": alias,
            "version": version,
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
        }
        for alias, version in pairs
        if (model_id, alias, version) not in known
    ]
    written = upsert_rows(connection, AliasObservation, first_seen)
    if known:
        table = AliasObservation.__table__  # type: ignore[attr-defined]
        connection.execute(
            update(table).where(table.c.id.in_(list(known.values()))).values(last_seen_at=seen_at)
        )
    return written + len(known)


def _write_model(
    connection: Connection,
    context: SyncContext,
    read: _ModelRead,
    looked_up: Mapping[str, RunTimes],
    notes: list[str],
) -> int:
    written = upsert_rows(connection, RegisteredModel, [model_row(read.payload)])
    model_id = key_to_id(connection, RegisteredModel, [read.name])[read.name]
    teams = [team.name for team in context.teams if matches(read.name, team.models)]
    team_ids = key_to_id(connection, Team, teams)
    written += upsert_rows(
        connection,
        TeamModel,
        [{"team_id": team_ids[team], "model_id": model_id} for team in teams],
    )
    aliases = alias_map(read.payload)
    if read.versions is not None:
        rows = [
            version_row(model_id, version, aliases, read.run_times(version, looked_up), notes)
            for version in read.versions
        ]
        written += upsert_rows(connection, ModelVersion, rows)
        listed = {row["version"] for row in rows}
        gone = [v for v, stored in read.stored.items() if stored.aliases and v not in listed]
        if gone:  # deleted from the registry, which took their aliases along
            table = ModelVersion.__table__  # type: ignore[attr-defined]
            connection.execute(
                update(table)
                .where(table.c.model_id == model_id, table.c.version.in_(gone))
                .values(aliases=[])
            )
    written += _observe_aliases(connection, model_id, aliases, context.started_at)
    set_watermark(connection, SOURCE, read.name, context.started_at)
    return written


def sync_mlflow(context: SyncContext) -> SourceOutcome:
    """Sync the registered models that `context.teams` name; the runner records the sync_run.

    Call it after `register_organisation`, so the teams the models are linked to exist.
    """
    settings = context.config.mlflow
    if settings is None:
        raise SourceError("no [mlflow] section in the config: nothing to sync from MLflow")
    globs = sorted({glob for team in context.teams for glob in team.models})
    with RegistryClient(settings, context.requests) as client:
        models = _matching_models(client, globs) if globs else []
        names = [model["name"] for model in models]
        with context.engine.connect() as connection:
            watermarks = read_watermarks(connection, SOURCE)
            stored = _stored_versions(connection, names)
        with write_transaction(context.engine) as connection:
            _unlink_unmatched(connection, context.teams)
        context.progress.start("MLflow models", total=len(models))
        reads = [_ModelRead(model, stored[model["name"]]) for model in models]
        failures: dict[str, str] = {}
        for read in reads:
            if _unchanged(read, watermarks.get(read.name)):
                continue
            query = {"filter": f"name = {_quoted(read.name)}"}
            try:
                read.versions = list(client.items(MODEL_VERSIONS, query))
            except SourceError as exc:
                failures[read.name] = str(exc)
        run_ids = sorted(
            set().union(*(r.runs_to_look_up() for r in reads if r.name not in failures))
        )
        try:
            looked_up = _look_up_runs(client, run_ids)
        except SourceError as exc:
            looked_up = {}
            for read in reads:
                if read.name not in failures and read.runs_to_look_up():
                    failures[read.name] = f"run times: {exc}"
    outcome = SourceOutcome()
    notes: list[str] = []
    for read in reads:
        if read.name not in failures:
            with write_transaction(context.engine) as connection:
                outcome.rows_written += _write_model(connection, context, read, looked_up, notes)
        context.progress.advance("MLflow models")
    if failures and len(failures) == len(reads):
        raise SourceError(next(iter(failures.values())))
    lines = [f"{name}: {reason}" for name, reason in failures.items()] + notes
    if lines:
        outcome.status = "partial"
        outcome.error = "\n".join(lines)
    if len(failures) < len(reads):
        with context.engine.connect() as connection:
            outcome.watermark = min(read_watermarks(connection, SOURCE).values())
    return outcome
