"""Settings / Status: "Sync now" runs the configured sources and shows what happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.db import open_store_engine
from data.loaders import latest_sync_runs
from tests.fakes.github_org import FakeOrg
from tests.fakes.github_server import GitHubServer

APP = Path(__file__).resolve().parents[2] / "app.py"
STATUS = "pages/status.py"
TOKEN_ENV = "MLOPS_TEST_GITHUB_TOKEN"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubServer]:
    monkeypatch.setenv(TOKEN_ENV, "test-token")
    org = FakeOrg.synthetic(repos=1, prs=20, runs=30, deployments=3, seed=5)
    with GitHubServer(org, token="test-token") as running:
        yield running


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: GitHubServer) -> str:
    url = f"sqlite:///{tmp_path / 'mlops.db'}"
    repo = next(iter(server.org.repos.values())).full_name
    config = tmp_path / "mlops.toml"
    config.write_text(
        f'[store]\nurl = "{url}"\n\n[github]\nbase_url = "{server.base_url}"\n'
        f'token_env = "{TOKEN_ENV}"\n\n[[teams]]\nname = "Ranking"\nrepos = ["{repo}"]\n'
    )
    monkeypatch.setenv("MLOPS_CONFIG", str(config))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return url


def test_sync_now_syncs_and_the_table_shows_the_run(configured: str, server: GitHubServer) -> None:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page(STATUS).run()
    assert not at.exception
    assert "No sync has run yet" in "\n".join(str(i.value) for i in at.info)

    at.button(key="sync_now").click().run()

    assert not at.exception
    written = "\n".join(str(m.value) for m in at.markdown)
    assert "**github**: ok" in written
    runs = latest_sync_runs(open_store_engine(configured))
    assert runs["status"].tolist() == ["ok"]
    assert int(runs["api_calls"].iloc[0]) == server.total_requests
    shown = [
        t.value for t in at.table if "Source" in t.value.columns and "API calls" in t.value.columns
    ]
    assert shown, "the last-sync table is shown after the sync"
    assert shown[0]["Status"].tolist() == ["ok"]


def test_sync_now_is_absent_for_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'mlops.db'}")
    monkeypatch.delenv("MLOPS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page(STATUS).run()
    assert not at.exception
    assert not [b for b in at.button if b.label == "Sync now"]
    assert any("Sync now needs a source" in str(c.value) for c in at.caption)
