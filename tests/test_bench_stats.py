"""Benchmark statistics and timing on synthetic data: no speed is asserted, only arithmetic."""

import itertools
import time

import pytest

from converter.bench.stats import LatencyStats, is_noisy, percentile, speedup_interval
from converter.bench.timing import TimingPlan, measure_interleaved


def test_percentile_interpolates_like_numpy() -> None:
    data = [4.0, 1.0, 3.0, 2.0]
    assert percentile(data, 0) == 1.0 and percentile(data, 100) == 4.0
    assert percentile(data, 50) == 2.5
    assert percentile(data, 90) == pytest.approx(3.7)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latency_stats_of_known_samples() -> None:
    stats = LatencyStats.of([0.010, 0.012, 0.011, 0.013, 0.009])
    assert stats.n == 5 and stats.mean == pytest.approx(0.011)
    assert stats.std == pytest.approx(0.0015811, rel=1e-4)
    assert stats.cv == pytest.approx(0.0015811 / 0.011, rel=1e-4)
    assert (stats.p50, stats.min, stats.max) == (0.011, 0.009, 0.013)


def test_speedup_interval_brackets_the_true_ratio_and_is_reproducible() -> None:
    baseline = [0.020 + 0.001 * (i % 5) for i in range(40)]  # median 0.022
    candidate = [0.010 + 0.0005 * (i % 5) for i in range(40)]  # median 0.011
    point, low, high = speedup_interval(baseline, candidate)
    assert point == pytest.approx(2.0)
    assert low <= 2.0 <= high and high - low < 0.3
    assert speedup_interval(baseline, candidate) == (point, low, high)


def test_no_difference_gives_an_interval_around_one() -> None:
    samples = [0.01 * (1 + 0.05 * ((i * 7) % 11) / 10) for i in range(30)]
    _, low, high = speedup_interval(samples, list(reversed(samples)))
    assert low <= 1.0 <= high


def test_noise_flag_follows_the_threshold() -> None:
    steady = LatencyStats.of([1.0, 1.01, 0.99, 1.0])
    jumpy = LatencyStats.of([1.0, 2.0, 0.5, 1.5])
    assert not is_noisy(steady, 0.1) and is_noisy(jumpy, 0.1)


def test_measurement_interleaves_and_takes_more_rounds_when_noisy() -> None:
    calls = []
    jitter = itertools.cycle([0.0, 0.004])

    def steady() -> None:
        calls.append("a")
        time.sleep(0.001)

    def noisy() -> None:
        calls.append("b")
        time.sleep(0.001 + next(jitter))

    plan = TimingPlan(warmup=1, min_iterations=4, min_time_s=0.0, cv_threshold=0.2, max_extra_rounds=2)
    timings = measure_interleaved({"a": steady, "b": noisy}, plan, "cpu")
    timed = calls[2:]  # after one warm-up call each
    assert timed[:4] == ["a", "b", "b", "a"], "order alternates so neither always goes first"
    assert timings.extra_rounds == 2 and timings.noisy == {"a": False, "b": True}
    assert len(timings.samples["a"]) == len(timings.samples["b"]) == 12
