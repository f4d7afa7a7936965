"""Prometheus connector: each team endpoint's daily requests, failures, latency buckets
and availability, and the alerting rules that are rubric evidence (DESIGN §6, §8).

Everything is aggregated by the server (PromQL), so Thanos, Mimir and VictoriaMetrics
work unchanged and no raw sample crosses the wire. Per endpoint and sync there are
four range queries whatever the number of days: their step is one day and their
points sit on UTC midnights, so each point is `increase(…[1d])` or
`avg_over_time(…[1d])` over exactly one UTC day. A query holds at most 11,000 points
(Prometheus' limit), which with a one-day step is 30 years.

Choices:
- Only complete days are stored, each once: a day is read when its end is `SETTLE`
  in the past (the day's last scrapes have landed). The watermark moves to
  `context.started_at`, and the next sync starts at the day holding
  `watermark − SETTLE`, which is the first day not stored yet. Today's partial day
  is never shown as if it were whole.
- First sync of an endpoint: back to the server's time retention
  (`/api/v1/status/runtimeinfo`, asked once per sync), else `DEFAULT_LOOKBACK`
  (stores that do not report one), starting at the first whole day inside it.
  Days without samples give no point and no row.
- Latency buckets are stored with `le` in seconds whatever the stack reports
  (Knative: milliseconds), as `metrics/histogram.py` expects.
- Metric names, status label, failure regex and latency unit come from a preset
  (`prometheus_presets.toml`); a `[prometheus]` key whose value differs from its
  generic default overrides the preset.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit

import requests
from prometheus_api_client.prometheus_connect import PrometheusConnect
from sqlalchemy import Connection, delete, select, tuple_
from urllib3.util.retry import Retry

from config import EndpointConfig, PrometheusConfig, PrometheusPreset, TeamConfig, resolve_secret
from connectors.base import RequestCounter, SourceError, SourceOutcome, SyncContext
from data.store import key_to_id, read_watermarks, set_watermark, upsert_rows, write_transaction
from data.tables import AlertRule, Endpoint, EndpointDaily, EndpointLatencyBucket, Team

SOURCE = "prometheus"
PRESETS_PATH = Path(__file__).with_name("prometheus_presets.toml")
MAX_POINTS = 11_000
"""Prometheus refuses a range query with more points per series."""
DAY = timedelta(days=1)
SETTLE = timedelta(minutes=15)
"""How long after a day's end it counts as complete (late scrapes, remote-write lag)."""
DEFAULT_LOOKBACK = timedelta(days=400)
"""First-sync look-back when the server reports no time retention (long-term stores)."""
TIMEOUT_SECONDS = 120
_OVERRIDABLE = ("requests_total", "latency_histogram", "status_label", "failure_status")
_SELECTOR_VALUE = re.compile(r'=~?\s*"([^"]+)"')
_DURATION = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_DURATION_UNITS = {
    "y": timedelta(days=365),
    "w": timedelta(weeks=1),
    "d": DAY,
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
}


# --- presets and queries ----------------------------------------------------------------


@dataclass(frozen=True)
class PrometheusSettings:
    """What a sync queries: a preset's metric names and matchers, with config overrides."""

    requests_total: str
    latency_histogram: str
    status_label: str
    failure_status: str
    latency_unit: Literal["seconds", "milliseconds"]
    availability: str

    @property
    def le_per_second(self) -> float:
        return 1000.0 if self.latency_unit == "milliseconds" else 1.0


@cache
def _presets_file() -> dict[str, Any]:
    with PRESETS_PATH.open("rb") as handle:
        return tomllib.load(handle)


def load_presets() -> dict[str, PrometheusSettings]:
    """Every preset of `prometheus_presets.toml`; a malformed entry fails loudly here."""
    names = {item.name for item in fields(PrometheusSettings)}
    presets: dict[str, PrometheusSettings] = {}
    for name, values in _presets_file()["presets"].items():
        if set(values) != names or values["latency_unit"] not in ("seconds", "milliseconds"):
            raise ValueError(f"{PRESETS_PATH.name}: preset {name!r} must set exactly {names}")
        presets[name] = PrometheusSettings(**values)
    missing = set(get_args(PrometheusPreset)) - set(presets)
    if missing:
        raise ValueError(f"{PRESETS_PATH.name}: no preset for {sorted(missing)}")
    return presets


