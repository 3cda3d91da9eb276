"""The nightly on a real cluster: sweeps through a one-node Slurm cluster with accounting
(munged, MariaDB, slurmdbd, slurmctld, slurmd: tools/local_cluster.py) and an MLflow tracking
server on the same MariaDB, under hydra/launcher=submitit_slurm (conf/hydra/launcher/).

One cluster for the module, on loopback, stopped by pid at the end; the tests share one xdist
worker (xdist_group). Where apt or root is missing, they skip and say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import psutil
import pytest

from converter.records.results import JobResult
from tests.checks import TEST_CONF
from tests.conftest import cli_env
from tools import local_cluster

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("cluster")]
SLURM = "hydra/launcher=submitit_slurm"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    reason = local_cluster.why_not_here()
    if reason:
        pytest.skip(f"no local Slurm cluster: {reason}")
    root = tmp_path_factory.mktemp("cluster")
    started = local_cluster.start(root)
    try:
        yield started
    finally:
        local_cluster.stop(root)
        _check_nothing_left(started)


def _check_nothing_left(started: local_cluster.Cluster) -> None:
    """No daemon, job process or listening port of the cluster survives it."""
    for name, pid in started.pids.items():
        assert not psutil.pid_exists(pid) or psutil.Process(pid).create_time() != started.started[name], name
    assert not local_cluster._job_processes(started)


def sweep(cluster: local_cluster.Cluster, cwd: Path, *args: str) -> List[str]:
    return [
        sys.executable,
        "-m",
        "converter",
        "--multirun",
        "--config-dir",
        TEST_CONF,
        "security.allowed_prefixes=[tests]",
        SLURM,
        f"tracking.uri={cluster.mlflow_uri}",
        f"job.cache_dir={Path(cluster.root) / 'shared' / 'cache'}",
        "benchmark=off",
        "diagnosis.verify_fix=false",
        *args,
    ]


def run(cluster: local_cluster.Cluster, cwd: Path, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run(
        sweep(cluster, cwd, *args),
        cwd=cwd,
        env={**cli_env(), **cluster.env()},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(cluster: local_cluster.Cluster, cwd: Path, *args: str, env: Dict[str, str] | None = None) -> subprocess.Popen:
    """The sweep in the background, its output kept for the failure message."""
    return subprocess.Popen(
        sweep(cluster, cwd, *args),
        cwd=cwd,
        env={**cli_env(), **cluster.env(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def results_of(sweep_dir: Path) -> Dict[str, Dict]:
    """Each job's result.json by 'model/backend'."""
    found = {}
    for path in sorted(sweep_dir.glob("*/result.json")):
        result = json.loads(path.read_text())
        assert JobResult.from_dict(result).to_dict() == result, f"{path}: a key the typed record does not hold"
        found[f"{result['model']}/{result['backend']}"] = result
    return found


def sacct_states(cluster: local_cluster.Cluster) -> Dict[str, str]:
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-o", "JobID,State"],
        env={**os.environ, **cluster.env()},
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    return dict(line.split("|", 1) for line in out.strip().splitlines() if "|" in line)


def client_of(cluster: local_cluster.Cluster):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=cluster.mlflow_uri)


def sweep_runs(cluster: local_cluster.Cluster, experiment: str, sweeps: int = 1):
    """The experiment's sweep run (the first of `sweeps`) and the job runs of all of them."""
    client = client_of(cluster)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    parents = [r for r in runs if r.data.tags.get("kind") == "sweep"]
    assert len(parents) == sweeps
    ids = {p.info.run_id for p in parents}
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") in ids]
    return parents[0], children


def test_the_cluster_listens_on_loopback_only(cluster: local_cluster.Cluster) -> None:
    ours = set(cluster.pids.values())
    listening = [
        c for c in psutil.net_connections("inet") if c.status == psutil.CONN_LISTEN and c.pid in ours | _children(ours)
    ]
    daemons = {psutil.Process(c.pid).name() for c in listening}
    assert {"mariadbd", "slurmdbd", "slurmctld", "slurmd"} <= daemons, daemons
    assert all(c.laddr.ip == "127.0.0.1" for c in listening), [(c.laddr, c.pid) for c in listening]


