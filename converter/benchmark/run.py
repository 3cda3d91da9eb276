"""Benchmark stage: eager and the reloaded artifact timed side by side at each batch size."""

from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional

from converter.benchmark.coldstart import measure_cold_start
from converter.benchmark.resources import (
    ABOVE_PEAK,
    count_flops,
    measured_peak_gflops,
    peak_memory_mb,
    theoretical_peak_gflops,
)
from converter.benchmark.stats import LatencyStats, speedup_interval
from converter.benchmark.timing import TimingPlan, measure_interleaved
from converter.config.schema import BenchmarkConfig
from converter.errors import ConfigError
from converter.tensors.inputs import InputPlan

CONTENDERS = ("eager", "artifact")


def _invoke(fn: Callable[..., Any], plan: InputPlan, inputs: Mapping[str, Any]) -> Any:
    """Eager and the artifact are called alike: keyword and constant inputs as declared."""
    from converter.tensors.calls import invoke

    return invoke(fn, plan.specs, inputs)


@contextmanager
def torch_threads(threads: Optional[int]) -> Iterator[int]:
    """Set torch's intra-op thread count for the block and restore it after."""
    import torch

    saved = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(saved)


def batch_points(plan: InputPlan, bench: BenchmarkConfig) -> List[Dict[str, int]]:
    """Dim sizes to measure at: the example's, with the batch Dim set to each requested size."""
    base = dict(plan.example_sizes)
    sizes = list(bench.batch_sizes)
    if not sizes:
        return [base]
    dim = plan.dims.get(bench.batch_dim)
    if dim is None:
        raise ConfigError(
            "benchmark.batch_dim",
            f"the model has no Dim named '{bench.batch_dim}' (it has {sorted(plan.dims) or 'none'})",
            "set benchmark.batch_dim to one of its Dims, or benchmark.batch_sizes=[] to measure the example only",
        )
    outside = [s for s in sizes if not dim.min <= s <= dim.max]
    if outside:
        raise ConfigError(
            "benchmark.batch_sizes",
            f"{outside} lie outside Dim '{dim.name}' [{dim.min}, {dim.max}]",
            "measure sizes the artifact was exported for",
        )
    return [{**base, dim.name: size} for size in sizes]


def _case(
    *,
    module: Callable[..., Any],
    artifact: Callable[..., Any],
    call: Callable[[Callable[..., Any]], Any],
    items: int,
    plan: TimingPlan,
    device: str,
    peak: Optional[float],
    bench: BenchmarkConfig,
    memory_visible: bool = True,
) -> Dict[str, Any]:
    contenders = {"eager": lambda: call(module), "artifact": lambda: call(artifact)}
    timings = measure_interleaved(contenders, plan, device)
    stats = {name: LatencyStats.of(s) for name, s in timings.samples.items()}
    point, low, high = speedup_interval(timings.samples["eager"], timings.samples["artifact"], bench.confidence)
    flops = count_flops(contenders["eager"]) if bench.flops else None
    case: Dict[str, Any] = {
        "items_per_call": items,
        "latency_s": {name: asdict(s) for name, s in stats.items()},
        "throughput_items_per_s": {name: items / s.p50 for name, s in stats.items()},
        "speedup": {"ratio": point, "low": low, "high": high, "confidence": bench.confidence},
        "noisy": timings.noisy,
        "extra_rounds": timings.extra_rounds,
        "median_precision": timings.median_precision,
        "flops_per_call": flops,
        # None where the runtime allocates outside torch (ONNX Runtime): a 0 would be a false figure.
        "peak_memory_mb": {
            name: peak_memory_mb(fn, device) if name == "eager" or memory_visible else None
            for name, fn in contenders.items()
        }
        if bench.memory
        else None,
    }
    if flops:
        achieved = {name: flops / s.p50 / 1e9 for name, s in stats.items()}
        case["achieved_gflops"] = achieved
        case["fraction_of_peak"] = {name: g / peak for name, g in achieved.items()} if peak else None
        if peak:  # more than the measured matmul peak: the count or the peak is off, not the model
            case["above_measured_peak"] = {
                name: ABOVE_PEAK for name, fraction in case["fraction_of_peak"].items() if fraction > 1
            }
    return case


def benchmark_artifact(
    *,
    module: Callable[..., Any],
    artifact: Callable[..., Any],
    inputs: InputPlan,
    bench: BenchmarkConfig,
    device: str,
    seed: int,
    backend: str,
    artifact_path: Path,
    artifact_sha256: str,
    library: Optional[str] = None,
) -> Dict[str, Any]:
    plan = TimingPlan(**{name: getattr(bench, name) for name in TimingPlan.__dataclass_fields__})
    device = bench.device or device
    from converter.exporters import get_exporter

    memory_visible = getattr(get_exporter(backend), "memory_visible", True)
    with torch_threads(bench.threads) as threads:
        peak = measured_peak_gflops(device, threads) if bench.peak else None
        cases = []
        for number, sizes in enumerate(batch_points(inputs, bench)):
            values = inputs.make(sizes, seed + 3000 + number, device)
            items = sizes.get(bench.batch_dim, 1)
            call = functools.partial(_invoke, plan=inputs, inputs=values)
            case = _case(
                module=module,
                artifact=artifact,
                call=call,
                items=items,
                plan=plan,
                device=device,
                peak=peak["gflops"] if peak else None,
                bench=bench,
                memory_visible=memory_visible,
            )
            cases.append({"sizes": sizes, **case})
    return {
        "device": device,
        "threads": threads,
        "plan": asdict(plan),
        "machine_peak": peak,
        "theoretical_peak": theoretical_peak_gflops(device, threads),
        "cases": cases,
        "cold_start": measure_cold_start(backend, artifact_path, device, artifact_sha256, library)
        if bench.cold_start
        else None,
    }
