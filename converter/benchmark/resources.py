"""What one forward costs besides time: FLOPs, peak memory; and what the machine can do."""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional

CACHE = Path(os.environ.get("CONVERTER_CACHE", Path.home() / ".cache" / "converter")) / "peak_gflops.json"


def count_flops(fn: Callable[[], Any]) -> Optional[int]:
    """FLOPs of one call, by torch's FlopCounterMode (matmuls and convolutions; None if it cannot run)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    try:
        with torch.no_grad(), counter:
            fn()
    except Exception:  # a TorchScript artifact or an exotic op: report no figure rather than a wrong one
        return None
    return int(counter.get_total_flops())


@contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Kineto prints start/stop lines on the process's stderr whenever a profiler runs; they are
    not ours to show. Python-level errors still surface: only file descriptor 2 is redirected."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _cpu_peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak of live tensor bytes during one call, from the profiler's allocation records in time
    order: what the call allocates, whether or not malloc hands it back to the OS."""
    import torch

    with _quiet_native_stderr(), torch.autograd.profiler.profile(profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.function_events if e.self_cpu_memory_usage), key=lambda e: e.time_range.start)
    live = peak = 0
    for event in events:
        live += event.self_cpu_memory_usage
        peak = max(peak, live)
    return peak


def peak_memory_mb(fn: Callable[[], Any], device: str) -> float:
    """Peak memory one call allocates beyond what is resident before it (weights are not
    counted): the CUDA allocator's peak, or on CPU the profiler's record of tensor allocations."""
    import torch

    with torch.no_grad():
        if device.startswith("cuda"):
            torch.cuda.synchronize()
            before = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            fn()
            torch.cuda.synchronize()
            return (torch.cuda.max_memory_allocated() - before) / 2**20
        return _cpu_peak_bytes(fn) / 2**20


def _machine_key(device: str, threads: int) -> str:
    import torch

    name = (
        torch.cuda.get_device_name(device) if device.startswith("cuda") else platform.processor() or platform.machine()
    )
    return f"{platform.node()}|{name}|{device}|threads={threads}|torch={torch.__version__}"


# Bumped when the measurement changes, so an entry cached by an older one is measured again.
PEAK_METHOD = "best of BLAS matmul and oneDNN linear"


def measured_peak_gflops(
    device: str, threads: int, size: int = 2048, seconds: float = 0.5, repeats: int = 3
) -> Dict[str, Any]:
    """float32 matmul GFLOP/s, the best of `repeats` timed bursts, measured once per machine,
    device and thread count, then cached. It is an attainable peak, not the datasheet one:
    convolutions computed by Winograd or FFT do fewer multiplications than their nominal
    FLOPs, so a model can show more than 100% of it. On CPU both of torch's float32 GEMM paths
    are timed and the faster counts: BLAS (MKL, which eager's matmuls use; on AMD CPUs it may
    take a narrower SIMD path) and oneDNN (which Inductor's frozen linears and OpenVINO use)."""
    key = f"{_machine_key(device, threads)}|{PEAK_METHOD}"
    from converter.records.outcome import read_json

    cache = read_json(CACHE)  # {} when missing or half-written by a concurrent job
    if key in cache:
        return {**cache[key], "cached": True}
    import torch

    a = torch.rand(size, size, device=device)
    b = torch.rand(size, size, device=device)
    paths: Dict[str, Callable[[], Any]] = {"BLAS matmul": lambda: a @ b}
    onednn = None if device.startswith("cuda") else _onednn_linear(a, b)
    if onednn is not None:
        paths["oneDNN linear"] = onednn
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    by_path = {name: _best_gflops(call, size, sync, seconds, repeats) for name, call in paths.items()}
    fastest = max(by_path, key=by_path.__getitem__)
    entry = {
        "gflops": by_path[fastest],
        "path": fastest,
        "by_path": by_path,
        "matmul_size": size,
        "dtype": "float32",
    }
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    cache[key] = entry
    from converter.records.artifacts import write_json_atomically

    write_json_atomically({**read_json(CACHE), **cache}, CACHE)  # jobs on other cores may write it too
    return {**entry, "cached": False}


