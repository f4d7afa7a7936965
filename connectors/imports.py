"""Imports for what no connector reads: meetings, model versions, deployments and
endpoint statistics from CSV or JSON files (meetings also from iCalendar).

A file is validated whole before anything is written: any wrong row refuses the
import with one message per problem (where, which column, the value, what was
expected), because a half-imported file would skew metrics without anyone
noticing. A good file is written in one transaction together with its `sync_run`
(source `import:<kind>`), so the Status page shows when each import happened.

Imported latency percentiles are stored as histogram buckets on one fixed grid
(`LATENCY_GRID_SECONDS`): the stored days then pool across days and endpoints
as the endpoint metrics expect (DESIGN §6). Percentiles do not add up, so a day
only keeps what its percentiles say: the distribution through them, linear
between them (see `latency_buckets`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Any, Final, Literal, get_args

from sqlalchemy import Connection, delete
from sqlalchemy.engine import Engine

from config import Config
from data.entry import EMAIL, TITLE_MAX_CHARS
from data.organisation import register_organisation
from data.store import key_to_id, upsert_rows, write_transaction
from data.tables import (
    Deployment,
    DeploymentStatus,
    Endpoint,
    EndpointDaily,
    EndpointLatencyBucket,
    ModelVersion,
    RegisteredModel,
    Repo,
    SyncRun,
    Team,
    TeamModel,
)

ImportKind = Literal["meetings", "model-versions", "deployments", "endpoint-stats"]
IMPORT_KINDS: Final[tuple[ImportKind, ...]] = get_args(ImportKind)
FileFormat = Literal["csv", "json", "ics"]
FORMATS_OF_KIND: Final[Mapping[ImportKind, tuple[FileFormat, ...]]] = {
    "meetings": ("csv", "json", "ics"),
    "model-versions": ("csv", "json"),
    "deployments": ("csv", "json"),
    "endpoint-stats": ("csv", "json"),
}
LIST_SEPARATORS: Final = re.compile(r"[;,\s]+")
"""Between e-mails or aliases in one CSV cell."""
DEPLOYMENT_STATES: Final = (
    "success",
    "failure",
    "error",
    "inactive",
    "in_progress",
    "queued",
    "pending",
)
"""GitHub's deployment status states."""
DERIVED_DEPLOYMENT_ID_BASE: Final = 1 << 60
"""Deployments imported without an `id` get one derived from repo, environment and
creation time, from here up: far above any GitHub id, and the same on every re-import."""
LATENCY_STEPS_PER_DECADE: Final = 40
LATENCY_GRID_MIN_MS: Final = 1.0
LATENCY_GRID_MAX_MS: Final = 60_000.0


def _latency_grid() -> tuple[float, ...]:
    """Bounds 10^(k/40) ms from 1 ms to 60 s, in seconds, rounded so every import
    writes the very same floats; then +Inf."""
    bounds: list[float] = []
    step = 0
    while (bound_ms := 10 ** (step / LATENCY_STEPS_PER_DECADE)) <= LATENCY_GRID_MAX_MS:
        bounds.append(float(f"{bound_ms / 1000:.6g}"))
        step += 1
    return (*bounds, math.inf)


LATENCY_GRID_SECONDS: Final = _latency_grid()


class ImportRefused(ValueError):
    """The file has problems; nothing was written. `problems` are the row-level messages."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            f"{source}: {count} problem{'s' if count != 1 else ''}, nothing was imported"
        )


# --- reading rows -------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """The columns (CSV) or keys (JSON) of one kind of file."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)

    def listed(self) -> str:
        optional = f" (optional: {', '.join(self.optional)})" if self.optional else ""
        return ", ".join(self.required) + optional


@dataclass(frozen=True)
class Record:
    """One row of a file, with where it is, for messages."""

    where: str
    """`line 4` (CSV, the line the row starts on) or `item 2` (JSON, counted from 1)."""
    field_word: Literal["column", "key"]
    values: Mapping[str, Any]


def detect_format(name: str, data: bytes) -> FileFormat | None:
    """By the file's extension, else by its first bytes; None when neither tells."""
    suffix = PurePath(name).suffix.lower()
    if suffix in (".ics", ".ical", ".ifb"):
        return "ics"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".txt"):
        return "csv"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:32]
    if head.upper().startswith(b"BEGIN:VCALENDAR"):
        return "ics"
    if head[:1] in (b"[", b"{"):
        return "json"
    if b"," in data.split(b"\n", 1)[0]:
        return "csv"
    return None


