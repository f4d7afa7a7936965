"""Who may see the dashboard and who may change what it holds.

Login is Streamlit's own OIDC login (`st.login`), switched on by an `[auth]`
block in `.streamlit/secrets.toml`. With it, nothing is shown before login,
and only the e-mails listed in mlops.toml `admins` may sync, upload meetings,
answer the questionnaire or waive checks; everyone else reads. Without it the
dashboard is a local single-user tool: whoever reaches the port may do
everything, which is why `make run` binds 127.0.0.1 and Settings / Status says so.

Every handler that writes asks `refused(...)` again: a button that is hidden
or disabled is no guarantee (a form drawn before the admins list changed, a
session that outlived its rights).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import streamlit as st
from streamlit.errors import StreamlitAuthError, StreamlitSecretNotFoundError

from pages.common import current_loaded, navigation_pages

_NO_SECRETS_FILE: Final = "no-secrets-found"
"""`error_id` of the error Streamlit raises when no secrets file exists at all."""
_REFUSED_KEY: Final = "_mlops_access_refused"
_LOGIN_ERROR_KEY: Final = "_mlops_login_error"

AUTH_SNIPPET: Final = """\
[auth]
redirect_uri = "https://mlops.example.com/oauth2callback"
cookie_secret = "a long random string, e.g. from `openssl rand -hex 32`"
client_id = "the client id your identity provider gave the dashboard"
client_secret = "its client secret"
server_metadata_url = "https://login.example.com/.well-known/openid-configuration"
"""
"""The `[auth]` block Settings / Status shows (placeholders only); the same as in
`.streamlit/secrets.toml.example`."""


class SecretsUnreadable(Exception):
    """A secrets file exists but cannot be read: login may be meant to be on."""


def auth_configured() -> bool:
    """Whether secrets hold an `[auth]` block.

    `"auth" in st.secrets` raises when no secrets file exists, which only means
    local mode. A file that exists but cannot be parsed raises
    `SecretsUnreadable` instead of reading as "no login": the dashboard must
    not open up to everyone because of a typo in the file meant to close it.
    """
    try:
        section = st.secrets.get("auth")
    except StreamlitSecretNotFoundError as exc:
        if exc.error_id == _NO_SECRETS_FILE:
            return False
        raise SecretsUnreadable(str(exc)) from None
    return bool(section)


def is_logged_in() -> bool:
    """`st.user` only carries `is_logged_in` once an `[auth]` block exists; a missing
    key reads as logged out."""
    return st.user.get("is_logged_in") is True


def current_user() -> str | None:
    """The logged-in user's e-mail, or None: no login configured, not logged in, or no
    e-mail claim from the identity provider."""
    if not auth_configured() or not is_logged_in():
        return None
    email = st.user.get("email")
    return email.strip() if isinstance(email, str) and email.strip() else None


def is_admin(email: str | None, admins: Sequence[str]) -> bool:
    """E-mail addresses compare case-insensitively (`Ana@Acme.com` is `ana@acme.com`)."""
    if email is None:
        return False
    return email.casefold() in {admin.strip().casefold() for admin in admins}


def can_edit() -> bool:
    """True in local mode (no login configured); with login, only for a logged-in user
    whose verified e-mail is in mlops.toml `admins`.

    An e-mail the provider marks as unverified does not count: some providers let
    anyone sign up with any address.
    """
    if not auth_configured():
        return True
    if st.user.get("email_verified") is False:
        return False
    return is_admin(current_user(), current_loaded().config.admins)


def read_only_note(action: str) -> str:
    """What a read-only user sees where a form or button would be."""
    who = current_user()
    you = f" You are logged in as {who}." if who else ""
    return f"Only admins listed in mlops.toml `admins` can {action}.{you}"


def refused(action: str) -> bool:
    """For the callbacks that write: True, with a message for the page, when the user
    may not `action`; the caller then returns without writing."""
    if can_edit():
        return False
    st.session_state[_REFUSED_KEY] = f"Not done: {read_only_note(action)}"
    return True


def _log_in() -> None:
    try:
        st.login()
    except StreamlitAuthError as exc:
        st.session_state[_LOGIN_ERROR_KEY] = " ".join(str(exc).split())


def require_login() -> None:
    """Called by app.py before it reads the config or the store: with login configured
    and nobody logged in, the login screen is all that is drawn."""
    try:
        needed = auth_configured() and not is_logged_in()
    except SecretsUnreadable as exc:
        st.error(
            f"**The secrets file cannot be read**, so login cannot be checked: {exc}\n\n"
            "Fix `.streamlit/secrets.toml` and reload this page.",
            icon=":material/lock:",
        )
        st.stop()
    if not needed:
        return
    # Keep the app in navigation mode (no page runs), so `pages/` is not listed as pages.
    st.navigation(navigation_pages(), position="hidden")
    st.title("MLOps Maturity")
    st.markdown("Log in to see the dashboard.")
    st.button("Log in", type="primary", icon=":material/login:", key="login", on_click=_log_in)
    problem = st.session_state.pop(_LOGIN_ERROR_KEY, None)
    if problem:
        st.error(
            f"**Login is not set up correctly:** {problem}\n\n"
            "The `[auth]` block of `.streamlit/secrets.toml` needs `redirect_uri`, "
            "`cookie_secret`, `client_id`, `client_secret` and `server_metadata_url`.",
            icon=":material/error:",
        )
    st.stop()


def account() -> None:
    """Called by app.py before the page runs: who is logged in, in the sidebar, and the
    message of an action `refused` since the last run, above the page."""
    if auth_configured():
        with st.sidebar:
            who = current_user() or "(no e-mail from the identity provider)"
            role = "admin" if can_edit() else "read-only"
            st.caption(f"Logged in as **{who}** · {role}")
            st.button("Log out", icon=":material/logout:", key="logout", on_click=st.logout)
    problem = st.session_state.pop(_REFUSED_KEY, None)
    if problem:
        st.error(problem, icon=":material/lock:")


def access_status() -> None:
    """The Settings / Status section on login and rights."""
    st.subheader("Access")
    if not auth_configured():
        st.warning(
            "**No login is configured: anyone who can reach this port can read and change "
            "everything** — sync, import meetings, answer the questionnaire, waive checks. "
            "Keep the server bound to localhost (`make run` binds 127.0.0.1), or configure "
            "login: an `[auth]` block in `.streamlit/secrets.toml` (see `docs/deploy.md`) "
            "and the admins' e-mails in mlops.toml `admins`.",
            icon=":material/lock_open:",
        )
        with st.expander("The `[auth]` block of `.streamlit/secrets.toml`"):
            st.code(AUTH_SNIPPET, language="toml")
            st.caption(
                "Register the dashboard with your OpenID Connect provider (Google, Microsoft "
                "Entra ID, Okta, Auth0, Keycloak…) with `redirect_uri` as its callback URL. "
                "Login needs the `streamlit[auth]` extra (Authlib), which requirements.txt "
                "installs."
            )
        return
    admins = current_loaded().config.admins
    who = current_user() or "a user without an e-mail claim"
    role = "an admin" if can_edit() else "read-only"
    st.success(
        f"Login is on (OpenID Connect, `[auth]` in `.streamlit/secrets.toml`). You are "
        f"{who}, {role}; mlops.toml lists {len(admins)} admin(s).",
        icon=":material/lock:",
    )
    if not admins:
        st.warning(
            "mlops.toml lists no `admins`, so nobody can sync, import meetings or edit the "
            'assessment. Add the admins\' login e-mails: `admins = ["lead@acme.com"]`.',
            icon=":material/person_off:",
        )
