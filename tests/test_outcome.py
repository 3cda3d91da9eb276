"""converter.records.outcome: an invocation's exit code and failure counts, read from its run folders."""

from __future__ import annotations

import json
from pathlib import Path

from converter.records.outcome import (
    EXIT_FAILED,
    EXIT_OK,
    category_counts,
    category_of,
    job_dirs,
    results_under,
    run_exit_code,
    sweep_exit_code,
)


def job(sweep: Path, name: str, status: str, logged=None, category=None) -> Path:
    run_dir = sweep / name
    run_dir.mkdir(parents=True)
    failure = {"stage": "export", "type": "E", "message": "m", "category": category} if category else None
    record = {"model": name, "backend": "onnx", "strict": True, "device": "cpu", "status": status, "failure": failure}
    (run_dir / "result.json").write_text(json.dumps(record))
    if logged is not None:
        (run_dir / "tracking.json").write_text(json.dumps({"logged": logged}))
    return run_dir


def test_a_sweep_passes_when_every_job_is_ok_and_logged(tmp_path: Path) -> None:
    (tmp_path / "sweep.json").write_text(json.dumps({"total": 2}))
    job(tmp_path, "1-b", "ok", logged=True)
    job(tmp_path, "0-a", "ok")
    (tmp_path / ".hydra").mkdir()
    assert [p.name for p in job_dirs(tmp_path)] == ["0-a", "1-b"]
    assert sweep_exit_code(tmp_path) == EXIT_OK


def test_a_failed_job_a_job_mlflow_missed_or_one_never_started_fails_the_sweep(tmp_path: Path) -> None:
    (tmp_path / "sweep.json").write_text(json.dumps({"total": 3}))
    job(tmp_path, "0-a", "ok")
    job(tmp_path, "1-b", "ok")
    assert sweep_exit_code(tmp_path) == EXIT_FAILED, "the third job never started"
    unlogged = job(tmp_path, "2-c", "ok", logged=False)
    assert (sweep_exit_code(tmp_path), run_exit_code(unlogged)) == (EXIT_FAILED, EXIT_FAILED)
    assert run_exit_code(tmp_path / "0-a") == EXIT_OK
    assert run_exit_code(tmp_path / "missing") == EXIT_FAILED


def test_a_nightly_regression_fails_a_sweep_of_ok_jobs(tmp_path: Path) -> None:
    job(tmp_path, "0-a", "ok")
    (tmp_path / "nightly.json").write_text(json.dumps({"regressed": ["a/onnx"]}))
    assert sweep_exit_code(tmp_path) == EXIT_FAILED


def test_failures_are_counted_by_category_the_status_standing_in(tmp_path: Path) -> None:
    job(tmp_path, "0-a", "failed", category="data_dependent")
    job(tmp_path, "1-b", "failed", category="data_dependent")
    job(tmp_path, "2-c", "oom")
    job(tmp_path, "3-d", "ok")
    results = results_under(tmp_path)
    assert [r["run_dir"] for r in results] == [str(tmp_path / n) for n in ("0-a", "1-b", "2-c", "3-d")]
    assert [category_of(r) for r in results] == ["data_dependent", "data_dependent", "oom", None]
    assert category_counts(results) == [("data_dependent", 2), ("oom", 1)]


# Every status short of ok, and job order (numbers, not names).


def test_each_way_a_sweep_falls_short_exits_1(tmp_path: Path) -> None:
    for status in ("failed", "crashed", "timeout", "oom"):
        sweep = tmp_path / status
        job(sweep, "0-a-torch_export", "ok")
        job(sweep, "1-b-torch_export", status)
        assert sweep_exit_code(sweep) == EXIT_FAILED, status
    assert sweep_exit_code(tmp_path / "empty") == EXIT_FAILED, "a sweep with no job folder is no pass"


def test_job_folders_are_in_job_order_not_name_order(tmp_path: Path) -> None:
    for name in ("10-k-torch_export", "2-c-torch_export", "0-a-torch_export", ".hidden", "cache"):
        (tmp_path / name).mkdir()
    assert [p.name for p in job_dirs(tmp_path)] == ["0-a-torch_export", "2-c-torch_export", "10-k-torch_export"]
