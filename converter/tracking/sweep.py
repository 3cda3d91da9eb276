"""Hydra callback for sweeps: one parent MLflow run, the summary logged to it at the end, and
for nightlies the comparison with the previous one."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Dict, List

from hydra.experimental.callback import Callback
from omegaconf import OmegaConf

from converter.tracking.job import PARENT_FILE

log = logging.getLogger("converter")
# Set by on_multirun_end for the CLI's exit code: a nightly that regressed exits non-zero.
REGRESSED: List[bool] = []


def sweep_name(config: Any) -> str:
    return OmegaConf.select(config, "tracking.sweep") or "sweep"


def experiment_name(config: Any) -> str:
    return OmegaConf.select(config, "tracking.experiment") or sweep_name(config)


class TrackingCallback(Callback):
    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        tracking = OmegaConf.to_container(config.tracking, resolve=True)
        if not tracking["enabled"]:
            return
        from converter.tracking.store import client_and_experiment, git_commit

        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        name = experiment_name(config)
        client, experiment_id = client_and_experiment(tracking, name)
        tags = {"kind": "sweep", "sweep": sweep_name(config), "sweep_dir": str(sweep_dir)}
        commit = git_commit()
        if commit:
            tags["git_commit"] = commit
        run = client.create_run(
            experiment_id, run_name=f"{sweep_name(config)} {time.strftime('%Y-%m-%d %H:%M:%S')}", tags=tags
        )
        marker = {"run_id": run.info.run_id, "experiment": name, "experiment_id": experiment_id}
        (sweep_dir / PARENT_FILE).write_text(json.dumps(marker))
        log.info("sweep logged to MLflow parent run %s (experiment '%s')", run.info.run_id, name)

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        marker = sweep_dir / PARENT_FILE
        if not marker.is_file():
            return
        tracking = OmegaConf.to_container(config.tracking, resolve=True)
        parent = json.loads(marker.read_text())
        from converter.summary import collect_results, matrix_markdown
        from converter.tracking.store import client_and_experiment

        client, _ = client_and_experiment(tracking, parent["experiment"])
        results = collect_results(sweep_dir)
        log_sweep_summary(client, parent["run_id"], results, matrix_markdown(results) if results else "no jobs")
        if tracking.get("compare_with_previous"):
            from converter.tracking.nightly import compare_with_previous

            report = compare_with_previous(client, parent["experiment_id"], parent["run_id"], tracking)
            client.log_text(parent["run_id"], report.markdown(), "nightly_report.md")
            client.set_tag(parent["run_id"], "regressed", str(report.regressed).lower())
            print(f"\n{report.markdown()}\n", flush=True)
            if report.regressed:
                REGRESSED.append(True)
        client.set_terminated(parent["run_id"], "FINISHED")


def summary_table(results: List[Dict[str, Any]]) -> Dict[str, List[Any]]:
    columns: Dict[str, List[Any]] = {
        k: []
        for k in ("model", "variant", "backend", "status", "failure", "speedup", "artifact_p50_ms", "max_abs_error")
    }
    for r in results:
        failure = r.get("failure") or {}
        bench = r.get("benchmark") or {}
        outputs = (r.get("validation") or {}).get("outputs") or {}
        columns["model"].append(r["model"])
        columns["variant"].append(r.get("variant") or "")
        columns["backend"].append(r["backend"])
        columns["status"].append(r["status"])
        columns["failure"].append(
            f"{failure.get('stage', '')}: {(failure.get('message') or '').strip()[:200]}" if failure else ""
        )
        columns["speedup"].append(bench.get("speedup"))
        columns["artifact_p50_ms"].append(bench["artifact_p50_s"] * 1000 if bench.get("artifact_p50_s") else None)
        columns["max_abs_error"].append(max((o["max_abs_error"] for o in outputs.values()), default=None))
    return columns


def log_sweep_summary(client: Any, run_id: str, results: List[Dict[str, Any]], markdown: str) -> None:
    """The job table (as an MLflow table), the markdown report and a status chart on the parent run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    client.log_table(run_id, data=summary_table(results), artifact_file="jobs.json")
    client.log_text(run_id, markdown, "summary.md")
    counts: Dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    for status, count in counts.items():
        client.log_metric(run_id, f"jobs_{status}", count)
    client.log_metric(run_id, "jobs_total", len(results))
    backends = sorted({r["backend"] for r in results})
    fig, ax = plt.subplots(figsize=(6, 3))
    bottom = [0] * len(backends)
    for status in sorted(counts):
        heights = [sum(1 for r in results if r["backend"] == b and r["status"] == status) for b in backends]
        ax.bar(backends, heights, bottom=bottom, label=status)
        bottom = [x + h for x, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel("jobs")
    ax.set_title("sweep: jobs per backend")
    ax.legend()
    fig.tight_layout()
    client.log_figure(run_id, fig, "summary.png")
    plt.close(fig)
