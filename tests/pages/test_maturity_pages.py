"""The maturity parts of the dashboard on the demo: the Team page's maturity section, the
Data page's DataOps checks, the Overview's checks heatmap and the Assessment page's
questionnaire and waivers — each showing what `metrics.maturity.score_teams` computes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from streamlit.testing.v1 import AppTest

from config import load_config
from data.db import make_engine, upgrade
from data.demo import demo_config
from data.loaders import Period, attestations, waivers
from data.organisation import register_organisation
from data.store import row_counts, write_transaction
from metrics.maturity import PILLARS, TeamScore, score_teams
from metrics.rubric import load_rubric
from pages.common import format_percent, palette_colour
from tests.pages.apptest import APP, assert_clean, dataframe_with, decoded, figures, page_text

TEAM_PAGE = "pages/team.py"
DATA_PAGE = "pages/data.py"
ASSESSMENT = "pages/assessment.py"
OVERVIEW = "pages/overview.py"
TEAM = "Recommendations"
ROLLBACK = "modelops.rollback-procedure"
DEMO_TEAMS = ["Demand Forecasting", "Fraud Detection", "Recommendations", "Search Ranking"]


def _scores(store, period, teams=None) -> dict[str, TeamScore]:
    config = demo_config(store)
    assert config is not None
    return {score.team: score for score in score_teams(store, config, period, teams)}


def _metrics(at) -> dict[str, str]:
    return {str(metric.label): str(metric.value) for metric in at.metric}


def _badges(at) -> list[str]:
    return [str(m.value) for m in at.markdown if "-badge[" in str(m.value)]


def test_team_page_shows_the_scored_maturity(open_page, store, period):
    at = open_page(TEAM_PAGE, TEAM, period)

    score = _scores(store, period, [TEAM])[TEAM]
    shown = _metrics(at)
    for pillar in PILLARS:
        assert shown[pillar] == format_percent(score.pillars[pillar].score), pillar
    levels = [b for b in _badges(at) if "badge[level " in b]
    assert [b.split("[level ")[1].rstrip("]") for b in levels] == [
        str(score.pillars[p].level) for p in PILLARS
    ]
    text = page_text(at)
    for pillar in PILLARS:
        assert f"Evidence coverage {format_percent(score.pillars[pillar].coverage)}" in text
    walk = score.crosswalk
    assert shown["Google MLOps level (0–2)"] == str(walk["google"]["level"])
    assert shown["Microsoft MLOps maturity (0–4)"] == str(walk["microsoft"]["level"])
    assert shown["ML Test Score (estimate)"] == f"{walk['ml_test_score']['final']:g}"
    assert walk["google"]["name"] in text
    assert walk["ml_test_score"]["reading"] in text
    for step in score.next_steps[:5]:
        assert step.check.how_to_fix in text
    radar = figures(at)["team_radar"]["data"][0]
    assert radar["type"] == "scatterpolar"
    assert decoded(radar["r"])[:3] == [score.pillars[p].score for p in PILLARS]
    assert radar["line"]["color"] == palette_colour(TEAM, DEMO_TEAMS)
    table = dataframe_with(at, "Check", "Pillar", "Level", "Title", "Status")
    expected = [s.check.id for s in score.checks if s.status in ("fail", "unknown")]
    assert table["Check"].tolist() == expected
    assert set(table["Status"]) <= {"fail", "unknown"}

    at.multiselect(key="team_checks_pillars").set_value(["DataOps"]).run()
    assert_clean(at)
    table = dataframe_with(at, "Check", "Pillar", "Level", "Title", "Status")
    assert set(table["Pillar"]) == {"DataOps"}


def test_data_page_lists_every_dataops_check(open_page, store, period):
    at = open_page(DATA_PAGE, None, period)

    assert [title.value for title in at.title] == ["Data"]
    dataops = [c.id for c in load_rubric().checks if c.pillar == "DataOps"]
    scores = _scores(store, period)
    tables = [e.value for e in at.dataframe if list(e.value.columns[:2]) == ["Check", "Pillar"]]
    assert len(tables) == len(DEMO_TEAMS)
    for team, table in zip(DEMO_TEAMS, tables, strict=True):
        pillar = scores[team].pillars["DataOps"]
        assert sorted(table["Check"]) == sorted(dataops)
        assert table["Status"].tolist() == [s.status for s in pillar.checks]
        assert table["Provenance"].tolist() == [s.provenance for s in pillar.checks]
        assert {"Why", "How to fix", "Evidence"} <= set(table.columns)
    scores_shown = [str(m.value) for m in at.metric if m.label == "DataOps score"]
    assert scores_shown == [format_percent(scores[t].pillars["DataOps"].score) for t in DEMO_TEAMS]


def test_overview_heatmap_is_every_team_by_every_check(open_page, store, period):
    at = open_page(OVERVIEW, None, period)

    heatmap = figures(at)["overview_checks_heatmap"]["data"][0]
    assert heatmap["type"] == "heatmap"
    scores = _scores(store, period)
    assert heatmap["y"] == sorted(DEMO_TEAMS, reverse=True)
    assert heatmap["x"] == [s.check.id for s in scores[TEAM].checks]
    states = ("fail", "unknown", "waived", "pass")
    row = heatmap["y"].index(TEAM)
    z = heatmap["z"][row]
    z = decoded(z) if isinstance(z, dict) else z
    assert [states[int(v)] for v in z] == [s.status for s in scores[TEAM].checks]
    assert scores[TEAM].checks[0].check.title in heatmap["text"][row][0]


def _status(at, check_id: str) -> str:
    for expander in at.expander:
        if f"`{check_id}`" in "\n".join(str(c.value) for c in expander.caption):
            return str(expander.label)
    raise AssertionError(f"no question for {check_id}")


def test_an_attestation_makes_the_check_attested(open_page, store, period):
    at = open_page(ASSESSMENT, TEAM, period)
    before = _scores(store, period, [TEAM])[TEAM]
    rollback = next(s for s in before.checks if s.check.id == ROLLBACK)
    assert rollback.status == "unknown"
    assert _status(at, ROLLBACK).endswith(f"— unknown ({rollback.provenance})")

    at.radio(key=f"att_{ROLLBACK}_answer").set_value("yes")
    at.text_input(key=f"att_{ROLLBACK}_by").input("lead@acme.example")
    at.text_input(key=f"att_{ROLLBACK}_url").input("https://wiki.acme.example/rollback")
    at.button(key=f"att_{ROLLBACK}_save").click().run()

    assert_clean(at)
    assert any(ROLLBACK in str(s.value) for s in at.success)
    assert _status(at, ROLLBACK).endswith("— pass (attested)")
    after = _scores(store, period, [TEAM])[TEAM]
    check = next(s for s in after.checks if s.check.id == ROLLBACK)
    assert (check.status, check.provenance) == ("pass", "attested")
    assert _metrics(at)["ModelOps"] == format_percent(after.pillars["ModelOps"].score)
    stored = attestations(store, TEAM)
    newest = stored[stored["check_id"] == ROLLBACK].sort_values("answered_at").iloc[-1]
    assert newest["answered_by"] == "lead@acme.example"
    assert newest["expires_at"] - newest["answered_at"] == timedelta(days=180)
    history = dataframe_with(at, "Check", "Answer", "Who")
    assert history.iloc[0]["Who"] == "lead@acme.example"
    assert history.iloc[0]["Expired"] == "no"


def test_a_bad_link_is_refused_and_nothing_is_written(open_page, store, period):
    at = open_page(ASSESSMENT, TEAM, period)
    before = row_counts(store)

    at.radio(key=f"att_{ROLLBACK}_answer").set_value("yes")
    at.text_input(key=f"att_{ROLLBACK}_by").input("lead@acme.example")
    at.text_input(key=f"att_{ROLLBACK}_url").input("ftp://files.acme.example/runbook")
    at.button(key=f"att_{ROLLBACK}_save").click().run()

    assert not at.exception
    assert [("not an http(s) URL" in str(e.value)) for e in at.error] == [True]
    assert row_counts(store)["attestation"] == before["attestation"]


def test_a_waiver_makes_the_check_waived(open_page, store, period):
    at = open_page(ASSESSMENT, TEAM, period)
    score = _scores(store, period, [TEAM])[TEAM]
    failing = next(s for s in score.checks if s.status == "fail")

    at.selectbox(key="waiver_check").set_value(failing.check.id)
    at.text_area(key="waiver_reason").input("Batch-only model: not applicable.")
    at.text_input(key="waiver_by").input("lead@acme.example")
    at.date_input(key="waiver_expires").set_value(datetime.now(UTC).date() + timedelta(days=30))
    at.button(key="waiver_save").click().run()

    assert_clean(at)
    after = _scores(store, period, [TEAM])[TEAM]
    check = next(s for s in after.checks if s.check.id == failing.check.id)
    assert check.status == "waived"
    stored = waivers(store, TEAM)
    assert stored["check_id"].tolist().count(failing.check.id) >= 1
    table = dataframe_with(at, "Check", "Reason", "Who")
    assert "Batch-only model: not applicable." in table["Reason"].tolist()
    assert failing.check.id not in at.selectbox(key="waiver_check").options


def test_data_page_summarises_many_teams_and_details_the_chosen_one(tmp_path, monkeypatch):
    """Beyond MAX_TEAMS_IN_FULL teams, one summary row per team and the checks of the team
    picked on the page (the large organisation's path), with score_teams' numbers."""
    names = [f"Team {letter}" for letter in "ABCDEFGH"]  # pages/data.py: MAX_TEAMS_IN_FULL = 6
    config_file = tmp_path / "mlops.toml"
    config_file.write_text(
        "".join(
            f'[[teams]]\nname = "{name}"\nrepos = ["acme/t{i}"]\n' for i, name in enumerate(names)
        )
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    config = load_config(config_file).config
    with write_transaction(engine) as connection:
        register_organisation(connection, config)
    monkeypatch.setenv("MLOPS_CONFIG", str(config_file))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["period"] = [period.since.isoformat(), period.until.isoformat()]
    at.run().run()
    at.switch_page(DATA_PAGE).run()
    assert_clean(at)

    scores = {s.team: s for s in score_teams(engine, config, period, names)}
    engine.dispose()
    summary = dataframe_with(at, "Team", "Score", "Level", "Evidence coverage", "Passing")
    assert summary["Team"].tolist() == names
    assert summary["Score"].tolist() == [
        format_percent(scores[t].pillars["DataOps"].score) for t in names
    ]
    assert summary["Evidence coverage"].tolist() == [
        format_percent(scores[t].pillars["DataOps"].coverage) for t in names
    ]
    checks = [e.value for e in at.dataframe if list(e.value.columns[:2]) == ["Check", "Pillar"]]
    assert len(checks) == 1, "the checks of one team, not of eight"

    at.selectbox(key="data_detail_team").set_value(names[5]).run()
    assert_clean(at)
    checks = [e.value for e in at.dataframe if list(e.value.columns[:2]) == ["Check", "Pillar"]]
    assert len(checks) == 1
    pillar = scores[names[5]].pillars["DataOps"]
    assert checks[0]["Check"].tolist() == [s.check.id for s in pillar.checks]
    assert checks[0]["Status"].tolist() == [s.status for s in pillar.checks]
    assert names[5] in page_text(at)