def _children(pids: set) -> set:
    found = set()
    for pid in pids:
        try:
            found |= {p.pid for p in psutil.Process(pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.mark.guarantee(
    "A sweep runs on a Slurm cluster (`hydra/launcher=submitit_slurm`, MLflow server on MariaDB)",
    "one Slurm job per model and backend; every result.json, artifact and MLflow child run present, the parent run FINISHED with its summary, report and status chart; summary and exit code as on one machine; a re-run reuses the job cache on shared storage",
)
def test_a_sweep_through_slurm_matches_one_machine_and_reruns_from_the_shared_cache(
    cluster: local_cluster.Cluster, tmp_path: Path
) -> None:
    args = (
        "+model=classification,two_inputs,flip_and_shift,sum_images",
        "export=torch_export,torchscript_trace",
        "tracking.experiment=cluster",
        "hydra.sweep.dir=outputs/first",
    )
    first = run(cluster, tmp_path, *args)
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    results = results_of(tmp_path / "outputs" / "first")
    assert sorted(results) == sorted(
        f"{m}/{b}"
        for m in ("classification", "two_inputs", "flip_and_shift", "sum_images")
        for b in ("torch_export", "torchscript_trace")
    )
    for name, result in results.items():
        assert result["status"] == "ok", (name, result.get("failure"))
        assert Path(result["artifact"]["path"]).is_file() and result["cached"] is False
        assert result["process"]["isolated"] is True
    assert "8 of 8 jobs ok." in (tmp_path / "outputs" / "first" / "summary.md").read_text()
    assert (tmp_path / "outputs" / "first" / "report.html").is_file()
    # One Slurm job per model and backend, each COMPLETED in accounting.
    array_tasks = [state for job, state in sacct_states(cluster).items() if "_" in job]
    assert array_tasks.count("COMPLETED") >= 8

    parent, children = sweep_runs(cluster, "cluster")
    assert parent.info.status == "FINISHED" and parent.data.metrics["jobs_ok"] == 8
    assert len(children) == 8 and all(c.info.status == "FINISHED" for c in children)
    client = client_of(cluster)
    assert {"jobs.json", "summary.md", "summary.svg", "report.html"} <= {
        f.path for f in client.list_artifacts(parent.info.run_id)
    }
    one = children[0]
    assert any(f.path == "artifact" for f in client.list_artifacts(one.info.run_id))
    # The artifacts went through the server to the folder every node shares.
    assert list((Path(cluster.artifact_root)).rglob("model.pt*"))

    # Two of the jobs again, through the cluster: reused from the cache on the shared folder.
    again = run(
        cluster,
        tmp_path,
        "+model=classification,sum_images",
        "export=torch_export",
        "tracking.experiment=cluster",
        "hydra.sweep.dir=outputs/again",
    )
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    reused = results_of(tmp_path / "outputs" / "again")
    assert sorted(reused) == ["classification/torch_export", "sum_images/torch_export"]
    assert all(r["cached"] is True and r["status"] == "ok" for r in reused.values())
    for name, result in reused.items():
        assert result["job_key"] == results[name]["job_key"]


def _slurm_job_of(run_dir: Path) -> str:
    """The Slurm job id a running converter job is in (its child's environment says)."""
    pid = json.loads((run_dir / ".stage.json").read_text())["pid"]
    environ = psutil.Process(pid).environ()
    return f"{environ['SLURM_ARRAY_JOB_ID']}_{environ['SLURM_ARRAY_TASK_ID']}"  # the task, not its array


@pytest.mark.guarantee(
    "Under `hydra/launcher=submitit_slurm`: a model segfaults, hangs past `job.timeout_s` or passes `job.max_memory_mb`; a Slurm job is cancelled (`scancel`) or reaches its time limit",
    "each costs its own job only: `crashed` SIGSEGV, `timeout`, `oom` (converter's supervisor runs inside the Slurm job); `crashed` with Slurm state `CANCELLED by 0` and `timeout` with `TIMEOUT`, each with the stage it was in; the sweep ends with its summary, exit 1",
)
def test_faults_on_the_cluster_cost_one_job_each_and_the_sweep_never_waits_forever(
    cluster: local_cluster.Cluster, tmp_path: Path
) -> None:
    models = "classification,segfault,hang,hog,slurm_cancel"
    faults = start(
        cluster,
        tmp_path,
        f"+model={models}",
        "tracking.experiment=cluster-faults",
        "hydra.sweep.dir=outputs/faults",
        "job.cache=false",
    )
    # Beside it, a sweep whose Slurm time limit (2 min; Slurm's warning 5 s before) is shorter than
    # the job's own converter timeout (600 s). Its own sweep: the limit applies to every job of a sweep.
    limit = start(
        cluster,
        tmp_path,
        "+model=slurm_limit",
        "tracking.experiment=cluster-faults",
        "hydra.sweep.dir=outputs/limit",
        "hydra.launcher.timeout_min=2",
        "hydra.launcher.signal_delay_s=5",
        "job.cache=false",
    )
    try:
        slurm_env = {**os.environ, **cluster.env()}
        cancel_dir = _wait_for_stage(tmp_path / "outputs" / "faults", "slurm_cancel", "reference", faults)
        subprocess.run(["scancel", _slurm_job_of(cancel_dir)], env=slurm_env, check=True)
        output, _ = faults.communicate(timeout=300)
        limit_output, _ = limit.communicate(timeout=300)
    finally:
        for proc in (faults, limit):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert (faults.returncode, limit.returncode) == (1, 1), (output + limit_output)[-3000:]
    results = {r["model"]: r for r in results_of(tmp_path / "outputs" / "faults").values()}
    assert results["classification"]["status"] == "ok"
    assert (results["segfault"]["status"], results["segfault"]["process"]["signal"]) == ("crashed", "SIGSEGV")
    assert (
        results["hang"]["status"] == "timeout"
        and results["hang"]["failure"]["type"] == "converter.sweep.isolation.Timeout"
    )
    assert results["hog"]["status"] == "oom" and results["hog"]["process"]["peak_memory_mb"] > 1500
    cancelled = results["slurm_cancel"]
    assert (cancelled["status"], cancelled["process"]["slurm_state"]) == ("crashed", "CANCELLED by 0")
    assert cancelled["failure"]["stage"] == "reference" and cancelled["failure"]["type"] == "converter.slurm.CANCELLED"
    assert "Slurm state CANCELLED by 0 during stage 'reference'" in cancelled["failure"]["message"]
    summary = (tmp_path / "outputs" / "faults" / "summary.md").read_text()
    assert "1 of 5 jobs ok." in summary and "By status: 1 ok, 2 crashed, 1 timeout, 1 oom." in summary

    (limited,) = results_of(tmp_path / "outputs" / "limit").values()
    assert limited["status"] == "timeout" and limited["failure"]["type"] == "converter.slurm.TIMEOUT"
    assert limited["process"]["slurm_state"] == "TIMEOUT (warned by Slurm's signal before the end)"
    assert "the Slurm job reached its time limit (2 min" in limited["failure"]["message"]
    assert limited["failure"]["stage"] == "reference" and limited["failure"]["fix_overrides"] == [
        "hydra.launcher.timeout_min=4"
    ]
    _, children = sweep_runs(cluster, "cluster-faults", sweeps=2)
    assert sorted(c.data.tags["model"] for c in children) == sorted([*models.split(","), "slurm_limit"])
    assert not local_cluster._job_processes(cluster), "every job's processes ended with it"


def _wait_for_stage(sweep_dir: Path, model: str, stage: str, proc: subprocess.Popen, seconds: float = 240) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for run_dir in sweep_dir.glob(f"*-{model}-*"):
            try:
                if json.loads((run_dir / ".stage.json").read_text())["stage"] == stage:
                    return run_dir
            except (OSError, ValueError, KeyError):
                pass
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        time.sleep(0.5)
    raise AssertionError(f"{model} never reached stage {stage}")


@pytest.mark.guarantee(
    "Under `hydra/launcher=submitit_slurm`: the MLflow server stops mid-sweep",
    "the jobs keep their files; the summary lists what was not logged; `python -m converter sync` logs it once the server is back, twice without duplicates",
)
def test_a_tracking_server_stopped_mid_sweep_loses_nothing(cluster: local_cluster.Cluster, tmp_path: Path) -> None:
    proc = start(
        cluster,
        tmp_path,
        "+model=classification",
        "export=torch_export,torchscript_trace",
        "tracking.experiment=cluster-outage",
        "hydra.sweep.dir=outputs/outage",
        "hydra.launcher.array_parallelism=1",  # one job at a time: the outage falls between them
        "job.cache=false",
        env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
    )
    sweep_dir = tmp_path / "outputs" / "outage"
    try:
        first = _wait_for_file(sweep_dir, "0-*/tracking.json", proc)
        assert json.loads(first.read_text())["logged"] is True
        local_cluster.stop_mlflow(cluster)
        output, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if "mlflow" not in cluster.pids:
            local_cluster.start_mlflow_again(cluster)
    assert proc.returncode == 1, output[-3000:]
    assert [r["status"] for r in results_of(sweep_dir).values()] == ["ok", "ok"]
    summary = (sweep_dir / "summary.md").read_text()
    assert "Not logged to MLflow (1): classification/torchscript_trace." in summary, summary

    def sync() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "converter", "sync", str(sweep_dir), f"tracking.uri={cluster.mlflow_uri}"],
            cwd=tmp_path,
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return [line for line in done.stdout.splitlines() if line.startswith("sync:")][-1]

    assert sync() == "sync: 1 run(s) logged, 1 already in MLflow, 0 could not be logged, 1 sweep run(s) closed."
    assert sync() == "sync: 0 run(s) logged, 2 already in MLflow, 0 could not be logged, 0 sweep run(s) closed."
    parent, children = sweep_runs(cluster, "cluster-outage")
    assert parent.info.status == "FINISHED"
    assert sorted(c.data.tags["backend"] for c in children) == ["torch_export", "torchscript_trace"]


def _wait_for_file(folder: Path, pattern: str, proc: subprocess.Popen, seconds: float = 240) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} under {folder}")
