"""A sweep survives anything one model does: real segfaults, aborts, hangs, runaway memory,
exits and stray processes, under the basic, joblib and submitit launchers.

Each fault model lives in tests/faults.py with its YAML in tests/conf/model/; the hang and the
memory hog carry their own short timeout and 1.5 GiB cap, so every test bounds itself.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Dict, List

import psutil
import pytest

from tests.checks import TEST_CONF
from tests.faults import PIDS_FILE

TRUST_TESTS = "security.allowed_prefixes=[tests]"
# model -> (status, signal, failure type) the supervisor must record
FAULTS = {
    "segfault": ("crashed", "SIGSEGV", "converter.sweep.isolation.SIGSEGV"),
    "abort": ("crashed", "SIGABRT", "converter.sweep.isolation.SIGABRT"),
    "exits": ("crashed", None, "converter.sweep.isolation.ExitWithoutResult"),
    "hang": ("timeout", None, "converter.sweep.isolation.Timeout"),
    "hog": ("oom", None, "converter.sweep.isolation.MemoryLimit"),
}
GOOD = ("classification", "spawner")


def sweep_args(models: List[str], *extra: str) -> List[str]:
    return [
        "--multirun",
        "--config-dir",
        TEST_CONF,
        "+model=" + ",".join(models),
        TRUST_TESTS,
        "benchmark=off",
        "tracking.experiment=faults",
        *extra,
    ]


def by_model(results: List[Dict]) -> Dict[str, Dict]:
    return {r["model"]: r for r in results}


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def signal_and_check_it_ends(proc, signal_number: int, job_pid: int, why: str) -> str:
    """Send the sweep's launcher a signal; its job's process must be gone within 10 s. Returns
    what the launcher printed on stderr (if it was piped)."""
    import time

    stderr = ""
    try:
        proc.send_signal(signal_number)
        stderr = proc.communicate(timeout=60)[1] or ""
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.time() + 10
    while alive(job_pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not alive(job_pid), why
    return stderr.decode() if isinstance(stderr, bytes) else stderr


def check_intact(result: Dict) -> None:
    """A good job of a sweep with faulty neighbours: ok, artifact on disk with its recorded hash."""
    from converter.records.results import JobResult

    assert result["status"] == "ok", result.get("failure")
    artifact = Path(result["artifact"]["path"])
    assert hashlib.sha256(artifact.read_bytes()).hexdigest() == result["artifact"]["sha256"]
    assert result["process"]["isolated"] is True and result["process"]["returncode"] == 0
    assert JobResult.from_dict(result).to_dict() == result, "the typed record holds every key written"


def check_faults(results: Dict[str, Dict], faults: Dict[str, tuple]) -> None:
    from converter.records.results import JobResult

    for model, (status, signal, kind) in faults.items():
        result = results[model]
        assert JobResult.from_dict(result).to_dict() == result, "the typed record holds every key written"
        assert (result["status"], result["process"]["signal"], result["failure"]["type"]) == (status, signal, kind)
        assert result["failure"]["stage"] == ("load" if model == "exits" else "reference")
        assert "stage load" in "\n".join(result["process"]["log_tail"])
        assert result["artifact"] is None and result["cached"] is False
        assert result["failure"]["category"] == status, result["failure"]
    if "hang" in faults:  # the diagnosis gives the pasteable override: twice the limit
        assert results["hang"]["failure"]["fix_overrides"] == ["job.timeout_s=40"]
    if "hog" in faults:
        assert results["hog"]["failure"]["fix_overrides"] == ["job.max_memory_mb=3000"]
    if "segfault" in faults:  # located from faulthandler's stack: the model's line, not torch's
        location = results["segfault"]["failure"]["location"]
        assert (Path(location["file"]).name, location["source"]) == (
            "faults.py",
            "ctypes.string_at(0)  # reads address 0: SIGSEGV",
        )
    if "exits" in faults:
        assert results["exits"]["process"]["returncode"] == 3
    if "segfault" in faults:  # faulthandler's Python stack reaches the record
        assert "tests/faults.py" in results["segfault"]["failure"]["traceback"]
    if "hang" in faults:
        assert results["hang"]["process"]["seconds"] >= 20
    if "hog" in faults:
        assert results["hog"]["process"]["peak_memory_mb"] > 1500


def check_mlflow(tmp_path: Path, results: Dict[str, Dict]) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("faults")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("kind") == "sweep"]
    assert parent.info.status == "FINISHED"
    assert {"report.html", "summary.md", "jobs.json"} <= {f.path for f in client.list_artifacts(parent.info.run_id)}
    children = {r.data.tags["model"]: r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    assert {m: r.data.tags["status"] for m, r in children.items()} == {m: r["status"] for m, r in results.items()}


@pytest.mark.guarantee(
    "A model segfaults in forward",
    "`crashed`, signal SIGSEGV, the stage it was in and the Python stack at the crash; every other job's result.json, artifact and MLflow run intact; summary written; the sweep exits 1",
)
@pytest.mark.guarantee(
    "A model calls `os.abort()`",
    "`crashed`, signal SIGABRT; every other job's result.json, artifact and MLflow run intact; summary written; the sweep exits 1",
)
@pytest.mark.guarantee(
    "A loader calls `sys.exit(3)`",
    '`crashed`, exit code 3, "exited without writing result.json"; every other job\'s result.json, artifact and MLflow run intact; summary written; the sweep exits 1',
)
@pytest.mark.guarantee(
    "A model hangs",
    "`timeout`: killed at `job.timeout_s`; every other job's result.json, artifact and MLflow run intact; summary written; the sweep exits 1",
)
@pytest.mark.guarantee(
    "A model allocates without bound",
    "`oom`: its process group is killed once the resident memory of the job's processes passes `job.max_memory_mb`; every other job's result.json, artifact and MLflow run intact; summary written; the sweep exits 1",
)
@pytest.mark.guarantee("A job leaves processes behind (one in a session of its own)", "none survives the job")
@pytest.mark.parametrize("launcher", [pytest.param("basic", marks=pytest.mark.slow), "joblib"])
def test_one_bad_model_costs_one_job_never_the_sweep(launcher: str, run_cli, tmp_path: Path) -> None:
    """Every fault under joblib (two at a time, so the hang's 20 s overlap the rest); under the
    basic launcher (slow: one after another) every fault but the hang."""
    extra = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"] if launcher == "joblib" else []
    faults = {k: v for k, v in FAULTS.items() if not (launcher == "basic" and k == "hang")}
    run = run_cli(*sweep_args(["classification", *faults, "spawner"], *extra, "diagnosis.verify_fix=true"), timeout=300)
    assert run.returncode == 1, (run.stdout + run.stderr)[-3000:]
    results = by_model(run.results())
    assert set(results) == {*GOOD, *faults}
    check_faults(results, faults)
    for model in GOOD:
        check_intact(results[model])
    spawned = [int(p) for p in (Path(results["spawner"]["artifact"]["path"]).parent / PIDS_FILE).read_text().split()]
    assert len(spawned) == 2 and not any(alive(pid) for pid in spawned), "a job's processes outlived it"
    sweep_dir = Path(results["classification"]["artifact"]["path"]).parents[1]
    summary = (sweep_dir / "summary.md").read_text()
    verdict = "1 oom" if launcher == "basic" else "1 timeout, 1 oom"
    assert f"By status: 2 ok, 3 crashed, {verdict}." in summary
    limited = results["hog" if launcher == "basic" else "hang"]["failure"]["fix"]  # never rerun at twice the limit
    assert (limited["verified"], limited["attempts"]) == ("not_tried", [])
    assert limited["reason"].endswith("job's fix raises a limit; it is not run automatically")
    check_mlflow(tmp_path, results)
    if launcher == "basic":  # plain progress: one line per finished job, in job order
        lines = [line for line in run.stdout.splitlines() if line.startswith("[sweep ")]
        assert lines[0] == "[sweep 1/6] classification/torch_export: ok"
        assert "[sweep 2/6] segfault/torch_export: crashed" in lines and len(lines) == 6


@pytest.mark.guarantee(
    "A model segfaults in forward",
    "`crashed`, signal SIGSEGV, the stage it was in and the Python stack at the crash; every other job's result.json, artifact and MLflow run intact; summary written; the sweep exits 1",
)
@pytest.mark.slow  # submitit's Slurm path, faults included, is tested on a real cluster (test_cluster.py)
def test_submitit_local_launcher_survives_a_segfault(run_cli) -> None:
    run = run_cli(
        *sweep_args(["classification", "segfault"], "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5"),
        timeout=300,
    )
    assert run.returncode == 1, (run.stdout + run.stderr)[-3000:]
    results = by_model(run.results())
    check_faults(results, {"segfault": FAULTS["segfault"]})
    check_intact(results["classification"])


def test_in_process_mode_runs_the_job_in_the_launching_process(run_cli) -> None:
    run = run_cli("+model=classification", "job=inprocess")
    assert run.returncode == 0, run.stderr[-2000:]
    result = run.result()
    assert result["status"] == "ok" and result["process"]["isolated"] is False


@pytest.mark.guarantee(
    "The sweep is killed with SIGKILL half-way",
    "the running job and its processes end with it; the same command again reuses finished jobs from the cache and runs only the rest",
)
def test_a_sweep_killed_with_sigkill_leaves_no_process_and_reruns_only_unfinished_jobs(run_cli, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import cli_env

    args = sweep_args(["classification", "slow", "spawner"])
    env = {**cli_env(), "CONVERTER_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "converter", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        slow_child = None
        while time.time() < deadline and slow_child is None:
            time.sleep(0.2)
            done = list(tmp_path.glob("outputs/multiruns/*/*/0-classification-*/result.json"))
            announced = list(tmp_path.glob("outputs/multiruns/*/*/1-slow-*/.stage.json"))
            if done and announced:
                slow_child = json.loads(announced[0].read_text())["pid"]
        assert slow_child is not None, "the sweep never reached its second job"
    finally:
        if slow_child is None:
            proc.kill()
    signal_and_check_it_ends(proc, signal.SIGKILL, slow_child, "the killed sweep's job kept running")
    first = [json.loads(p.read_text()) for p in tmp_path.glob("outputs/multiruns/*/*/*/result.json")]
    assert [r["model"] for r in first] == ["classification"]
    synced = subprocess.run(
        [sys.executable, "-m", "converter", "sync", str(tmp_path / "outputs")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert synced.returncode == 0, synced.stderr[-2000:]
    assert synced.stdout.startswith("sync: 0 run(s) logged, 1 already in MLflow, 0 could not be logged, 1 sweep")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=env["CONVERTER_TRACKING_URI"])
    (parent,) = client.search_runs([client.get_experiment_by_name("faults").experiment_id], "tags.kind = 'sweep'")
    assert parent.info.status == "KILLED"

    rerun = run_cli(*args)
    assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-3000:]
    second = by_model(rerun.results())
    assert {m: r["cached"] for m, r in second.items()} == {"classification": True, "slow": False, "spawner": False}
    assert second["classification"]["cached_from"] == str(Path(first[0]["artifact"]["path"]).parent)


def test_a_terminal_gets_a_live_display_of_the_sweep(tmp_path: Path) -> None:
    """stdout on a pseudo-terminal: rich redraws one status line; the finished state reads back."""
    import os
    import pty
    import re
    import subprocess
    import sys

    from tests.conftest import cli_env

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "converter",
            "--multirun",
            "+model=classification",
            "export=torch_export,torchscript_trace",
            "tracking=off",
            "benchmark=off",
        ],
        cwd=tmp_path,
        env={**cli_env(), "COLUMNS": "200", "TERM": "xterm"},
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=300) == 0
    os.close(leader)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    assert "sweep 2/2 done · ok 2 · failed 0 · crashed 0 · timeout 0 · oom 0 · cached 0" in screen
    assert "[sweep 1/2]" not in screen, "a terminal gets the live line, not one line per job"


@pytest.mark.guarantee(
    "The sweep is interrupted with Ctrl-C (SIGINT) or SIGTERM",
    "the running job's process group is killed with it; nothing keeps running; one paragraph says where the finished jobs are, exit 130 (143 for SIGTERM)",
)
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_an_interrupted_sweep_leaves_no_job_running(signal_name: str, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import cli_env

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "converter",
            *sweep_args(["hang", "classification"], "tracking=off", "job.timeout_s=120"),
        ],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline, hung = time.time() + 120, None
        while time.time() < deadline and hung is None:
            time.sleep(0.2)
            for stage_file in tmp_path.glob("outputs/multiruns/*/*/0-hang-*/.stage.json"):
                state = json.loads(stage_file.read_text())
                if state.get("stage") == "reference":
                    hung = state["pid"]
        assert hung is not None, "the hanging job never started"
    finally:
        if hung is None:
            proc.kill()
    stderr = signal_and_check_it_ends(
        proc, getattr(signal, signal_name), hung, f"the job kept running after {signal_name}"
    )
    assert proc.returncode == 128 + getattr(signal, signal_name), stderr[-2000:]
    sweep_dir = next(tmp_path.glob("outputs/multiruns/*/*"))
    assert stderr.endswith(
        f"Interrupted by {signal_name}: the running job was stopped (its process group killed) and wrote no result; "
        f"the jobs that finished keep their files in {sweep_dir} (and their MLflow runs, with tracking on). Fix: run "
        "the same command again (job.cache=true, the default, reuses every job that finished); with tracking on, "
        f"`python -m converter sync {sweep_dir}` closes this sweep's MLflow parent run.\n"
    ), stderr[-2000:]
    assert "Traceback" not in stderr