def resolve_settings(config: PrometheusConfig) -> PrometheusSettings:
    """The chosen preset; a key set to something other than its generic default wins.

    Comparing with the default rather than reading `model_fields_set` keeps the
    commented example config (which spells out the generic values) from masking the
    preset a user picks.
    """
    overrides = {
        key: getattr(config, key)
        for key in _OVERRIDABLE
        if getattr(config, key) != PrometheusConfig.model_fields[key].default
    }
    return replace(load_presets()[config.preset], **overrides)


def _matchers(selector: str, *extra: str) -> str:
    inner = selector.strip()[1:-1].strip().rstrip(",").strip()
    return "{" + ",".join(part for part in (inner, *extra) if part) + "}"


@dataclass(frozen=True)
class DailyQueries:
    """The PromQL whose value at a UTC midnight is the endpoint's figure for the day before."""

    requests: str
    failures: str
    buckets: str
    availability: str


def daily_queries(settings: PrometheusSettings, selector: str) -> DailyQueries:
    failed = f"{settings.status_label}=~{json.dumps(settings.failure_status)}"
    return DailyQueries(
        requests=f"sum(increase({settings.requests_total}{_matchers(selector)}[1d]))",
        failures=f"sum(increase({settings.requests_total}{_matchers(selector, failed)}[1d]))",
        buckets=(
            f"sum by (le) (increase({settings.latency_histogram}_bucket{_matchers(selector)}[1d]))"
        ),
        availability=f"avg(avg_over_time({settings.availability}{_matchers(selector)}[1d]))",
    )


def _resource_rules() -> re.Pattern[str]:
    return re.compile(_presets_file()["alert_rules"]["resources"])


# --- days ---------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: Prometheus times must be timezone-aware")
    return moment.astimezone(UTC)


def last_complete_day(started_at: datetime) -> date:
    return (_utc(started_at) - SETTLE).date() - DAY


def first_unread_day(watermark: datetime) -> date:
    """The day a sync that started at `watermark` could not store yet."""
    return (_utc(watermark) - SETTLE).date()


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + DAY, time(), UTC)


def _day_ending_at(point_time: float) -> date:
    return (datetime.fromtimestamp(float(point_time), UTC) - DAY).date()


def parse_retention(text: str) -> timedelta | None:
    """`storageRetention` of runtimeinfo ("15d", "1y", "30d or 10GiB") as a time, if any."""
    for option in text.split(" or "):
        option = option.strip()
        if option and _DURATION.sub("", option) == "":
            total = sum(
                (int(count) * _DURATION_UNITS[unit] for count, unit in _DURATION.findall(option)),
                timedelta(),
            )
            if total > timedelta():
                return total
    return None


# --- HTTP -----------------------------------------------------------------------------------


