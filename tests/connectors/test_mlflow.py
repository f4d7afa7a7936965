"""The MLflow connector against a real `mlflow server` (SQLite backend) on loopback.

Every test gives its models a unique prefix, so tests share one server without
seeing each other's models; the registry is set up through MlflowClient in the
server's own venv, with creation and run times written into its backend database.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest
import requests
from sqlalchemy import select
from sqlalchemy.engine import Engine

from config import Config, MlflowConfig, TeamConfig
from connectors import mlflow as connector
from connectors.base import RequestCounter, SourceError, SourceOutcome, SyncContext
from data.loaders import Period
from data.organisation import register_organisation
from data.store import read_watermarks, write_transaction
from data.tables import AliasObservation, ModelVersion, RegisteredModel, Team, TeamModel
from metrics.engine import context_for, load_inputs
from metrics.modelops import effective_deployed_at, serving_versions
from tests.services.mlflow import MlflowServer, bearer_proxy, free_port

TOKEN_ENV = "MLOPS_TEST_MLFLOW_TOKEN"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


@dataclass(frozen=True)
class VersionSpec:
    created: datetime
    run: tuple[datetime, datetime | None] | None
    tags: dict[str, str] = field(default_factory=dict)
    deployed_at: datetime | None = None
    """What the `deployed_at` tag must be read as."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    created: datetime
    versions: list[VersionSpec]
    aliases: dict[str, str]


def scenario(prefix: str) -> list[ModelSpec]:
    """Three team models over seven months, and one model no team's glob names."""
    return [
        ModelSpec(
            f"{prefix}ranker-core",
            at("2025-05-01 08:00"),
            [
                VersionSpec(
                    at("2025-05-10 12:00"),
                    (at("2025-05-10 08:00"), at("2025-05-10 11:30")),
                    {"deployed_at": "2025-05-12T09:00:00+00:00"},
                    at("2025-05-12 09:00"),
                ),
                VersionSpec(
                    at("2025-06-14 12:00"),
                    (at("2025-06-14 06:00"), at("2025-06-14 10:00")),
                    {"deployed_at": "1750000000000", "git_sha": "9f2c"},
                    at("2025-06-15 15:06:40"),
                ),
                VersionSpec(at("2025-08-02 12:00"), (at("2025-08-02 07:00"), None)),
                VersionSpec(at("2025-09-20 12:00"), None, {"git_sha": "4b1e"}),
            ],
            {"champion": "3", "challenger": "4"},
        ),
        ModelSpec(
            f"{prefix}ranker-embed",
            at("2025-04-01 08:00"),
            [
                VersionSpec(
                    at("2025-04-03 12:00"), (at("2025-04-03 09:00"), at("2025-04-03 10:00"))
                ),
                VersionSpec(
                    at("2025-07-07 12:00"),
                    (at("2025-07-07 09:00"), at("2025-07-07 11:00")),
                    {"deployed_at": "next tuesday"},
                ),
                VersionSpec(
                    at("2025-10-01 12:00"),
                    (at("2025-10-01 05:00"), at("2025-10-01 09:45")),
                    {"deployed_at": "2025-10-02"},
                    at("2025-10-02 00:00"),
                ),
            ],
            {"production": "3"},
        ),
        ModelSpec(
            f"{prefix}fraud-detector",
            at("2025-03-01 08:00"),
            [
                VersionSpec(
                    at("2025-03-05 12:00"),
                    (at("2025-03-05 07:00"), at("2025-03-05 08:00")),
                    {"deployed_at": "2025-03-06T10:00:00+02:00"},
                    at("2025-03-06 08:00"),
                ),
            ],
            {"prod": "1"},
        ),
        ModelSpec(
            f"{prefix}other-model",
            at("2025-02-01 08:00"),
            [VersionSpec(at("2025-02-02 12:00"), None)],
            {"champion": "1"},
        ),
    ]


def spec_json(models: list[ModelSpec]) -> dict[str, Any]:
    return {
        "models": [
            {
                "name": model.name,
                "description": f"{model.name} model",
                "created_at_ms": epoch_ms(model.created),
                "versions": [
                    {
                        "created_at_ms": epoch_ms(version.created),
                        "run": None
                        if version.run is None
                        else {
                            "start_ms": epoch_ms(version.run[0]),
                            "end_ms": None if version.run[1] is None else epoch_ms(version.run[1]),
                        },
                        "tags": version.tags,
                    }
                    for version in model.versions
                ],
                "aliases": model.aliases,
            }
            for model in models
        ]
    }


