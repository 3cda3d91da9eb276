"""Interleaved timing of several callables, in turns (A, B, B, A, A, B, ...) so drift and
ordering cancel.

Each turn opens with one untimed call. Runtimes keep their own thread pools, and an idle pool
spins for a while after a call: torch's OpenMP threads after eager, ONNX Runtime's after a run.
Timed right after the other contender, a call shares the cores with those spinning threads. On
this project's 2-core CPU, resnet18 under ONNX Runtime read 11.8 ms timed right after eager and
9.0 ms after one of its own calls (eager 17.5 ms either way), so the settling call is what keeps
one runtime's idle threads out of the other's figures.

On CUDA each call is bracketed by CUDA events and synchronised; on CPU it is wall time.
More rounds are taken (up to a limit) while the speedup, a ratio of two medians, is still
uncertain: the two medians' intervals together wider than +-`speedup_precision` of it. The
coefficient of variation does not decide this: a shared machine's occasional slow call keeps the
CV high however many calls are taken, while the medians settle. A contender whose CV is above
`cv_threshold` is still reported as noisy (its milliseconds spread; its median holds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from converter.benchmark.stats import LatencyStats, is_noisy, median_precision, ratio_precision


@dataclass(frozen=True)
class TimingPlan:
    """How long to measure; built from the benchmark config, whose dataclass owns the defaults."""

    warmup: int
    min_iterations: int
    min_time_s: float
    calls_per_turn: int
    cv_threshold: float
    speedup_precision: float
    confidence: float
    max_extra_rounds: int


@dataclass(frozen=True)
class Timings:
    samples: Dict[str, List[float]]
    extra_rounds: int
    noisy: Dict[str, bool]
    # Half the width of each contender's median interval, as a fraction of its median.
    median_precision: Dict[str, float]


def _timer(device: str) -> Callable[[Callable[[], Any]], float]:
    if device.startswith("cuda"):
        import torch

        def cuda_time(fn: Callable[[], Any]) -> float:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1000.0

        return cuda_time

    def wall_time(fn: Callable[[], Any]) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return wall_time


def _round(
    contenders: Dict[str, Callable[[], Any]], samples: Dict[str, List[float]], plan: TimingPlan, timer: Any
) -> None:
    """One round of turns: at least `min_iterations` new samples each and `min_time_s` of wall time."""
    names = list(contenders)
    target = {n: len(samples[n]) + plan.min_iterations for n in names}
    started = time.perf_counter()
    flip = False
    while any(len(samples[n]) < target[n] for n in names) or time.perf_counter() - started < plan.min_time_s:
        for name in reversed(names) if flip else names:
            contenders[name]()  # untimed: the other contender's idle threads stop spinning
            samples[name].extend(timer(contenders[name]) for _ in range(plan.calls_per_turn))
        flip = not flip


def measure_interleaved(
    contenders: Dict[str, Callable[[], Any]],
    plan: TimingPlan,
    device: str,
    timer: Optional[Callable[[Callable[[], Any]], float]] = None,
) -> Timings:
    """`timer` (one call -> its seconds) defaults to the device's clock; tests pass a scripted one."""
    import torch

    timer = timer or _timer(device)
    with torch.no_grad():
        for fn in contenders.values():
            for _ in range(plan.warmup):
                fn()
        samples: Dict[str, List[float]] = {name: [] for name in contenders}
        _round(contenders, samples, plan, timer)
        extra = 0
        while (
            extra < plan.max_extra_rounds
            and ratio_precision([median_precision(s, plan.confidence) for s in samples.values()])
            > plan.speedup_precision
        ):
            _round(contenders, samples, plan, timer)
            extra += 1
    noisy = {name: is_noisy(LatencyStats.of(s), plan.cv_threshold) for name, s in samples.items()}
    precision = {name: median_precision(s, plan.confidence) for name, s in samples.items()}
    return Timings(samples, extra, noisy, precision)
