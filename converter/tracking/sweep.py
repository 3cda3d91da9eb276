"""A sweep's MLflow parent run: opened at the start, the summary logged to it at the end, and
for nightlies the comparison with the previous one (Hydra's callback: converter.tracking.callback)."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from omegaconf import OmegaConf

from converter.config.schema import TrackingConfig
from converter.errors import one_line
from converter.records.artifacts import save_atomically, write_json_atomically
from converter.records.results import worst_error
from converter.records.run_folder import NIGHTLY_FILE, NIGHTLY_REPORT_FILE, SUMMARY_FILE
from converter.reporting.charts import status_chart_svg
from converter.reporting.html_report import write_report
from converter.tracking.job_run import PARENT_FILE

# The status chart on the parent run; MLflow's artifact viewer shows SVG as an image.
STATUS_CHART_FILE = "summary.svg"

log = logging.getLogger("converter")


def sweep_name(config: Any) -> str:
    return OmegaConf.select(config, "tracking.sweep") or "sweep"


def experiment_name(config: Any) -> str:
    return OmegaConf.select(config, "tracking.experiment") or sweep_name(config)


def report_outage(what: str, tracking: TrackingConfig, sweep_dir: Path, exc: Exception) -> None:
    reason = one_line(exc)
    print(
        f"Tracking error: could not {what} at {tracking.uri or 'the embedded store'} ({reason}). "
        f"The sweep goes on and its files stay in {sweep_dir}. "
        f"Fix: once MLflow is reachable, run `python -m converter sync {sweep_dir}`.",
        file=sys.stderr,
        flush=True,
    )


def start_parent_run(tracking: TrackingConfig, sweep_dir: Path, sweep: str, experiment: str) -> str:
    """The sweep's parent run, recorded in the sweep folder so that jobs (any process) and sync find it."""
    from converter.tracking.store import client_and_experiment, git_commit, tracking_lock

    sweep_dir.mkdir(parents=True, exist_ok=True)
    with tracking_lock(tracking):
        client, experiment_id = client_and_experiment(tracking, experiment)
        tags = {"kind": "sweep", "sweep": sweep, "sweep_dir": str(sweep_dir.resolve())}
        commit = git_commit()
        if commit:
            tags["git_commit"] = commit
        run = client.create_run(experiment_id, run_name=f"{sweep} {time.strftime('%Y-%m-%d %H:%M:%S')}", tags=tags)
    marker = {"run_id": run.info.run_id, "experiment": experiment, "experiment_id": experiment_id}
    write_json_atomically(marker, sweep_dir / PARENT_FILE)
    log.info("sweep logged to MLflow parent run %s (experiment '%s')", run.info.run_id, experiment)
    return run.info.run_id


def finish_parent_run(tracking: TrackingConfig, sweep_dir: Path, status: str = "FINISHED") -> Optional[Any]:
    """Log the job table, summary and chart to the parent run and close it; for nightlies, compare
    with the previous sweep (nightly.json in the sweep folder holds the verdict)."""
    from converter.reporting.best_target import run_name_suffix
    from converter.reporting.summary import collect_results, matrix_markdown
    from converter.tracking.store import client_and_experiment, tracking_lock

    parent = json.loads((sweep_dir / PARENT_FILE).read_text())
    results = collect_results(sweep_dir)
    report = None
    with tracking_lock(tracking):
        client, _ = client_and_experiment(tracking, parent["experiment"])
        log_sweep_summary(client, parent["run_id"], results, matrix_markdown(results) if results else "no jobs")
        best = run_name_suffix(results)
        if best:  # the parent run's name says what to deploy
            name = client.get_run(parent["run_id"]).info.run_name
            client.set_tag(parent["run_id"], "mlflow.runName", f"{name}{best}"[:250])
        if tracking.compare_with_previous:
            from converter.tracking.nightly import compare_with_previous

            report = compare_with_previous(client, parent["experiment_id"], parent["run_id"], tracking)
            client.log_text(parent["run_id"], report.markdown(), NIGHTLY_REPORT_FILE)
            client.set_tag(parent["run_id"], "regressed", str(report.regressed).lower())
            save_atomically(lambda path: path.write_text(report.markdown()), sweep_dir / NIGHTLY_REPORT_FILE)
        if results:  # with the nightly comparison, if any, and links to the runs now logged
            client.log_artifact(parent["run_id"], str(write_report(sweep_dir, results, tracking)))
        client.set_terminated(parent["run_id"], status)
    if report is not None:
        write_json_atomically({"regressed": report.regressed}, sweep_dir / NIGHTLY_FILE)
    return report


def start_parent_run_or_report(tracking: TrackingConfig, sweep_dir: Path, sweep: str, experiment: str) -> None:
    """start_parent_run; an outage is reported, never raised (it must not stop the sweep)."""
    try:
        start_parent_run(tracking, sweep_dir, sweep, experiment)
    except Exception as exc:  # noqa: BLE001
        report_outage("create the sweep's parent run", tracking, sweep_dir, exc)


def summary_table(results: List[Dict[str, Any]]) -> Dict[str, List[Any]]:
    columns: Dict[str, List[Any]] = {
        k: []
        for k in ("model", "variant", "backend", "status", "failure", "speedup", "artifact_p50_ms", "max_abs_error")
    }
    for r in results:
        failure = r.get("failure") or {}
        bench = r.get("benchmark") or {}
        columns["model"].append(r["model"])
        columns["variant"].append(r.get("variant") or "")
        columns["backend"].append(r["backend"])
        columns["status"].append(r["status"])
        columns["failure"].append(
            f"{failure.get('stage', '')}: {(failure.get('message') or '').strip()[:200]}" if failure else ""
        )
        columns["speedup"].append(bench.get("speedup"))
        columns["artifact_p50_ms"].append(bench["artifact_p50_s"] * 1000 if bench.get("artifact_p50_s") else None)
        columns["max_abs_error"].append(worst_error(r))
    return columns


def log_sweep_summary(client: Any, run_id: str, results: List[Dict[str, Any]], markdown: str) -> None:
    """The job table (as an MLflow table), the markdown report and a status chart on the parent run."""
    client.log_table(run_id, data=summary_table(results), artifact_file="jobs.json")
    client.log_text(run_id, markdown, SUMMARY_FILE)
    counts: Dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    for status, count in counts.items():
        client.log_metric(run_id, f"jobs_{status}", count)
    client.log_metric(run_id, "jobs_total", len(results))
    client.log_text(run_id, status_chart_svg(results), STATUS_CHART_FILE)
