"""Pure statistics for evaluation reports (standard library only).

- `wilson`: the Wilson score interval of a proportion: honest at 0% and 100% (never zero-width),
  used for every rate in the report.
- `bootstrap`: percentile interval of a statistic over resampled units, seeded (reproducible); used
  where no closed form fits (median distance, mean score, paired differences).
- `paired_bootstrap_diff`: interval of mean(B) − mean(A) over the same units.
- `pass_at_k`: the unbiased estimator of Chen et al. (2021) from n samples with c correct.
- `mcnemar_exact`: two-sided exact binomial McNemar test on the discordant pairs.
- `within_km`, `median`: the distance metrics (Im2GPS-style thresholds, median error).

The unit of resampling is a prompt (with several samples per prompt, its mean accuracy), so an
interval reflects the test set's size, not the number of generations.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "DISTANCE_THRESHOLDS_KM",
    "Estimate",
    "bootstrap",
    "mcnemar_exact",
    "mean",
    "median",
    "paired_bootstrap_diff",
    "pass_at_k",
    "percentile",
    "wilson",
    "within_km",
]

DISTANCE_THRESHOLDS_KM = (1, 25, 200, 750, 2500)  # street, city, region, country, continent
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap interval, over `n` units."""

    value: float | None
    low: float | None
    high: float | None
    n: int

    def to_dict(self) -> dict:
        return {"value": self.value, "ci": [self.low, self.high], "n": self.n}


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th quantile (0..1) of sorted values, linear interpolation (numpy's default)."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return percentile(sorted(values), 0.5)


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - (1 - level) / 2)


def wilson(values: Sequence[float], level: float = DEFAULT_LEVEL) -> Estimate:
    """The mean of per-unit rates in [0, 1] with its Wilson score interval over the n units.

    For one binary outcome per unit this is the textbook Wilson interval; with several samples per
    unit the unit's mean rate stands in for its outcome (n stays the number of units, so the
    interval reflects the test set's size). At 0 of n the interval is [0, z²/(n + z²)] (0 of 3:
    [0, 56%] at 95%), never the zero-width [0, 0] a percentile bootstrap gives."""
    n = len(values)
    if n == 0:
        return Estimate(None, None, None, 0)
    p = mean(values)
    if not all(0.0 <= v <= 1.0 for v in values):
        raise ValueError("wilson needs rates in [0, 1]")
    z = _z(level)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def bootstrap(
    values: Sequence[float],
    statistic: Callable[[Sequence[float]], float] = mean,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> Estimate:
    """`statistic(values)` with a percentile bootstrap interval at `level` (seeded)."""
    n = len(values)
    if n == 0:
        return Estimate(None, None, None, 0)
    point = statistic(values)
    rng = random.Random(seed)
    stats = sorted(statistic(rng.choices(values, k=n)) for _ in range(resamples))
    tail = (1 - level) / 2
    return Estimate(point, percentile(stats, tail), percentile(stats, 1 - tail), n)


def paired_bootstrap_diff(
    a: Sequence[float],
    b: Sequence[float],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> Estimate:
    """mean(b) − mean(a) over paired units, with an interval from resampling the pairs."""
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} and {len(b)}")
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    return bootstrap(diffs, mean, resamples, seed, level)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c correct) is correct."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value. b, c: discordant pairs (A right/B wrong, A wrong/B right).

    Under the null each discordant pair goes either way with probability 1/2, so the p-value is
    twice the binomial tail at min(b, c), capped at 1. Exact for any count (integer arithmetic)."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be non-negative")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, 2 * tail / 2**n)


def within_km(distances: Sequence[float], thresholds: Sequence[float] = DISTANCE_THRESHOLDS_KM) -> dict:
    """Share of distances at or below each threshold: {threshold: fraction}."""
    if not distances:
        return {t: None for t in thresholds}
    return {t: sum(d <= t for d in distances) / len(distances) for t in thresholds}
