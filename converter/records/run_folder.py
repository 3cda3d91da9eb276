"""Writing a job's record into its run folder: result.json, atomically, whoever writes it (the
job's child, the task for a cached or crashed job, the Slurm launcher for a job Slurm ended)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict

from converter.records.artifacts import write_json_atomically
from converter.records.results import RESULT_FILE

log = logging.getLogger("converter")


def write_result(result: Dict[str, Any], run_dir: Path) -> Dict[str, Any]:
    """result.json, atomically; a full disk costs this job's record, never the sweep."""
    try:
        write_json_atomically(result, run_dir / RESULT_FILE)
    except OSError as exc:
        log.error(
            "could not write %s (%s): the job's status %s is not on disk", run_dir / RESULT_FILE, exc, result["status"]
        )
        result = {**result, "written": False}
    return result
