"""Repository detectors on small repositories built in temporary directories.

Every detector has a positive case (pass), a negative case (fail) and an undecidable
case (unknown, never fail). Detectors that by design never fail (design_docs,
issue_link_template: the evidence may live outside the repository) have their
"negative" case answer unknown instead. A file written as bytes with a NUL in it is
unreadable to the snapshot, like a file the GitHub contents API could not return.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.repo_detectors import (
    DETECTORS,
    MAX_FILE_BYTES,
    CheckOutcome,
    RepoSnapshot,
    detect,
    workflow_triggers,
)

UNREADABLE = b"\x00\x01 not text"
NEVER_FAIL = {"design_docs", "issue_link_template"}

PINNED = "pandas==2.2.3\nnumpy==2.1.0\n"
README_SETUP = "# Demo\n\n## Installation\n\n```sh\npip install -e .\n```\n"
OVERVIEW = " ".join(["Our ranking service scores every search result for relevance."] * 6)
UNANNOTATED = "\n".join(f"def function_{index}(a, b):\n    return a + b\n" for index in range(12))
ANNOTATED = "\n".join(
    f"def function_{index}(a: int, b: int) -> int:\n    return a + b\n" for index in range(12)
)
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: {replicas}
  template:
    spec:
      containers:
        - name: api
          image: api:1
{probes}"""
BOTH_PROBES = (
    "          livenessProbe:\n            httpGet: {path: /healthz, port: 80}\n"
    "          readinessProbe:\n            httpGet: {path: /ready, port: 80}\n"
)
LIVENESS_ONLY = "          livenessProbe:\n            httpGet: {path: /healthz, port: 80}\n"
PR_WORKFLOW = """name: CI
on:
  pull_request:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python -m pytest -q
"""
PUSH_WORKFLOW = PR_WORKFLOW.replace("  pull_request:\n", "")
RUFF_HOOKS = "repos:\n  - hooks:\n      - id: ruff\n      - id: ruff-format\n"
GITLAB_MR = (
    "test:\n  script: pytest\n  rules:\n    - if: $CI_PIPELINE_SOURCE == 'merge_request_event'\n"
)
HADOLINT = "on: push\njobs:\n  l:\n    steps:\n      - run: hadolint Dockerfile\n"
MANY_MODULES = {f"pkg/module_{index:02d}.py": "VALUE = 1\n" for index in range(20)}


def write_tree(root: Path, files: dict[str, str | bytes]) -> RepoSnapshot:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return RepoSnapshot.from_directory(root)


