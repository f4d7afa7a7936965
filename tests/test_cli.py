"""The command line (DESIGN §5) as a user runs it: exit codes, one-line errors."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import data.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from config import EXAMPLE_CONFIG_PATH, load_config
from tests.helpers import error_lines, run_cli


def test_init_writes_an_example_that_loads(tmp_path: Path) -> None:
    result = run_cli("init", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    written = tmp_path / "mlops.toml"
    assert written.read_text(encoding="utf-8") == EXAMPLE_CONFIG_PATH.read_text(encoding="utf-8")
    assert load_config(written).config.team_names() == ["Search Ranking"]


def test_init_writes_to_the_given_path(tmp_path: Path) -> None:
    result = run_cli("init", "custom.toml", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert load_config(tmp_path / "custom.toml").config.github is not None
    assert not (tmp_path / "mlops.toml").exists()


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    existing = tmp_path / "mlops.toml"
    existing.write_text("# mine\n", encoding="utf-8")

    refused = run_cli("init", cwd=tmp_path)

    assert refused.returncode == 2
    lines = error_lines(refused)
    assert len(lines) == 1, refused.stderr
    assert "already exists" in lines[0]
    assert "--force" in lines[0]
    assert existing.read_text(encoding="utf-8") == "# mine\n"

    forced = run_cli("init", "--force", cwd=tmp_path)

    assert forced.returncode == 0, forced.stderr
    assert existing.read_text(encoding="utf-8") == EXAMPLE_CONFIG_PATH.read_text(encoding="utf-8")


def test_db_upgrade_creates_the_tables_on_a_fresh_sqlite_store(tmp_path: Path) -> None:
    store = tmp_path / "nested" / "store.db"
    url = f"sqlite:///{store}"

    result = run_cli("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": url})

    assert result.returncode == 0, result.stderr
    assert url in result.stdout
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            revision = connection.execute(text("select version_num from alembic_version")).scalar()
    finally:
        engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert revision is not None


def test_db_upgrade_uses_the_store_of_the_config_file(tmp_path: Path) -> None:
    store = tmp_path / "from-config.db"
    config_file = tmp_path / "mlops.toml"
    config_file.write_text(f'[store]\nurl = "sqlite:///{store}"\n', encoding="utf-8")

    result = run_cli("db", "upgrade", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert store.exists()


def test_database_url_wins_over_the_config_file(tmp_path: Path) -> None:
    in_file = tmp_path / "from-config.db"
    from_env = tmp_path / "from-env.db"
    config_file = tmp_path / "c.toml"
    config_file.write_text(f'[store]\nurl = "sqlite:///{in_file}"\n', encoding="utf-8")

    result = run_cli(
        "db",
        "upgrade",
        "--config",
        str(config_file),
        cwd=tmp_path,
        env={"DATABASE_URL": f"sqlite:///{from_env}"},
    )

    assert result.returncode == 0, result.stderr
    assert from_env.exists()
    assert not in_file.exists()


def test_mlops_config_is_honoured_by_the_cli(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[targets]\nlatency_p95_ms = "fast"\n', encoding="utf-8")

    result = run_cli(
        "db",
        "upgrade",
        cwd=tmp_path,
        env={"MLOPS_CONFIG": str(bad), "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"},
    )

    assert result.returncode == 2
    assert error_lines(result) == [
        f"error: {bad}: targets.latency_p95_ms: Input should be a valid number, "
        "unable to parse string as a number (got 'fast')"
    ]


def test_unreachable_postgres_exits_1_with_the_redacted_url(tmp_path: Path) -> None:
    url = "postgresql+psycopg://u:sekrit@127.0.0.1:1/x"

    result = run_cli("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": url})

    assert result.returncode == 1
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "postgresql+psycopg://u:***@127.0.0.1:1/x" in lines[0]
    assert "cannot open the store" in lines[0]
    assert "sekrit" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_unsupported_database_url_is_refused_without_its_password(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": "mysql://u:sekrit@db/x"})

    assert result.returncode == 1
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "unsupported database 'mysql'" in lines[0]
    assert "sekrit" not in result.stderr


def test_sqlite_store_in_an_uncreatable_folder_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    url = f"sqlite:///{blocker / 'sub' / 'store.db'}"

    result = run_cli("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": url})

    assert result.returncode == 1
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "cannot create the folder of the store" in lines[0]
    assert "Traceback" not in result.stderr


def test_no_arguments_shows_help(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)

    assert "db" in result.stdout + result.stderr
    assert "init" in result.stdout + result.stderr
