"""report.html: a sweep's results as one self-contained page people open.

The model-by-backend matrix with each cell coloured by status (cached cells marked), the
speedup over eager with its interval, the worst validation error, a failure's one-line reason,
and a link to each job's MLflow run; the fastest validated target per model; the status chart;
for nightlies, what changed since the last one. No scripts, no network: CSS inline, the chart
inline SVG, so it reads the same from disk, from an e-mail or in MLflow's viewer.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from converter.config.schema import LOCAL_UI_URL, TrackingConfig
from converter.records.outcome import category_of, read_json
from converter.records.results import STATUS_ORDER, Status, failure_reason, not_validated, target_label, worst_error
from converter.records.run_folder import BENCH_FILE, NIGHTLY_REPORT_FILE, REPORT_FILE, TRACKING_FILE
from converter.reporting.best_target import fastest_targets, model_label, verdict
from converter.reporting.charts import status_chart_svg

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #1c1c1c; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
.meta { color: #555; } table { border-collapse: collapse; margin-top: .6em; }
th, td { border: 1px solid #d0d0d0; padding: .45em .7em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; } td.cell { min-width: 13em; max-width: 26em; }
td.ok { background: #e3f4e4; } td.failed { background: #fbe3e3; } td.crashed { background: #efe2f7; }
td.timeout { background: #fdebd8; } td.oom { background: #ece3df; } td.missing { background: #fafafa; color: #999; }
.status { font-weight: 600; } td.ok .status { color: #2e7d32; } td.failed .status { color: #c62828; }
td.crashed .status { color: #6a1b9a; } td.timeout .status { color: #ef6c00; } td.oom .status { color: #5d4037; }
.cached { font-size: .8em; background: #e0e7ff; color: #283593; border-radius: 3px; padding: 0 .35em; margin-left: .3em; }
.detail { display: block; color: #333; font-size: .9em; } .reason { display: block; font-size: .85em; color: #444; }
.category { font-weight: 600; margin-left: .4em; } .fix { display: block; font-size: .85em; } .fix code { background: #fff8; } .fix.verified { font-weight: 600; color: #1b5e20; }
.counts span { margin-right: 1.2em; } svg.status-chart { max-width: 100%; height: auto; margin-top: .8em; } pre { background: #f6f6f6; padding: .8em; }
"""


@dataclass(frozen=True)
class Links:
    """Where a job's MLflow run opens: `{ui}/#/experiments/{experiment}/runs/{run}`."""

    ui: Optional[str]
    experiment_id: Optional[str]

    def run(self, run_id: Optional[str]) -> Optional[str]:
        if not (self.ui and self.experiment_id and run_id):
            return None
        return f"{self.ui.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{run_id}"


def ui_url(tracking: TrackingConfig) -> str:
    """The MLflow UI for this store: tracking.ui_url, the server itself, or what `make ui` serves."""
    uri = tracking.uri or ""
    return tracking.ui_url or (uri if uri.startswith(("http://", "https://")) else LOCAL_UI_URL)


def _speedup(run_dir: Path) -> Optional[Dict[str, float]]:
    cases = read_json(run_dir / BENCH_FILE).get("cases") or []
    return cases[0]["speedup"] if cases else None


# A failed cell's left border says its failure category (the cell's colour says its status).
CATEGORY_COLOURS = {
    "loader_rejected": "#ad494a",
    "input_rejected": "#e7ba52",
    "static_shape": "#1f77b4",
    "strict_tracing": "#9467bd",
    "input_mutation": "#8c564b",
    "not_a_module": "#e377c2",
    "unsupported_output": "#17becf",
    "trace_divergence": "#bcbd22",
    "script_unsupported": "#ff7f0e",
    "data_dependent": "#2ca02c",
    "missing_op": "#7f7f7f",
    "unsupported_op": "#393b79",
    "device_mismatch": "#637939",
    "compiler_error": "#843c39",
    "artifact_error": "#7b4173",
    "validation_mismatch": "#d62728",
    "unknown": "#000000",
}


