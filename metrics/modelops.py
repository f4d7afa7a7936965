"""ModelOps metrics from the model registry (DESIGN §6), for every team at once."""

from __future__ import annotations

import pandas as pd

from metrics.catalog import Measured, metric
from metrics.context import Inputs, MetricContext

_DAY = pd.Timedelta(days=1)
_HOUR = pd.Timedelta(hours=1)
_TIME = "datetime64[us, UTC]"


def models_at_end(data: Inputs, ctx: MetricContext) -> pd.DataFrame:
    """Each team's models that existed at the period end (no creation time: assume so)."""
    models = data.models
    created = models["created_at"]
    existing = models[created.isna() | (created < pd.Timestamp(ctx.end))]
    return existing[["team", "name"]].rename(columns={"name": "model"})


def effective_deployed_at(data: Inputs, ctx: MetricContext) -> pd.Series:
    """Per version: the `deployed_at` tag, else the first sync that saw a production alias on it."""
    versions = data.versions
    observations = data.alias_observations
    production = observations[observations["alias"].isin(ctx.production_aliases)]
    first_seen = production.groupby(["model", "version"])["first_seen_at"].min()
    keys = pd.MultiIndex.from_frame(versions[["model", "version"]])
    observed = pd.Series(first_seen.reindex(keys).to_numpy(), index=versions.index, dtype=_TIME)
    return versions["deployed_at"].astype(_TIME).fillna(observed)


def serving_versions(data: Inputs, ctx: MetricContext) -> pd.DataFrame:
    """Per team and model, the version serving at the period end, why, and its age.

    The serving version is the one a production alias pointed to last (as the
    syncs observed it, up to the period end), else one that holds a production
    alias now, else the newest version.
    """

    def build() -> pd.DataFrame:
        end = pd.Timestamp(ctx.end)
        versions = data.versions.drop_duplicates(["model", "version"])
        versions = versions.sort_values(["model", "version_number"])
        observations = data.alias_observations.drop_duplicates(["model", "alias", "version"])
        seen = observations[
            observations["alias"].isin(ctx.production_aliases)
            & (observations["first_seen_at"] < end)
        ]
        # Pointed to last: seen latest (up to the end), then first seen latest. A rollback
        # (3 → 4 → 3) keeps 3's old first sighting but its newer last one, so 3 wins.
        seen = seen.assign(seen_until=seen["last_seen_at"].clip(upper=end))
        observed = (
            seen.sort_values(["seen_until", "first_seen_at"]).groupby("model")["version"].last()
        )
        aliases = set(ctx.production_aliases)
        holds_alias = versions["aliases"].map(lambda names: bool(aliases.intersection(names)))
        holds_alias = holds_alias.astype(bool)  # an empty frame would give object dtype
        aliased_now = versions[holds_alias].groupby("model")["version"].last()
        newest = versions.groupby("model")["version"].last()
        frame = models_at_end(data, ctx)
        choices = (
            (observed, "production alias (observed)"),
            (aliased_now, "production alias"),
            (newest, "newest version"),
        )
        frame["serving_version"] = None
        frame["basis"] = "no version"
        for chosen, basis in reversed(choices):
            picked = frame["model"].map(chosen)
            frame.loc[picked.notna(), "serving_version"] = picked[picked.notna()]
            frame.loc[picked.notna(), "basis"] = basis
        created = versions.set_index(["model", "version"])["created_at"]
        keys = pd.MultiIndex.from_arrays([frame["model"], frame["serving_version"]])
        looked_up = pd.Series(created.reindex(keys).to_numpy(), index=frame.index)
        frame["created_at"] = pd.to_datetime(looked_up, utc=True).astype(_TIME)
        frame["age_days"] = (end - frame["created_at"]) / _DAY
        return frame.reset_index(drop=True)

    return data.memo(f"serving_versions:{ctx.memo_key}", build)


