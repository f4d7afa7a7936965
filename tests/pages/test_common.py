"""The pure helpers of pages/common.py: what a source lacks, what may be shown, team
colours, periods and how metric values are formatted and coloured."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from config import DEMO_CONFIG_PATH, load_config, parse_config
from data.loaders import Period
from metrics.catalog import catalog
from metrics.engine import MetricResult
from pages.common import (
    NO_TEAM_COLOUR,
    PAGES,
    STATUS_BACKGROUND,
    TEAM_PALETTE,
    TIER_BACKGROUND,
    format_number,
    format_target,
    metric_table,
    palette_colour,
    redact_http_url,
    source_statuses,
)


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


# --- what the metric pages share --------------------------------------------------


def test_team_colours_follow_the_sorted_team_list_and_repeat_past_the_palette():
    teams = ["Zeta", "Alpha", "Mid"]

    assert palette_colour("Alpha", teams) == TEAM_PALETTE[0]
    assert palette_colour("Mid", teams) == TEAM_PALETTE[1]
    assert palette_colour("Zeta", teams) == TEAM_PALETTE[2]
    assert palette_colour("Unknown", teams) == NO_TEAM_COLOUR
    many = [f"T{index:02d}" for index in range(len(TEAM_PALETTE) + 2)]
    assert palette_colour(many[len(TEAM_PALETTE)], many) == TEAM_PALETTE[0]
    assert len(set(TEAM_PALETTE)) == len(TEAM_PALETTE)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "—"), (float("nan"), "—"), (0.0, "0.00"), (12.345, "12.35"), (1234.5, "1,234")],
)
def test_numbers_are_formatted_as_the_cli_prints_them(value, shown):
    assert format_number(value) == shown


def test_metric_table_shows_value_and_target_and_colours_by_status():
    specs = catalog()
    period = Period(date(2026, 1, 1), date(2026, 3, 31))

    def result(team, metric_id, value, target, status):
        return MetricResult(team, specs[metric_id], period, value, target, status, pd.DataFrame())

    results = [
        result("A", "endpoint_latency_p95_ms", 320.0, 300.0, "breach"),
        result("A", "ci_success_rate_pct", 90.0, None, "ok"),
        result("B", "endpoint_latency_p95_ms", None, 300.0, "unknown"),
        result("B", "ci_success_rate_pct", 99.0, None, "ok"),
        result("B", "deployment_frequency_per_week", 8.0, None, "ok"),
    ]
    columns = {
        "endpoint_latency_p95_ms": "p95",
        "ci_success_rate_pct": "CI",
        "deployment_frequency_per_week": "Deploys",
    }

    shown, colours = metric_table(
        results, ["A", "B"], columns, {("B", "deployment_frequency_per_week"): "elite"}
    )

    assert shown.to_dict("list") == {
        "Team": ["A", "B"],
        "p95": ["320.00 (≤ 300.00)", "—"],
        "CI": ["90.00", "99.00"],
        "Deploys": ["—", "8.00 · elite"],
    }
    assert colours["p95"].tolist() == [STATUS_BACKGROUND["breach"], STATUS_BACKGROUND["unknown"]]
    assert colours["CI"].tolist() == ["", ""]  # no target: not judged
    assert colours["Deploys"].tolist() == [STATUS_BACKGROUND["unknown"], TIER_BACKGROUND["elite"]]
    assert format_target(specs["ci_success_rate_pct"], 95.0) == "≥ 95.00"
