"""`histogram_quantile` against Prometheus' documented behaviour (promql bucketQuantile)."""

from __future__ import annotations

import math

import pytest

from metrics.histogram import histogram_quantile

INF = math.inf
BOUNDS, COUNTS = [0.1, 0.2, INF], [50.0, 90.0, 100.0]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.5, 0.1),  # rank 50 in le=0.1: 0 + 0.1 * 50/50
        (0.9, 0.2),  # rank 90 in le=0.2: 0.1 + 0.1 * 40/40
        (0.95, 0.2),  # rank 95 in +Inf: the highest finite bound
        (0.99, 0.2),
        (1.0, 0.2),  # rank 100 in +Inf
        (0.7, 0.15),  # rank 70 in le=0.2: 0.1 + 0.1 * 20/40
        (0.1, 0.02),  # rank 10 in the lowest bucket, from 0: 0.1 * 10/50
    ],
)
def test_quantiles_by_hand(q, expected):
    assert histogram_quantile(q, BOUNDS, COUNTS) == pytest.approx(expected)


def test_bucket_order_does_not_matter():
    assert histogram_quantile(0.7, [INF, 0.2, 0.1], [100, 90, 50]) == pytest.approx(0.15)


def test_no_inf_bucket_is_nan():
    assert math.isnan(histogram_quantile(0.5, [0.1, 0.2], [50, 90]))


def test_fewer_than_two_buckets_is_nan():
    assert math.isnan(histogram_quantile(0.5, [INF], [10]))
    assert math.isnan(histogram_quantile(0.5, [], []))


def test_zero_observations_is_nan():
    assert math.isnan(histogram_quantile(0.5, BOUNDS, [0, 0, 0]))


def test_q_outside_zero_one_and_nan():
    assert histogram_quantile(-0.1, BOUNDS, COUNTS) == -INF
    assert histogram_quantile(1.1, BOUNDS, COUNTS) == INF
    assert math.isnan(histogram_quantile(math.nan, BOUNDS, COUNTS))
    # the q checks come first: even without +Inf bucket or observations
    assert histogram_quantile(-1, [0.1], [0]) == -INF
    assert histogram_quantile(2, [0.1], [0]) == INF


def test_lowest_bucket_with_non_positive_bound_returns_that_bound():
    # le=-1: 5, le=0.5: 10, +Inf: 10; q=0.2 -> rank 2 in the lowest bucket, bound <= 0
    # -> Prometheus returns the bound itself (-1), no interpolation
    assert histogram_quantile(0.2, [-1, 0.5, INF], [5, 10, 10]) == -1
    assert histogram_quantile(0.2, [0, 0.5, INF], [5, 10, 10]) == 0
    # rank 8 in le=0.5: -1 + 1.5 * (8-5)/(10-5) = -0.1
    assert histogram_quantile(0.8, [-1, 0.5, INF], [5, 10, 10]) == pytest.approx(-0.1)


def test_non_monotonic_counts_are_made_monotonic():
    # counts 60, 40, 100, 100 -> Prometheus uses the running max: 60, 60, 100, 100
    # p80: rank 80 in le=0.4: 0.2 + 0.2 * (80-60)/(100-60) = 0.3
    # (taken as given, le=0.4 would hold 60 and answer 0.2 + 0.2 * 40/60 = 0.333…)
    assert histogram_quantile(0.8, [0.1, 0.2, 0.4, INF], [60, 40, 100, 100]) == pytest.approx(0.3)


def test_q_zero_with_empty_lowest_bucket_is_nan_like_prometheus():
    # rank 0 selects the lowest bucket (0 >= 0); its count is 0, so promql computes
    # 0 + 0.1 * (0/0) = NaN (Go float division). It must not raise.
    assert math.isnan(histogram_quantile(0.0, [0.1, INF], [0, 10]))


def test_q_zero_with_filled_lowest_bucket_is_zero():
    # rank 0 in le=0.1 holding 5: 0 + 0.1 * 0/5 = 0
    assert histogram_quantile(0.0, [0.1, INF], [5, 10]) == 0.0


def test_buckets_with_the_same_bound_are_merged_like_prometheus():
    # promql coalesceBuckets sums buckets sharing an upper bound: le=0.1 holds 20 + 30 = 50
    # of 100; p25: rank 25 in le=0.1 from 0: 0.1 * 25/50 = 0.05
    assert histogram_quantile(0.25, [0.1, 0.1, INF], [20, 30, 100]) == pytest.approx(0.05)
