"""The pure helpers behind the Status page: what a source lacks, and what may be shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import DEMO_CONFIG_PATH, load_config, parse_config
from pages.common import PAGES, redact_http_url, source_statuses


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.github.com", "https://api.github.com"),
        ("https://bot:hunter2@ghe.example.com/api/v3", "https://***@ghe.example.com/api/v3"),
        ("http://token@prom:9090/?a=1", "http://***@prom:9090/?a=1"),
    ],
)
def test_redact_http_url(url, shown):
    assert redact_http_url(url) == shown


def test_demo_config_has_no_source_and_says_what_to_add():
    statuses = {s.source: s for s in source_statuses(load_config(DEMO_CONFIG_PATH).config)}

    assert list(statuses) == ["GitHub", "Prometheus", "MLflow", "Meetings"]
    assert not any(s.configured for s in statuses.values())
    assert statuses["GitHub"].missing == ["add a [github] section"]
    assert statuses["Prometheus"].missing == ["add a [prometheus] section"]
    assert statuses["MLflow"].missing == ["add an [mlflow] section"]
    assert statuses["Meetings"].location == "0 of 4 teams have a feed"


def test_configured_sources_name_the_token_variable_and_the_teams_without_inputs(monkeypatch):
    monkeypatch.delenv("GH_TEST_TOKEN", raising=False)
    monkeypatch.setenv("PROM_TEST_TOKEN", "secret-value")
    config = parse_config(
        '[github]\ntoken_env = "GH_TEST_TOKEN"\n'
        '[prometheus]\nurl = "http://prom:9090"\ntoken_env = "PROM_TEST_TOKEN"\n'
        '[[teams]]\nname = "A"\nrepos = ["o/a"]\n'
        '[[teams]]\nname = "B"\nendpoints = [{ name = "b-api" }]\n'
        'meetings = { csv = "meetings.csv" }\n'
    )

    statuses = {s.source: s for s in source_statuses(config)}

    assert statuses["GitHub"].missing == [
        "token: set the environment variable GH_TEST_TOKEN (or a secrets.toml key)",
        "repos for B",
    ]
    assert statuses["Prometheus"].missing == ["endpoints for A"]
    assert statuses["Prometheus"].location == "http://prom:9090"
    assert statuses["Meetings"].configured
    assert statuses["Meetings"].missing == ["meetings.ics or meetings.csv for A"]
    assert all("secret-value" not in " ".join(s.missing) for s in statuses.values())


def test_a_config_without_teams_asks_for_one():
    statuses = source_statuses(parse_config("[mlflow]\n"))

    assert all("at least one [[teams]] entry" in s.missing for s in statuses)


def test_long_team_lists_are_shortened():
    teams = "".join(f'[[teams]]\nname = "T{i}"\n' for i in range(8))
    statuses = {s.source: s for s in source_statuses(parse_config("[github]\n" + teams))}

    assert statuses["GitHub"].missing[-1] == "repos for T0, T1, T2, T3, T4 and 3 more"


def test_every_listed_page_exists():
    root = Path(__file__).resolve().parents[2]
    assert PAGES, "the app needs at least one page"
    for path in PAGES:
        assert (root / path).is_file(), path
