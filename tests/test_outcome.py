"""Exit codes come from the files jobs wrote, whichever process ran them."""

from __future__ import annotations

import json
from pathlib import Path

from converter.records.outcome import EXIT_FAILED, EXIT_OK, job_dirs, run_exit_code, sweep_exit_code


def job(sweep: Path, name: str, status: str, logged: bool | None = True) -> Path:
    folder = sweep / name
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps({"status": status}))
    if logged is not None:
        (folder / "tracking.json").write_text(json.dumps({"logged": logged}))
    return folder


def test_a_sweep_of_ok_jobs_exits_0(tmp_path: Path) -> None:
    (tmp_path / "sweep.json").write_text(json.dumps({"total": 2}))
    job(tmp_path, "0-a-torch_export", "ok")
    job(tmp_path, "1-b-torch_export", "ok", logged=None)
    assert sweep_exit_code(tmp_path) == EXIT_OK


def test_each_way_a_sweep_falls_short_exits_1(tmp_path: Path) -> None:
    for status in ("failed", "crashed", "timeout", "oom"):
        sweep = tmp_path / status
        job(sweep, "0-a-torch_export", "ok")
        job(sweep, "1-b-torch_export", status)
        assert sweep_exit_code(sweep) == EXIT_FAILED, status
    unlogged = tmp_path / "unlogged"
    job(unlogged, "0-a-torch_export", "ok", logged=False)
    assert sweep_exit_code(unlogged) == EXIT_FAILED
    missing = tmp_path / "missing"
    (missing).mkdir()
    (missing / "sweep.json").write_text(json.dumps({"total": 3}))
    job(missing, "0-a-torch_export", "ok")
    assert sweep_exit_code(missing) == EXIT_FAILED, "jobs that never started are not a pass"
    regressed = tmp_path / "regressed"
    job(regressed, "0-a-torch_export", "ok")
    (regressed / "nightly.json").write_text(json.dumps({"regressed": True}))
    assert sweep_exit_code(regressed) == EXIT_FAILED
    assert sweep_exit_code(tmp_path / "empty") == EXIT_FAILED


def test_a_job_folder_without_a_result_fails_its_run(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    assert run_exit_code(tmp_path / "run") == EXIT_FAILED
    assert run_exit_code(job(tmp_path, "ok-run", "ok")) == EXIT_OK


def test_job_folders_are_in_job_order_not_name_order(tmp_path: Path) -> None:
    for name in ("10-k-torch_export", "2-c-torch_export", "0-a-torch_export", ".hidden", "cache"):
        (tmp_path / name).mkdir()
    assert [p.name for p in job_dirs(tmp_path)] == ["0-a-torch_export", "2-c-torch_export", "10-k-torch_export"]
