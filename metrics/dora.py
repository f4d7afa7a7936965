"""DORA tiers (elite / high / medium / low) for the four keys, from `dora_tiers.toml`."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Literal

Tier = Literal["elite", "high", "medium", "low"]
TIERS: tuple[Tier, ...] = ("elite", "high", "medium", "low")
TIERS_PATH = Path(__file__).resolve().parent / "dora_tiers.toml"


@cache
def tier_table() -> dict[str, Any]:
    with TIERS_PATH.open("rb") as handle:
        return tomllib.load(handle)


def dora_metric_ids() -> list[str]:
    return [key for key, value in tier_table().items() if isinstance(value, dict)]


def tier(metric_id: str, value: float | None) -> Tier | None:
    """The tier of a value, or None when the metric has no tiers or the value is unknown."""
    bands = tier_table().get(metric_id)
    if value is None or not isinstance(bands, dict):
        return None
    higher_is_better = bands["better"] == "higher"
    for name in TIERS[:-1]:
        bound = float(bands[name])
        if (value >= bound) if higher_is_better else (value <= bound):
            return name
    return "low"


def tier_words(metric_id: str, name: Tier) -> str:
    return str(tier_table()[metric_id]["words"][name])