@metric(
    id="retrains_per_model_per_30d",
    name="Retrains per model per 30 days",
    unit="versions/model/30d",
    better="higher",
    group="ModelOps",
    source="registry",
    reads=("models", "versions"),
    formula="versions created in period ÷ team models ÷ (period days ÷ 30)",
    unknown_when="the team has no registered model",
    target=lambda t: 30 / t.retrain_every_days,
    target_text="30 ÷ retrain_every_days",
)
def retrains_per_model_per_30d(data: Inputs, ctx: MetricContext) -> Measured:
    """Model versions created in the period, divided by the number of the team's
    models, divided by (period days ÷ 30)."""
    models = models_at_end(data, ctx)
    versions = data.versions
    in_period = versions[versions["created_at"] >= pd.Timestamp(ctx.start)]
    counts = in_period.groupby(["team", "model"]).size().rename("versions_in_period")
    rows = models.merge(counts.reset_index(), on=["team", "model"], how="left")
    rows["versions_in_period"] = rows["versions_in_period"].fillna(0).astype(int)
    per_team = rows.groupby("team")["versions_in_period"].agg(["sum", "size"])
    values = per_team["sum"] / per_team["size"] / (ctx.period.days / 30)
    return Measured(values, rows)


@metric(
    id="models_meeting_retrain_target_pct",
    name="Models meeting the retrain target",
    unit="%",
    better="higher",
    group="ModelOps",
    source="registry",
    reads=("models", "versions"),
    formula="% of models whose newest version ≤ retrain_every_days old at period end",
    unknown_when="the team has no registered model",
    target=lambda _t: 100.0,
    target_text="100 %",
)
def models_meeting_retrain_target_pct(data: Inputs, ctx: MetricContext) -> Measured:
    """Share of the team's models whose newest version is at most
    `retrain_every_days` old at the period end; a model with no version does not
    meet it."""
    rows = models_at_end(data, ctx)
    newest = data.versions.groupby(["team", "model"])["created_at"].max().rename("newest_at")
    rows = rows.merge(newest.reset_index(), on=["team", "model"], how="left")
    rows["age_days"] = (pd.Timestamp(ctx.end) - rows["newest_at"]) / _DAY
    limit = rows["team"].map(ctx.target("retrain_every_days")).astype(float)
    rows["meets_target"] = rows["age_days"] <= limit
    values = 100 * rows.groupby("team")["meets_target"].mean()
    return Measured(values, rows)


@metric(
    id="stale_models",
    name="Stale models",
    unit="models",
    better="lower",
    group="ModelOps",
    source="registry",
    reads=("models", "versions", "alias_observations"),
    formula="models whose serving version is older than stale_after_days at period end",
    unknown_when="no model of the team has a version before the period end",
    target=lambda _t: 0.0,
    target_text="0",
)
def stale_models(data: Inputs, ctx: MetricContext) -> Measured:
    """Number of the team's models whose serving version (the one holding a
    production alias, else the newest) is older than `stale_after_days` at the
    period end. Models without any version are listed but not counted."""
    rows = serving_versions(data, ctx).copy()
    limit = rows["team"].map(ctx.target("stale_after_days")).astype(float)
    rows["stale"] = rows["age_days"] > limit
    known = rows.dropna(subset=["serving_version"])
    values = known.groupby("team")["stale"].sum().astype(float)
    return Measured(values, rows)


@metric(
    id="time_to_deploy_hours",
    name="Time to deploy a model",
    unit="h",
    better="lower",
    group="ModelOps",
    source="registry",
    reads=("versions", "alias_observations"),
    formula="median over versions deployed in period of (deployed_at − training run start)",
    unknown_when="no model version was deployed in the period",
    target=lambda t: t.time_to_deploy_hours,
    target_text="time_to_deploy_hours",
)
def time_to_deploy_hours(data: Inputs, ctx: MetricContext) -> Measured:
    """Median, over versions deployed in the period, of deployed_at minus the
    training run's start (the version's creation time when it has no run).
    deployed_at is the version's `deployed_at` tag, else the first sync that saw
    a production alias on it."""
    versions = data.versions.assign(deployed_at=effective_deployed_at(data, ctx))
    deployed = versions[
        (versions["deployed_at"] >= pd.Timestamp(ctx.start))
        & (versions["deployed_at"] < pd.Timestamp(ctx.end))
    ]
    began = deployed["run_start"].fillna(deployed["created_at"])
    rows = deployed[["team", "model", "version", "created_at", "run_start", "deployed_at"]].assign(
        hours=(deployed["deployed_at"] - began) / _HOUR
    )
    return Measured(rows.groupby("team")["hours"].median(), rows.reset_index(drop=True))
