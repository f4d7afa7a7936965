"""Login end to end: `streamlit run app.py` with an `[auth]` block, headless Chromium, and a
local OpenID Connect provider, so the real `st.login` flow runs (discovery, authorization
redirect, code exchange, a signed ID token checked by Authlib, the identity cookie).

The provider consents at once as whoever the test says is at the keyboard. An admin
then sees Sync now; a reader sees the dashboard without it; logging out returns to the
login screen.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conftest import service_missing
from tests.services.streamlit import copy_settings, free_port, streamlit_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
CLIENT_ID = "mlops-dashboard"
CLIENT_SECRET = "test-client-secret"
ADMIN = "lead@acme.example"
READER = "reader@acme.example"


class IdentityProvider:
    """Discovery, authorization (consent as `self.email`), token and JWKS endpoints."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.email = ADMIN
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens_issued = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> IdentityProvider:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.base_url,
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "jwks_uri": f"{self.base_url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def authorize(self, query: dict[str, str]) -> str:
        assert query["client_id"] == CLIENT_ID
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": query.get("nonce"), "email": self.email}
        answer = {"code": code, "state": query["state"]}
        return f"{query['redirect_uri']}?{urlencode(answer)}"

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        grant = self.codes.pop(form["code"])
        now = int(time.time())
        claims = {
            "iss": self.base_url,
            "sub": grant["email"],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 600,
            "nonce": grant["nonce"],
            "email": grant["email"],
            "email_verified": True,
            "name": grant["email"].split("@")[0].title(),
        }
        header = {"alg": "RS256", "kid": "test-key"}
        self.tokens_issued += 1
        return {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": jwt.encode(header, claims, self.key),
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json(provider.metadata())
                elif url.path == "/jwks":
                    self._json({"keys": [provider.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    self.send_response(302)
                    self.send_header("Location", provider.authorize(query))
                    self.end_headers()
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path == "/token":
                    self._json(provider.token(form))
                else:
                    self.send_error(404)

        return Handler


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    with IdentityProvider() as running:
        yield running


@pytest.fixture(scope="module")
def server(provider: IdentityProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard with login on, an admin listed and one meetings file (so Sync now
    has a source), on a fresh store."""
    workdir = tmp_path_factory.mktemp("login")
    copy_settings(workdir)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    (workdir / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{base_url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.base_url}/.well-known/openid-configuration"\n'
    )
    meetings = workdir / "meetings.csv"
    meetings.write_text("title,start\nRanking review,2025-03-10T14:00:00Z\n")
    (workdir / "mlops.toml").write_text(
        f'admins = ["{ADMIN.upper()}"]\n\n[[teams]]\nname = "Search Ranking"\n'
        f'meetings = {{ csv = "{meetings.as_posix()}", title = "(?i)ranking review" }}\n'
    )
    env = {name: value for name, value in os.environ.items() if name != "MLOPS_CONFIG"}
    env["DATABASE_URL"] = f"sqlite:///{workdir / 'mlops.db'}"
    with streamlit_server(workdir, env, port=port) as running:
        try:
            yield base_url
        finally:
            if os.environ.get("MLOPS_SHOW_LOGIN_LOG"):
                print(running.log.read_text())


@pytest.fixture
def page(server: str) -> Iterator[Page]:
    if not CHROMIUM.is_file():
        service_missing(f"Debian's chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        service_missing("the playwright Python package is not installed")
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        opened = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        opened.set_default_timeout(60_000)
        yield opened
        browser.close()


def _log_in(page: Page, server: str) -> None:
    page.goto(server)
    page.wait_for_selector(IDLE)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as").wait_for()
    page.wait_for_selector(IDLE)


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for()


def test_the_real_login_flow_gives_admins_and_readers_their_rights(
    page: Page, server: str, provider: IdentityProvider
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/status")
    page.wait_for_selector(IDLE)
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_text("Settings / Status")).to_have_count(0)

    provider.email = ADMIN
    issued = provider.tokens_issued
    _log_in(page, server)
    assert provider.tokens_issued == issued + 1
    expect(page.get_by_text(f"Logged in as {ADMIN} · admin")).to_be_visible()
    page.goto(f"{server}/status")
    page.wait_for_selector(IDLE)
    expect(page.get_by_role("button", name="Sync now")).to_be_visible()
    expect(page.get_by_text("Login is on")).to_be_visible()
    _log_out(page)
    expect(page.get_by_text("Logged in as")).to_have_count(0)

    provider.email = READER
    _log_in(page, server)
    expect(page.get_by_text(f"Logged in as {READER} · read-only")).to_be_visible()
    page.goto(f"{server}/status")
    page.wait_for_selector(IDLE)
    page.get_by_role("heading", name="Last sync per source").wait_for()
    expect(page.get_by_role("button", name="Sync now")).to_have_count(0)
    expect(page.get_by_text("Only admins listed in mlops.toml admins can sync")).to_be_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    _log_out(page)
