"""Benchmark statistics and timing on synthetic data: no speed is asserted, only arithmetic."""

import itertools
from typing import Callable

import pytest

from converter.benchmark.stats import (
    LatencyStats,
    is_noisy,
    median_interval,
    median_precision,
    percentile,
    ratio_precision,
    slow_baselines,
    speedup_interval,
)
from converter.benchmark.timing import TimingPlan, measure_interleaved


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


def test_the_median_interval_is_the_order_statistics_the_binomial_brackets() -> None:
    samples = [float(i) for i in range(1, 101)]  # median 50.5
    # n = 100: ranks 50 -+ 1.96 * 10 / 2 -> 40 and 61 (1-based)
    assert median_interval(samples) == (40.0, 61.0)
    assert median_precision(samples) == pytest.approx((61.0 - 40.0) / 2 / 50.5)
    assert median_interval([3.0, 1.0, 2.0]) == (1.0, 3.0), "a few samples: the interval is all of them"
    with pytest.raises(ValueError):
        median_interval([])


def test_an_outlier_keeps_the_cv_high_but_not_the_median_uncertain() -> None:
    """A shared machine's occasional slow call: more calls never bring the CV down, but the
    median settles, so the median, not the CV, says whether another round is worth taking."""
    calls = [0.010 + 0.0001 * (i % 3) if i % 10 else 0.030 for i in range(200)]
    assert LatencyStats.of(calls).cv > 0.3
    assert median_precision(calls) < 0.01
    assert median_precision(calls[:10]) > median_precision(calls)


def test_two_medians_known_to_3_and_4_percent_give_a_ratio_known_to_5() -> None:
    assert ratio_precision([0.03, 0.04]) == pytest.approx(0.05)
    assert ratio_precision([0.01, 0.04, 0.03]) == pytest.approx(0.05), "the least precise pair"


def _plan(**overrides: float) -> TimingPlan:
    fields = dict(
        warmup=1,
        min_iterations=4,
        min_time_s=0.0,
        calls_per_turn=2,
        cv_threshold=0.2,
        speedup_precision=0.05,
        confidence=0.95,
        max_extra_rounds=2,
    )
    return TimingPlan(**{**fields, **overrides})  # type: ignore[arg-type]


def test_measurement_interleaves_and_takes_more_rounds_while_the_speedup_is_uncertain() -> None:
    """A scripted clock (each call returns its own duration): deterministic on a busy machine."""
    calls = []
    jitter = itertools.cycle([0.0, 0.004])

    def steady() -> float:
        calls.append("a")
        return 0.001

    def jumpy() -> float:
        calls.append("b")
        return 0.001 + next(jitter)

    timings = measure_interleaved({"a": steady, "b": jumpy}, _plan(), "cpu", timer=lambda fn: fn())
    timed = calls[2:]  # after one warm-up call each
    assert timed[:12] == list("aaabbbbbbaaa"), "turns alternate (A B B A) so neither always goes first"
    # b's calls split half and half between 1 ms and 5 ms: its median never settles.
    assert timings.extra_rounds == 2 and timings.noisy == {"a": False, "b": True}
    # its interval spans 1 to 5 ms around a 3 ms median: +-67%
    assert timings.median_precision == {"a": 0.0, "b": pytest.approx(2 / 3)}
    assert len(timings.samples["a"]) == len(timings.samples["b"]) == 12


def test_a_settled_median_takes_no_extra_round_however_high_the_cv() -> None:
    slow_every_fourth = itertools.cycle([0.001, 0.001, 0.001, 0.003])

    def steady() -> float:
        return 0.001

    def outliers() -> float:
        return next(slow_every_fourth)

    plan = _plan(min_iterations=40, warmup=0)
    timings = measure_interleaved({"a": steady, "b": outliers}, plan, "cpu", timer=lambda fn: fn())
    assert timings.extra_rounds == 0, "the median of b is 1 ms, certain after one round"
    assert timings.noisy == {"a": False, "b": True}, "its CV still marks it noisy"
    assert timings.median_precision == {"a": 0.0, "b": 0.0}


