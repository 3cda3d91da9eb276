"""The sweep's status chart, drawn alike in report.html and on MLflow's parent run."""

from __future__ import annotations

from typing import Any, Dict, List

from converter.records.results import Status

# What people expect a status to look like: ok green, failed red, the supervisor's verdicts distinct.
STATUS_COLOURS = {
    Status.OK.value: "#2e7d32",
    Status.FAILED.value: "#c62828",
    Status.CRASHED.value: "#6a1b9a",
    Status.TIMEOUT.value: "#ef6c00",
    Status.OOM.value: "#5d4037",
}


def write_status_chart(results: List[Dict[str, Any]], ax: Any) -> None:
    """Jobs per backend stacked by status, in status colours, on a whole-number axis."""
    from matplotlib.ticker import MaxNLocator

    backends = sorted({r["backend"] for r in results})
    present = [s for s in STATUS_COLOURS if any(r["status"] == s for r in results)]
    bottom = [0] * len(backends)
    for status in present:
        heights = [sum(1 for r in results if r["backend"] == b and r["status"] == status) for b in backends]
        ax.bar(backends, heights, bottom=bottom, label=status, color=STATUS_COLOURS[status])
        bottom = [x + h for x, h in zip(bottom, heights, strict=True)]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("jobs")
    ax.set_title("sweep: jobs per backend")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.figure.tight_layout()