def decode_text(data: bytes, errors: list[str]) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.append(
            f"the file is not UTF-8 text (byte {exc.start + 1} is not UTF-8); save it as UTF-8"
        )
        return None


def read_records(
    data: bytes, file_format: Literal["csv", "json"], columns: Columns
) -> tuple[list[Record], list[str]]:
    """The file's rows and the problems with its shape (not yet with its values)."""
    errors: list[str] = []
    text = decode_text(data, errors)
    if text is None:
        return [], errors
    if file_format == "json":
        return _json_records(text, columns, errors), errors
    return _csv_records(text, columns, errors), errors


def _csv_records(text: str, columns: Columns, errors: list[str]) -> list[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        errors.append(f"line 1: not CSV: {exc}")
        return []
    if header is None or not any(cell.strip() for cell in header):
        errors.append(f"the file is empty; the first line names the columns: {columns.listed()}")
        return []
    names = [cell.strip().lower() for cell in header]
    if len(names) == 1 and ";" in names[0]:
        errors.append("line 1: the columns must be separated by commas, not semicolons")
        return []
    if not _header_ok(names, columns, "column", errors):
        return []
    records: list[Record] = []
    line = reader.line_num
    try:
        for cells in reader:
            where = f"line {line + 1}"
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                errors.append(
                    f"{where}: has {len(cells)} fields but the header names {len(names)} columns"
                    " (quote a value that contains a comma)"
                )
                continue
            records.append(Record(where, "column", dict(zip(names, cells, strict=True))))
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: not valid CSV: {exc}")
    return records


def _header_ok(
    names: Sequence[str], columns: Columns, word: str, errors: list[str], where: str = "line 1"
) -> bool:
    problems: list[str] = []
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        problems.append(f"{word} {', '.join(map(repr, repeated))} appears twice")
    unknown = [name for name in names if name not in columns.all]
    if unknown:
        problems.append(
            f"unknown {word}{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
        )
    missing = [name for name in columns.required if name not in names]
    if missing:
        problems.append(
            f"missing {word}{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
        )
    if problems:
        errors.append(f"{where}: {'; '.join(problems)}; the {word}s are: {columns.listed()}")
    return not problems


def _json_records(text: str, columns: Columns, errors: list[str]) -> list[Record]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        errors.append(f"line {exc.lineno}: not valid JSON: {exc.msg}")
        return []
    if not isinstance(document, list):
        errors.append("the file must hold a JSON list of objects, one per row: [{…}, {…}]")
        return []
    records: list[Record] = []
    for number, item in enumerate(document, start=1):
        where = f"item {number}"
        if not isinstance(item, dict):
            errors.append(f"{where}: is not an object ({{…}}) but {type(item).__name__}")
            continue
        names = [str(name).strip().lower() for name in item]
        if not _header_ok(names, columns, "key", errors, where):
            continue
        values = dict(zip(names, item.values(), strict=True))
        records.append(Record(where, "key", values))
    return records


def by_line(errors: Sequence[str]) -> list[str]:
    """Problems in file order (a file-wide one first), each row's in the order found."""
    found = re.compile(r"^(?:line|item) (\d+):")

    def position(error: str) -> int:
        match = found.match(error)
        return int(match.group(1)) if match else 0

    return sorted(errors, key=position)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class RowReader:
    """Reads one record's values, noting every problem instead of stopping at the first."""

    def __init__(self, record: Record, errors: list[str]) -> None:
        self.record = record
        self._errors = errors
        self._before = len(errors)

    @property
    def ok(self) -> bool:
        return len(self._errors) == self._before

    def problem(self, column: str, message: str) -> None:
        self._errors.append(f"{self.record.where}: {self.record.field_word} '{column}': {message}")

    def bad(self, column: str, value: Any, expected: str) -> None:
        self.problem(column, f"{_shown(value)} {expected}")

    def raw(self, column: str, required: bool, what: str) -> Any:
        """The value, None when absent or blank; a required one that is missing is a problem."""
        value = self.record.values.get(column)
        if isinstance(value, str):
            value = value.strip() or None
        if value is None and required:
            self.problem(column, f"is empty; give {what}")
        return value

    def text(self, column: str, what: str, required: bool = False) -> str | None:
        value = self.raw(column, required, what)
        if value is None:
            return None
        if not isinstance(value, str | int):
            self.bad(column, value, f"is not text; give {what}")
            return None
        text = str(value)
        if len(text) > TITLE_MAX_CHARS:
            self.bad(column, value, f"is longer than {TITLE_MAX_CHARS} characters")
            return None
        return text

    def instant(self, column: str, what: str, required: bool = False) -> datetime | None:
        value = self.raw(column, required, what)
        if value is None:
            return None
        parsed = parse_instant(value)
        if isinstance(parsed, str):
            self.bad(column, value, parsed)
            return None
        return parsed

    def day(self, column: str, what: str, required: bool = False) -> date | None:
        value = self.raw(column, required, what)
        if value is None:
            return None
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.bad(column, value, "is not a date; use YYYY-MM-DD, e.g. 2025-03-10")
            return None

    def number(
        self,
        column: str,
        what: str,
        required: bool = False,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float | None:
        value = self.raw(column, required, what)
        if value is None:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError
            number = float(value)
        except ValueError:
            self.bad(column, value, f"is not a number; give {what}")
            return None
        if not math.isfinite(number) or number < 0 or (positive and number == 0):
            floor = "above 0" if positive else "0 or more"
            self.bad(column, value, f"is not a number {floor}; give {what}")
            return None
        if maximum is not None and number > maximum:
            self.bad(column, value, f"is above {maximum:g}; give {what}")
            return None
        return number

    def whole(self, column: str, what: str, required: bool = False) -> int | None:
        value = self.raw(column, required, what)
        if value is None:
            return None
        text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not text.isdigit() or int(text) < 1 or int(text) >= 1 << 63:
            self.bad(column, value, f"is not a whole number from 1 up; give {what}")
            return None
        return int(text)

    def words(self, column: str) -> list[str]:
        """A list given as a JSON list of strings, or one cell separated by `;`, `,` or spaces."""
        value = self.record.values.get(column)
        if value is None:
            return []
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            items = [item.strip() for item in value]
        elif isinstance(value, str):
            items = LIST_SEPARATORS.split(value)
        else:
            self.bad(column, value, "is not a list; give names separated by ';' (JSON: a list)")
            return []
        return list(dict.fromkeys(item for item in items if item))

    def emails(self, column: str) -> list[str]:
        """Lower-cased, each checked; a bad one is a problem naming it."""
        found: list[str] = []
        for email in self.words(column):
            if EMAIL.fullmatch(email):
                found.append(email.casefold())
            else:
                self.bad(column, email, "is not an e-mail address (expected name@domain.tld)")
        return list(dict.fromkeys(found))


INSTANT_EXAMPLE: Final = "e.g. 2025-03-10T14:00:00Z or 2025-03-10T15:00:00+01:00"


def parse_instant(value: Any) -> datetime | str:
    """An ISO 8601 instant in UTC, or what is wrong with `value` (for a message).

    A bare date is 00:00 UTC of that day; a time without a zone is refused, because
    guessing the zone would shift every meeting or deployment by hours.
    """
    if not isinstance(value, str):
        return f"is not an ISO date-time ({INSTANT_EXAMPLE})"
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return f"is not an ISO date-time ({INSTANT_EXAMPLE})"
    if moment.tzinfo is None or moment.utcoffset() is None:
        return f"has no time zone; add Z for UTC or an offset ({INSTANT_EXAMPLE})"
    return moment.astimezone(UTC)


def repeated_key(seen: dict[Any, str], key: Any, row: RowReader, column: str, what: str) -> bool:
    """Notes a second row for the same record (which one would win is not obvious)."""
    first = seen.setdefault(key, row.record.where)
    if first != row.record.where:
        row.problem(column, f"repeats {what} of {first}")
        return True
    return False


# --- what an import becomes -----------------------------------------------------------

Writer = Callable[[Connection], dict[str, int]]


@dataclass(frozen=True)
class PreparedImport:
    """A validated file: what would be written, or the problems that refuse it."""

    kind: ImportKind
    source: str
    """The file's name, for messages."""
    errors: tuple[str, ...]
    preview: tuple[Mapping[str, Any], ...] = ()
    """One entry per record that would be written, in the file's order."""
    skipped: Mapping[str, int] = field(default_factory=dict)
    """Rows or events left out on purpose, by reason (e.g. matching no team)."""
    writer: Writer | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.errors and self.writer is not None


def skipped_text(skipped: Mapping[str, int]) -> str:
    return "; ".join(f"{count} {reason}" for reason, count in skipped.items() if count)


def _refused(kind: ImportKind, source: str, errors: Iterable[str]) -> PreparedImport:
    return PreparedImport(kind, source, tuple(errors))


def prepare_import(
    kind: ImportKind,
    source: str,
    data: bytes,
    config: Config,
    now: datetime,
    team: str | None = None,
) -> PreparedImport:
    """Validate the file `source` (its bytes `data`) as `kind`; nothing is written.

    `team` assigns every meeting to that team (meetings only); `now` bounds what
    counts as having happened (no meeting or deployment from the future).
    """
    if kind not in IMPORT_KINDS:
        return _refused(kind, source, [f"unknown kind {kind!r}; use one of {IMPORT_KINDS}"])
    file_format = detect_format(source, data)
    allowed = FORMATS_OF_KIND[kind]
    if file_format not in allowed:
        shown = " or ".join(f".{name}" for name in allowed)
        return _refused(
            kind, source, [f"cannot tell the format; {kind} are read from {shown} files"]
        )
    if team is not None and kind != "meetings":
        return _refused(kind, source, ["--team applies to meetings only; give a team column"])
    if kind == "meetings":
        from connectors.meetings import prepare_meetings

        return prepare_meetings(source, data, file_format, config, now, team)
    assert file_format != "ics"
    preparer = _PREPARERS[kind]
    columns = _COLUMNS[kind]
    records, errors = read_records(data, file_format, columns)
    if not records:
        return _refused(
            kind, source, errors or [f"the file has no rows; its columns are {columns.listed()}"]
        )
    prepared = preparer(kind, source, records, config, now)
    if errors:
        return _refused(kind, source, by_line([*errors, *prepared.errors]))
    return prepared


def write_import(engine: Engine, prepared: PreparedImport, config: Config) -> dict[str, int]:
    """Write a validated import and its `sync_run` in one transaction; rows per table.

    The configured teams, repositories and endpoints are registered first, as a
    sync does, so a team that only ever gets imported data exists in the store.
    """
    if prepared.writer is None or prepared.errors:
        raise ImportRefused(prepared.source, prepared.errors or ["nothing to import"])
    started_at = datetime.now(UTC)
    with write_transaction(engine) as connection:
        register_organisation(connection, config)
        written = prepared.writer(connection)
        record_import_run(connection, prepared.kind, started_at, sum(written.values()))
    return written


def record_import_run(
    connection: Connection, kind: ImportKind, started_at: datetime, rows: int
) -> None:
    """An import is shown beside the syncs (Status page), as the source `import:<kind>`."""
    table = SyncRun.__table__  # type: ignore[attr-defined]
    connection.execute(
        table.insert().values(
            source=f"import:{kind}",
            started_at=started_at,
            ended_at=datetime.now(UTC),
            status="ok",
            api_calls=0,
            rows_written=rows,
        )
    )


def _team_names(config: Config) -> frozenset[str]:
    return frozenset(config.team_names())


def _known_team(row: RowReader, teams: Collection[str], column: str = "team") -> str | None:
    name = row.text(column, "the team's name as in mlops.toml", required=True)
    if name is None:
        return None
    if name not in teams:
        shown = ", ".join(sorted(teams)) or "none"
        row.bad(column, name, f"is not a team of mlops.toml (teams: {shown})")
        return None
    return name


# --- model versions -------------------------------------------------------------------

MODEL_VERSION_COLUMNS: Final = Columns(
    required=("team", "model", "version", "created_at"),
    optional=("run_id", "run_start", "run_end", "deployed_at", "aliases"),
)


def _prepare_model_versions(
    kind: ImportKind, source: str, records: Sequence[Record], config: Config, now: datetime
) -> PreparedImport:
    errors: list[str] = []
    teams = _team_names(config)
    seen: dict[Any, str] = {}
    versions: list[dict[str, Any]] = []
    links: set[tuple[str, str]] = set()
    for record in records:
        row = RowReader(record, errors)
        team = _known_team(row, teams)
        model = row.text("model", "the registered model's name", required=True)
        version = row.whole("version", "the version number, e.g. 3", required=True)
        created = row.instant(
            "created_at", f"when it was created ({INSTANT_EXAMPLE})", required=True
        )
        run_start = row.instant("run_start", "the training run's start")
        run_end = row.instant("run_end", "the training run's end")
        deployed = row.instant("deployed_at", "when the version reached production")
        run_id = row.text("run_id", "the training run's id")
        aliases = row.words("aliases")
        for column, moment in (("created_at", created), ("deployed_at", deployed)):
            if moment is not None and moment > now:
                row.bad(column, record.values[column], "is in the future")
        if run_start and run_end and run_end < run_start:
            row.problem("run_end", "is before run_start")
        if created and deployed and deployed < created:
            row.problem(
                "deployed_at", "is before created_at (a version is deployed after it exists)"
            )
        if model is not None and version is not None:
            repeated_key(seen, (model, version), row, "version", "this model version")
        if not row.ok or team is None or model is None or version is None or created is None:
            continue
        links.add((team, model))
        versions.append(
            {
                "team": team,
                "model": model,
                "version": str(version),
                "version_number": version,
                "created_at": created,
                "run_id": run_id,
                "run_start": run_start,
                "run_end": run_end,
                "deployed_at": deployed,
                "aliases": aliases,
            }
        )
    if errors:
        return _refused(kind, source, errors)

    def write(connection: Connection) -> dict[str, int]:
        names = sorted({row["model"] for row in versions})
        existing = key_to_id(connection, RegisteredModel, names)
        first_created: dict[str, datetime] = {}
        for row in versions:
            first_created[row["model"]] = min(
                row["created_at"], first_created.get(row["model"], row["created_at"])
            )
        # A model the registry connector already wrote keeps its description and creation.
        models = upsert_rows(
            connection,
            RegisteredModel,
            [
                {"name": name, "created_at": first_created[name]}
                for name in names
                if name not in existing
            ],
        )
        model_ids = key_to_id(connection, RegisteredModel, names)
        team_ids = key_to_id(connection, Team, sorted({team for team, _ in links}))
        linked = upsert_rows(
            connection,
            TeamModel,
            [{"team_id": team_ids[team], "model_id": model_ids[model]} for team, model in links],
        )
        written = upsert_rows(
            connection,
            ModelVersion,
            [
                {
                    "model_id": model_ids[row["model"]],
                    **{k: v for k, v in row.items() if k not in ("team", "model")},
                }
                for row in versions
            ],
        )
        return {"registered_model": models, "team_model": linked, "model_version": written}

    preview = tuple({k: v for k, v in row.items() if k != "version_number"} for row in versions)
    return PreparedImport(kind, source, (), preview, {}, write)


# --- deployments ------------------------------------------------------------------------

DEPLOYMENT_COLUMNS: Final = Columns(
    required=("repo", "environment", "created_at", "status"),
    optional=("status_at", "sha", "ref", "id"),
)


def derived_deployment_id(repo: str, environment: str, created_at: datetime) -> int:
    digest = hashlib.sha256(f"{repo}\n{environment}\n{created_at.isoformat()}".encode()).digest()
    return DERIVED_DEPLOYMENT_ID_BASE + int.from_bytes(digest[:7], "big")


def _prepare_deployments(
    kind: ImportKind, source: str, records: Sequence[Record], config: Config, now: datetime
) -> PreparedImport:
    errors: list[str] = []
    repos = {repo for team in config.teams for repo in team.repos}
    seen: dict[Any, str] = {}
    deployments: list[dict[str, Any]] = []
    for record in records:
        row = RowReader(record, errors)
        repo = row.text("repo", "the repository as OWNER/REPO", required=True)
        if repo is not None and repo not in repos:
            row.bad("repo", repo, "is not in any team's repos in mlops.toml")
        environment = row.text("environment", "the environment, e.g. production", required=True)
        created = row.instant("created_at", f"when it started ({INSTANT_EXAMPLE})", required=True)
        states = ", ".join(DEPLOYMENT_STATES)
        status = row.text("status", f"the final status: one of {states}", required=True)
        if status is not None and status.lower() not in DEPLOYMENT_STATES:
            row.bad("status", status, f"is not a deployment status; use one of {states}")
        status_at = row.instant("status_at", "when the deployment reached its status")
        sha = row.text("sha", "the deployed commit") or ""
        ref = row.text("ref", "the deployed branch or tag") or "main"
        explicit_id = row.whole("id", "the deployment's id")
        if created is not None and created > now:
            row.bad("created_at", record.values["created_at"], "is in the future")
        if created and status_at and status_at < created:
            row.problem("status_at", "is before created_at")
        if not row.ok or repo is None or environment is None or created is None or status is None:
            continue
        deployment_id = explicit_id or derived_deployment_id(repo, environment, created)
        if repeated_key(seen, (repo, deployment_id), row, "id", "the deployment"):
            continue
        deployments.append(
            {
                "repo": repo,
                "deployment_id": deployment_id,
                "environment": environment,
                "ref": ref,
                "sha": sha,
                "created_at": created,
                "status": status.lower(),
                "status_at": status_at or created,
            }
        )
    if errors:
        return _refused(kind, source, errors)

    def write(connection: Connection) -> dict[str, int]:
        repo_ids = key_to_id(connection, Repo, sorted({row["repo"] for row in deployments}))
        written = upsert_rows(
            connection,
            Deployment,
            [
                {
                    "repo_id": repo_ids[row["repo"]],
                    **{k: row[k] for k in ("deployment_id", "environment", "ref", "sha")},
                    "created_at": row["created_at"],
                }
                for row in deployments
            ],
        )
        keys = [(repo_ids[row["repo"]], row["deployment_id"]) for row in deployments]
        ids = key_to_id(connection, Deployment, keys)
        # The file states each deployment's outcome: it replaces the statuses stored for it.
        statuses = DeploymentStatus.__table__  # type: ignore[attr-defined]
        for chunk in _chunks(sorted(ids.values())):
            connection.execute(delete(statuses).where(statuses.c.deployment_id.in_(chunk)))
        states = upsert_rows(
            connection,
            DeploymentStatus,
            [
                {
                    "deployment_id": ids[key],
                    "status_id": 1,
                    "state": row["status"],
                    "created_at": row["status_at"],
                }
                for key, row in zip(keys, deployments, strict=True)
            ],
        )
        return {"deployment": written, "deployment_status": states}

    return PreparedImport(kind, source, (), tuple(deployments), {}, write)


def _chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- endpoint statistics -------------------------------------------------------------------

ENDPOINT_STATS_COLUMNS: Final = Columns(
    required=("team", "endpoint", "day", "requests"),
    optional=("failures", "availability_pct", "p50_ms", "p95_ms", "p99_ms"),
)
PERCENTILES: Final = (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99))


def latency_buckets(requests: float, p50_ms: float, p95_ms: float, p99_ms: float) -> list[float]:
    """Cumulative counts at `LATENCY_GRID_SECONDS` for a day with these percentiles.

    The day's latency distribution is taken to be linear between (0 ms, 0),
    (p50, 0.5), (p95, 0.95) and (p99, 0.99), going on at the p95→p99 slope until
    every request is counted. Prometheus interpolates linearly inside a bucket
    too, so a percentile read back is exact unless its grid step holds a bend of
    that line, and then within the step (6 %); summed over days and endpoints,
    the buckets are a true histogram of the pooled requests.
    """
    points = [(0.0, 0.0), (p50_ms, 0.5), (p95_ms, 0.95), (p99_ms, 0.99)]
    slope_ms = (p99_ms - p95_ms) / 0.04
    points.append((p99_ms + 0.01 * slope_ms, 1.0))

    def share_at(ms: float) -> float:
        if ms >= points[-1][0]:
            return 1.0
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            if ms < x1:
                return y0 if x1 == x0 else y0 + (y1 - y0) * (ms - x0) / (x1 - x0)
        return 1.0

    return [requests * share_at(le * 1000) for le in LATENCY_GRID_SECONDS]


def _prepare_endpoint_stats(
    kind: ImportKind, source: str, records: Sequence[Record], config: Config, now: datetime
) -> PreparedImport:
    errors: list[str] = []
    teams = _team_names(config)
    seen: dict[Any, str] = {}
    days: list[dict[str, Any]] = []
    for record in records:
        row = RowReader(record, errors)
        team = _known_team(row, teams)
        endpoint = row.text("endpoint", "the endpoint's name", required=True)
        day = row.day("day", "the UTC day, YYYY-MM-DD", required=True)
        requests = row.number("requests", "the day's request count", required=True)
        failures = row.number("failures", "the day's failed requests")
        availability = row.number("availability_pct", "the share of the day it was up", maximum=100)
        latency = {
            column: row.number(
                column, "a latency in milliseconds", positive=True, maximum=LATENCY_GRID_MAX_MS
            )
            for column, _ in PERCENTILES
        }
        given = [column for column, _ in PERCENTILES if record.values.get(column) not in (None, "")]
        if given and len(given) < len(PERCENTILES):
            row.problem("p50_ms", "give p50_ms, p95_ms and p99_ms together, or none of them")
        if day is not None and day > now.date():
            row.bad("day", record.values["day"], "is in the future")
        if requests is not None and failures is not None and failures > requests:
            row.problem("failures", f"{failures:g} is more than the {requests:g} requests")
        p50, p95, p99 = (latency[column] for column, _ in PERCENTILES)
        if p50 is not None and p95 is not None and p99 is not None and not p50 <= p95 <= p99:
            row.problem("p95_ms", "the percentiles must rise: p50_ms ≤ p95_ms ≤ p99_ms")
        if team is not None and endpoint is not None and day is not None:
            repeated_key(seen, (team, endpoint, day), row, "day", "this endpoint's day")
        if not row.ok or team is None or endpoint is None or day is None or requests is None:
            continue
        days.append(
            {
                "team": team,
                "endpoint": endpoint,
                "day": day,
                "requests": requests,
                "failures": failures or 0.0,
                "availability_pct": availability,
                "p50_ms": p50,
                "p95_ms": p95,
                "p99_ms": p99,
            }
        )
    if errors:
        return _refused(kind, source, errors)

    def write(connection: Connection) -> dict[str, int]:
        team_ids = key_to_id(connection, Team, sorted({row["team"] for row in days}))
        keys = sorted({(team_ids[row["team"]], row["endpoint"]) for row in days})
        existing = key_to_id(connection, Endpoint, keys)
        # Configured endpoints keep their selector; others are created for the import.
        created = upsert_rows(
            connection,
            Endpoint,
            [{"team_id": t, "name": name} for t, name in keys if (t, name) not in existing],
        )
        endpoint_ids = key_to_id(connection, Endpoint, keys)
        ids = [endpoint_ids[(team_ids[row["team"]], row["endpoint"])] for row in days]
        daily = upsert_rows(
            connection,
            EndpointDaily,
            [
                {
                    "endpoint_id": endpoint_id,
                    "day": row["day"],
                    "requests": row["requests"],
                    "failures": row["failures"],
                    "availability_ratio": None
                    if row["availability_pct"] is None
                    else row["availability_pct"] / 100,
                }
                for endpoint_id, row in zip(ids, days, strict=True)
            ],
        )
        buckets = EndpointLatencyBucket.__table__  # type: ignore[attr-defined]
        bucket_rows: list[dict[str, Any]] = []
        for endpoint_id, row in zip(ids, days, strict=True):
            if row["p50_ms"] is None:
                continue  # a day without percentiles keeps the buckets it has
            # Another grid (a Prometheus histogram) for the same day would not add up with this one.
            connection.execute(
                delete(buckets).where(
                    (buckets.c.endpoint_id == endpoint_id) & (buckets.c.day == row["day"])
                )
            )
            if row["requests"] == 0:
                continue
            counts = latency_buckets(row["requests"], row["p50_ms"], row["p95_ms"], row["p99_ms"])
            bucket_rows += [
                {"endpoint_id": endpoint_id, "day": row["day"], "le": le, "count": count}
                for le, count in zip(LATENCY_GRID_SECONDS, counts, strict=True)
            ]
        written = upsert_rows(connection, EndpointLatencyBucket, bucket_rows)
        return {"endpoint": created, "endpoint_daily": daily, "endpoint_latency_bucket": written}

    return PreparedImport(kind, source, (), tuple(days), {}, write)


Preparer = Callable[[ImportKind, str, Sequence[Record], Config, datetime], PreparedImport]
_PREPARERS: Final[Mapping[ImportKind, Preparer]] = {
    "model-versions": _prepare_model_versions,
    "deployments": _prepare_deployments,
    "endpoint-stats": _prepare_endpoint_stats,
}
_COLUMNS: Final[Mapping[ImportKind, Columns]] = {
    "model-versions": MODEL_VERSION_COLUMNS,
    "deployments": DEPLOYMENT_COLUMNS,
    "endpoint-stats": ENDPOINT_STATS_COLUMNS,
}