# (detector, expected status, files, what the case shows)
CASES: list[tuple[str, str, dict[str, str | bytes], str]] = [
    # --- evidence rules: paths, dependencies, source ---
    ("data_versioning", "pass", {"data/raw.dvc": "outs: []\n"}, ".dvc file"),
    ("data_versioning", "pass", {"requirements.txt": "deltalake==0.21\n"}, "deltalake dep"),
    ("data_versioning", "fail", {"requirements.txt": PINNED, "train.py": "x = 1\n"}, "none"),
    ("data_versioning", "unknown", {"train.py": "x = 1\n"}, "no dependency file"),
    ("pipeline_definitions", "pass", {"dvc.yaml": "stages:\n  train: {}\n"}, "dvc stages"),
    (
        "pipeline_definitions",
        "pass",
        {"requirements.txt": PINNED, "flows/train.py": "from prefect import flow\n"},
        "prefect import",
    ),
    (
        "pipeline_definitions",
        "fail",
        {"requirements.txt": PINNED, "notebooks/train.ipynb": "{}"},
        "a notebook is not a pipeline",
    ),
    ("pipeline_definitions", "unknown", {"notebooks/train.ipynb": "{}"}, "no deps"),
    ("config_management", "pass", {"config/settings.toml": "[default]\n"}, "settings.toml"),
    ("config_management", "pass", {"conf/config.yaml": "lr: 0.1\n"}, "Hydra conf dir"),
    (
        "config_management",
        "pass",
        {"requirements.txt": PINNED, "train.py": "@hydra.main(config_path='c')\ndef m(): ...\n"},
        "@hydra.main",
    ),
    ("config_management", "fail", {"requirements.txt": PINNED, "app.py": "X = 1\n"}, "none"),
    ("config_management", "unknown", {"app.py": "X = 1\n"}, "no deps"),
    ("data_validation", "pass", {"requirements.txt": "pandera==0.20.4\n"}, "pandera"),
    ("data_validation", "pass", {"great_expectations/great_expectations.yml": "v: 3\n"}, "GX"),
    ("data_validation", "fail", {"requirements.txt": PINNED}, "none"),
    ("data_validation", "unknown", {"requirements.txt": UNREADABLE}, "deps unreadable"),
    (
        "hyperparameter_search",
        "pass",
        {
            "requirements.txt": "scikit-learn==1.5\n",
            "train.py": "from sklearn.model_selection import GridSearchCV\n",
        },
        "GridSearchCV",
    ),
    (
        "hyperparameter_search",
        "pass",
        {"pyproject.toml": '[project]\ndependencies = ["ray[tune]>=2"]\n'},
        "ray[tune]",
    ),
    ("hyperparameter_search", "fail", {"requirements.txt": PINNED, "train.py": "x = 1\n"}, "none"),
    (
        "hyperparameter_search",
        "unknown",
        {"requirements.txt": "scikit-learn==1.5\n", **MANY_MODULES},
        "sklearn present, modules not all read",
    ),
    ("interpretability", "pass", {"requirements.txt": "shap==0.46\n"}, "shap"),
    ("interpretability", "fail", {"requirements.txt": PINNED}, "none"),
    ("interpretability", "unknown", {"notebooks/a.ipynb": "{}"}, "no deps"),
    (
        "drift_detection",
        "pass",
        {"environment.yml": "dependencies:\n  - pip:\n    - evidently==0.4\n"},
        "conda env",
    ),
    ("drift_detection", "fail", {"requirements.txt": PINNED}, "none"),
    (
        "drift_detection",
        "unknown",
        {"requirements.txt": PINNED, "setup.py": UNREADABLE},
        "one unreadable",
    ),
    ("feature_store", "pass", {"feature_repo/feature_store.yaml": "project: x\n"}, "feast repo"),
    ("feature_store", "pass", {"Pipfile": '[packages]\nfeast = "==0.40"\n'}, "feast in Pipfile"),
    ("feature_store", "fail", {"requirements.txt": PINNED}, "none"),
    ("feature_store", "unknown", {"README.md": "# x\n"}, "no deps"),
    (
        "experiment_tracking",
        "pass",
        {"setup.cfg": "[options]\ninstall_requires =\n    mlflow>=2\n"},
        "mlflow",
    ),
    ("experiment_tracking", "fail", {"requirements.txt": PINNED}, "none"),
    ("experiment_tracking", "unknown", {"pyproject.toml": "not = [valid toml"}, "invalid TOML"),
    ("docs_generator", "pass", {"mkdocs.yml": "site_name: x\n"}, "mkdocs.yml"),
    (
        "docs_generator",
        "pass",
        {"requirements.txt": PINNED, "Makefile": "docs:\n\tpdoc src\n"},
        "pdoc in Makefile",
    ),
    ("docs_generator", "fail", {"requirements.txt": PINNED}, "none"),
    ("docs_generator", "unknown", {"src/app.py": "x = 1\n"}, "no deps"),
    ("logging_config", "pass", {"logging.yaml": "version: 1\n"}, "logging.yaml"),
    (
        "logging_config",
        "pass",
        {
            "requirements.txt": PINNED,
            "app.py": "import logging.config\nlogging.config.dictConfig({})\n",
        },
        "dictConfig",
    ),
    ("logging_config", "fail", {"requirements.txt": PINNED, "app.py": "print(1)\n"}, "all read"),
    ("logging_config", "unknown", {"requirements.txt": PINNED, **MANY_MODULES}, "not all read"),
    # --- README and documentation ---
    ("readme_setup", "pass", {"README.md": README_SETUP}, "Installation heading"),
    ("readme_setup", "pass", {"README.md": "# X\n\nRun:\n\n```sh\nuv sync\n```\n"}, "command"),
    ("readme_setup", "pass", {"README.rst": "Demo\n====\n\nQuickstart\n----------\n"}, "rst"),
    ("readme_setup", "fail", {"README.md": "# X\n\n## Usage\n\nCall it.\n"}, "no setup"),
    ("readme_setup", "fail", {"src/app.py": "x = 1\n"}, "no README"),
    ("readme_setup", "unknown", {"README.md": UNREADABLE}, "README unreadable"),
    ("readme_overview", "pass", {"README.md": f"# X\n\n{OVERVIEW}\n\n## Setup\n"}, "overview"),
    ("readme_overview", "fail", {"README.md": "# X\n\n[![b](b.svg)](x)\n\n## Setup\n"}, "badges"),
    ("readme_overview", "unknown", {"README.md": UNREADABLE}, "unreadable"),
    ("data_docs", "pass", {"docs/data_dictionary.md": "# d\n"}, "data dictionary"),
    ("data_docs", "pass", {"README.md": "# X\n\n## Data sources\n"}, "README section"),
    ("data_docs", "fail", {"README.md": "# X\n\n## Usage\n"}, "none"),
    ("data_docs", "unknown", {"README.md": UNREADABLE}, "README unreadable"),
    ("deploy_docs", "pass", {"docs/deploy.md": "# Deploy\n"}, "docs/deploy.md"),
    ("deploy_docs", "pass", {"README.md": "# X\n\n## Deployment\n"}, "README section"),
    ("deploy_docs", "fail", {"README.md": "# X\n\n## Usage\n"}, "none"),
    ("deploy_docs", "unknown", {"README.md": UNREADABLE}, "README unreadable"),
    ("model_card", "pass", {"MODEL_CARD.md": "# Card\n"}, "MODEL_CARD.md"),
    ("model_card", "pass", {"README.md": "# X\n\n## Limitations\n"}, "README section"),
    ("model_card", "fail", {"README.md": "# X\n\n## Usage\n"}, "none"),
    ("model_card", "unknown", {"README.md": UNREADABLE}, "README unreadable"),
    ("maintainers", "pass", {".github/CODEOWNERS": "* @team\n"}, "CODEOWNERS"),
    ("maintainers", "pass", {"README.md": "# X\n\n## Maintainers\n"}, "README section"),
    ("maintainers", "fail", {"README.md": "# X\n\n## Usage\n"}, "none"),
    ("maintainers", "unknown", {"README.md": UNREADABLE}, "README unreadable"),
    ("design_docs", "pass", {"docs/adr/0001-use-postgres.md": "# ADR\n"}, "ADR"),
    ("design_docs", "unknown", {"README.md": "# X\n"}, "may live in a wiki"),
    ("design_docs", "unknown", {"src/a.py": "x = 1\n"}, "never fails"),
    (
        "issue_link_template",
        "pass",
        {".github/pull_request_template.md": "Fixes #\n"},
        "PR template",
    ),
    ("issue_link_template", "pass", {".github/ISSUE_TEMPLATE/bug_report.md": "Bug\n"}, "bug form"),
    (
        "issue_link_template",
        "unknown",
        {".github/pull_request_template.md": "Describe it.\n"},
        "no link field",
    ),
    ("issue_link_template", "unknown", {"README.md": "# X\n"}, "nothing: asked instead"),
    # --- code quality ---
    (
        "pre_commit",
        "pass",
        {
            ".pre-commit-config.yaml": (
                "repos:\n  - repo: https://github.com/psf/black\n    hooks:\n      - id: black\n"
                "  - repo: https://github.com/PyCQA/isort\n    hooks:\n      - id: isort\n"
                "  - repo: https://github.com/PyCQA/flake8\n    hooks:\n      - id: flake8\n"
            )
        },
        "black, isort, flake8",
    ),
    (
        "pre_commit",
        "pass",
        {
            ".pre-commit-config.yaml": RUFF_HOOKS,
            "pyproject.toml": '[tool.ruff.lint]\nselect = ["E", "F", "I"]\n',
        },
        "ruff with I rules",
    ),
    (
        "pre_commit",
        "fail",
        {".pre-commit-config.yaml": "repos:\n  - hooks:\n      - id: black\n"},
        "formatter only",
    ),
    (
        "pre_commit",
        "fail",
        {
            ".pre-commit-config.yaml": RUFF_HOOKS,
            "pyproject.toml": '[tool.ruff.lint]\nselect = ["E", "F"]\n',
        },
        "ruff without I rules",
    ),
    ("pre_commit", "fail", {"README.md": "# X\n"}, "no config"),
    ("pre_commit", "unknown", {".pre-commit-config.yaml": UNREADABLE}, "config unreadable"),
    (
        "pre_commit",
        "unknown",
        {
            ".pre-commit-config.yaml": RUFF_HOOKS,
            "pyproject.toml": UNREADABLE,
        },
        "ruff rules unreadable",
    ),
    ("type_checking", "pass", {"mypy.ini": "[mypy]\n"}, "mypy.ini"),
    ("type_checking", "pass", {"pyproject.toml": "[tool.pyright]\nstrict = []\n"}, "pyright"),
    ("type_checking", "pass", {"src/lib.py": ANNOTATED}, "annotations"),
    ("type_checking", "fail", {"src/lib.py": UNANNOTATED}, "unannotated"),
    ("type_checking", "unknown", {"README.md": "# X\n"}, "no Python"),
    ("type_checking", "unknown", {"src/lib.py": "def f(a):\n    return a\n"}, "too few functions"),
    ("pinned_dependencies", "pass", {"uv.lock": "version = 1\n"}, "lock file"),
    ("pinned_dependencies", "pass", {"requirements.txt": PINNED}, "all pinned"),
    ("pinned_dependencies", "fail", {"requirements.txt": "pandas>=2\nnumpy\n"}, "ranges"),
    ("pinned_dependencies", "unknown", {"src/app.py": "x = 1\n"}, "no dependency file"),
    ("pinned_dependencies", "unknown", {"requirements.txt": UNREADABLE}, "unreadable"),
    # --- tests and CI ---
    ("tests_present", "pass", {"tests/test_api.py": "def test(): pass\n"}, "tests/"),
    ("tests_present", "fail", {"src/app.py": "x = 1\n"}, "no tests"),
    ("model_tests", "pass", {"tests/test_model.py": "def test(): pass\n"}, "by name"),
    (
        "model_tests",
        "pass",
        {"tests/test_api.py": "def test():\n    clf.fit(x, y)\n"},
        "by content",
    ),
    ("model_tests", "fail", {"tests/test_utils.py": "def test():\n    assert 1\n"}, "none"),
    ("model_tests", "fail", {"src/app.py": "x = 1\n"}, "no tests at all"),
    (
        "model_tests",
        "unknown",
        {f"tests/test_util_{index}.py": "def test(): pass\n" for index in range(10)},
        "not every test file read",
    ),
    ("data_tests", "pass", {"tests/data/test_loading.py": "def test(): pass\n"}, "by name"),
    ("data_tests", "pass", {"tests/test_x.py": "import pandera\n"}, "by content"),
    ("data_tests", "fail", {"tests/test_utils.py": "def test():\n    assert 1\n"}, "none"),
    (
        "data_tests",
        "unknown",
        {f"tests/test_util_{index}.py": UNREADABLE for index in range(3)},
        "unreadable",
    ),
    ("ci_tests_on_pr", "pass", {".github/workflows/ci.yml": PR_WORKFLOW}, "PR + pytest"),
    (
        "ci_tests_on_pr",
        "pass",
        {".gitlab-ci.yml": GITLAB_MR},
        "GitLab MR pipeline",
    ),
    ("ci_tests_on_pr", "fail", {".github/workflows/ci.yml": PUSH_WORKFLOW}, "push only"),
    ("ci_tests_on_pr", "fail", {"README.md": "# X\n"}, "no CI"),
    ("ci_tests_on_pr", "unknown", {"Jenkinsfile": "pipeline {}\n"}, "Jenkins: trigger unknown"),
    ("ci_tests_on_pr", "unknown", {".github/workflows/ci.yml": UNREADABLE}, "unreadable"),
    ("dependency_updates", "pass", {".github/dependabot.yml": "version: 2\n"}, "dependabot"),
    ("dependency_updates", "pass", {"renovate.json": "{}\n"}, "renovate"),
    ("dependency_updates", "fail", {"README.md": "# X\n"}, "none"),
    ("infrastructure_tests", "pass", {"tests/integration/test_api.py": "x = 1\n"}, "integration"),
    (
        "infrastructure_tests",
        "pass",
        {".github/workflows/lint.yml": HADOLINT},
        "hadolint in CI",
    ),
    ("infrastructure_tests", "fail", {".github/workflows/ci.yml": PR_WORKFLOW}, "none"),
    ("infrastructure_tests", "unknown", {".github/workflows/ci.yml": UNREADABLE}, "unreadable"),
    # --- containers, Kubernetes, infrastructure ---
    ("dockerfile", "pass", {"docker/api.Dockerfile": "FROM python\n"}, "Dockerfile"),
    ("dockerfile", "fail", {"README.md": "# X\n"}, "none"),
    (
        "k8s_probes",
        "pass",
        {"k8s/deployment.yaml": DEPLOYMENT.format(replicas=1, probes=BOTH_PROBES)},
        "both probes",
    ),
    (
        "k8s_probes",
        "fail",
        {"k8s/deployment.yaml": DEPLOYMENT.format(replicas=1, probes=LIVENESS_ONLY)},
        "no readiness probe",
    ),
    ("k8s_probes", "unknown", {"README.md": "# X\n"}, "no manifests: deployed elsewhere?"),
    ("k8s_probes", "unknown", {"k8s/deployment.yaml": UNREADABLE}, "unreadable"),
    (
        "k8s_probes",
        "unknown",
        {"k8s/service.yaml": "apiVersion: v1\nkind: Service\n"},
        "no workload among the manifests",
    ),
    (
        "autoscaling",
        "pass",
        {"deploy/scaling.yaml": "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\n"},
        "KEDA",
    ),
    (
        "autoscaling",
        "pass",
        {"k8s/deployment.yaml": DEPLOYMENT.format(replicas=3, probes=BOTH_PROBES)},
        "replicas 3",
    ),
    (
        "autoscaling",
        "fail",
        {"k8s/deployment.yaml": DEPLOYMENT.format(replicas=1, probes=BOTH_PROBES)},
        "one replica",
    ),
    ("autoscaling", "unknown", {"README.md": "# X\n"}, "no manifests"),
    ("infrastructure_as_code", "pass", {"infra/main.tf": "resource {}\n"}, "terraform"),
    ("infrastructure_as_code", "fail", {"README.md": "# X\n"}, "none"),
    (
        "project_structure",
        "pass",
        {
            "config/settings.toml": "",
            "src/app/__init__.py": "",
            "tests/test_app.py": "",
            "Dockerfile": "FROM x\n",
            "Makefile": "all:\n",
            ".github/workflows/ci.yml": PR_WORKFLOW,
        },
        "all six",
    ),
    ("project_structure", "fail", {"README.md": "# X\n", "train.ipynb": "{}"}, "notebook only"),
    # --- API, database, models ---
    ("api_spec", "pass", {"api/openapi.yaml": "openapi: 3.1.0\n"}, "OpenAPI document"),
    (
        "api_spec",
        "pass",
        {"requirements.txt": "fastapi==0.115\n", "app/main.py": "app = FastAPI()\n"},
        "FastAPI app",
    ),
    (
        "api_spec",
        "fail",
        {"requirements.txt": "flask==3.0\n", "app.py": "x = 1\n"},
        "Flask, no spec",
    ),
    ("api_spec", "unknown", {"requirements.txt": PINNED}, "no service framework"),
    ("api_spec", "unknown", {"requirements.txt": UNREADABLE}, "deps unreadable"),
    ("db_migrations", "pass", {"alembic/versions/0001_init.py": "x = 1\n"}, "alembic"),
    ("db_migrations", "pass", {"db/migration/V1__init.sql": "create table x();\n"}, "flyway"),
    ("db_migrations", "fail", {"requirements.txt": "sqlalchemy==2.0.36\n"}, "ORM, no migrations"),
    ("db_migrations", "unknown", {"requirements.txt": PINNED}, "no database client"),
    ("model_families", "pass", {"requirements.txt": "torch==2.5\n"}, "deep learning"),
    ("model_families", "pass", {"requirements.txt": "scikit-learn==1.5\nlightgbm==4.5\n"}, "two"),
    ("model_families", "fail", {"requirements.txt": "scikit-learn==1.5\n"}, "one library"),
    ("model_families", "unknown", {"requirements.txt": PINNED}, "no model library"),
    # --- retraining ---
    (
        "retraining_trigger",
        "pass",
        {
            ".github/workflows/retrain.yml": (
                "name: Retrain\non:\n  schedule:\n    - cron: '0 3 * * 1'\n"
                "jobs:\n  t:\n    steps:\n      - run: python -m app.train\n"
            )
        },
        "scheduled training workflow",
    ),
    (
        "retraining_trigger",
        "pass",
        {"requirements.txt": PINNED, "monitor.py": "if drift_detected:\n    trigger_retrain()\n"},
        "drift triggers retraining",
    ),
    (
        "retraining_trigger",
        "fail",
        {"requirements.txt": PINNED, ".github/workflows/ci.yml": PR_WORKFLOW, "app.py": "x = 1\n"},
        "no trigger",
    ),
    ("retraining_trigger", "unknown", {".github/workflows/retrain.yml": UNREADABLE}, "unreadable"),
    # --- secrets ---
    ("no_committed_secrets", "pass", {"config/app.yaml": "password: ${DB_PASSWORD}\n"}, "clean"),
    ("no_committed_secrets", "pass", {"settings.toml": 'password = "changeme"\n'}, "placeholder"),
    (
        "no_committed_secrets",
        "fail",
        {"config/prod.yaml": "aws_access_key_id: AKIAQWERTYUIOPASDFGH\n"},
        "AWS key",
    ),
    ("no_committed_secrets", "fail", {"settings.toml": 'password = "s3cr3t-Pa55"\n'}, "password"),
    ("no_committed_secrets", "fail", {".env": "API_TOKEN=abcd1234efgh\n"}, ".env secret"),
    ("no_committed_secrets", "unknown", {"config/prod.yaml": UNREADABLE}, "unreadable"),
]


