"""Command line for cron jobs and headless use (DESIGN §5).

Exit codes: 0 success, 2 bad input (one line on stderr saying what and how to
fix it), 1 a source or store error.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from config import EXAMPLE_CONFIG_PATH, ConfigError, LoadedConfig, load_config
from data.db import StoreError, open_store_engine, redact_url

app = typer.Typer(
    help="MLOps Maturity Dashboard: sync sources, compute metrics and scores, write reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Store maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False)

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
    stdout.print(f"Wrote {path}. Edit the teams and sources, then start the dashboard with `make run`.")


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
    from data.demo import DemoError, write_demo

    loaded = _load(config_file)
    engine = _open(loaded)
    try:
        summary = write_demo(engine, size=size.value, reset=reset, progress=stderr)
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
