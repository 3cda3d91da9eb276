"""The model-by-backend table of a sweep, built from the result.json files its jobs wrote.

converter.sweep.callbacks writes it after a sweep; `python -m converter.reporting.summary
SWEEP_DIR [--readme README.md]` rebuilds the table later and can embed it in a README
between `<!-- matrix:start -->` and `<!-- matrix:end -->`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from converter.config.schema import TrackingConfig
from converter.records.outcome import category_counts, category_of, job_dirs
from converter.records.results import STATUS_ORDER, Status, failure_reason, not_validated, target_label, worst_error
from converter.records.run_folder import CONFIG_FILE, SUMMARY_FILE, TRACKING_FILE, read_result
from converter.reporting.best_target import fastest_markdown, model_label

START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"


def collect_results(sweep_dir: Path) -> List[Dict[str, Any]]:
    """Every job's result, with `run_dir` and `logged` (None: tracking off) added; a job folder
    without result.json (its supervisor itself was killed) is reported as crashed."""
    results = []
    for job_dir in job_dirs(sweep_dir):
        result = read_result(job_dir)
        if result:
            tracking = job_dir / TRACKING_FILE
            logged = json.loads(tracking.read_text()).get("logged") if tracking.is_file() else None
            results.append({**result, "run_dir": str(job_dir), "logged": logged})
            continue
        config = job_dir / ".hydra" / CONFIG_FILE
        if config.is_file():
            from omegaconf import OmegaConf

            cfg = OmegaConf.load(config)
            model = cfg.get("model") or {}
            results.append(
                {
                    "model": model.get("name", job_dir.name),
                    "variant": model.get("variant"),
                    "backend": cfg.export.backend,
                    "status": Status.CRASHED.value,
                    "failure": {"stage": "job", "type": "crashed", "message": "the job left no result.json"},
                    "run_dir": str(job_dir),
                    "logged": None,
                }
            )
    return results


def cell(result: Dict[str, Any], width: int = 90) -> str:
    cached = ", cached" if result.get("cached") else ""
    if result["status"] == Status.OK:
        skipped = not_validated(result)
        if skipped:
            return f"ok{cached} (not validated: {skipped})"
        worst = worst_error(result)
        return f"ok{cached}" if worst is None else f"ok{cached} (max abs err {worst:.1e})"
    reason = failure_reason(result)
    reason = reason if len(reason) <= width else reason[: width - 1] + "…"
    category = category_of(result)
    label = result["status"] if category == result["status"] else f"{result['status']} [{category}]"
    return f"{label}{cached}: {reason}".replace("|", "\\|")


def matrix_markdown(results: List[Dict[str, Any]]) -> str:
    backends = sorted({target_label(r) for r in results})
    rows: Dict[str, Dict[str, str]] = {}
    for r in results:
        label = model_label(r)
        rows.setdefault(label, {})[target_label(r)] = cell(r)
    lines = ["| model | " + " | ".join(backends) + " |", "|---" * (len(backends) + 1) + "|"]
    for label, by_backend in sorted(rows.items()):
        lines.append(f"| {label} | " + " | ".join(by_backend.get(b, "–") for b in backends) + " |")
    ok = sum(r["status"] == Status.OK for r in results)
    lines += ["", f"{ok} of {len(results)} jobs ok."]
    counts = {status: sum(r["status"] == status for r in results) for status in STATUS_ORDER}
    cached = sum(bool(r.get("cached")) for r in results)
    lines.append(
        "By status: "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        + (f"; {cached} reused from the cache" if cached else "")
        + "."
    )
    categories = category_counts(results)
    if categories:
        lines.append("By failure category: " + ", ".join(f"{n} {c}" for c, n in categories) + ".")
    fixes = [r for r in results if (r.get("failure") or {}).get("fix_overrides")]
    if fixes:
        from converter.records.fix_record import fix_parts

        lines += [
            "",
            "Fixes (a verified one was run and converts; `python -m converter explain SWEEP_DIR` says why):",
            "",
        ]
        for r in fixes:
            label, paste = fix_parts(r["failure"])
            lines.append(f"- {r['model']}/{r['backend']}: {label}: `{paste}`")
    fell_back = [r for r in results if (r.get("strict_mode") or {}).get("strict_failure") and r["status"] == Status.OK]
    if fell_back:
        lines += ["", "export.strict=auto exported non-strict where strict failed:", ""]
        lines += [f"- {r['model']}/{r['backend']}: {r['strict_mode']['strict_failure'][:160]}" for r in fell_back]
    lines += fastest_markdown(results)
    lines += graph_facts_markdown(results)
    unlogged = [r for r in results if r.get("logged") is False]
    if unlogged:
        folders = " ".join(r["run_dir"] for r in unlogged)
        lines += [
            "",
            f"Not logged to MLflow ({len(unlogged)}): "
            + ", ".join(f"{r['model']}/{r['backend']}" for r in unlogged)
            + f". Their files are on disk; log them with `python -m converter sync {folders}`.",
        ]
    return "\n".join(lines)


def _count(facts: Dict[str, Any], name: str) -> str:
    value = facts.get(name)
    return "n/a" if value is None else str(len(value) if isinstance(value, list) else value)


def graph_facts_markdown(results: List[Dict[str, Any]]) -> List[str]:
    """One row per artifact: what predicts whether Core ML, ExecuTorch or TensorRT takes it."""
    rows = [r for r in results if r.get("graph")]
    if not rows:
        return []
    lines = [
        "",
        "Graph facts (converter.exporters.graph_facts; n/a: TorchScript keeps no symbolic shapes or core-ATen set):",
        "",
        "| model | backend | operators | non-core ATen | custom ops | run-time asserts | symbolic dims | parameters |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["model"], r["backend"])):
        g = r["graph"]
        params = f"{g['parameters']:,} ({g['parameter_bytes'] / 2**20:.1f} MiB)"
        lines.append(
            f"| {r['model']} | {r['backend']} | {g['operator_count']} | {_count(g, 'non_core_aten_ops')} | "
            f"{_count(g, 'custom_ops')} | {_count(g, 'runtime_asserts')} | {_count(g, 'symbolic_dims')} | {params} |"
        )
    return lines


def embed_in_readme(readme: Path, table: str, note: str) -> None:
    from converter.records.readme_section import embed

    embed(readme, START, END, f"{note}\n\n{table}")


def write_summary(sweep_dir: Path, tracking: Optional[TrackingConfig] = None) -> Optional[str]:
    """summary.md and report.html in the sweep folder; returns the markdown table."""
    results = collect_results(sweep_dir)
    if not results:
        return None
    from converter.records.artifacts import save_atomically
    from converter.reporting.html_report import write_report

    table = matrix_markdown(results)
    save_atomically(lambda path: path.write_text(table + "\n"), sweep_dir / SUMMARY_FILE)
    write_report(sweep_dir, results, tracking or TrackingConfig())
    return table


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--readme", type=Path, help="embed the table in this file's matrix section")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        print(f"No sweep folder at '{args.sweep_dir}'. Fix: give a folder under outputs/multiruns/.", file=sys.stderr)
        return 2
    table = write_summary(args.sweep_dir)
    if table is None:
        print(f"No job results under '{args.sweep_dir}'.", file=sys.stderr)
        return 1
    print(table)
    if args.readme:
        note = f"Generated by `make matrix` (`python -m converter.reporting.summary`) from `{args.sweep_dir.name}`; do not edit by hand."
        embed_in_readme(args.readme, table, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