@pytest.mark.parametrize(
    ("name", "expected", "files"),
    [
        pytest.param(name, expected, files, id=f"{name}-{expected}-{why}")
        for name, expected, files, why in CASES
    ],
)
def test_detector_case(tmp_path, name, expected, files):
    outcome = detect(name, write_tree(tmp_path, files))
    assert outcome.status == expected, outcome.evidence
    assert outcome.evidence


def test_every_detector_has_positive_negative_and_undecidable_cases():
    statuses: dict[str, set[str]] = {}
    for name, expected, _, _ in CASES:
        statuses.setdefault(name, set()).add(expected)
    assert set(statuses) == set(DETECTORS)
    for name, seen in statuses.items():
        assert "pass" in seen, name
        assert ("fail" in seen) or (name in NEVER_FAIL), name
        if name not in NEVER_FAIL:
            # Path-only detectors are undecidable only on an empty listing (below).
            assert "unknown" in seen or _path_only(name), name


def _path_only(name: str) -> bool:
    return name in {
        "tests_present",
        "dockerfile",
        "dependency_updates",
        "infrastructure_as_code",
        "project_structure",
    }


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_an_empty_listing_is_unknown_never_fail(name):
    outcome = detect(name, RepoSnapshot.from_files({}))
    assert outcome.status == "unknown"


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_a_truncated_listing_never_fails_for_absence(name):
    """With a partial file list (a GitHub tree over its limit), "not found" is not proof."""
    snapshot = RepoSnapshot.from_files({"src/app.py": "x = 1\n"}, truncated=True)
    assert detect(name, snapshot).status != "fail"


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_detector_documents_its_rule(name):
    assert DETECTORS[name].__doc__


