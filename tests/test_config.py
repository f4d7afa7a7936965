"""The `mlops.toml` contract (DESIGN §4): loading, overrides and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import (
    DEFAULT_STORE_URL,
    DEMO_CONFIG_PATH,
    EXAMPLE_CONFIG_PATH,
    ConfigError,
    Targets,
    config_path,
    load_config,
    parse_config,
)
from tests.helpers import error_lines, run_cli


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the caller's environment nor a ./mlops.toml may leak into these tests."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MLOPS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


# --- the shipped files ----------------------------------------------------------


def test_example_config_loads_with_every_section() -> None:
    loaded = load_config(EXAMPLE_CONFIG_PATH)
    config = loaded.config

    assert not loaded.is_demo
    assert loaded.source == str(EXAMPLE_CONFIG_PATH)
    assert loaded.store_url == config.store.url == "sqlite:///data/mlops.db"
    assert config.github is not None
    assert config.github.production_environment == "(?i)^prod"
    assert config.prometheus is not None
    assert config.prometheus.status_label == "code"
    assert config.mlflow is not None
    assert config.mlflow.production_aliases == ["champion", "production", "prod"]
    assert config.team_names() == ["Search Ranking"]
    team = config.team("Search Ranking")
    assert team.repos == ["acme/ranker", "acme/features"]
    assert [endpoint.name for endpoint in team.endpoints] == ["ranker-api"]
    assert team.meetings is not None
    assert team.meetings.title == "(?i)ranking review"


def test_demo_config_loads() -> None:
    config = load_config(DEMO_CONFIG_PATH).config

    assert config.team_names() == [
        "Search Ranking",
        "Fraud Detection",
        "Recommendations",
        "Demand Forecasting",
    ]
    assert config.github is None
    assert config.prometheus is None
    assert config.mlflow is None


def test_without_any_config_the_demo_setup_is_used() -> None:
    assert config_path() is None
    loaded = load_config()

    assert loaded.is_demo
    assert loaded.source == str(DEMO_CONFIG_PATH)
    assert loaded.store_url == DEFAULT_STORE_URL


# --- targets --------------------------------------------------------------------


def test_team_target_overrides_apply_only_to_the_keys_they_set() -> None:
    config = load_config(DEMO_CONFIG_PATH).config
    defaults = config.targets

    fraud = config.targets_for("Fraud Detection")
    assert fraud.latency_p95_ms == 250
    assert fraud.retrain_every_days == 14
    assert fraud.stale_after_days == defaults.stale_after_days == 90
    assert fraud.failure_rate_pct == defaults.failure_rate_pct

    search = config.targets_for("Search Ranking")
    assert search.latency_p95_ms == 200
    assert search.retrain_every_days == 30

    assert config.targets_for("Recommendations") == defaults
    assert isinstance(fraud, Targets)
    # Overriding a team never changes the organisation's defaults.
    assert config.targets.latency_p95_ms == 300


def test_targets_default_when_the_file_sets_none() -> None:
    config = parse_config('[[teams]]\nname = "A"\n')

    assert config.targets == Targets()
    assert config.targets_for("A").availability_pct == 99.5


def test_targets_for_an_unknown_team_names_the_configured_ones() -> None:
    config = load_config(EXAMPLE_CONFIG_PATH).config

    with pytest.raises(ConfigError, match=r"unknown team 'Nope'.*Search Ranking"):
        config.targets_for("Nope")


# --- where the config and the store come from -------------------------------------


def test_database_url_overrides_the_store_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://dash@db.internal:5432/mlops"
    monkeypatch.setenv("DATABASE_URL", url)

    loaded = load_config(EXAMPLE_CONFIG_PATH)

    assert loaded.store_url == url
    assert loaded.config.store.url == "sqlite:///data/mlops.db"


def test_an_empty_database_url_does_not_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "")

    assert load_config(EXAMPLE_CONFIG_PATH).store_url == "sqlite:///data/mlops.db"


def test_mlops_config_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "custom.toml"
    path.parent.mkdir()
    path.write_text('[[teams]]\nname = "From Env"\n', encoding="utf-8")
    (tmp_path / "mlops.toml").write_text('[[teams]]\nname = "From Cwd"\n', encoding="utf-8")
    monkeypatch.setenv("MLOPS_CONFIG", str(path))

    loaded = load_config()

    assert loaded.source == str(path)
    assert not loaded.is_demo
    assert loaded.config.team_names() == ["From Env"]


def test_explicit_config_beats_mlops_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_CONFIG", "/nonexistent/mlops.toml")

    assert load_config(EXAMPLE_CONFIG_PATH).config.team_names() == ["Search Ranking"]


def test_mlops_toml_in_the_working_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "mlops.toml").write_text('[[teams]]\nname = "Local"\n', encoding="utf-8")

    loaded = load_config()

    assert loaded.config.team_names() == ["Local"]
    assert not loaded.is_demo


def test_mlops_config_pointing_at_a_missing_file_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_CONFIG", "/nonexistent/mlops.toml")

    with pytest.raises(ConfigError, match=r"/nonexistent/mlops\.toml: config file not found"):
        load_config()


# --- malformed files: one line on stderr, exit 2, the key path, no traceback -------

MALFORMED = {
    "wrong_type": ('[targets]\nlatency_p95_ms = "fast"\n', ["targets.latency_p95_ms", "'fast'"]),
    "unknown_key": (
        '[github]\ntokne_env = "X"\n',
        ["github.tokne_env", "unknown key", "token_env"],
    ),
    "invalid_regex": (
        '[github]\nproduction_environment = "(unclosed"\n',
        ["github.production_environment", "regular expression"],
    ),
    "team_without_name": ('[[teams]]\nrepos = ["acme/x"]\n', ["teams[0].name", "missing"]),
    "duplicate_team": (
        '[[teams]]\nname = "A"\n[[teams]]\nname = "B"\n[[teams]]\nname = "a"\n',
        ["teams[2].name", "repeats teams[0].name"],
    ),
    "duplicate_team_second": (
        '[[teams]]\nname = "A"\n[[teams]]\nname = "A"\n',
        ["teams[1].name", "unique"],
    ),
    "team_target_wrong_type": (
        '[[teams]]\nname = "A"\ntargets = { latency_p95_ms = "x" }\n',
        ["teams[0].targets.latency_p95_ms"],
    ),
    "unknown_team_key": (
        '[[teams]]\nname = "A"\nendpoint = []\n',
        ["teams[0].endpoint", "unknown key", "endpoints"],
    ),
    "duplicate_endpoint": (
        '[[teams]]\nname = "A"\nendpoints = [{ name = "x" }, { name = "x" }]\n',
        ["teams[0].endpoints[1].name", "unique"],
    ),
    "bad_repo_name": ('[[teams]]\nname = "A"\nrepos = ["not-a-repo"]\n', ["teams[0].repos[0]"]),
    "negative_target": ("[targets]\nstale_after_days = -1\n", ["targets.stale_after_days"]),
    "unsupported_store": ('[store]\nurl = "mysql://h/db"\n', ["store.url", "sqlite"]),
    "bad_toml_syntax": ("[targets\nlatency_p95_ms = 1\n", ["not valid TOML", "line 1"]),
}


@pytest.mark.parametrize(("text", "expected"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_config_fails_with_one_line(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    config_file = tmp_path / "bad.toml"
    config_file.write_text(text, encoding="utf-8")
    store = tmp_path / "store.db"

    result = run_cli(
        "db",
        "upgrade",
        "--config",
        str(config_file),
        cwd=tmp_path,
        env={"DATABASE_URL": f"sqlite:///{store}"},
    )

    assert result.returncode == 2, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {config_file}: ")
    for fragment in expected:
        assert fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert not store.exists(), "a bad config must not touch the store"


def test_missing_config_file_fails_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"

    result = run_cli(
        "db",
        "upgrade",
        "--config",
        str(missing),
        cwd=tmp_path,
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}"},
    )

    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert str(missing) in lines[0]
    assert "not found" in lines[0]
    assert "cli.py init" in lines[0]
    assert "Traceback" not in result.stderr


def test_config_that_is_not_utf8_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[[teams]]\nname = "Équipe"\n'.encode("latin-1"))

    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_several_problems_report_the_first_and_count_the_rest() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config('[targets]\nlatency_p95_ms = "fast"\nfailure_rate_pct = "x"\n', "f.toml")

    assert str(caught.value).startswith("f.toml: targets.latency_p95_ms: ")
    assert str(caught.value).endswith("(and 1 more problem)")


def test_unknown_top_level_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^f\.toml: bogus: unknown key"):
        parse_config("bogus = 1\n", "f.toml")


def test_team_names_are_trimmed_and_blank_names_refused() -> None:
    assert parse_config('[[teams]]\nname = " A "\n').team_names() == ["A"]
    with pytest.raises(ConfigError, match=r"teams\[0\]\.name: must not be blank"):
        parse_config('[[teams]]\nname = "   "\n')