@dataclass
class Registry:
    """One test's models on the shared server, and what the connector must store of them."""

    server: MlflowServer
    prefix: str
    models: list[ModelSpec]
    run_ids: dict[str, dict[str, str | None]]

    def config(self, **team_globs: list[str]) -> Config:
        globs = team_globs or {
            "Search": [f"{self.prefix}ranker-*"],
            "Fraud": [f"{self.prefix}fraud-*", f"{self.prefix}ranker-embed"],
        }
        return Config(
            mlflow=MlflowConfig(tracking_uri=self.server.url, token_env=TOKEN_ENV),
            teams=[TeamConfig(name=team, models=models) for team, models in globs.items()],
        )

    def model(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    def expected_versions(self, names: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for model in self.models:
            if model.name not in names:
                continue
            for number, version in enumerate(model.versions, start=1):
                aliases = sorted(a for a, v in model.aliases.items() if v == str(number))
                rows[(model.name, str(number))] = {
                    "version_number": number,
                    "status": "READY",
                    "created_at": version.created,
                    "run_id": self.run_ids[model.name][str(number)],
                    "run_start": None if version.run is None else version.run[0],
                    "run_end": None if version.run is None else version.run[1],
                    "deployed_at": version.deployed_at,
                    "aliases": aliases,
                    "tags": version.tags,
                }
        return rows


def set_up(server: MlflowServer) -> Registry:
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    models = scenario(prefix)
    return Registry(server, prefix, models, server.apply(spec_json(models)))


@pytest.fixture(scope="module")
def shared(mlflow_server: MlflowServer) -> Registry:
    """For tests that only read the registry (each still syncs into its own fresh store)."""
    return set_up(mlflow_server)


@pytest.fixture
def registry(mlflow_server: MlflowServer) -> Registry:
    """For tests that change the registry between syncs."""
    return set_up(mlflow_server)


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


def table_of(model: Any) -> Any:
    return model.__table__


@dataclass(frozen=True)
class Synced:
    outcome: SourceOutcome
    started_at: datetime
    requests: RequestCounter


def sync(engine: Engine, config: Config, teams: list[str] | None = None) -> Synced:
    """What the sync runner does for this source, keeping what the context counted."""
    with write_transaction(engine) as connection:
        register_organisation(connection, config)
    context = SyncContext(
        engine=engine,
        config=config,
        teams=[team for team in config.teams if teams is None or team.name in teams],
        started_at=datetime.now(UTC),
    )
    outcome = connector.sync_mlflow(context)
    return Synced(outcome, context.started_at, context.requests)


def stored_versions(engine: Engine) -> dict[tuple[str, str], dict[str, Any]]:
    version, model = table_of(ModelVersion), table_of(RegisteredModel)
    columns = [c for c in version.c if c.name not in {"id", "model_id", "version"}]
    statement = select(model.c.name, version.c.version, *columns).join(
        model, model.c.id == version.c.model_id
    )
    with engine.connect() as connection:
        return {
            (row["name"], row["version"]): {c.name: row[c.name] for c in columns}
            for row in connection.execute(statement).mappings()
        }


def stored_models(engine: Engine) -> dict[str, dict[str, Any]]:
    table = table_of(RegisteredModel)
    with engine.connect() as connection:
        return {
            row["name"]: {"description": row["description"], "created_at": row["created_at"]}
            for row in connection.execute(select(table)).mappings()
        }


def team_links(engine: Engine) -> set[tuple[str, str]]:
    link, team, model = table_of(TeamModel), table_of(Team), table_of(RegisteredModel)
    statement = (
        select(team.c.name, model.c.name.label("model"))
        .join(link, link.c.team_id == team.c.id)
        .join(model, model.c.id == link.c.model_id)
    )
    with engine.connect() as connection:
        return {(row.name, row.model) for row in connection.execute(statement)}


def observations(engine: Engine) -> dict[tuple[str, str, str], tuple[datetime, datetime]]:
    table, model = table_of(AliasObservation), table_of(RegisteredModel)
    statement = select(
        model.c.name, table.c.alias, table.c.version, table.c.first_seen_at, table.c.last_seen_at
    ).join(model, model.c.id == table.c.model_id)
    with engine.connect() as connection:
        return {
            (row.name, row.alias, row.version): (row.first_seen_at, row.last_seen_at)
            for row in connection.execute(statement)
        }


def serving(engine: Engine, config: Config) -> dict[tuple[str, str], tuple[str, str]]:
    """The metrics' serving version of each team model: (version, why)."""
    period = Period.last_days(90)
    teams = [team.name for team in config.teams]
    inputs = load_inputs(
        engine, period, config, teams, frames=("models", "versions", "alias_observations")
    )
    frame = serving_versions(inputs, context_for(config, teams, period))
    return {(row.team, row.model): (row.serving_version, row.basis) for row in frame.itertuples()}


def deployed_at(engine: Engine, config: Config) -> dict[tuple[str, str], datetime | None]:
    """deployed_at as the time-to-deploy metric reads it: the tag, else the first observation."""
    period = Period.last_days(90)
    teams = [team.name for team in config.teams]
    inputs = load_inputs(engine, period, config, teams, frames=("versions", "alias_observations"))
    values = effective_deployed_at(inputs, context_for(config, teams, period))
    versions = inputs.versions.assign(deployed=values).drop_duplicates(["model", "version"])
    return {
        (row.model, row.version): None if pd.isna(row.deployed) else row.deployed.to_pydatetime()
        for row in versions.itertuples()
    }


# --- against the real server ---------------------------------------------------------


def test_full_sync_stores_what_was_set_up(engine: Engine, shared: Registry) -> None:
    config = shared.config()
    context = sync(engine, config)
    core, embed, fraud = (
        shared.model(n) for n in ("ranker-core", "ranker-embed", "fraud-detector")
    )

    assert stored_versions(engine) == shared.expected_versions([core, embed, fraud])
    assert stored_models(engine) == {
        model.name: {"description": f"{model.name} model", "created_at": model.created}
        for model in shared.models
        if model.name in {core, embed, fraud}
    }
    first = context.started_at
    assert observations(engine) == {
        (core, "champion", "3"): (first, first),
        (core, "challenger", "4"): (first, first),
        (embed, "production", "3"): (first, first),
        (fraud, "prod", "1"): (first, first),
    }
    assert serving(engine, config) == {
        ("Search", core): ("3", "production alias (observed)"),
        ("Search", embed): ("3", "production alias (observed)"),
        ("Fraud", embed): ("3", "production alias (observed)"),
        ("Fraud", fraud): ("1", "production alias (observed)"),
    }
    dated = deployed_at(engine, config)
    assert dated[(core, "1")] == at("2025-05-12 09:00")
    assert dated[(core, "3")] == first  # no tag: the sync that first saw `champion` on it
    assert dated[(core, "4")] is None  # `challenger` is no production alias
    assert dated[(embed, "2")] is None  # its tag is unreadable and no alias was seen on it
    assert context.requests.by_endpoint == {
        "registered-models/search": 2,  # one per literal prefix: `…fraud-` and `…ranker-`
        "model-versions/search": 3,
        "experiments/search": 1,
        "runs/search": 1,
    }
    outcome = context.outcome
    assert outcome.status == "partial"
    assert outcome.error == (
        f"{embed} version 2: ignored the deployed_at tag 'next tuesday' "
        "(neither ISO 8601 nor epoch milliseconds)"
    )
    assert outcome.watermark == first
    assert outcome.rows_written > 0


def test_resync_without_change_reads_only_the_model_search(
    engine: Engine, shared: Registry
) -> None:
    config = shared.config()
    sync(engine, config)
    before = stored_versions(engine)
    second = sync(engine, config)

    assert second.requests.by_endpoint == {"registered-models/search": 2}
    assert stored_versions(engine) == before
    core = shared.model("ranker-core")
    first_seen, last_seen = observations(engine)[(core, "champion", "3")]
    assert first_seen < second.started_at == last_seen
    assert len(observations(engine)) == 4
    assert second.outcome.status == "ok"
    with engine.connect() as connection:
        assert set(read_watermarks(connection, "mlflow").values()) == {second.started_at}


def test_moved_alias_is_dated_by_the_sync_that_saw_it(engine: Engine, registry: Registry) -> None:
    config = registry.config()
    first = sync(engine, config)
    core = registry.model("ranker-core")
    registry.server.apply({"models": [{"name": core, "aliases": {"champion": "4"}}]})
    second = sync(engine, config)

    seen = observations(engine)
    assert seen[(core, "champion", "3")] == (first.started_at, first.started_at)
    assert seen[(core, "champion", "4")] == (second.started_at, second.started_at)
    assert seen[(core, "challenger", "4")] == (first.started_at, second.started_at)
    versions = stored_versions(engine)
    assert versions[(core, "3")]["aliases"] == []
    assert versions[(core, "4")]["aliases"] == ["challenger", "champion"]
    assert serving(engine, config)[("Search", core)] == ("4", "production alias (observed)")
    assert deployed_at(engine, config)[(core, "4")] == second.started_at
    # The alias move does not touch the model's timestamp: the changed aliases relist it.
    # Version 3's run has not ended, so its times are looked up again.
    assert second.requests.by_endpoint == {
        "registered-models/search": 2,
        "model-versions/search": 1,
        "experiments/search": 1,
        "runs/search": 1,
    }


def test_new_and_deleted_versions_are_picked_up(engine: Engine, registry: Registry) -> None:
    config = registry.config()
    sync(engine, config)
    core = registry.model("ranker-core")
    fifth = VersionSpec(
        at("2025-11-03 12:00"),
        (at("2025-11-03 06:00"), at("2025-11-03 09:00")),
        {"deployed_at": "2025-11-04T08:30:00Z"},
        at("2025-11-04 08:30"),
    )
    added = registry.server.apply(
        {
            "models": [
                {
                    **spec_json([replace(registry.models[0], versions=[fifth])])["models"][0],
                    "delete_versions": ["4"],
                    "aliases": {},
                }
            ]
        }
    )
    second = sync(engine, config)

    versions = stored_versions(engine)
    assert versions[(core, "5")] == {
        "version_number": 5,
        "status": "READY",
        "created_at": fifth.created,
        "run_id": added[core]["5"],
        "run_start": at("2025-11-03 06:00"),
        "run_end": at("2025-11-03 09:00"),
        "deployed_at": at("2025-11-04 08:30"),
        "aliases": [],
        "tags": fifth.tags,
    }
    # A deleted version stays as history (a retrain happened); the registry took its alias.
    assert versions[(core, "4")]["aliases"] == []
    assert (core, "challenger", "4") in observations(engine)
    assert second.requests.by_endpoint == {
        "registered-models/search": 2,
        "model-versions/search": 1,
        "experiments/search": 1,
        "runs/search": 1,  # version 5's run and version 3's unfinished one, in one search
    }


def test_paging_reads_every_item(
    engine: Engine, shared: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    for listing in ("REGISTERED_MODELS", "MODEL_VERSIONS", "EXPERIMENTS", "RUNS"):
        monkeypatch.setattr(connector, listing, replace(getattr(connector, listing), page_size=2))
    monkeypatch.setattr(connector, "RUN_IDS_PER_SEARCH", 3)
    context = sync(engine, shared.config())

    names = [shared.model(n) for n in ("ranker-core", "ranker-embed", "fraud-detector")]
    assert stored_versions(engine) == shared.expected_versions(names)
    assert context.requests.by_endpoint == {
        "registered-models/search": 2,  # `…ranker-` holds exactly one page of two
        "model-versions/search": 5,  # 4 versions: 2 pages, 3: 2 pages, 1: 1 page
        "experiments/search": 1,  # Default and the tests' experiment
        "runs/search": 5,  # 7 runs in searches of 3, 3 and 1, paged by 2
    }


def test_team_globs_decide_models_and_links(engine: Engine, shared: Registry) -> None:
    core, embed, fraud, other = (
        shared.model(n) for n in ("ranker-core", "ranker-embed", "fraud-detector", "other-model")
    )
    config = shared.config()
    sync(engine, config, teams=["Fraud"])
    assert set(stored_models(engine)) == {embed, fraud}
    assert team_links(engine) == {("Fraud", embed), ("Fraud", fraud)}

    sync(engine, config)
    assert other not in stored_models(engine)
    assert team_links(engine) == {
        ("Search", core),
        ("Search", embed),
        ("Fraud", embed),
        ("Fraud", fraud),
    }

    narrowed = shared.config(Search=[f"{shared.prefix}ranker-*"], Fraud=[fraud])
    sync(engine, narrowed)
    assert team_links(engine) == {("Search", core), ("Search", embed), ("Fraud", fraud)}


def test_bearer_token_is_sent_and_a_wrong_one_is_named(
    engine: Engine, shared: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    with bearer_proxy(shared.server.url, token="s3cret-good") as proxy:
        config = shared.config().model_copy(
            update={"mlflow": MlflowConfig(tracking_uri=proxy.url, token_env=TOKEN_ENV)}
        )
        with pytest.raises(SourceError) as missing:
            sync(engine, config)
        assert str(missing.value) == (
            f"MLflow at {proxy.url}/api/2.0/mlflow/registered-models/search needs a token "
            f"(HTTP 401): set ${TOKEN_ENV} (the variable [mlflow] token_env names)"
        )

        monkeypatch.setenv(TOKEN_ENV, "s3cret-wrong")
        with pytest.raises(SourceError) as refused:
            sync(engine, config)
        message = str(refused.value)
        assert message == (
            f"MLflow at {proxy.url}/api/2.0/mlflow/registered-models/search refused the token "
            f"in ${TOKEN_ENV} (HTTP 401); renew it, or point [mlflow] token_env at the right "
            "variable"
        )
        assert "s3cret" not in message

        monkeypatch.setenv(TOKEN_ENV, "s3cret-good")
        proxy.faults.append(429)  # answered with Retry-After: 0, then retried
        proxy.seen = 0
        context = sync(engine, config)
        assert context.outcome.rows_written > 0
        assert context.requests.by_endpoint["registered-models/search"] == 3
        assert context.requests.total == proxy.seen
    assert len(stored_versions(engine)) == 8


def test_unreachable_server_names_the_url_and_setting(engine: Engine) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    config = Config(
        mlflow=MlflowConfig(tracking_uri=url), teams=[TeamConfig(name="Search", models=["*"])]
    )
    with pytest.raises(SourceError) as failure:
        sync(engine, config)
    assert str(failure.value) == (
        f"cannot reach MLflow at {url}/api/2.0/mlflow/registered-models/search "
        "(ConnectionError); check [mlflow] tracking_uri"
    )


def test_wrong_tracking_uri_path_names_the_setting(
    engine: Engine, mlflow_server: MlflowServer
) -> None:
    config = Config(
        mlflow=MlflowConfig(tracking_uri=f"{mlflow_server.url}/api"),
        teams=[TeamConfig(name="Search", models=["ranker-*"])],
    )
    with pytest.raises(SourceError) as failure:
        sync(engine, config)
    assert str(failure.value) == (
        f"no MLflow REST API at {mlflow_server.url}/api/api/2.0/mlflow/registered-models/search"
        " (HTTP 404): [mlflow] tracking_uri must be the server's base URL (the API lives under "
        "its /api/2.0/mlflow/)"
    )


def test_a_server_that_is_not_mlflow_is_named(engine: Engine) -> None:
    """Streamlit, say, answers 200 with its page on every path."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>Dashboard</title>")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    config = Config(
        mlflow=MlflowConfig(tracking_uri=url), teams=[TeamConfig(name="Search", models=["*"])]
    )
    try:
        with pytest.raises(SourceError) as failure:
            sync(engine, config)
    finally:
        server.shutdown()
        server.server_close()
    assert str(failure.value) == (
        f"{url}/api/2.0/mlflow/registered-models/search did not answer MLflow JSON: "
        "[mlflow] tracking_uri must be the address of an MLflow tracking server"
    )


# --- payload mapping, on the shapes the server answers -------------------------------

RECORDED_VERSION = {
    "name": "ranker-core",
    "version": "12",
    "creation_timestamp": 1795515480567,
    "last_updated_timestamp": 1795515480567,
    "current_stage": "None",
    "description": "",
    "source": "runs:/ad7bfea3848e44f89828a79061947960/model",
    "run_id": "ad7bfea3848e44f89828a79061947960",
    "status": "READY",
    "tags": [{"key": "deployed_at", "value": "2026-11-24T10:00:00+01:00"}],
    "run_link": "",
}
RECORDED_MODEL = {
    "name": "ranker-core",
    "creation_timestamp": 1795515480356,
    "last_updated_timestamp": 1795515488717,
    "description": "desc",
    "aliases": [
        {"alias": "challenger", "version": "12"},
        {"alias": "champion", "version": "12"},
        {"alias": "shadow", "version": "9"},
    ],
}


def test_version_payload_maps_to_a_row() -> None:
    notes: list[str] = []
    aliases = connector.alias_map(RECORDED_MODEL)
    run = (at("2026-11-24 08:00"), at("2026-11-24 08:45"))
    row = connector.version_row(7, RECORDED_VERSION, aliases, run, notes)
    assert row == {
        "model_id": 7,
        "version": "12",
        "version_number": 12,
        "status": "READY",
        "created_at": datetime(2026, 11, 24, 10, 18, 0, 567000, tzinfo=UTC),
        "run_id": "ad7bfea3848e44f89828a79061947960",
        "run_start": run[0],
        "run_end": run[1],
        "deployed_at": at("2026-11-24 09:00"),
        "aliases": ["challenger", "champion"],
        "tags": {"deployed_at": "2026-11-24T10:00:00+01:00"},
    }
    assert notes == []
    assert connector.model_row(RECORDED_MODEL) == {
        "name": "ranker-core",
        "description": "desc",
        "created_at": datetime(2026, 11, 24, 10, 18, 0, 356000, tzinfo=UTC),
    }


def test_version_without_run_or_tags() -> None:
    payload = {"name": "m", "version": "2", "creation_timestamp": 0, "run_id": "", "status": ""}
    row = connector.version_row(1, payload, {}, (None, None), [])
    assert (row["run_id"], row["status"], row["tags"], row["aliases"]) == (None, "READY", {}, [])
    assert row["created_at"] == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-01T12:00:00Z", at("2025-03-01 12:00")),
        ("2025-03-01T12:00:00+02:00", at("2025-03-01 10:00")),
        ("2025-03-01 12:00:00", at("2025-03-01 12:00")),
        ("2025-03-01", at("2025-03-01 00:00")),
        (" 1740830400000 ", at("2025-03-01 12:00")),
    ],
)
def test_deployed_at_tag_formats(value: str, expected: datetime) -> None:
    assert connector.parse_deployed_at(value) == expected


@pytest.mark.parametrize(
    "value", ["", "next tuesday", "-5", "99999999999999999999999", "2025-13-01"]
)
def test_unreadable_deployed_at_tag_is_a_note(value: str) -> None:
    notes: list[str] = []
    payload = {**RECORDED_VERSION, "tags": [{"key": "deployed_at", "value": value}]}
    row = connector.version_row(1, payload, {}, (None, None), notes)
    assert row["deployed_at"] is None
    assert notes == [
        f"ranker-core version 12: ignored the deployed_at tag {value!r} "
        "(neither ISO 8601 nor epoch milliseconds)"
    ]


def test_run_payload_gives_its_times() -> None:
    finished = {"info": {"run_uuid": "abc", "start_time": 1000, "end_time": "61000"}}
    running = {"info": {"run_id": "def", "run_uuid": "def", "start_time": 1000}}
    assert connector.run_times_of(finished) == (
        "abc",
        (datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), datetime(1970, 1, 1, 0, 1, 1, tzinfo=UTC)),
    )
    assert connector.run_times_of(running)[1][1] is None


@pytest.mark.parametrize(
    ("globs", "filters"),
    [
        (["ranker-*", "ranker-embed", "fraud-?x"], ["name LIKE 'fraud-%'", "name LIKE 'ranker-%'"]),
        (["o'brien-*"], ['name LIKE "o\'brien-%"']),
        (["exact"], ["name LIKE 'exact%'"]),
        (["ranker-*", "*-fraud"], [None]),
        (["[ab]-model"], [None]),
    ],
)
def test_name_filters_cover_the_globs(globs: list[str], filters: list[str | None]) -> None:
    assert connector.name_filters(globs) == filters


def test_requests_are_counted_per_endpoint() -> None:
    counter = RequestCounter()
    response = requests.Response()
    response.url = "http://h/prefix/api/2.0/mlflow/runs/search?x=1"
    counter.response_hook(connector._endpoint_of)(response)
    assert counter.by_endpoint == {"runs/search": 1}
