"""What every source connector shares: the sync context it runs in and what it reports back.

A connector is a function `sync(context) -> SourceOutcome`. The sync runner
(`connectors/sync.py`) opens the `sync_run` row, hands the connector a context,
and records the outcome, so connectors never touch `sync_run` themselves and a
failing source cannot stop the others.

Rules every connector keeps (they make a killed sync harmless and a re-sync exact):
- Write one scope (a repository, an endpoint, a model) per `write_transaction`,
  together with that scope's watermark, so a crash leaves each scope either
  wholly written or untouched.
- Move a watermark only to `context.started_at` captured before reading, never
  to the newest item seen: items that change while the sync reads are read again
  next time instead of being missed.
- Count every HTTP request in `context.requests`.
- Raise `SourceError` with one line a person can act on (which setting or
  environment variable to fix); never put a token in it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy.engine import Engine

from config import Config, TeamConfig

SourceName = Literal["github", "prometheus", "mlflow", "meetings"]
SOURCES: tuple[SourceName, ...] = ("github", "prometheus", "mlflow", "meetings")
SyncStatus = Literal["ok", "partial", "rate_limited", "failed"]


class SourceError(Exception):
    """A source failed as a whole (bad token, unreachable URL): one line, no secret."""


class Progress(Protocol):
    """Where a long sync reports what it is doing (a rich progress bar, `st.status`)."""

    def start(self, task: str, total: int | None = None) -> None: ...

    def advance(self, task: str, step: int = 1) -> None: ...

    def message(self, text: str) -> None: ...


class SilentProgress:
    """For tests and scheduled runs that only want the `sync_run` rows."""

    def start(self, task: str, total: int | None = None) -> None:
        pass

    def advance(self, task: str, step: int = 1) -> None:
        pass

    def message(self, text: str) -> None:
        pass


class RequestCounter:
    """Requests a source made, per endpoint; thread-safe because clients may page in threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_endpoint: Counter[str] = Counter()

    def count(self, endpoint: str, requests: int = 1) -> None:
        with self._lock:
            self.by_endpoint[endpoint] += requests

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.by_endpoint.values())

    def response_hook(self, endpoint_of: Callable[[Any], str]) -> Callable[..., Any]:
        """A `requests` response hook counting each response under `endpoint_of(response)`."""

        def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
            self.count(endpoint_of(response))
            return response

        return hook


@dataclass
class SyncContext:
    engine: Engine
    config: Config
    teams: list[TeamConfig]
    """The configured teams this sync covers (all, or the one `--team` names)."""
    started_at: datetime
    """Captured before any read; the value watermarks move to on success."""
    progress: Progress = field(default_factory=SilentProgress)
    requests: RequestCounter = field(default_factory=RequestCounter)


@dataclass
class SourceOutcome:
    rows_written: int = 0
    status: SyncStatus = "ok"
    error: str | None = None
    """For `partial`/`rate_limited`: what was skipped and why, one line per scope."""
    rate_limited_until: datetime | None = None
    watermark: datetime | None = None
    """The oldest watermark the source now holds (for the Status page); None if none moved."""


Connector = Callable[[SyncContext], SourceOutcome]
