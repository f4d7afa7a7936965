"""Command line for cron jobs and headless use (DESIGN §5).

Exit codes: 0 success, 2 bad input (one line on stderr saying what and how to
fix it), 1 a source or store error.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.engine import Engine

from config import (
    EXAMPLE_CONFIG_PATH,
    Config,
    ConfigError,
    LoadedConfig,
    load_config,
    redact_secrets,
)
from data.db import StoreError, open_store_engine, redact_url
from data.loaders import Period
from reports.formats import ReportFormat
from reports.period import DEFAULT_PERIOD, GRAMMAR, PeriodError, parse_period

if TYPE_CHECKING:
    from metrics.scan import CheckResult

app = typer.Typer(
    help="MLOps Maturity Dashboard: sync sources, compute metrics and scores, write reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Store maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
# soft_wrap: a URL or a path in a message must stay on one line for scripts to read.
stdout = Console(highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="mlops.toml to use (default: $MLOPS_CONFIG, else ./mlops.toml, else the demo setup).",
        dir_okay=False,
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    stderr.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def _load(config_file: Path | None) -> LoadedConfig:
    try:
        return load_config(config_file)
    except ConfigError as exc:
        fail(str(exc))


def _open(loaded: LoadedConfig) -> Engine:
    try:
        return open_store_engine(loaded.store_url)
    except StoreError as exc:
        fail(str(exc), code=1)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the example.")] = Path("mlops.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example mlops.toml."""
    if path.exists() and not force:
        fail(f"{path} already exists; pass --force to overwrite it")
    try:
        path.write_text(EXAMPLE_CONFIG_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")
    stdout.print(
        f"Wrote {path}. Edit the teams and sources, then start the dashboard with `make run`."
    )


class DemoSize(StrEnum):
    small = "small"
    large = "large"


@app.command()
def demo(
    config_file: ConfigOption = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Empty the store first, then write the demo.")
    ] = False,
    size: Annotated[
        DemoSize, typer.Option(help="small: 4 teams; large: 40 teams (benchmark data).")
    ] = DemoSize.small,
) -> None:
    """Generate the demo organisation into the store."""
    from connectors.snapshots import write_demo_with_history
    from data.demo import DemoError

    loaded = _load(config_file)
    engine = _open(loaded)
    try:
        summary = write_demo_with_history(
            engine, size=size.value, reset=reset, progress=lambda line: stderr.print(line)
        )
    except DemoError as exc:
        fail(str(exc))
    stdout.print(
        f"Demo organisation ({size.value}, anchored on {summary.anchor.isoformat()}) "
        f"written to {redact_url(loaded.store_url)}: {summary.rows_written:,} rows."
    )


@db_app.command("upgrade")
def db_upgrade(config_file: ConfigOption = None) -> None:
    """Run the store's schema migrations (the app also does this on start)."""
    loaded = _load(config_file)
    _open(loaded)
    stdout.print(f"Store {redact_url(loaded.store_url)} is at the newest schema.")


class MetricsFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


SinceOption = Annotated[
    str | None, typer.Option(help="First day of the period, YYYY-MM-DD (default: 89 days ago).")
]
UntilOption = Annotated[
    str | None, typer.Option(help="Last day of the period, YYYY-MM-DD, inclusive (default: today).")
]
TeamOption = Annotated[str | None, typer.Option("--team", help="Only this team.")]


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
"""The days `--since`/`--until` take: a period, its default 90 days and the instant
after its end must all exist in the calendar."""