def test_a_call_right_after_the_other_contender_is_never_timed() -> None:
    """The other runtime's idle threads still spin then (scripted here as a 5x slower call)."""
    last = []

    def contender(name: str) -> Callable[[], float]:
        def call() -> float:
            after_the_other = bool(last) and last[-1] != name
            last.append(name)
            return 0.005 if after_the_other else 0.001

        return call

    plan = _plan(warmup=0, min_iterations=6, calls_per_turn=3, cv_threshold=0.5, max_extra_rounds=0)
    timings = measure_interleaved({"eager": contender("eager"), "onnx": contender("onnx")}, plan, "cpu", lambda f: f())
    assert timings.samples == {"eager": [0.001] * 6, "onnx": [0.001] * 6}
    assert last.count("eager") == last.count("onnx") == 8, "two turns each: one untimed call and three timed"


AVX512_CPU = "processor\t: 0\ncpu MHz\t\t: 2596.122\nflags\t\t: fpu sse avx2 fma avx512f\n"


def test_the_theoretical_peak_is_cores_times_clock_times_simd_width() -> None:
    from converter.benchmark.resources import theoretical_peak_gflops

    peak = theoretical_peak_gflops("cpu", 2, cpuinfo=AVX512_CPU)
    # 2 cores x 2.596 GHz x 16 lanes x 2 (FMA) x 2 FMA units
    assert peak["gflops"] == pytest.approx(2 * 2.596122 * 16 * 2 * 2)
    assert peak["basis"] == "2 cores x 2.60 GHz x 16 FP32 lanes x 2 (FMA) x 2 FMA units"
    avx2 = theoretical_peak_gflops("cpu", 1, cpuinfo=AVX512_CPU.replace(" avx512f", ""))
    assert avx2["gflops"] == pytest.approx(2.596122 * 8 * 2 * 2)
    assert theoretical_peak_gflops("cpu", 1, cpuinfo="flags: fpu\n") is None


def test_a_row_above_the_measured_peak_is_flagged_with_the_reason() -> None:
    from converter.benchmark.record import render_table
    from converter.benchmark.resources import ABOVE_PEAK, ABOVE_THEORETICAL

    stats = {"p50": 0.01, "p90": 0.011, "p99": 0.012, "mean": 0.01, "std": 0.0, "cv": 0.01, "min": 0.009}
    case = {
        "sizes": {"batch": 1},
        "latency_s": {"eager": stats, "artifact": stats},
        "throughput_items_per_s": {"eager": 100.0, "artifact": 100.0},
        "speedup": {"ratio": 1.0, "low": 0.9, "high": 1.1},
        "noisy": {"eager": False, "artifact": False},
        "achieved_gflops": {"eager": 50.0, "artifact": 178.0},
        "fraction_of_peak": {"eager": 0.5, "artifact": 1.78},
        "above_measured_peak": {"artifact": ABOVE_PEAK},
    }
    report = {
        "cases": [case],
        "machine_peak": {"gflops": 100.0},
        "theoretical_peak": {"gflops": 332.3, "basis": "2 cores x 2.60 GHz x 16 FP32 lanes x 2 (FMA) x 2 FMA units"},
    }
    text = render_table(report, "toy")
    assert "178.0 !" in text and "50.0 " in text
    assert f"!: above 100% of the measured peak: {ABOVE_PEAK}" in text
    assert "theoretical 332.3 GFLOP/s: 2 cores x 2.60 GHz" in text
    assert ABOVE_THEORETICAL not in text and " by " not in text.split("% peak:")[1].split("GFLOP/s")[0]

    # A peak above the theoretical one (cores boosting past /proc/cpuinfo's clock) is said to be.
    report["machine_peak"] = {"gflops": 402.0, "path": "oneDNN linear"}
    text = render_table(report, "toy")
    assert "of the measured float32 matmul peak, 402.0 GFLOP/s by oneDNN linear (theoretical 332.3" in text
    assert ABOVE_THEORETICAL in text


def test_a_job_whose_eager_ran_slow_is_named_against_its_models_median() -> None:
    """resnet18 at batch 1 timed eager at 16-17 ms in four jobs and 28 ms in one."""
    eager = {
        ("resnet18", 1, "torch_export"): 0.0158,
        ("resnet18", 1, "torchscript_trace"): 0.0161,
        ("resnet18", 1, "onnx"): 0.0154,
        ("resnet18", 1, "aoti"): 0.0280,
        ("resnet18", 8, "onnx"): 0.115,
        ("resnet18", 8, "aoti"): 0.118,
        ("yolo", 1, "onnx"): 0.053,
    }
    slow = slow_baselines(eager, group=lambda key: key[:2])
    assert list(slow) == [("resnet18", 1, "aoti")]
    assert round(slow[("resnet18", 1, "aoti")], 2) == 1.76  # 28.0 / median(15.4, 15.8, 16.1, 28.0) = 15.95