def test_a_detector_error_is_unknown(monkeypatch):
    def broken(snapshot):
        raise RuntimeError("boom")

    monkeypatch.setitem(DETECTORS, "broken", broken)
    outcome = detect("broken", RepoSnapshot.from_files({"a.py": "x"}))
    assert outcome == CheckOutcome(
        "unknown", "the detector failed on this repository: RuntimeError('boom')"
    )


# --- the snapshot -------------------------------------------------------------------------


def test_from_directory_skips_vcs_environments_and_caches(tmp_path):
    snapshot = write_tree(
        tmp_path,
        {
            "app.py": "x = 1\n",
            ".git/config": "[core]\n",
            "node_modules/left-pad/index.js": "",
            ".venv/lib/site.py": "",
            "pkg/__pycache__/app.cpython-311.pyc": b"\x00",
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/python3.11/os.py": "",
            ".mypy_cache/3.11/app.json": "{}",
            "docs/index.md": "# Docs\n",
        },
    )
    assert snapshot.paths == ("app.py", "docs/index.md")


def test_reads_are_memoised_counted_and_capped(tmp_path):
    (tmp_path / "big.txt").write_text("a" * (MAX_FILE_BYTES + 10))
    (tmp_path / "small.txt").write_text("hello")
    snapshot = RepoSnapshot.from_directory(tmp_path)
    assert len(snapshot.read("big.txt") or "") == MAX_FILE_BYTES
    assert snapshot.read("small.txt") == "hello"
    assert snapshot.read("small.txt") == "hello"
    assert snapshot.reads == 2
    assert snapshot.read("../outside.txt") is None
    assert snapshot.read("missing.txt") is None