class _HttpError(Exception):
    """A non-2xx answer, raised by the response hook so every call path sees it the same way."""

    def __init__(self, status: int, reason: str, detail: str, path: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.detail = detail
        self.path = path


def _shown_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")).rstrip("/")


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _error_detail(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return _one_line(response.text)
    if isinstance(payload, dict) and payload.get("error"):
        return _one_line(str(payload["error"]))
    return _one_line(response.text)


def _connection_reason(error: requests.RequestException) -> str:
    found = re.search(r"\[Errno -?\d+\][^'\")]*", str(error))
    if found:
        return found.group(0).strip()
    return error.__class__.__name__


class PrometheusClient:
    """prometheus-api-client on a session of ours: bearer token, request counting, errors.

    Every response passes one hook that counts it (retries included) and turns an
    HTTP error into `_HttpError`, so the library's query methods, the rules list and
    runtimeinfo all fail the same, readable way.
    """

    def __init__(self, config: PrometheusConfig, counter: RequestCounter) -> None:
        self.url = config.url.rstrip("/")
        self.shown_url = _shown_url(self.url)
        self.token_env = config.token_env
        self._counter = counter
        token = resolve_secret(config.token_env)
        if config.token_env is not None and not token:
            raise SourceError(
                f"prometheus: the environment variable {config.token_env} "
                "(prometheus.token_env) is not set"
            )
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        self._session.hooks["response"].append(self._on_response)
        retry = Retry(
            total=3,
            connect=2,
            read=0,
            status=2,
            backoff_factor=0.25,
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
        )
        self._client = PrometheusConnect(
            url=self.url, retry=retry, session=self._session, timeout=TIMEOUT_SECONDS
        )

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    def _api_path(self, url: str) -> str:
        path = urlsplit(url).path
        return path.split("/api/v1/", 1)[-1] if "/api/v1/" in path else path

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        retries = getattr(response.raw, "retries", None)
        attempts = 1 + len(getattr(retries, "history", ()) or ())
        path = self._api_path(response.url)
        self._counter.count(path, attempts)
        if response.status_code >= 400:
            raise _HttpError(
                response.status_code, response.reason or "", _error_detail(response), path
            )

    def query_days(self, query: str, first_day: date, last_day: date) -> list[dict[str, Any]]:
        """One point per UTC day from `first_day` to `last_day`, each at the day's end."""
        result: list[dict[str, Any]] = self._client.custom_query_range(
            query,
            start_time=_midnight_after(first_day),
            end_time=_midnight_after(last_day),
            step="1d",
        )
        return result

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = self._session.get(
            f"{self.url}/api/v1/{path}", params=params, timeout=TIMEOUT_SECONDS
        )
        return response.json()["data"]

    def retention(self) -> timedelta | None:
        try:
            info = self.get("status/runtimeinfo")
        except _HttpError as error:
            if error.status in (400, 404, 405, 501):  # a store that does not serve it
                return None
            raise
        return parse_retention(str(info.get("storageRetention", "")))

    def source_error(self, error: Exception) -> SourceError | None:
        """The error as a whole-source failure, or None when it concerns one query only."""
        if isinstance(error, _HttpError):
            if error.status in (401, 403):
                if self.token_env is None:
                    fix = "set prometheus.token_env to the environment variable holding a token"
                else:
                    fix = f"check the token in {self.token_env} (prometheus.token_env)"
                return SourceError(
                    f"prometheus: {self.shown_url} answered {error.status} {error.reason}; {fix}"
                )
            if error.status == 404:
                return SourceError(
                    f"prometheus: {self.shown_url}/api/v1/{error.path} answered 404 Not Found; "
                    "check prometheus.url (the server's base URL, without /api/v1)"
                )
            return None
        if isinstance(error, requests.ConnectionError):
            return SourceError(
                f"prometheus: cannot connect to {self.shown_url} ({_connection_reason(error)}); "
                "check prometheus.url and that the server is running"
            )
        return None

    def query_problem(self, error: Exception) -> str:
        if isinstance(error, _HttpError):
            return f"{self.shown_url} answered {error.status} {error.reason}: {error.detail}"
        if isinstance(error, requests.Timeout):
            return f"{self.shown_url} did not answer within {TIMEOUT_SECONDS} s"
        return f"{self.shown_url}: {error.__class__.__name__}"


# --- endpoints ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    team_index: int
    endpoint_index: int
    team: TeamConfig
    endpoint: EndpointConfig

    @property
    def scope(self) -> str:
        return f"{self.team.name}/{self.endpoint.name}"

    @property
    def selector_key(self) -> str:
        return f"teams[{self.team_index}].endpoints[{self.endpoint_index}].selector"


def _targets(context: SyncContext) -> list[_Target]:
    return [
        _Target(context.config.teams.index(team), index, team, endpoint)
        for team in context.teams
        for index, endpoint in enumerate(team.endpoints)
    ]


def _values_by_day(series: Sequence[Mapping[str, Any]]) -> dict[date, float]:
    """The points of an aggregated query (one series at most); NaN and ±Inf mean no value."""
    values: dict[date, float] = {}
    for one in series:
        for point_time, text in one["values"]:
            value = float(text)
            if math.isfinite(value):
                values[_day_ending_at(point_time)] = value
    return values


class _Lookback:
    """The first-sync look-back, asked of the server once per sync and only if needed."""

    def __init__(self, client: PrometheusClient) -> None:
        self._client = client
        self._value: timedelta | None = None

    def get(self) -> timedelta:
        if self._value is None:
            self._value = self._client.retention() or DEFAULT_LOOKBACK
        return self._value


def _days_to_read(
    started_at: datetime, watermark: datetime | None, lookback: _Lookback
) -> tuple[date, date] | None:
    last_day = last_complete_day(started_at)
    if watermark is not None:
        first_day = first_unread_day(watermark)
    else:
        first_day = (_utc(started_at) - lookback.get()).date() + DAY
    first_day = max(first_day, last_day - (MAX_POINTS - 1) * DAY)
    return None if first_day > last_day else (first_day, last_day)


def _sync_endpoint(
    context: SyncContext,
    client: PrometheusClient,
    settings: PrometheusSettings,
    target: _Target,
    endpoint_id: int,
    days: tuple[date, date],
) -> int:
    """Read the endpoint's days, then write them with its watermark in one transaction."""
    queries = daily_queries(settings, target.endpoint.selector)
    requests_by_day = _values_by_day(client.query_days(queries.requests, *days))
    failures_by_day = _values_by_day(client.query_days(queries.failures, *days))
    availability_by_day = _values_by_day(client.query_days(queries.availability, *days))
    bucket_rows = []
    for series in client.query_days(queries.buckets, *days):
        le_seconds = float(series["metric"]["le"]) / settings.le_per_second
        bucket_rows += [
            {"endpoint_id": endpoint_id, "day": day, "le": le_seconds, "count": count}
            for day, count in _values_by_day([series]).items()
        ]
    # No request series on a day the target was scraped means no request was served;
    # no failing series means no failure (client libraries create labelled series lazily).
    daily_rows = [
        {
            "endpoint_id": endpoint_id,
            "day": day,
            "requests": requests_by_day.get(day, 0.0),
            "failures": failures_by_day.get(day, 0.0),
            "availability_ratio": availability_by_day.get(day),
        }
        for day in sorted(set(requests_by_day) | set(availability_by_day))
    ]
    if not daily_rows and not bucket_rows:
        context.progress.message(
            f"prometheus: no samples for {target.scope} from {days[0]} to {days[1]}; "
            f"check {target.selector_key}"
        )
    with write_transaction(context.engine) as connection:
        written = upsert_rows(connection, EndpointDaily, daily_rows)
        written += upsert_rows(connection, EndpointLatencyBucket, bucket_rows)
        set_watermark(connection, SOURCE, target.scope, context.started_at)
    return written


def _endpoint_ids(connection: Connection, targets: Sequence[_Target]) -> dict[str, int]:
    team_ids = key_to_id(connection, Team, {target.team.name for target in targets})
    keys = {
        (team_ids[target.team.name], target.endpoint.name): target.scope
        for target in targets
        if target.team.name in team_ids
    }
    return {
        keys[key]: endpoint_id for key, endpoint_id in key_to_id(connection, Endpoint, keys).items()
    }


# --- alerting rules -------------------------------------------------------------------------


def _rule_markers(targets: Sequence[_Target]) -> set[str] | None:
    """Label values that tie a rule to a synced endpoint; None when a selector has none
    (then no rule can be told apart and every rule is relevant)."""
    markers: set[str] = set()
    for target in targets:
        values = _SELECTOR_VALUE.findall(target.endpoint.selector)
        if not values:
            return None
        markers.update(values)
    return markers


def _sync_alert_rules(
    context: SyncContext, client: PrometheusClient, targets: Sequence[_Target]
) -> int:
    """Store the alerting rules about the synced endpoints and about resources.

    A rule keeps the time it was first seen (evidence counts from then); a rule the
    server no longer has is deleted, so a removed alert stops passing its check. The
    store keys rules by group and name: a repeated name keeps its first rule.
    """
    groups = client.get("rules", {"type": "alert"})["groups"]
    served = [
        (str(group["name"]), rule)
        for group in groups
        for rule in group.get("rules", [])
        if rule.get("type") == "alerting"
    ]
    markers = _rule_markers(targets)
    resources = _resource_rules()
    rules: dict[tuple[str, str], dict[str, Any]] = {}
    for group_name, rule in served:
        expr = str(rule.get("query", ""))
        relevant = (
            markers is None
            or resources.search(expr) is not None
            or any(marker in expr for marker in markers)
        )
        if relevant:
            rules.setdefault((group_name, str(rule["name"])), rule)
    table = AlertRule.__table__  # type: ignore[attr-defined]
    with write_transaction(context.engine) as connection:
        first_seen = {
            (row.group_name, row.name): row.seen_at
            for row in connection.execute(select(table.c.group_name, table.c.name, table.c.seen_at))
        }
        served_keys = {(group_name, str(rule["name"])) for group_name, rule in served}
        gone = [key for key in first_seen if key not in served_keys]
        if gone:
            connection.execute(
                delete(table).where(tuple_(table.c.group_name, table.c.name).in_(gone))
            )
        return upsert_rows(
            connection,
            AlertRule,
            [
                {
                    "group_name": group_name,
                    "name": name,
                    "expr": str(rule.get("query", "")),
                    "duration_seconds": float(rule.get("duration") or 0.0),
                    "labels": {str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
                    "seen_at": first_seen.get((group_name, name), context.started_at),
                }
                for (group_name, name), rule in rules.items()
            ],
        )


# --- the sync ---------------------------------------------------------------------------------


def sync_prometheus(context: SyncContext) -> SourceOutcome:
    """Daily aggregates of every endpoint of `context.teams`, then the alerting rules.

    A whole-source failure (unreachable, refused token, wrong URL) raises `SourceError`;
    a query the server rejects for one endpoint (a bad selector) skips that endpoint,
    writes the others and reports `partial`.
    """
    config = context.config.prometheus
    if config is None:
        raise SourceError("prometheus: mlops.toml has no [prometheus] section")
    settings = resolve_settings(config)
    targets = _targets(context)
    with context.engine.connect() as connection:
        endpoint_ids = _endpoint_ids(connection, targets)
        watermarks = read_watermarks(connection, SOURCE)
    outcome = SourceOutcome()
    problems: list[str] = []
    succeeded = 0
    moved = False
    with PrometheusClient(config, context.requests) as client:
        try:
            outcome.rows_written += _sync_alert_rules(context, client, targets)
            succeeded += 1
        except (_HttpError, requests.RequestException) as error:
            # A store without a rules API (404) still has daily aggregates to give.
            source_error = client.source_error(error)
            if source_error is not None and getattr(error, "status", None) != 404:
                raise source_error from None
            problems.append(f"alerting rules not read: {client.query_problem(error)}")
        lookback = _Lookback(client)
        context.progress.start("prometheus endpoints", total=len(targets))
        for target in targets:
            endpoint_id = endpoint_ids.get(target.scope)
            if endpoint_id is None:
                problems.append(f"{target.scope}: not in the store (register the organisation)")
                continue
            try:
                days = _days_to_read(context.started_at, watermarks.get(target.scope), lookback)
                if days is not None:
                    outcome.rows_written += _sync_endpoint(
                        context, client, settings, target, endpoint_id, days
                    )
                    moved = True
                succeeded += 1
            except (_HttpError, requests.RequestException) as error:
                if (source_error := client.source_error(error)) is not None:
                    raise source_error from None
                problems.append(
                    f"{target.scope}: {client.query_problem(error)}; check {target.selector_key} "
                    "and the metric names of [prometheus]"
                )
                context.progress.message(f"prometheus: {problems[-1]}")
            context.progress.advance("prometheus endpoints")
    if problems:
        outcome.status = "partial" if succeeded else "failed"
        outcome.error = "\n".join(problems)
    if moved:
        with context.engine.connect() as connection:
            held = read_watermarks(connection, SOURCE)
        outcome.watermark = min(held[t.scope] for t in targets if t.scope in held)
    return outcome
