"""The exit code of an invocation, read from what its jobs and callbacks wrote to disk.

Jobs may run in this process, in joblib workers or on cluster nodes; the files they leave
(result.json, tracking.json, the nightly verdict) are the one record all of them share.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterable, List

from converter.results import Status

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
NIGHTLY_FILE = "nightly.json"
SWEEP_FILE = "sweep.json"


def read_json(path: Path) -> Dict[str, Any]:
    """A JSON file a job or callback wrote, or {} when it is missing or half-written."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def job_dirs(sweep_dir: Path) -> List[Path]:
    """The job folders of a sweep (Hydra's numbered subfolders), in job order."""
    if not sweep_dir.is_dir():
        return []
    found = [p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name[:1].isdigit()]
    return sorted(
        found, key=lambda p: (int(p.name.split("-", 1)[0]) if p.name.split("-", 1)[0].isdigit() else 0, p.name)
    )


def runs_ok(run_dirs: Iterable[Path]) -> bool:
    """Every job has a result, it is ok, and it reached MLflow where tracking was on."""
    dirs = list(run_dirs)
    if not dirs:
        return False
    for run_dir in dirs:
        if read_json(run_dir / "result.json").get("status") != Status.OK:
            return False
        tracking = read_json(run_dir / "tracking.json")
        if tracking and not tracking.get("logged"):
            return False
    return True


def run_exit_code(run_dir: Path) -> int:
    return EXIT_OK if runs_ok([run_dir]) else EXIT_FAILED


def sweep_exit_code(sweep_dir: Path) -> int:
    expected = read_json(sweep_dir / SWEEP_FILE).get("total")
    dirs = job_dirs(sweep_dir)
    if expected is not None and len(dirs) < int(expected):
        return EXIT_FAILED  # jobs that never started (the launcher died) are not a pass
    if read_json(sweep_dir / NIGHTLY_FILE).get("regressed"):
        return EXIT_FAILED
    return EXIT_OK if runs_ok(dirs) else EXIT_FAILED
