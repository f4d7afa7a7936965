"""The Kubernetes manifests: every file as written, and each overlay as kustomize renders it.

Rendering uses `kubectl kustomize` (kustomize built into kubectl), so what is checked is
what `kubectl apply -k` would send; a machine without kubectl skips those tests (CI
requires it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import parse_config
from tests.conftest import service_missing
from tests.deploy.test_dockerfile import HEALTH_URL, env_vars

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
OVERLAYS = ("dev", "stage", "prod")
NAMESPACES = {"dev": "mlops-dev", "stage": "mlops-stage", "prod": "mlops"}
HEALTH_PATH = "/_stcore/health"
APP_PORT = int(HEALTH_URL.split(":")[2].split("/")[0])
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|DATABASE_URL|API_KEY|CREDENTIAL", re.IGNORECASE)
LOOKS_LIKE_A_SECRET = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|[a-z+]+://[^/\s:@]+:[^/\s@]+@"  # a URL with a password
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
WEB = {"app.kubernetes.io/name": "mlops-dashboard", "app.kubernetes.io/component": "web"}
DASHBOARD_CONTAINERS = {"dashboard", "sync", "db-upgrade"}
"""Containers that run the dashboard's image (dev also runs a PostgreSQL)."""

# --- every file as written ----------------------------------------------------------


def yaml_files() -> list[Path]:
    return sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])


