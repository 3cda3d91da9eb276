"""bench.json's human side: a table in the terminal and a latency chart."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Dict

from converter.tensors.dims import sizes_label


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def render_table(report: Dict[str, Any], title: str) -> str:
    """A rich table, returned as text so it can go to the log as well as the terminal."""
    from rich.console import Console
    from rich.table import Table

    from converter.benchmark.resources import ABOVE_PEAK

    table = Table(title=title)
    for column in (
        "sizes",
        "who",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "cv",
        "items/s",
        "speedup [CI]",
        "GFLOP/s",
        "% peak",
        "peak MB",
    ):
        table.add_column(column, justify="right" if column not in ("sizes", "who") else "left")
    for case in report["cases"]:
        label = sizes_label(case["sizes"])
        for who in ("eager", "artifact"):
            s = case["latency_s"][who]
            speed = case["speedup"]
            gflops = (case.get("achieved_gflops") or {}).get(who)
            fraction = (case.get("fraction_of_peak") or {}).get(who)
            memory = (case.get("peak_memory_mb") or {}).get(who)
            table.add_row(
                label if who == "eager" else "",
                who + (" (noisy)" if case["noisy"][who] else ""),
                _ms(s["p50"]),
                _ms(s["p90"]),
                _ms(s["p99"]),
                f"{s['cv']:.2f}",
                f"{case['throughput_items_per_s'][who]:.1f}",
                f"{speed['ratio']:.2f}x [{speed['low']:.2f}, {speed['high']:.2f}]" if who == "artifact" else "1.00x",
                f"{gflops:.1f}" if gflops else "-",
                (f"{fraction * 100:.1f}" + (" !" if fraction > 1 else "")) if fraction else "-",
                f"{memory:.1f}" if memory is not None else "-",
            )
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(table)
    cold = report.get("cold_start")
    text = console.export_text()
    peak, theoretical = report.get("machine_peak"), report.get("theoretical_peak")
    if peak:
        text += f"% peak: of the measured float32 matmul peak, {peak['gflops']:.1f} GFLOP/s"
        text += f" (theoretical {theoretical['gflops']:.1f} GFLOP/s: {theoretical['basis']})\n" if theoretical else "\n"
    if any(case.get("above_measured_peak") for case in report["cases"]):
        text += f"!: above 100% of the measured peak: {ABOVE_PEAK}\n"
    if cold:
        text += f"cold start (fresh process): load {cold['load_s']:.3f} s, whole process {cold['process_s']:.2f} s\n"
    return text


def write_chart(report: Dict[str, Any], path: Path, title: str) -> None:
    """p50 latency of eager and the artifact per size, error bars from p10-ish (min) to p90."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [sizes_label(c["sizes"]) for c in report["cases"]]
    fig, ax = plt.subplots(figsize=(max(4, 1.6 * len(labels) + 2), 3.6))
    width = 0.38
    for offset, who in ((-width / 2, "eager"), (width / 2, "artifact")):
        p50 = [c["latency_s"][who]["p50"] * 1000 for c in report["cases"]]
        low = [p - c["latency_s"][who]["min"] * 1000 for p, c in zip(p50, report["cases"], strict=True)]
        high = [c["latency_s"][who]["p90"] * 1000 - p for p, c in zip(p50, report["cases"], strict=True)]
        xs = [i + offset for i in range(len(labels))]
        ax.bar(xs, p50, width, yerr=[low, high], capsize=4, label=who)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("latency p50 (ms), bars min..p90")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