def _best_gflops(call: Callable[[], Any], size: int, sync: Callable[[], Any], seconds: float, repeats: int) -> float:
    for _ in range(3):
        call()
    best = 0.0
    for _ in range(repeats):
        calls = 0
        sync()
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            call()
            calls += 1
        sync()
        best = max(best, 2 * size**3 * calls / (time.perf_counter() - start) / 1e9)
    return best


def _onednn_linear(a: Any, b: Any) -> Optional[Callable[[], Any]]:
    """a @ b through oneDNN (torch's mkldnn linear on a blocked tensor); None where torch lacks it."""
    import torch

    if not torch.backends.mkldnn.is_available():
        return None
    try:
        import torch.utils.mkldnn

        linear = torch.nn.Linear(b.shape[0], b.shape[1], bias=False)
        linear.weight.data = b.t().contiguous()
        blocked_linear, blocked_a = torch.utils.mkldnn.to_mkldnn(linear.eval()), a.to_mkldnn()
        with torch.no_grad():
            blocked_linear(blocked_a)
    except (RuntimeError, AttributeError):  # a build without oneDNN's linear
        return None

    def call() -> Any:
        with torch.no_grad():
            return blocked_linear(blocked_a)

    return call


# Simultaneous FMA units per core: two on every x86 server core since Haswell / Zen 2 (one on
# some AVX-512 parts, where this overstates the datasheet by 2x: the figure is an upper bound).
FMA_UNITS = 2
# FP32 lanes per SIMD FMA instruction, by the widest extension the CPU flags show.
SIMD_LANES = (("avx512f", 16), ("avx2", 8), ("avx", 8), ("sse", 4), ("asimd", 4))
# FP32 cores per streaming multiprocessor (Ampere and Hopper datacenter parts: 64 and 128).
FP32_PER_SM = {8: 64, 9: 128}
ABOVE_PEAK = "fewer operations than counted (Winograd) or peak underestimated"
ABOVE_THEORETICAL = (
    "The measured peak exceeds the theoretical one: the cores run above the clock /proc/cpuinfo reports (boost)."
)


def above_theoretical(peak: Optional[Dict[str, Any]], theoretical: Optional[Dict[str, Any]]) -> str:
    """ABOVE_THEORETICAL where the measured peak passes the theoretical one, else empty."""
    return ABOVE_THEORETICAL if peak and theoretical and peak["gflops"] > theoretical["gflops"] else ""


def peak_path(peak: Dict[str, Any]) -> str:
    """The faster GEMM path as words to append (empty for an entry cached before paths were named)."""
    return f" by {peak['path']}" if peak.get("path") else ""


def theoretical_peak_gflops(device: str, threads: int, cpuinfo: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """The datasheet-style FP32 peak: cores x clock x SIMD lanes x 2 (an FMA is two operations) x
    FMA units, from /proc/cpuinfo's flags and clock; a GPU's from its SM count and clock. None
    where the figures cannot be read; `basis` says how it was computed."""
    if device.startswith("cuda"):
        import torch

        props = torch.cuda.get_device_properties(torch.device(device))
        clock_khz = getattr(props, "clock_rate", None)
        per_sm = FP32_PER_SM.get(props.major, 64)
        if not clock_khz:
            return None
        gflops = props.multi_processor_count * per_sm * 2 * clock_khz / 1e6
        basis = f"{props.multi_processor_count} SMs x {per_sm} FP32 lanes x 2 (FMA) x {clock_khz / 1e6:.2f} GHz"
        return {"gflops": gflops, "basis": basis}
    try:
        cpuinfo = cpuinfo if cpuinfo is not None else Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    flags = set((re.search(r"^(?:flags|Features)\s*:\s*(.*)$", cpuinfo, re.M) or [None, ""])[1].split())
    lanes = next((n for flag, n in SIMD_LANES if flag in flags), None)
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", cpuinfo, re.M)
    if lanes is None or mhz is None:
        return None
    cores = min(threads, os.cpu_count() or threads)
    ghz = float(mhz.group(1)) / 1000
    gflops = cores * ghz * lanes * 2 * FMA_UNITS
    return {
        "gflops": gflops,
        "basis": f"{cores} cores x {ghz:.2f} GHz x {lanes} FP32 lanes x 2 (FMA) x {FMA_UNITS} FMA units",
    }
