"""The exit code of an invocation, read from what its jobs and callbacks wrote to disk.

Jobs may run in this process, in joblib workers or on cluster nodes; the files they leave
(result.json, tracking.json, the nightly verdict) are the one record all of them share.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional

from converter.records.results import Status
from converter.records.run_folder import (
    NIGHTLY_FILE,
    SWEEP_FILE,
    TRACKING_FILE,
    read_json,
    read_result,
    run_folders_under,
)

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


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
        if read_result(run_dir).get("status") != Status.OK:
            return False
        tracking = read_json(run_dir / TRACKING_FILE)
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


def results_under(path: Path) -> List[Dict[str, Any]]:
    """Every result.json at or under `path` (a run folder, a sweep folder, outputs/), each with its folder."""
    found = []
    for run_dir in run_folders_under(path):
        result = read_result(run_dir)
        if result.get("status"):
            found.append({**result, "run_dir": str(run_dir)})
    return found


def category_of(result: Mapping[str, Any]) -> Optional[str]:
    """The failure's category (the status for a job killed before it could say), None when ok."""
    if result.get("status") == Status.OK:
        return None
    return (result.get("failure") or {}).get("category") or result.get("status") or "unknown"


def category_counts(results: List[Mapping[str, Any]]) -> List[tuple]:
    """(category, count) over failed jobs, the most frequent first (ties by name)."""
    counts = Counter(c for c in map(category_of, results) if c)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
