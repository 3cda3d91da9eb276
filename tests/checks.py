"""Assertions more than one test module makes about a job's result (one place, so they agree)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from converter.cli.preflight import compose_jobs, parse_argv
from converter.job.pipeline import run_job
from converter.records.results import JobResult

STAGES = {"load", "reference", "export", "save", "validate"}
# The tests' own models (tests/conf/model/*.yaml), passed to the CLI as --config-dir.
TEST_CONF = str(Path(__file__).resolve().parent / "conf")


def check_ok_result(result: dict, backend: str, logged: bool = True) -> None:
    """`logged`: the job ran under the command line, whose log is convert.log (run_in_process has none)."""
    assert result["status"] == "ok", result["failure"]
    assert result["backend"] == backend and set(result["stages"]) == STAGES
    artifact = Path(result["artifact"]["path"])
    assert artifact.is_file() and artifact.suffix == (".pt2" if backend == "torch_export" else ".pt")
    assert result["artifact"]["size_bytes"] == artifact.stat().st_size
    assert result["artifact"]["sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert result["validation"]["passed"] is True
    assert {"python", "torch"} <= set(result["versions"])
    assert result["config"]["export"]["backend"] == backend
    run_dir = artifact.parent
    assert (run_dir / "config.yaml").is_file() and (run_dir / "convert.log").is_file() == logged
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".model")], "no scratch files left"


def run_in_process(run_dir: Path, *overrides: str) -> JobResult:
    """The one job these overrides compose, run in this process (no child, no supervisor)."""
    (composed,) = compose_jobs(parse_argv(list(overrides))).jobs
    return run_job(composed, run_dir)
