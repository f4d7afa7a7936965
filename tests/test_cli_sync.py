"""`cli.py sync` as a cron job runs it: exit codes and one-line messages."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import error_lines, run_cli

CONFIG = """
[github]
token_env = "MLOPS_TEST_GITHUB_TOKEN"
base_url = "http://127.0.0.1:9"

[[teams]]
name = "Ranking"
repos = ["acme/ranker"]
"""


def _config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "mlops.toml"
    path.write_text(text + f'\n[store]\nurl = "sqlite:///{tmp_path}/store.db"\n')
    return path


def test_sync_without_a_config_explains_the_demo(tmp_path: Path) -> None:
    result = run_cli("sync", cwd=tmp_path)
    assert result.returncode == 2
    assert error_lines(result) == [
        "error: no mlops.toml: the demo's data is generated, not synced; create a config with "
        "`python cli.py init` and configure [github], [prometheus], [mlflow] or meetings"
    ]


def test_sync_names_an_unconfigured_source_and_an_unknown_team(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    result = run_cli("sync", "--config", config, "--source", "mlflow", cwd=tmp_path)
    assert result.returncode == 2
    assert error_lines(result) == ["error: source 'mlflow' is not configured; configured: github"]
    result = run_cli("sync", "--config", config, "--team", "Nope", cwd=tmp_path)
    assert result.returncode == 2
    assert error_lines(result) == ["error: unknown team 'Nope'; configured teams: Ranking"]


def test_a_missing_token_fails_the_source_with_its_variable_named(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    result = run_cli("sync", "--config", config, cwd=tmp_path, env={"MLOPS_TEST_GITHUB_TOKEN": ""})
    assert result.returncode == 1, result.stderr
    assert "failed" in result.stdout
    assert "set the environment variable MLOPS_TEST_GITHUB_TOKEN" in result.stdout


def test_an_unreachable_server_fails_cleanly(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    result = run_cli(
        "sync", "--config", config, cwd=tmp_path, env={"MLOPS_TEST_GITHUB_TOKEN": "t0ken-sentinel"}
    )
    assert result.returncode == 1, result.stderr
    assert "cannot use GitHub at http://127.0.0.1:9" in result.stdout
    assert "t0ken-sentinel" not in result.stdout + result.stderr
