"""A disk that fills while a job writes fails that job, never the sweep, and leaves nothing half-written.

The end-to-end case lowers RLIMIT_FSIZE for the sweep, so writes past 8 MiB fail with EFBIG,
as they would with ENOSPC on a full disk, without filling the machine's disk.
"""

from __future__ import annotations

import errno
import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from converter.records.artifacts import save_atomically
from tests.conftest import cli_env


def no_space(path: Path) -> None:
    path.write_bytes(b"partial")
    raise OSError(errno.ENOSPC, "No space left on device", str(path))


@pytest.mark.guarantee(
    "A write fails half-way (full disk)",
    "nothing half-written: files are written under a scratch name, fsynced and renamed",
)
def test_a_failed_write_leaves_neither_the_file_nor_its_scratch_folder(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No space left"):
        save_atomically(no_space, tmp_path / "model.pt2")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_survives_a_failed_rewrite(tmp_path: Path) -> None:
    final = tmp_path / "result.json"
    final.write_text('{"status": "ok"}')
    with pytest.raises(OSError):
        save_atomically(no_space, final)
    assert final.read_text() == '{"status": "ok"}' and [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_the_supervisor_reports_a_result_it_cannot_write_and_goes_on(tmp_path: Path, monkeypatch) -> None:
    import converter.records.run_folder as run_folder

    def full(data, final):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_folder, "write_json_atomically", full)
    from converter.records.results import JobResult

    written = run_folder.write_result(JobResult("m", "b", True, "cpu", status="ok"), tmp_path)
    assert written.written is False and written.status == "ok"
    assert not (tmp_path / "result.json").exists()


def _limit_file_size() -> None:
    limit = 8 * 2**20  # resnet18's 45 MiB artifact cannot be written; classification's 1.4 MiB can
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.guarantee(
    "The disk fills while a job writes its artifact",
    "that job ends `crashed` at stage `save` (torch's zip writer aborts on a short write) with no partial artifact; the sweep goes on and writes its summary",
)
def test_a_sweep_whose_disk_fills_on_one_artifact_fails_that_job_only(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "converter",
            "--multirun",
            "+tiny=resnet18,classification",
            "tracking=off",
            "benchmark=off",
            "validate=off",
        ],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_file_size,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    results = {}
    for path in tmp_path.glob("outputs/multiruns/*/*/*/result.json"):
        result = json.loads(path.read_text())
        results[result["model"]] = result
    assert set(results) == {"resnet18", "classification"}
    # torch 2.14's zip writer calls std::terminate on a short write: the job's process aborts.
    failure = results["resnet18"]["failure"]
    assert (results["resnet18"]["status"], results["resnet18"]["process"]["signal"], failure["stage"]) == (
        "crashed",
        "SIGABRT",
        "save",
    )
    assert "the disk filled" in failure["message"] and "unexpected pos" in failure["traceback"]
    assert results["classification"]["status"] == "ok"
    resnet_dir = next(tmp_path.glob("outputs/multiruns/*/*/0-resnet18-*"))
    assert not [p for p in resnet_dir.iterdir() if p.name.startswith(".model") or p.name == "model.pt2"]
    assert (resnet_dir.parent / "summary.md").is_file()


def test_an_error_while_supervising_fails_the_job_not_the_sweep(tmp_path: Path, monkeypatch) -> None:
    """Reusing a cached result on a full disk: the copy fails; the job is recorded as failed, nothing raises."""
    import converter.sweep.cache as cache_module
    from converter.cli.preflight import compose_jobs, parse_argv
    from converter.config.job_spec import JobSpec
    from converter.sweep.task import run_guarded

    def full_disk(hit, run_dir):
        raise OSError(errno.ENOSPC, "No space left on device", str(run_dir / "graph.txt"))

    monkeypatch.setattr(cache_module, "lookup", lambda cache_dir, key: cache_module.CacheHit(tmp_path, {}))
    monkeypatch.setattr(cache_module, "reuse", full_disk)
    (job,) = compose_jobs(parse_argv(["+model=classification", "tracking=off", "benchmark=off"])).jobs
    result = run_guarded(JobSpec.of(job), tmp_path / "run")
    assert (result.status, result.failure.stage, result.failure.type) == (
        "failed",
        "supervise",
        "builtins.OSError",
    )
    written = json.loads((tmp_path / "run" / "result.json").read_text())
    assert written["status"] == "failed" and "No space left on device" in written["failure"]["message"]