def _day(value: str, option: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-01-31")
    if not FIRST_DAY <= day <= LAST_DAY:
        fail(f"{option} {value!r} is out of range; use a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def _period(since: str | None, until: str | None) -> Period:
    """`--since`/`--until` as whole inclusive UTC days; 90 days ending today by default."""
    end = _day(until, "--until") if until else datetime.now(UTC).date()
    start = _day(since, "--since") if since else end - timedelta(days=89)
    if end < start:
        fail(f"--until {end} is before --since {start}")
    return Period(since=start, until=end)


def _effective_config(loaded: LoadedConfig, engine: Engine) -> Config:
    """The demo's own config (40 generated teams for the large demo) when no file is given."""
    from data.demo import demo_config

    return (demo_config(engine) if loaded.is_demo else None) or loaded.config


def _teams(engine: Engine, team: str | None) -> list[str]:
    from data.loaders import team_names

    known = team_names(engine)
    if team is None:
        return known
    if team not in known:
        fail(f"unknown team {team!r}; teams in the store: {', '.join(known) or 'none'}")
    return [team]


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"


@app.command()
def metrics(
    config_file: ConfigOption = None,
    team: TeamOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    output: Annotated[
        MetricsFormat, typer.Option("--format", help="table, json or csv.")
    ] = MetricsFormat.table,
) -> None:
    """Metric values, targets and status for the period."""
    from metrics.dora import tier
    from metrics.engine import compute_metrics

    period = _period(since, until)
    loaded = _load(config_file)
    engine = _open(loaded)
    results = compute_metrics(
        engine, _effective_config(loaded, engine), period, _teams(engine, team)
    )
    records = [result.as_record() for result in results]
    if output is MetricsFormat.json:
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
        return
    if output is MetricsFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(records[0]) if records else [])
        writer.writeheader()
        writer.writerows(records)
        return
    colours = {"ok": "green", "breach": "red", "unknown": "yellow"}
    wide = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    for team_name in dict.fromkeys(result.team for result in results):
        table = Table(title=f"{team_name} · {period.since} – {period.until}", title_justify="left")
        for column in ("metric", "value", "unit", "target", "status", "DORA tier"):
            numeric = column in ("value", "target")
            table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
        for result in results:
            if result.team != team_name:
                continue
            table.add_row(
                result.metric_id,
                _number(result.value),
                result.spec.unit,
                _number(result.target),
                f"[{colours[result.status]}]{result.status}[/]",
                tier(result.metric_id, result.value) or "",
            )
        wide.print(table)


class ScoreFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def score(
    config_file: ConfigOption = None,
    team: TeamOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    output: Annotated[
        ScoreFormat, typer.Option("--format", help="table or json.")
    ] = ScoreFormat.table,
) -> None:
    """Pillar scores, levels, check results and next steps per team."""
    from metrics.maturity import score_teams
    from metrics.rubric import RubricError

    period = _period(since, until)
    loaded = _load(config_file)
    engine = _open(loaded)
    try:
        scores = score_teams(
            engine, _effective_config(loaded, engine), period, _teams(engine, team)
        )
    except RubricError as exc:
        fail(str(exc))
    if output is ScoreFormat.json:
        sys.stdout.write(json.dumps([s.as_record() for s in scores], indent=2, default=str) + "\n")
        return
    wide = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
    for team_score in scores:
        table = Table(
            title=f"{team_score.team} · level {team_score.overall_level} · "
            f"{_number(team_score.overall_score)} % · {period.since} – {period.until}",
            title_justify="left",
        )
        for column in (
            "pillar",
            "level",
            "score %",
            "coverage %",
            "pass",
            "fail",
            "unknown",
            "waived",
        ):
            table.add_column(column, justify="left" if column == "pillar" else "right")
        for name, pillar in team_score.pillars.items():
            counts = dict.fromkeys(("pass", "fail", "unknown", "waived"), 0)
            for status in pillar.checks:
                counts[status.status] += 1
            table.add_row(
                name,
                str(pillar.level),
                _number(pillar.score),
                _number(pillar.coverage),
                *(str(counts[state]) for state in ("pass", "fail", "unknown", "waived")),
            )
        wide.print(table)
        google, microsoft, test_score = (
            team_score.crosswalk[name] for name in ("google", "microsoft", "ml_test_score")
        )
        wide.print(
            f"  Google MLOps level {google['level']} ({google['name']}); "
            f"Microsoft level {microsoft['level']} ({microsoft['name']}); "
            f"ML Test Score ≈ {test_score['final']:g}",
            markup=False,
        )
        for step in team_score.next_steps[:3]:
            wide.print(
                f"  next: [{step.check.pillar} L{step.check.level}] {step.check.title} "
                f"({step.status}) — {step.check.how_to_fix}",
                markup=False,
            )
        for status in team_score.contradictions:
            wide.print(f"  contradiction: {status.check.id}: {status.contradiction}", markup=False)


class SourceChoice(StrEnum):
    github = "github"
    prometheus = "prometheus"
    mlflow = "mlflow"
    meetings = "meetings"


class _RichProgress:
    """A progress bar per source and repository/endpoint/model, on stderr."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def start(self, task: str, total: int | None = None) -> None:
        if task in self._tasks:
            self._progress.update(self._tasks[task], total=total, completed=0)
        else:
            self._tasks[task] = self._progress.add_task(task, total=total)

    def advance(self, task: str, step: int = 1) -> None:
        if task not in self._tasks:
            self.start(task)
        self._progress.advance(self._tasks[task], step)

    def message(self, text: str) -> None:
        self._progress.console.print(text, markup=False, highlight=False)


@app.command()
def sync(
    config_file: ConfigOption = None,
    source: Annotated[
        list[SourceChoice] | None,
        typer.Option("--source", help="Only this source (repeatable); default: all configured."),
    ] = None,
    team: TeamOption = None,
) -> None:
    """Pull new data from the configured sources, record a sync_run each, snapshot today."""
    from connectors.lock import SyncLockedError
    from connectors.sync import configured_sources, run_sync

    loaded = _load(config_file)
    if loaded.is_demo:
        fail(
            "no mlops.toml: the demo's data is generated, not synced; create a config with "
            "`python cli.py init` and configure [github], [prometheus], [mlflow] or meetings"
        )
    config = loaded.config
    if team is not None and team not in config.team_names():
        fail(f"unknown team {team!r}; configured teams: {', '.join(config.team_names()) or 'none'}")
    teams = [config.team(team)] if team else config.teams
    available = configured_sources(config, teams)
    wanted = [choice.value for choice in source] if source else available
    missing = [name for name in wanted if name not in available]
    if missing:
        fail(
            f"source {missing[0]!r} is not configured"
            + (f" for team {team!r}" if team else "")
            + f"; configured: {', '.join(available) or 'none'}"
        )
    if not wanted:
        fail("no source is configured: add [github], [prometheus], [mlflow] or team meetings")
    engine = _open(loaded)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=stderr, transient=not stderr.is_terminal) as bars:
            reports = run_sync(
                engine,
                config,
                sources=[name for name in available if name in wanted],
                team=team,
                progress=_RichProgress(bars),
            )
    except SyncLockedError as exc:
        # Not bad input: the store is busy, so exit 1 like a store error; cron retries.
        fail(str(exc), code=1)
    table = Table(title="Sync", title_justify="left")
    for column in ("source", "status", "requests", "rows", "seconds", "note"):
        table.add_column(
            column, justify="right" if column in ("requests", "rows", "seconds") else "left"
        )
    colours = {"ok": "green", "partial": "yellow", "rate_limited": "yellow", "failed": "red"}
    for report in reports:
        table.add_row(
            report.source,
            f"[{colours[report.status]}]{report.status}[/]",
            f"{report.api_calls:,}",
            f"{report.rows_written:,}",
            f"{report.seconds:.1f}",
            escape(report.error or ""),
        )
    Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160).print(
        table
    )
    if any(report.status == "failed" for report in reports):
        raise typer.Exit(1)


class ScanFormat(StrEnum):
    table = "table"
    json = "json"


def _scan_github(config: Config, full_name: str) -> list[CheckResult]:
    from config import GitHubConfig
    from connectors.base import RequestCounter, SourceError
    from connectors.github import scan_remote

    try:
        return scan_remote(config.github or GitHubConfig(), full_name, RequestCounter())
    except SourceError as exc:
        fail(redact_secrets(str(exc), config), code=1)


@app.command()
def scan(
    target: Annotated[str, typer.Argument(help="A local checkout (PATH) or OWNER/REPO.")],
    config_file: ConfigOption = None,
    output: Annotated[
        ScanFormat, typer.Option("--format", help="table or json.")
    ] = ScanFormat.table,
) -> None:
    """Run the rubric's repository checks on a local checkout."""
    from metrics.rubric import RubricError, load_rubric
    from metrics.scan import ScanError, render_table, scan_local

    loaded = _load(config_file)
    path = Path(target)
    try:
        if not path.exists() and re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", target):
            results = _scan_github(loaded.config, target)
            title = f"{target}: repository checks"
        else:
            results = scan_local(path, load_rubric())
            title = f"{path.resolve().name}: repository checks"
    except (ScanError, RubricError) as exc:
        fail(str(exc))
    if output is ScanFormat.json:
        sys.stdout.write(json.dumps([r.as_record() for r in results], indent=2) + "\n")
        return
    Console(highlight=False, width=None if sys.stdout.isatty() else 160).print(
        render_table(results, title=title)
    )


class ImportKindChoice(StrEnum):
    meetings = "meetings"
    model_versions = "model-versions"
    deployments = "deployments"
    endpoint_stats = "endpoint-stats"


PROBLEMS_SHOWN = 50


@app.command("import")
def import_file(
    kind: Annotated[
        ImportKindChoice,
        typer.Argument(help="meetings, model-versions, deployments or endpoint-stats."),
    ],
    file: Annotated[
        Path, typer.Argument(help="A .csv or .json file (meetings: also .ics).", dir_okay=False)
    ],
    config_file: ConfigOption = None,
    team: Annotated[
        str | None,
        typer.Option("--team", help="meetings: every meeting is this team's (no title matching)."),
    ] = None,
) -> None:
    """Import a file for a source without a connector: every row, or none if any is wrong."""
    from sqlalchemy.exc import SQLAlchemyError

    from connectors.imports import prepare_import, skipped_text, write_import

    loaded = _load(config_file)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        fail(f"{file}: file not found")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    engine = _open(loaded)
    config = _effective_config(loaded, engine)
    prepared = prepare_import(kind.value, file.name, data, config, datetime.now(UTC), team)
    if prepared.errors:
        count = len(prepared.errors)
        stderr.print(
            f"error: {file}: {count} problem{'s' if count != 1 else ''}, nothing was imported",
            markup=False,
        )
        for line in prepared.errors[:PROBLEMS_SHOWN]:
            stderr.print(f"  {line}", markup=False)
        if count > PROBLEMS_SHOWN:
            stderr.print(f"  … and {count - PROBLEMS_SHOWN} more", markup=False)
        raise typer.Exit(2)
    try:
        written = write_import(engine, prepared, config)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"the store refused the import ({reason}); nothing was imported", code=1)
    stdout.print(f"Imported {file} ({kind.value}) into {redact_url(loaded.store_url)}:")
    for table_name, rows in written.items():
        stdout.print(f"  {table_name}: {rows:,} rows")
    skipped = skipped_text(prepared.skipped)
    if skipped:
        stdout.print(f"  skipped: {skipped}", markup=False)


@app.command()
def report(
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="pdf, html, csv, xlsx or md.")
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)],
    config_file: ConfigOption = None,
    team: TeamOption = None,
    period: Annotated[str, typer.Option(help=f"{GRAMMAR}; compared with the one before.")] = (
        DEFAULT_PERIOD
    ),
) -> None:
    """Write the leadership report: organisation summary, a section per team, methods."""
    from metrics.rubric import RubricError
    from reports.formats import render
    from reports.model import build_report

    try:
        periods = parse_period(period, datetime.now(UTC).date())
    except PeriodError as exc:
        fail(str(exc))
    if not out.parent.is_dir():
        fail(f"cannot write {out}: the folder {out.parent} does not exist")
    loaded = _load(config_file)
    engine = _open(loaded)
    try:
        built = build_report(
            engine,
            _effective_config(loaded, engine),
            periods,
            _teams(engine, team),
            fork=sys.platform == "linux",  # the previous period on the second core
        )
    except RubricError as exc:
        fail(str(exc))
    try:
        out.write_bytes(render(built, output_format))
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}")
    stdout.print(
        f"Wrote {out} ({output_format.value}, {len(built.teams)} teams): {periods.description}.",
        markup=False,
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