def test_a_snapshot_from_paths_and_a_reader_feeds_the_same_detectors():
    """The GitHub connector's shape: a tree listing plus a contents fetcher."""
    fetched: list[str] = []

    def fetch(path):
        fetched.append(path)
        return {"README.md": README_SETUP}.get(path)

    snapshot = RepoSnapshot(["README.md", "src/app.py", "./tests/test_app.py"], fetch)
    assert snapshot.paths == ("README.md", "src/app.py", "tests/test_app.py")
    assert detect("readme_setup", snapshot).status == "pass"
    assert detect("tests_present", snapshot).status == "pass"
    assert fetched == ["README.md"]


def test_dependency_files_of_every_format_are_parsed(tmp_path):
    snapshot = write_tree(
        tmp_path,
        {
            "requirements.txt": "# comment\n-r dev.txt\npandas==2.2.3 \\\n    --hash=sha256:abc\n",
            "pyproject.toml": (
                '[project]\ndependencies = ["numpy>=2"]\n'
                '[project.optional-dependencies]\ndev = ["pytest==8.0"]\n'
                '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "2.32.3"\n'
                '[tool.poetry.group.dev.dependencies]\nblack = "^24"\n'
            ),
            "setup.cfg": "[options]\ninstall_requires =\n    click==8.1\n",
            "setup.py": (
                "setup(install_requires=['typer>=0.9'], extras_require={'x': ['rich==13']})\n"
            ),
            "environment.yml": (
                "channels:\n  - conda-forge\n"
                "dependencies:\n  - python=3.11\n  - conda-forge::scipy=1.14.1\n"
            ),
            "Pipfile": '[packages]\nflask = "*"\n[dev-packages]\nmypy = "==1.13"\n',
        },
    )
    requirements = {
        requirement.name: requirement.pinned for requirement in snapshot.dependencies.requirements
    }
    assert requirements == {
        "pandas": True,
        "numpy": False,
        "pytest": True,
        "requests": True,
        "black": False,
        "click": True,
        "typer": False,
        "rich": True,
        "python": True,
        "scipy": True,
        "flask": False,
        "mypy": True,
    }
    assert "conda-forge" not in requirements