def _cell(result: Optional[Dict[str, Any]], links: Links) -> str:
    if result is None:
        return '<td class="cell missing">not run</td>'
    status = result["status"]
    parts = [f'<span class="status">{html.escape(status)}</span>']
    if result.get("cached"):
        parts.append('<span class="cached">cached</span>')
    run_dir = Path(result.get("run_dir", ""))
    if status == Status.OK:
        details = []
        speed = _speedup(run_dir)
        if speed:
            details.append(f"{speed['ratio']:.2f}x eager [{speed['low']:.2f}, {speed['high']:.2f}]")
        worst = worst_error(result)
        if worst is not None:
            details.append(f"max abs err {worst:.1e}")
        skipped = not_validated(result)
        if skipped:
            details.append(f"not validated: {skipped}")
        if details:
            parts.append(f'<span class="detail">{html.escape(" · ".join(details))}</span>')
    style = ""
    if status != Status.OK:
        category = category_of(result) or "unknown"
        if category != status:
            parts.append(f'<span class="category">{html.escape(category)}</span>')
            style = f' style="border-left: 8px solid {CATEGORY_COLOURS.get(category, "#555555")}"'
        parts.append(f'<span class="reason">{html.escape(failure_reason(result)[:240])}</span>')
        from converter.records.fix_record import fix_line

        head, _, command = fix_line(result.get("failure") or {}).partition(": ")
        if command:
            verified = " verified" if head.startswith("fix (verified") else ""
            parts.append(f'<span class="fix{verified}">{html.escape(head)}: <code>{html.escape(command)}</code></span>')
    link = links.run(read_json(run_dir / TRACKING_FILE).get("run_id"))
    if link:
        parts.append(f'<a class="run" href="{html.escape(link)}">MLflow run</a>')
    return f'<td class="cell {html.escape(status)}"{style}>{" ".join(parts)}</td>'


def render(sweep_dir: Path, results: List[Dict[str, Any]], tracking: TrackingConfig) -> str:

    parent = read_json(sweep_dir / ".mlflow_parent.json")
    links = Links(ui_url(tracking), parent.get("experiment_id"))
    backends = sorted({target_label(r) for r in results})
    rows: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for result in results:
        rows.setdefault(model_label(result), {})[target_label(result)] = result
    counts = {s: sum(r["status"] == s for r in results) for s in STATUS_ORDER}
    cached = sum(bool(r.get("cached")) for r in results)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>converter sweep {html.escape(sweep_dir.name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>converter sweep {html.escape(sweep_dir.name)}</h1>",
        f'<p class="meta">{html.escape(str(sweep_dir.resolve()))} · written {time.strftime("%Y-%m-%d %H:%M:%S")}'
        + (
            f' · <a href="{html.escape(links.run(parent.get("run_id")) or "")}">sweep run in MLflow</a>'
            if links.run(parent.get("run_id"))
            else ""
        )
        + "</p>",
        '<p class="counts">'
        + "".join(f"<span>{html.escape(s)}: <b>{n}</b></span>" for s, n in counts.items())
        + f"<span>cached: <b>{cached}</b></span><span>jobs: <b>{len(results)}</b></span></p>",
        "<h2>Model by backend</h2>",
        '<table id="matrix"><thead><tr><th>model</th>'
        + "".join(f"<th>{html.escape(b)}</th>" for b in backends)
        + "</tr></thead><tbody>",
    ]
    for label, by_backend in sorted(rows.items()):
        out.append(
            f"<tr><th>{html.escape(label)}</th>" + "".join(_cell(by_backend.get(b), links) for b in backends) + "</tr>"
        )
    out.append("</tbody></table>")
    fastest = fastest_targets(results)
    out += ["<h2>Fastest validated target per model and batch size</h2>"]
    if fastest:
        out.append(
            '<table id="fastest"><thead><tr><th>model</th><th>sizes</th><th>backend</th>'
            "<th>speedup over eager [95% CI]</th><th>against eager</th></tr></thead><tbody>"
        )
        for (label, sizes), best in sorted(fastest.items()):
            speed = best["speedup"]
            out.append(
                f"<tr><th>{html.escape(label)}</th><td>{html.escape(sizes)}</td><td>{html.escape(best['backend'])}</td>"
                f"<td>{speed['ratio']:.2f}x [{speed['low']:.2f}, {speed['high']:.2f}]</td>"
                f"<td>{verdict(speed)}</td></tr>"
            )
        out.append("</tbody></table>")
    else:
        out.append("<p>No job was both validated and benchmarked.</p>")
    out.append(f"<h2>Jobs per target</h2>{status_chart_svg(results, standalone=False)}")
    nightly = sweep_dir / NIGHTLY_REPORT_FILE
    if nightly.is_file():
        out.append(f"<h2>Since the last nightly</h2><pre>{html.escape(nightly.read_text())}</pre>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(sweep_dir: Path, results: List[Dict[str, Any]], tracking: TrackingConfig) -> Path:
    from converter.records.artifacts import save_atomically

    page = render(sweep_dir, results, tracking)
    save_atomically(lambda path: path.write_text(page), sweep_dir / REPORT_FILE)
    return sweep_dir / REPORT_FILE
