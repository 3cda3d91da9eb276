"""Writing a job's record into its run folder: result.json, atomically, whoever writes it (the
job's child, the task for a cached or crashed job, the Slurm launcher for a job Slurm ended)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict

from converter.records.artifacts import write_json_atomically

log = logging.getLogger("converter")

# A job's run folder.
RESULT_FILE = "result.json"  # its record, written last: present means the job finished
CONFIG_FILE = "config.yaml"  # the resolved config its child runs, and a user reruns
LOG_FILE = "convert.log"  # the child's stdout and stderr
BENCH_FILE = "bench.json"
GRAPH_FILE = "graph.txt"
OPERATORS_FILE = "operators.txt"
TRACKING_FILE = "tracking.json"  # whether and where MLflow logged it (converter sync reads it)
# A sweep's folder.
SWEEP_FILE = "sweep.json"  # what the sweep will run, written before it starts
SUMMARY_FILE = "summary.md"
REPORT_FILE = "report.html"
NIGHTLY_FILE = "nightly.json"
NIGHTLY_REPORT_FILE = "nightly_report.md"


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