def _documents(path: Path) -> list[dict[str, Any]]:
    documents = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    assert all(isinstance(doc, dict) for doc in documents), path
    return documents


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _env_entries(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for mapping in _walk(document):
        env = mapping.get("env")
        if isinstance(env, list):
            yield from env


def test_there_are_manifests_and_each_parses() -> None:
    files = yaml_files()
    assert len(files) >= 8
    for path in files:
        for document in _documents(path):
            assert "kind" in document, path
            assert "apiVersion" in document, path


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_no_secret_is_inlined(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not LOOKS_LIKE_A_SECRET.search(text), path
    for document in _documents(path):
        if document["kind"] == "Secret":
            # Secrets are created with kubectl (docs/deploy.md); a template may only name keys.
            assert not document.get("data"), f"{path}: a Secret with data"
            assert not document.get("stringData"), f"{path}: a Secret with stringData"
        if document["kind"] == "Kustomization":
            for generator in document.get("secretGenerator", []):
                pytest.fail(f"{path}: secretGenerator {generator.get('name')} puts data in git")
        for entry in _env_entries(document):
            if SECRET_NAME.search(entry["name"]):
                assert "value" not in entry, f"{path}: {entry['name']} has an inline value"
                assert "secretKeyRef" in entry.get("valueFrom", {}), (
                    f"{path}: {entry['name']} must come from a Secret"
                )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_files_it_names_exist(overlay: str) -> None:
    folder = KUBERNETES / "overlays" / overlay
    [kustomization] = _documents(folder / "kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (folder / resource).exists(), resource


# --- each overlay as rendered -------------------------------------------------------


@cache
def _kustomize(overlay: str) -> tuple[str, ...]:
    """The rendered YAML, or why it could not be rendered (cached: kubectl takes ~1 s)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return ("missing", "kubectl is not installed (it renders the kustomize overlays)")
    result = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return ("ok", result.stdout)


def rendered(overlay: str) -> list[dict[str, Any]]:
    state, text = _kustomize(overlay)
    if state == "missing":
        service_missing(text)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    if workload["kind"] == "CronJob":
        return dict(workload["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(workload["spec"]["template"]["spec"])


def _workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
    return [o for o in objects if o["kind"] in kinds]


def _containers(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for workload in _workloads(objects):
        spec = _pod_spec(workload)
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield f"{workload['kind']}/{workload['metadata']['name']}", container


def _quantity(value: str | int | float) -> float:
    """A Kubernetes quantity (`500m`, `2`, `768Mi`, `1Gi`) as a plain number."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_requests_and_limits(overlay: str) -> None:
    for owner, container in _containers(rendered(overlay)):
        resources = container.get("resources", {})
        for resource in ("cpu", "memory"):
            request = resources.get("requests", {}).get(resource)
            limit = resources.get("limits", {}).get(resource)
            assert request is not None, f"{owner} {container['name']}: no {resource} request"
            assert limit is not None, f"{owner} {container['name']}: no {resource} limit"
            assert _quantity(limit) >= _quantity(request), f"{owner}: {resource} limit < request"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_hit_the_exact_health_path_on_the_app_port(overlay: str) -> None:
    deployment = _one(rendered(overlay), "Deployment", "mlops-dashboard")
    [container] = _pod_spec(deployment)["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert APP_PORT in ports.values()
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == HEALTH_PATH, probe
        port = check["port"]
        assert (ports[port] if isinstance(port, str) else port) == APP_PORT, probe
    # Liveness is the most lenient: a busy replica must not be restarted for being slow.
    liveness, readiness = container["livenessProbe"], container["readinessProbe"]
    assert liveness["timeoutSeconds"] >= readiness["timeoutSeconds"]
    assert (
        liveness["periodSeconds"] * liveness["failureThreshold"]
        > readiness["periodSeconds"] * readiness["failureThreshold"]
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_reaches_the_dashboard_with_session_affinity(overlay: str) -> None:
    objects = rendered(overlay)
    service = _one(objects, "Service", "mlops-dashboard")
    deployment = _one(objects, "Deployment", "mlops-dashboard")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"] == WEB
    assert WEB.items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"] == WEB
    [container] = _pod_spec(deployment)["containers"]
    port_names = {port["name"] for port in container["ports"]}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names
    # Uploads and downloads live in one replica's memory (see service.yaml).
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    budget = _one(objects, "PodDisruptionBudget", "mlops-dashboard")
    assert budget["spec"]["selector"]["matchLabels"] == WEB


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_sync_cronjob_runs_the_cli_one_at_a_time(overlay: str) -> None:
    cronjob = _one(rendered(overlay), "CronJob", "mlops-sync")
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert len(spec["schedule"].split()) == 5
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] > 0
    pod = _pod_spec(cronjob)
    assert pod["restartPolicy"] == "Never"
    [container] = pod["containers"]
    assert container["command"] == ["python", "cli.py", "sync"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_db_upgrade_job_runs_the_migrations(overlay: str) -> None:
    job = _one(rendered(overlay), "Job", "mlops-db-upgrade")
    [container] = _pod_spec(job)["containers"]
    assert container["command"] == ["python", "cli.py", "db", "upgrade"]
    labels = job["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "db-upgrade"  # docs apply it by this label


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_pinned_image_for_the_app_the_sync_and_the_migrations(overlay: str) -> None:
    images = {
        container["image"]
        for _owner, container in _containers(rendered(overlay))
        if container["name"] in DASHBOARD_CONTAINERS
    }
    assert len(images) == 1, images
    [image] = images
    name, _, tag = image.rpartition(":")
    assert name
    assert "/" not in tag
    assert tag not in ("", "latest")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_store_url_comes_from_the_secret(overlay: str) -> None:
    for owner, container in _containers(rendered(overlay)):
        if container["name"] not in DASHBOARD_CONTAINERS:
            continue
        reference = _env(container)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert reference["name"] == "mlops-secrets", owner
        assert reference["key"] == "DATABASE_URL", owner
        assert not reference.get("optional", False), owner


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_mounted_config_is_valid_and_its_tokens_come_from_the_secret(overlay: str) -> None:
    objects = rendered(overlay)
    for name in ("mlops-dashboard", "mlops-sync"):
        workload = next(o for o in _workloads(objects) if o["metadata"]["name"] == name)
        pod = _pod_spec(workload)
        [container] = pod["containers"]
        env = _env(container)
        config_path = Path(env["MLOPS_CONFIG"]["value"])
        [mount] = [
            m for m in container["volumeMounts"] if m["mountPath"] == str(config_path.parent)
        ]
        [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        config_map = _one(objects, "ConfigMap", volume["configMap"]["name"])
        text = config_map["data"][config_path.name]
        config = parse_config(text, source=f"{overlay} ConfigMap")
        token_envs = {
            section.token_env
            for section in (config.github, config.prometheus, config.mlflow)
            if section is not None and section.token_env
        }
        for token_env in token_envs:
            assert env[token_env]["valueFrom"]["secretKeyRef"]["name"] == "mlops-secrets", (
                f"{name}: {token_env} named by the config is not given to the pod"
            )
        assert "[store]" not in text, "the store is DATABASE_URL from the Secret"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_locked_down_with_writable_scratch_only(overlay: str) -> None:
    home = env_vars()["HOME"]
    for workload in _workloads(rendered(overlay)):
        pod = _pod_spec(workload)
        owner = f"{workload['kind']}/{workload['metadata']['name']}"
        assert pod["securityContext"]["runAsNonRoot"] is True, owner
        assert pod["automountServiceAccountToken"] is False, owner
        empty_dirs = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, owner
            assert security["readOnlyRootFilesystem"] is True, owner
            assert security["capabilities"]["drop"] == ["ALL"], owner
            if container["name"] not in DASHBOARD_CONTAINERS:
                continue
            assert pod["securityContext"]["runAsUser"] == 10001, owner  # the image's USER
            scratch = {
                mount["mountPath"]
                for mount in container["volumeMounts"]
                if mount["name"] in empty_dirs
            }
            assert {"/tmp", home} <= scratch, f"{owner}: Streamlit needs a writable HOME and /tmp"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_environment_has_its_namespace(overlay: str) -> None:
    for item in rendered(overlay):
        assert item["metadata"].get("namespace") == NAMESPACES[overlay], item["metadata"]["name"]


@pytest.mark.parametrize(
    ("overlay", "login_required"), [("dev", False), ("stage", True), ("prod", True)]
)
def test_login_secrets_are_required_outside_dev(overlay: str, login_required: bool) -> None:
    deployment = _one(rendered(overlay), "Deployment", "mlops-dashboard")
    [volume] = [v for v in _pod_spec(deployment)["volumes"] if v["name"] == "streamlit-secrets"]
    assert volume["secret"]["secretName"] == "mlops-streamlit-secrets"
    assert volume["secret"].get("optional", False) is (not login_required)
