"""The sweep's status chart, drawn alike in report.html and on MLflow's parent run, as SVG
(converter.records.svg): matplotlib's pyplot took the end of every sweep about half a second."""

from __future__ import annotations

from typing import Any, Dict, Sequence

from converter.records.results import Status, target_label
from converter.records.svg import document, text, whole_number_ticks

# What people expect a status to look like: ok green, failed red, the supervisor's verdicts distinct.
STATUS_COLOURS = {
    Status.OK.value: "#2e7d32",
    Status.FAILED.value: "#c62828",
    Status.CRASHED.value: "#6a1b9a",
    Status.TIMEOUT.value: "#ef6c00",
    Status.OOM.value: "#5d4037",
}
WIDTH, HEIGHT = 600, 300
# The plot area inside the picture: room for the title, the axis labels and the legend.
LEFT, RIGHT, TOP, BOTTOM = 48, 470, 34, 230


def status_chart_svg(results: Sequence[Dict[str, Any]], standalone: bool = True) -> str:
    """Jobs per target (a backend, with a reduced precision named: "openvino bf16", as every table
    names it) stacked by status, in status colours, on a whole-number axis. `standalone`: an SVG
    file (with its namespace, as an image viewer needs); otherwise an element to inline in HTML."""
    labels = [target_label(r) for r in results]
    backends = sorted(set(labels))
    present = [s for s in STATUS_COLOURS if any(r["status"] == s for r in results)]
    counts = {
        (b, s): sum(1 for r, label in zip(results, labels, strict=True) if label == b and r["status"] == s)
        for b in backends
        for s in present
    }
    totals = [sum(counts[(b, s)] for s in present) for b in backends]
    ticks = whole_number_ticks(max(totals, default=0))
    scale = (BOTTOM - TOP) / ticks[-1]
    slot = (RIGHT - LEFT) / max(1, len(backends))
    out = [
        f'<text x="{(LEFT + RIGHT) / 2:g}" y="20" text-anchor="middle" font-size="14">sweep: jobs per target</text>',
        f'<text transform="translate(14 {(TOP + BOTTOM) / 2:g}) rotate(-90)" text-anchor="middle">jobs</text>',
    ]
    for tick in ticks:
        y = BOTTOM - tick * scale
        out.append(f'<line class="tick" x1="{LEFT}" x2="{RIGHT}" y1="{y:g}" y2="{y:g}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:g}" text-anchor="end">{tick}</text>')
    for index, backend in enumerate(backends):
        x, bottom = LEFT + index * slot + 0.15 * slot, float(BOTTOM)
        for status in present:
            height = counts[(backend, status)] * scale
            if height:
                name = f"{backend}: {counts[(backend, status)]} {status}"
                out.append(
                    f'<rect class="bar" data-backend="{text(backend)}" data-status="{status}" '
                    f'x="{x:g}" y="{bottom - height:g}" width="{0.7 * slot:g}" height="{height:g}" '
                    f'fill="{STATUS_COLOURS[status]}"><title>{text(name)}</title></rect>'
                )
                bottom -= height
        centre = LEFT + (index + 0.5) * slot
        out.append(
            f'<text transform="translate({centre:g} {BOTTOM + 14}) rotate(-25)" text-anchor="end">'
            f"{text(backend)}</text>"
        )
    out.append(f'<line x1="{LEFT}" x2="{RIGHT}" y1="{BOTTOM}" y2="{BOTTOM}" stroke="#333333"/>')
    for index, status in enumerate(present):
        y = TOP + index * 20
        out.append(f'<rect x="{RIGHT + 16}" y="{y}" width="12" height="12" fill="{STATUS_COLOURS[status]}"/>')
        out.append(f'<text class="legend" x="{RIGHT + 34}" y="{y + 10}">{status}</text>')
    return document(WIDTH, HEIGHT, out, "jobs per target by status", standalone, "status-chart")
