"""The metric catalog: every metric id of DESIGN §6, declared once.

Each metric is a function registered with `@metric(...)`; its docstring is the
definition in words, and `docs/metrics.md` is generated from this catalog so
the words and the code cannot drift. The CLI, pages and reports all read the
catalog and call `compute` through `metrics.engine`, so a number is the same
wherever it is shown.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from config import Targets
from metrics.context import Inputs, MetricContext

Better = Literal["higher", "lower"]
Status = Literal["ok", "breach", "unknown"]
Group = Literal["ModelOps", "Endpoints", "DevOps", "Stakeholders"]
Source = Literal["registry", "prometheus", "github", "meetings"]


@dataclass(frozen=True)
class Measured:
    """A metric for every team: values indexed by team (NaN or absent = no data), and the
    evidence rows behind them, each with a `team` column."""

    values: pd.Series
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"team": []}))


MetricFunction = Callable[[Inputs, MetricContext], Measured]
TargetRule = Callable[[Targets], float]


@dataclass(frozen=True)
class MetricSpec:
    id: str
    name: str
    unit: str
    better: Better
    group: Group
    source: Source
    formula: str
    compute: MetricFunction
    unknown_when: str
    reads: tuple[str, ...]
    """The `Inputs` frames the function reads; only those are loaded for it."""
    target: TargetRule | None = None
    target_text: str = ""

    @property
    def definition(self) -> str:
        return inspect.cleandoc(self.compute.__doc__ or "")

    def target_for(self, targets: Targets) -> float | None:
        return None if self.target is None else float(self.target(targets))

    def status(self, value: float | None, target: float | None) -> Status:
        if value is None:
            return "unknown"
        if target is None:
            return "ok"
        meets = value >= target if self.better == "higher" else value <= target
        return "ok" if meets else "breach"


CATALOG: dict[str, MetricSpec] = {}


def metric(
    *,
    id: str,
    name: str,
    unit: str,
    better: Better,
    group: Group,
    source: Source,
    reads: tuple[str, ...],
    formula: str,
    unknown_when: str,
    target: TargetRule | None = None,
    target_text: str = "",
) -> Callable[[MetricFunction], MetricFunction]:
    """Register a metric function under its contract id."""

    def register(function: MetricFunction) -> MetricFunction:
        if id in CATALOG:
            raise ValueError(f"metric id {id!r} is registered twice")
        if not function.__doc__:
            raise ValueError(f"metric {id!r} needs a docstring: it is the published definition")
        CATALOG[id] = MetricSpec(
            id=id,
            name=name,
            unit=unit,
            better=better,
            group=group,
            source=source,
            formula=formula,
            compute=function,
            unknown_when=unknown_when,
            reads=reads,
            target=target,
            target_text=target_text,
        )
        return function

    return register


_MODULES = ("metrics.modelops", "metrics.endpoints", "metrics.delivery", "metrics.stakeholders")
_GROUP_ORDER: tuple[Group, ...] = ("ModelOps", "Endpoints", "DevOps", "Stakeholders")


def catalog() -> dict[str, MetricSpec]:
    """The full catalog in the order of DESIGN §6 (importing the modules registers them)."""
    for module in _MODULES:
        importlib.import_module(module)
    ordered = sorted(CATALOG.values(), key=lambda spec: _GROUP_ORDER.index(spec.group))
    return {spec.id: spec for spec in ordered}
