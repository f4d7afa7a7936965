"""Prometheus' `histogram_quantile`, on bucket counts pooled from stored days.

Stored days keep bucket increases per `le`, not quantiles, because bucket
counts add up across days and endpoints while quantiles do not. Reproducing
Prometheus' interpolation exactly means the quantile of any stored period
equals what Prometheus answers for that period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def histogram_quantile(q: float, upper_bounds: Sequence[float], counts: Sequence[float]) -> float:
    """The q-quantile of cumulative bucket `counts` with upper bounds `upper_bounds`.

    Follows promql's bucketQuantile: NaN without a +Inf bucket or observations;
    linear interpolation inside the bucket holding the rank, the lowest bucket
    starting at 0 when its bound is positive; a rank in the +Inf bucket answers
    the highest finite bound. Counts are made monotonic first, as Prometheus does.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for bound, count in zip(upper_bounds, counts, strict=True):
        merged[bound] = merged.get(bound, 0.0) + count  # as promql's coalesceBuckets
    pairs = sorted(merged.items())
    if len(pairs) < 2 or not math.isinf(pairs[-1][0]):
        return math.nan
    bounds = [bound for bound, _ in pairs]
    cumulative: list[float] = []
    running = 0.0
    for _, count in pairs:
        running = max(running, count)
        cumulative.append(running)
    observations = cumulative[-1]
    if observations == 0:
        return math.nan
    rank = q * observations
    index = next(i for i, count in enumerate(cumulative) if count >= rank)
    if index == len(bounds) - 1:
        return bounds[-2]
    if index == 0 and bounds[0] <= 0:
        return bounds[0]
    bucket_start = 0.0
    bucket_end = bounds[index]
    bucket_count = cumulative[index]
    if index > 0:
        bucket_start = bounds[index - 1]
        bucket_count -= cumulative[index - 1]
        rank -= cumulative[index - 1]
    if bucket_count == 0:
        return math.nan
    return bucket_start + (bucket_end - bucket_start) * (rank / bucket_count)