@pytest.mark.parametrize(
    ("text", "events"),
    [
        ("on: push\n", {"push"}),
        ("on: [push, pull_request]\n", {"push", "pull_request"}),
        (
            '"on":\n  pull_request:\n    branches: [main]\n  schedule:\n    - cron: "0 0 * * *"\n',
            {"pull_request", "schedule"},
        ),
        ("on:\n  - push\n  - pull_request_target\njobs: {}\n", {"push", "pull_request_target"}),
        ("name: x\njobs: {}\n", set()),
    ],
)
def test_workflow_triggers(text, events):
    assert workflow_triggers(text) == events


def test_secret_evidence_names_the_line_but_never_the_value(tmp_path):
    token = "ghp_" + "a1B2" * 9
    snapshot = write_tree(tmp_path, {"deploy/values.yaml": f"image: x\ngithub_token: {token}\n"})
    outcome = detect("no_committed_secrets", snapshot)
    assert outcome.status == "fail"
    assert "deploy/values.yaml:2 (GitHub token, REDACTED)" in outcome.evidence
    assert token not in outcome.evidence
    assert "a1B2" not in outcome.evidence


def test_secrets_scan_skips_json_data_but_reads_env_files_first(tmp_path):
    files: dict[str, str | bytes] = {f"data/records_{index}.json": "{}" for index in range(50)}
    files[".env.production"] = "DB_PASSWORD=hunter2hunter2\n"
    snapshot = write_tree(tmp_path, files)
    outcome = detect("no_committed_secrets", snapshot)
    assert outcome.status == "fail"
    assert ".env.production:1" in outcome.evidence
    assert snapshot.reads == 1
