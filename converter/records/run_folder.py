"""A job's run folder and its record: the file names, the one writer of result.json (the job's
child, the task for a cached or crashed job, the Slurm launcher for a job Slurm ended write it
through `write_result`) and the one reader: `read_record` for the typed record (results.JobResult),
`read_result` for its JSON form, `has_result` and `run_folders_under`, which every report, the
cache, sync and the benchmark harness go through."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

from converter.records.artifacts import write_json_atomically
from converter.records.results import JobResult

log = logging.getLogger("converter")

# A job's run folder.
RESULT_FILE = "result.json"  # its record, written last: present means the job finished
CONFIG_FILE = "config.yaml"  # the resolved config its child runs, and a user reruns
LOG_FILE = "convert.log"  # the child's stdout and stderr
BENCH_FILE = "bench.json"
BENCH_CHART = "bench.svg"  # its latencies, drawn
GRAPH_FILE = "graph.txt"
OPERATORS_FILE = "operators.txt"
TRACKING_FILE = "tracking.json"  # whether and where MLflow logged it (converter sync reads it)
# A sweep's folder.
SWEEP_FILE = "sweep.json"  # what the sweep will run, written before it starts
SUMMARY_FILE = "summary.md"
REPORT_FILE = "report.html"
NIGHTLY_FILE = "nightly.json"
NIGHTLY_REPORT_FILE = "nightly_report.md"


def write_result(result: JobResult, run_dir: Path) -> JobResult:
    """result.json, atomically; a full disk costs this job's record (`written` false), never the sweep."""
    try:
        write_json_atomically(result.to_dict(), run_dir / RESULT_FILE)
    except OSError as exc:
        log.error(
            "could not write %s (%s): the job's status %s is not on disk", run_dir / RESULT_FILE, exc, result.status
        )
        result.written = False
    return result


def read_record(run_dir: Path) -> Optional[JobResult]:
    """The job's typed record, or None when it has none yet (still running, or killed before it
    wrote one). A record this version of converter cannot read (written by another, or edited)
    raises ValueError naming the file."""
    data = read_json(Path(run_dir) / RESULT_FILE)
    if not data:
        return None
    try:
        return JobResult.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{Path(run_dir) / RESULT_FILE}: {exc}") from exc


def read_json(path: Path) -> Dict[str, Any]:
    """A JSON file a job or callback wrote, or {} when it is missing or half-written."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def read_result(run_dir: Path) -> Dict[str, Any]:
    """The job's record in its JSON form, read through the typed record (every key it defines
    present, none it does not), or {} when it has none yet; ValueError as read_record."""
    record = read_record(run_dir)
    return record.to_dict() if record is not None else {}


def has_result(run_dir: Path) -> bool:
    return (Path(run_dir) / RESULT_FILE).is_file()


def forget_result(run_dir: Path) -> None:
    """Remove a record before the job runs again in the same folder (a stale one would stand for it)."""
    (Path(run_dir) / RESULT_FILE).unlink(missing_ok=True)


def run_folders_under(path: Path) -> List[Path]:
    """`path` itself when it is a run folder, else every run folder with a record under it."""
    path = Path(path)
    if has_result(path):
        return [path]
    return sorted(record.parent for record in path.rglob(RESULT_FILE))
