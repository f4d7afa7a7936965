"""The image's contract, read from the Dockerfile: no Docker engine runs on CI's machines,
so the structure is checked instead of a build (docs/deploy.md says how to build)."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
HEALTH_URL = "http://127.0.0.1:8501/_stcore/health"
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|DATABASE_URL|API_KEY", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined: list[str] = []
    current = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    parsed = []
    for line in joined:
        keyword, _, arguments = line.partition(" ")
        parsed.append((keyword.upper(), arguments.strip()))
    return parsed


def _all(keyword: str) -> list[str]:
    return [arguments for name, arguments in instructions() if name == keyword]


def env_vars() -> dict[str, str]:
    """ENV key=value pairs (the only form this Dockerfile uses)."""
    values: dict[str, str] = {}
    for arguments in _all("ENV"):
        for pair in arguments.split():
            key, separator, value = pair.partition("=")
            assert separator, f"ENV {arguments!r}: use the KEY=value form"
            values[key] = value
    return values


def test_base_image_is_pinned_python_311_slim() -> None:
    assert _all("FROM") == ["python:3.11-slim"]


def test_runs_as_a_numeric_non_root_user() -> None:
    names = [name for name, _ in instructions()]
    assert "USER" in names
    last_user = len(names) - 1 - names[::-1].index("USER")
    assert not {"RUN", "COPY", "ADD"} & set(names[last_user:]), "nothing may run as root after USER"
    uid, _, gid = _all("USER")[-1].partition(":")
    # Numeric, so Kubernetes' runAsNonRoot can check it; the manifests run as the same uid.
    assert uid.isdigit()
    assert int(uid) > 0
    assert not gid or int(gid) > 0


def test_healthcheck_hits_the_exact_health_path() -> None:
    [healthcheck] = _all("HEALTHCHECK")
    assert HEALTH_URL in healthcheck
    assert "CMD" in healthcheck


def test_serves_streamlit_on_all_interfaces_port_8501() -> None:
    assert _all("EXPOSE") == ["8501"]
    [cmd] = _all("CMD")
    assert json.loads(cmd) == [
        "streamlit",
        "run",
        "app.py",
        "--server.address",
        "0.0.0.0",
        "--server.port",
        "8501",
        "--browser.gatherUsageStats",
        "false",
        "--server.headless",
        "true",
    ]


def test_no_secret_is_baked_in() -> None:
    for name in ("ENV", "ARG", "LABEL"):
        for arguments in _all(name):
            for pair in arguments.split():
                key, _, value = pair.partition("=")
                if not SECRET_NAME.search(key):
                    continue
                # The single-container default store: a SQLite file, no credentials.
                assert key == "DATABASE_URL", f"{name} {key} bakes a secret into the image"
                assert re.fullmatch(r"sqlite:////[\w/.-]+", value), value
    assert not _all("ADD"), "ADD can fetch URLs and unpack archives; COPY is enough"


def test_writable_paths_are_home_and_tmp() -> None:
    """The manifests mount emptyDirs at HOME and /tmp; every cache must land there."""
    values = env_vars()
    assert values["HOME"] == "/home/app"
    assert values["MPLCONFIGDIR"].startswith("/tmp/")
    assert values["XDG_CACHE_HOME"].startswith("/tmp/")
    assert values["PYTHONDONTWRITEBYTECODE"] == "1"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins, `!` re-includes. fnmatch's `*` also
    crosses `/`, which only makes this stricter than Docker for the paths tested here."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").removeprefix("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            ignored = not negated
    return ignored


def _patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        "mlops.toml",
        ".streamlit/secrets.toml",
        "data/mlops.db",
        "data/mlops.db-wal",
        ".env",
        ".git/config",
        ".venv/bin/python",
        "tests/conftest.py",
        "bench/large.db",
    ],
)
def test_local_state_and_secrets_stay_out_of_the_build_context(path: str) -> None:
    assert _ignored(path, _patterns())


@pytest.mark.parametrize(
    "path",
    [
        "app.py",
        "cli.py",
        "config.py",
        "requirements.txt",
        "alembic.ini",
        "mlops.example.toml",
        ".streamlit/config.toml",
        "data/demo/mlops.toml",
        "data/migrations/env.py",
        "connectors/prometheus_presets.toml",
        "metrics/rubric.toml",
        "pages/overview.py",
        "reports/pdf.py",
    ],
)
def test_what_the_app_needs_is_in_the_build_context(path: str) -> None:
    assert (ROOT / path).exists(), path
    assert not _ignored(path, _patterns())


def test_runtime_code_imports_nothing_left_out_of_the_image() -> None:
    excluded = {"tests", "bench"}
    runtime = [ROOT / "app.py", ROOT / "cli.py", ROOT / "config.py"]
    for package in ("connectors", "data", "metrics", "pages", "reports"):
        runtime += sorted((ROOT / package).rglob("*.py"))
    pattern = re.compile(rf"^\s*(from|import)\s+({'|'.join(excluded)})\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in runtime
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
