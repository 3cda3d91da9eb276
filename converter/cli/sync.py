"""`python -m converter sync PATH [tracking overrides]`: log to MLflow what an outage or a kill left unlogged.

PATH is a run folder, a sweep folder, or outputs/. Every job folder with a result.json is
logged unless a run tagged with its folder already exists (so running sync twice creates
nothing the second time). A sweep folder whose parent run is missing gets one; a parent run
left RUNNING by a sweep whose launcher is gone is given its summary and closed (KILLED when
the sweep never finished, FINISHED when it did).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from converter.config.schema import TrackingConfig
from converter.errors import one_line
from converter.records.run_folder import SUMMARY_FILE, SWEEP_FILE, TRACKING_FILE, read_result, run_folders_under


@dataclass
class SyncReport:
    logged: List[str] = field(default_factory=list)
    already: List[str] = field(default_factory=list)
    failed: List[str] = field(default_factory=list)
    parents_closed: List[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [
            f"sync: {len(self.logged)} run(s) logged, {len(self.already)} already in MLflow, "
            f"{len(self.failed)} could not be logged, {len(self.parents_closed)} sweep run(s) closed."
        ]
        lines += [f"  could not log {item}" for item in self.failed]
        return "\n".join(lines)


def _run_folders(path: Path) -> Iterator[Path]:
    for run_dir in run_folders_under(path):
        if run_dir == path or not any(part.startswith(".") for part in run_dir.relative_to(path).parts):
            yield run_dir


def _sweep_folders(runs: List[Path]) -> List[Path]:
    return sorted({run.parent for run in runs if (run.parent / SWEEP_FILE).is_file()})


def _launcher_alive(sweep_dir: Path) -> bool:
    import psutil

    try:
        record = json.loads((sweep_dir / SWEEP_FILE).read_text())
        proc = psutil.Process(int(record["pid"]))
        return proc.create_time() <= float(record["started"]) + 1
    except (OSError, ValueError, KeyError, psutil.Error):
        return False


def _parent_state(tracking: TrackingConfig, sweep_dir: Path) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """The sweep's parent marker and its run's status in this store (None: no such run here)."""
    from converter.tracking.job_run import PARENT_FILE
    from converter.tracking.store import client_and_experiment

    marker_file = sweep_dir / PARENT_FILE
    if not marker_file.is_file():
        return None, None
    marker = json.loads(marker_file.read_text())
    client, _ = client_and_experiment(tracking, marker["experiment"])
    try:
        return marker, client.get_run(marker["run_id"]).info.status
    except Exception:  # noqa: BLE001 (a run id of another store: a parent must be made here)
        return marker, None


def _sweep_experiment(sweep_dir: Path, runs: List[Path], tracking: TrackingConfig) -> Tuple[str, str]:
    config = _config_of(runs[0]) if runs else {}
    sweep = (config.get("tracking") or {}).get("sweep") or tracking.sweep or "sweep"
    experiment = (config.get("tracking") or {}).get("experiment") or tracking.experiment or sweep
    return sweep, experiment


def _config_of(run_dir: Path) -> Dict[str, Any]:
    return read_result(run_dir).get("config") or {}


def sync(path: Path, tracking: TrackingConfig) -> SyncReport:
    """Log every run folder under `path` not yet in the store, with its sweep's parent run."""
    from converter.tracking.job_run import log_job, logged_state
    from converter.tracking.sweep import finish_parent_run, start_parent_run

    report = SyncReport()
    runs = list(_run_folders(path))
    sweeps = _sweep_folders(runs)
    for sweep_dir in sweeps:
        marker, status = _parent_state(tracking, sweep_dir)
        if marker is None or status is None:
            sweep, experiment = _sweep_experiment(sweep_dir, [r for r in runs if r.parent == sweep_dir], tracking)
            start_parent_run(tracking, sweep_dir, sweep, experiment)
    for run_dir in runs:
        result = read_result(run_dir)
        record = result.get("config") or {}
        experiment = (record.get("tracking") or {}).get("experiment") or result["model"]
        settings = replace(tracking, sweep=(record.get("tracking") or {}).get("sweep"))
        try:
            run_id, created = log_job(record, result, run_dir, settings, experiment)
        except Exception as exc:  # noqa: BLE001 (report and go on with the other folders)
            report.failed.append(f"{run_dir} ({one_line(exc)})")
            continue
        (report.logged if created else report.already).append(str(run_dir))
        _mark_logged(run_dir, logged_state(result, settings, run_id))
    for sweep_dir in sweeps:
        marker, status = _parent_state(tracking, sweep_dir)
        if status == "RUNNING" and not _launcher_alive(sweep_dir):
            finished = (sweep_dir / SUMMARY_FILE).is_file()
            finish_parent_run(tracking, sweep_dir, "FINISHED" if finished else "KILLED")
            report.parents_closed.append(str(sweep_dir))
    return report


def _mark_logged(run_dir: Path, state: Mapping[str, Any]) -> None:
    from converter.records.artifacts import write_json_atomically

    write_json_atomically(dict(state), run_dir / TRACKING_FILE)


def main(argv: Optional[List[str]] = None) -> int:
    """`sync PATH [tracking.uri=URI]`: the tracking store is the embedded one unless named."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m converter sync", description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument(
        "overrides", nargs="*", help="tracking.uri=URI (default: CONVERTER_TRACKING_URI or the embedded store)"
    )
    args = parser.parse_args(argv)
    import os

    tracking = TrackingConfig(uri=os.environ.get("CONVERTER_TRACKING_URI"), log_artifact_file=True)
    for override in args.overrides:
        key, _, value = override.partition("=")
        if key not in ("tracking.uri", "tracking.log_artifact_file") or not value:
            print(
                f"sync: unknown argument '{override}'. Fix: give tracking.uri=URI or tracking.log_artifact_file=false.",
                file=sys.stderr,
            )
            return 2
        if key == "tracking.uri":
            tracking.uri = value
        else:
            tracking.log_artifact_file = value.lower() == "true"
    if not args.path.exists():
        print(f"sync: no folder at '{args.path}'. Fix: give a run folder, a sweep folder or outputs/.", file=sys.stderr)
        return 2
    from converter.tracking.store import check_reachable, tracking_uri

    problem = check_reachable(tracking_uri(tracking))
    if problem:
        print(
            f"sync: no MLflow server answers at {tracking.uri} ({problem}). Fix: start it or correct tracking.uri.",
            file=sys.stderr,
        )
        return 2
    try:
        report = sync(args.path, tracking)
    except ValueError as exc:  # a record this version cannot read (run_folder.read_record)
        print(f"sync: {exc}. Fix: sync it with the converter version that wrote it.", file=sys.stderr)
        return 2
    print(report.text())
    return 1 if report.failed else 0
