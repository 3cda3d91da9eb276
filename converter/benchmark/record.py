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

    from converter.benchmark.resources import ABOVE_PEAK, above_theoretical, peak_path

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
        text += f"% peak: of the measured float32 matmul peak, {peak['gflops']:.1f} GFLOP/s{peak_path(peak)}"
        text += f" (theoretical {theoretical['gflops']:.1f} GFLOP/s: {theoretical['basis']})\n" if theoretical else "\n"
        text += f"{note}\n" if (note := above_theoretical(peak, theoretical)) else ""
    if any(case.get("above_measured_peak") for case in report["cases"]):
        text += f"!: above 100% of the measured peak: {ABOVE_PEAK}\n"
    if cold:
        text += f"cold start (fresh process): load {cold['load_s']:.3f} s, whole process {cold['process_s']:.2f} s\n"
    return text


# Eager and the artifact, in the colours people know from matplotlib's first two.
CONTENDER_COLOURS = {"eager": "#1f77b4", "artifact": "#ff7f0e"}


def chart_svg(report: Dict[str, Any], title: str) -> str:
    """p50 latency of eager and the artifact per size, whiskers from the fastest call to p90: SVG
    (converter.records.svg), drawn in microseconds where pyplot's import took half a second."""
    from converter.records.svg import document, round_ticks, text

    cases = report["cases"]
    width, height, left, top, bottom = max(360, 150 * len(cases) + 130), 360, 64, 40, 300
    right = width - 110
    ms = {
        who: [{k: c["latency_s"][who][k] * 1000 for k in ("min", "p50", "p90")} for c in cases]
        for who in CONTENDER_COLOURS
    }
    ticks = round_ticks(max((m["p90"] for who in ms for m in ms[who]), default=0.0))
    scale = (bottom - top) / ticks[-1]
    slot = (right - left) / max(1, len(cases))
    out = [
        f'<text x="{(left + right) / 2:g}" y="22" text-anchor="middle" font-size="14">{text(title)}</text>',
        f'<text transform="translate(16 {(top + bottom) / 2:g}) rotate(-90)" text-anchor="middle">'
        "latency p50 (ms), whiskers min..p90</text>",
    ]
    for tick in ticks:
        y = bottom - tick * scale
        out.append(f'<line class="tick" x1="{left}" x2="{right}" y1="{y:g}" y2="{y:g}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:g}" text-anchor="end">{tick:g}</text>')
    for index, case in enumerate(cases):
        label = sizes_label(case["sizes"])
        for offset, who in enumerate(CONTENDER_COLOURS):
            m = ms[who][index]
            x = left + index * slot + slot * (0.12 + 0.38 * offset)
            centre, bar = x + slot * 0.19, slot * 0.38
            out.append(
                f'<rect class="bar" data-who="{who}" data-sizes="{text(label)}" x="{x:g}" '
                f'y="{bottom - m["p50"] * scale:g}" width="{bar:g}" height="{m["p50"] * scale:g}" '
                f'fill="{CONTENDER_COLOURS[who]}"><title>{who} {text(label)}: p50 {m["p50"]:.3g} ms</title></rect>'
            )
            low, high = bottom - m["min"] * scale, bottom - m["p90"] * scale
            out.append(
                f'<path class="whisker" data-who="{who}" d="M{centre:g} {low:g}V{high:g}'
                f'M{centre - 4:g} {low:g}h8M{centre - 4:g} {high:g}h8" stroke="#333333" fill="none"/>'
            )
        out.append(
            f'<text x="{left + (index + 0.5) * slot:g}" y="{bottom + 18}" text-anchor="middle">{text(label)}</text>'
        )
    out.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#333333"/>')
    for index, (who, colour) in enumerate(CONTENDER_COLOURS.items()):
        y = top + index * 20
        out.append(f'<rect x="{right + 14}" y="{y}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text class="legend" x="{right + 32}" y="{y + 10}">{who}</text>')
    return document(width, height, out, title, standalone=True, css_class="bench-chart")


def write_chart(report: Dict[str, Any], path: Path, title: str) -> None:
    path.write_text(chart_svg(report, title))
