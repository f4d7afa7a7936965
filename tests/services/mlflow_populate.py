"""Set up a registry on a real MLflow server; runs in `.venv-mlflow`, never in the app's venv.

    python mlflow_populate.py TRACKING_URI BACKEND_DB < spec.json > created.json

The spec lists models, each with versions to create (creation time, training run
times, tags), versions to delete and aliases to set. The server stamps everything
with the current time, so the times of the spec are then written into its SQLite
backend directly: that is how versions come to be spread over months. Prints
`{"versions": {model: {version: run_id or null}}}` for the versions it created.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from typing import Any

from mlflow import MlflowClient  # type: ignore[import-not-found]
from mlflow.exceptions import MlflowException  # type: ignore[import-not-found]

EXPERIMENT = "connector-tests"


def _experiment_id(client: Any) -> str:
    existing = client.get_experiment_by_name(EXPERIMENT)
    return str(existing.experiment_id if existing else client.create_experiment(EXPERIMENT))


def _ensure_model(client: Any, name: str, description: str) -> None:
    try:
        client.create_registered_model(name, description=description)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def apply(client: Any, database: sqlite3.Connection, spec: dict[str, Any]) -> dict[str, Any]:
    experiment_id = _experiment_id(client)
    created: dict[str, dict[str, str | None]] = {}
    for model in spec["models"]:
        name = model["name"]
        _ensure_model(client, name, model.get("description", ""))
        if "created_at_ms" in model:
            database.execute(
                "UPDATE registered_models SET creation_time = ? WHERE name = ?",
                (model["created_at_ms"], name),
            )
        created[name] = {}
        for version_spec in model.get("versions", []):
            run_id = None
            run = version_spec.get("run")
            if run is not None:
                run_id = client.create_run(experiment_id).info.run_id
                if run["end_ms"] is not None:
                    client.set_terminated(run_id)
                database.execute(
                    "UPDATE runs SET start_time = ?, end_time = ? WHERE run_uuid = ?",
                    (run["start_ms"], run["end_ms"], run_id),
                )
            source = f"runs:/{run_id}/model" if run_id else f"s3://models/{name}"
            version = client.create_model_version(
                name, source, run_id=run_id, tags=version_spec.get("tags", {})
            ).version
            database.execute(
                "UPDATE model_versions SET creation_time = ? WHERE name = ? AND version = ?",
                (version_spec["created_at_ms"], name, int(version)),
            )
            created[name][str(version)] = run_id
        for version in model.get("delete_versions", []):
            client.delete_model_version(name, version)
        for alias, version in model.get("aliases", {}).items():
            client.set_registered_model_alias(name, alias, version)
    return {"versions": created}


def main() -> None:
    tracking_uri, backend_db = sys.argv[1], sys.argv[2]
    spec = json.load(sys.stdin)
    # Autocommit: an open write transaction here would block the server's own writes.
    database = sqlite3.connect(backend_db, timeout=30, isolation_level=None)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # mlflow prints "View run …" links
            result = apply(MlflowClient(tracking_uri), database, spec)
    finally:
        database.close()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
