"""Statistics of latency samples: percentiles, spread, and a bootstrap interval for speedups.

Pure Python on lists of seconds, so it is tested on synthetic timings without torch.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass
from typing import Callable, Dict, Hashable, List, Mapping, Sequence, Tuple, TypeVar

K = TypeVar("K")


def percentile(samples: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100]), as numpy's default."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class LatencyStats:
    """Seconds per call over `n` timed calls."""

    n: int
    mean: float
    std: float
    cv: float
    p50: float
    p90: float
    p99: float
    min: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> LatencyStats:
        mean = statistics.fmean(samples)
        std = statistics.stdev(samples) if len(samples) > 1 else 0.0
        return cls(
            n=len(samples),
            mean=mean,
            std=std,
            cv=std / mean if mean > 0 else math.inf,
            p50=percentile(samples, 50),
            p90=percentile(samples, 90),
            p99=percentile(samples, 99),
            min=min(samples),
            max=max(samples),
        )


def speedup_interval(
    baseline: Sequence[float],
    candidate: Sequence[float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Tuple[float, float, float]:
    """Speedup of `candidate` over `baseline` as a ratio of medians, with a percentile-bootstrap
    interval: both sample sets are resampled independently. A seeded RNG keeps reports stable."""
    point = statistics.median(baseline) / statistics.median(candidate)
    rng = random.Random(seed)
    ratios: List[float] = []
    for _ in range(resamples):
        b = [rng.choice(baseline) for _ in baseline]
        c = [rng.choice(candidate) for _ in candidate]
        ratios.append(statistics.median(b) / statistics.median(c))
    tail = (1.0 - confidence) / 2.0 * 100.0
    return point, percentile(ratios, tail), percentile(ratios, 100.0 - tail)


def is_noisy(stats: LatencyStats, cv_threshold: float) -> bool:
    return stats.cv > cv_threshold


def median_interval(samples: Sequence[float], confidence: float = 0.95) -> Tuple[float, float]:
    """Distribution-free interval of the median: the order statistics whose ranks the binomial
    (normal approximation) puts `confidence` between. Unlike the CV, it narrows as samples are
    added (about 1/sqrt(n)), so it says whether more calls would make the median more certain."""
    ordered = sorted(samples)
    n = len(ordered)
    if not n:
        raise ValueError("no samples")
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2.0)
    half = z * math.sqrt(n) / 2.0
    low_rank = max(1, round(n / 2.0 - half))
    high_rank = min(n, round(n / 2.0 + 1 + half))
    return ordered[low_rank - 1], ordered[high_rank - 1]


def median_precision(samples: Sequence[float], confidence: float = 0.95) -> float:
    """Half the width of the median's interval as a fraction of the median: 0.02 is +-2%."""
    low, high = median_interval(samples, confidence)
    middle = statistics.median(samples)
    return (high - low) / 2.0 / middle if middle > 0 else math.inf


def ratio_precision(precisions: Sequence[float]) -> float:
    """How precisely the ratio of two medians is known, from each one's relative precision
    (they add in quadrature); of several contenders, the least precise pair's."""
    worst = sorted(precisions, reverse=True)[:2]
    return math.sqrt(sum(p * p for p in worst))


def slow_baselines(
    eager_p50: Mapping[K, float], group: Callable[[K], Hashable], factor: float = 1.25
) -> Dict[K, float]:
    """Jobs whose eager p50 is `factor` or more above the median eager p50 of their group (one
    model at one size, timed once per target), with how many times above. Each job times eager
    afresh in its own process; on a shared machine a whole process sometimes runs slower, both
    contenders alike, so its speedup still holds but its milliseconds do not."""
    groups: Dict[Hashable, List[float]] = {}
    for key, p50 in eager_p50.items():
        groups.setdefault(group(key), []).append(p50)
    medians = {name: statistics.median(values) for name, values in groups.items() if len(values) >= 3}
    slow = {}
    for key, p50 in eager_p50.items():
        median = medians.get(group(key))
        if median and p50 >= factor * median:
            slow[key] = p50 / median
    return slow
