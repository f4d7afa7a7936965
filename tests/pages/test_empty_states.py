"""Every page on a store without teams: a message that says what to configure, no error."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages.common import PAGES
from tests.pages.apptest import APP, assert_clean, page_text

METRIC_PAGES = [path for path in PAGES if path != "pages/status.py"]


@pytest.fixture
def teamless_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """A real config (so no demo is generated) and an empty store."""
    config = tmp_path / "mlops.toml"
    config.write_text('[[teams]]\nname = "Alpha"\nrepos = ["acme/alpha"]\n', encoding="utf-8")
    monkeypatch.setenv("MLOPS_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run().run()
    assert_clean(at)
    return at


@pytest.mark.parametrize("page", METRIC_PAGES)
def test_a_page_without_teams_says_what_to_configure(teamless_app: AppTest, page: str) -> None:
    teamless_app.switch_page(page).run()

    assert_clean(teamless_app)
    assert [title.value for title in teamless_app.title] == [PAGES[page][0]]
    text = page_text(teamless_app)
    assert "No team is in the store yet" in text
    assert "python cli.py sync" in text
    assert not teamless_app.get("plotly_chart")
