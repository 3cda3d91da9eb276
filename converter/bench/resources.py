"""What one forward costs besides time: FLOPs, peak memory; and what the machine can do."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

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


def peak_memory_mb(fn: Callable[[], Any], device: str, calls: int = 3) -> float:
    """Memory a call adds above what is resident before it: the CUDA allocator's peak, or on
    CPU the highest RSS a 1 ms sampler sees (weights already loaded are not counted)."""
    import torch

    with torch.no_grad():
        if device.startswith("cuda"):
            torch.cuda.synchronize()
            before = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            for _ in range(calls):
                fn()
            torch.cuda.synchronize()
            return (torch.cuda.max_memory_allocated() - before) / 2**20
        import psutil

        process = psutil.Process()
        baseline = process.memory_info().rss
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], process.memory_info().rss)
                time.sleep(0.001)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            for _ in range(calls):
                fn()
        finally:
            done.set()
            sampler.join()
        return max(0.0, (peak[0] - baseline) / 2**20)


def _machine_key(device: str, threads: int) -> str:
    import torch

    name = (
        torch.cuda.get_device_name(device) if device.startswith("cuda") else platform.processor() or platform.machine()
    )
    return f"{platform.node()}|{name}|{device}|threads={threads}|torch={torch.__version__}"


def measured_peak_gflops(
    device: str, threads: int, size: int = 2048, seconds: float = 0.5, repeats: int = 3
) -> Dict[str, Any]:
    """float32 matmul GFLOP/s, the best of `repeats` timed bursts, measured once per machine,
    device and thread count, then cached. It is an attainable peak, not the datasheet one:
    convolutions computed by Winograd or FFT do fewer multiplications than their nominal
    FLOPs, so a model can show more than 100% of it."""
    key = _machine_key(device, threads)
    cache = json.loads(CACHE.read_text()) if CACHE.is_file() else {}
    if key in cache:
        return {**cache[key], "cached": True}
    import torch

    a = torch.rand(size, size, device=device)
    b = torch.rand(size, size, device=device)
    for _ in range(3):
        a @ b
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    best = 0.0
    for _ in range(repeats):
        calls = 0
        sync()
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            a @ b
            calls += 1
        sync()
        best = max(best, 2 * size**3 * calls / (time.perf_counter() - start) / 1e9)
    entry = {"gflops": best, "matmul_size": size, "dtype": "float32"}
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    cache[key] = entry
    CACHE.write_text(json.dumps(cache, indent=2))
    return {**entry, "cached": False}
