"""MLflow tracking against a real `mlflow server` on loopback, and the nightly comparison."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from converter.config.schema import TrackingConfig
from converter.tracking.nightly import compare_with_previous
from converter.tracking.store import client_and_experiment, default_uri
from tests.conftest import cli_env, free_port


@pytest.mark.slow  # 75 s; a sweep logging to a real server runs by default in test_cluster.py (make test-cluster)
def test_sweep_with_joblib_logs_parent_and_children_to_a_server(
    mlflow_server: str, run_cli, chromium: str, tmp_path: Path, monkeypatch
) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_REGISTRY_URI", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    run = run_cli(
        "--multirun",
        "+tiny=classification,input_confirm",
        "export=torchscript_trace",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"tracking.uri={mlflow_server}",
        "tracking.experiment=it",
        "tracking.sweep=it-sweep",
        "benchmark=quick",
        "benchmark.peak=false",
        "tracking.register=true",
        "diagnosis.verify_fix=true",
    )
    assert run.returncode == 1, "input_confirm's trace fails validation on purpose"
    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    # Registered on the server (not wherever MLFLOW_REGISTRY_URI points): the validated job only.
    assert [m.name for m in client.search_registered_models()] == ["classification-torchscript_trace"]
    latest = client.get_model_version_by_alias("classification-torchscript_trace", "latest-ok")
    assert float(latest.tags["speedup"]) > 0 and latest.tags["backend"] == "torchscript_trace"
    experiment = client.get_experiment_by_name("it")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("kind") == "sweep"]
    assert len(parents) == 1
    parent = parents[0]
    children = {r.data.tags["model"]: r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    assert set(children) == {"classification", "input_confirm"}

    ok, bad = children["classification"], children["input_confirm"]
    assert ok.info.run_name == "classification/torchscript_trace" and ok.info.status == "FINISHED"
    assert (
        ok.data.tags["status"] == "ok"
        and ok.data.tags["backend"] == "torchscript_trace"
        and ok.data.tags["sweep"] == "it-sweep"
    )
    assert ok.data.tags["torch_version"].startswith("2.14") and ok.data.tags.get("git_commit")
    assert ok.data.params["model.name"] == "classification" and ok.data.params["export.backend"] == "torchscript_trace"
    assert ok.data.params["model.inputs.x.shape"] == "[3, 320, 320]"
    for metric in ("stage/export_s", "validation/max_abs_error", "speedup", "artifact_p50_ms"):
        assert metric in ok.data.metrics, metric
    files = {f.path for f in client.list_artifacts(ok.info.run_id)}
    assert {
        "config.yaml",
        "result.json",
        "bench.json",
        "bench.svg",
        "convert.log",
        "graph.txt",
        "operators.txt",
        "artifact",
    } <= files
    assert [f.path for f in client.list_artifacts(ok.info.run_id, "artifact")] == ["artifact/model.pt"]

    assert bad.info.status == "FAILED" and bad.data.tags["status"] == "failed"
    assert bad.data.tags["failure_stage"] == "validate"
    assert bad.data.tags["failure_class"] == "converter.errors.ValidationMismatch"
    assert "edge[low]" in bad.data.tags["failure_message"]

    assert (
        parent.data.metrics["jobs_total"] == 2
        and parent.data.metrics["jobs_ok"] == 1
        and parent.data.metrics["jobs_failed"] == 1
    )
    parent_files = {f.path for f in client.list_artifacts(parent.info.run_id)}
    assert {"jobs.json", "summary.md", "summary.svg"} <= parent_files
    assert " · best: classification torchscript_trace " in parent.info.run_name  # what to deploy
    check_one_click_review(run, client, mlflow_server, experiment.experiment_id, parent, chromium, tmp_path)


def check_one_click_review(run, client, server: str, experiment_id: str, parent, chromium: str, tmp_path: Path) -> None:
    """The sweep printed its parent run and its jobs table; `make ui`'s landing command prints the
    same; each run's description is its headline with the hint and fix; the table, opened in a
    real browser, shows the sweep (the README's screenshot is taken here)."""
    import re

    from tests.test_sweep_report import CHROMIUM_FLAGS

    table = re.search(r"jobs table: (\S+)", run.stdout).group(1)
    assert table == (
        f"{server}/#/experiments/{experiment_id}/runs?searchFilter="
        f"tags.mlflow.parentRunId%20%3D%20%27{parent.info.run_id}%27"
    )
    assert f"parent run: {server}/#/experiments/{experiment_id}/runs/{parent.info.run_id}" in run.stdout
    landing = subprocess.run(
        [sys.executable, "-m", "converter.tracking.landing", "--uri", server, "--ui", server],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert f"jobs table: {table}" in landing.stdout, landing.stdout + landing.stderr
    children = client.search_runs([experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    notes = {r.data.tags["model"]: r.data.tags["mlflow.note.content"] for r in children}
    assert notes["classification"] == "classification/torchscript_trace: ok"
    assert notes["input_confirm"].startswith("input_confirm/torchscript_trace: failed [trace_divergence]")
    verified = notes["input_confirm"].split("Fix (verified, converts): `", 1)[1]
    assert verified.startswith("python -m converter +tiny=input_confirm") and verified.endswith(
        " export=torchscript_script`"
    )
    assert "export=torchscript_trace" not in verified  # the fix's backend replaces the job's
    shot = tmp_path / "mlflow-runs.png"
    browse = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000"]
    # MLflow 3.17 lists the sweep's parent with its jobs folded under it (one click expands them)
    for _ in range(3):  # the UI fetches the runs after it loads: a busy machine may need another look
        dom = subprocess.run([*browse, "--dump-dom", table], capture_output=True, text=True, timeout=180).stdout
        if parent.info.run_name in dom:
            break
    assert parent.info.run_name in dom and "matching runs" in dom
    subprocess.run([*browse, "--window-size=1500,800", f"--screenshot={shot}", table], capture_output=True, timeout=180)
    assert shot.stat().st_size > 10_000
    if os.environ.get("CONVERTER_UPDATE_DOCS"):  # the README's screenshot comes from this test
        (Path(__file__).resolve().parents[1] / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, Path(__file__).resolve().parents[1] / "docs" / "mlflow-runs.png")


def test_single_run_logs_to_the_embedded_sqlite_store_with_artifacts_beside_it(run_cli, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    run = run_cli("+model=classification", f"tracking.uri={uri}", "benchmark=off")
    assert run.returncode == 0, run.stderr[-2000:]
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("classification")
    (only,) = client.search_runs([experiment.experiment_id])
    assert only.data.tags["status"] == "ok" and "mlflow.parentRunId" not in only.data.tags
    assert (tmp_path / "store" / "mlartifacts" / "classification").is_dir()
    assert "tracking=off" not in run.stderr


def test_default_store_is_at_the_project_root() -> None:
    root = Path(__file__).resolve().parents[1]
    assert default_uri() == f"sqlite:///{root / 'outputs' / 'mlflow.db'}"


def test_unreachable_server_is_a_config_error_before_anything_runs(run_cli) -> None:
    run = run_cli("+model=classification", f"tracking.uri=http://127.0.0.1:{free_port()}", "benchmark=off")
    assert run.returncode == 2
    assert run.stderr.startswith("Config error at 'tracking.uri': no MLflow server answers")
    assert "tracking=off" in run.stderr
    assert not (run.cwd / "outputs").exists()


@pytest.fixture
def broken_server():
    """Answers /health, fails every API call: a server that breaks after the job started."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            self.send_response(200 if self.path == "/health" else 500)
            self.end_headers()
            self.wfile.write(b"OK" if self.path == "/health" else b"boom")

        do_GET = do_POST = _reply

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _sync(path: Path, uri: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "converter", "sync", str(path), f"tracking.uri={uri}"],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.guarantee(
    "MLflow becomes unreachable mid-sweep",
    "jobs finish and keep their files; the summary names the runs not logged; `python -m converter sync` logs them later, twice without duplicates",
)
@pytest.mark.slow  # the same outage on a real server and MariaDB runs by default: test_cluster.py
def test_an_outage_mid_sweep_loses_nothing_and_sync_logs_it_once(run_cli, broken_server: str, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    run = run_cli(
        "--multirun",
        "+model=classification",
        "export=torch_export,torchscript_trace",
        f"tracking.uri={broken_server}",
        "tracking.experiment=outage",
        "benchmark=off",
    )
    assert run.returncode == 1, "unlogged runs fail the sweep"
    assert "Tracking error: could not log classification/torch_export" in run.stderr
    assert "Fix: once the server is back, run `python -m converter sync " in run.stderr
    results = run.results()
    assert [r["status"] for r in results] == ["ok", "ok"]
    sweep_dir = Path(results[0]["artifact"]["path"]).parents[1]
    summary = (sweep_dir / "summary.md").read_text()
    assert "Not logged to MLflow (2): classification/torch_export, classification/torchscript_trace." in summary
    assert "python -m converter sync " in summary

    store = f"sqlite:///{tmp_path / 'synced.db'}"
    first = _sync(tmp_path / "outputs", store, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.startswith("sync: 2 run(s) logged, 0 already in MLflow, 0 could not be logged")
    second = _sync(tmp_path / "outputs", store, tmp_path)
    assert second.stdout.startswith("sync: 0 run(s) logged, 2 already in MLflow, 0 could not be logged")
    client = MlflowClient(tracking_uri=store)
    runs = client.search_runs([client.get_experiment_by_name("outage").experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("kind") == "sweep"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(runs) == 3 and sorted(r.data.tags["backend"] for r in children) == ["torch_export", "torchscript_trace"]
    assert parent.info.status == "FINISHED", "the sweep had finished: sync closes its parent as FINISHED"
    by_backend = {r.data.tags["backend"]: r.info.run_id for r in children}
    for result in results:  # as a job logged at once records it: its run, and that the run holds the artifact
        state = json.loads((Path(result["artifact"]["path"]).parent / "tracking.json").read_text())
        assert state == {"logged": True, "run_id": by_backend[result["backend"]], "artifact_logged": True}


def _log_many(uri: str, folder: str, count: int) -> None:
    """One writer process: log `count` finished jobs to the store."""
    from converter.tracking.job_run import log_job

    for number in range(count):
        run_dir = Path(folder) / f"job{number}"
        run_dir.mkdir(parents=True)
        result = {"model": "m", "backend": "b", "strict": True, "device": "cpu", "status": "ok", "stages": {}}
        (run_dir / "result.json").write_text(json.dumps(result))
        log_job({"model": {"name": "m"}}, result, run_dir, TrackingConfig(uri=uri), "concurrent")


@pytest.mark.guarantee("Sweeps write to one embedded SQLite store at once", "no record lost (3 concurrent writers)")
def test_three_concurrent_writers_to_one_sqlite_store_lose_no_record(tmp_path: Path) -> None:
    import multiprocessing

    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_log_many, args=(uri, str(tmp_path / f"w{i}"), 5)) for i in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=240)
    assert [w.exitcode for w in writers] == [0, 0, 0]
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("concurrent").experiment_id], max_results=100)
    assert len(runs) == 15 and len({r.data.tags["run_dir"] for r in runs}) == 15


@pytest.mark.slow  # the launcher is also covered by test_isolation's submitit fault sweep
def test_submitit_local_launcher_runs_each_job_in_its_own_process(run_cli) -> None:
    run = run_cli(
        "--multirun",
        "+tiny=classification",
        "export=torchscript_trace,torchscript_script",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=10",
        "tracking=off",
        "benchmark=off",
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert sorted(r["backend"] for r in run.results()) == ["torchscript_script", "torchscript_trace"]


# --- nightly comparison on two synthetic nightlies ---------------------------------------------------


def _nightly(client, experiment_id: str, start: int, jobs: dict) -> str:
    parent = client.create_run(experiment_id, start_time=start, tags={"kind": "sweep", "sweep": "nightly"}).info.run_id
    for (model, backend), (status, p50, error) in jobs.items():
        child = client.create_run(
            experiment_id,
            start_time=start + 1,
            tags={"mlflow.parentRunId": parent, "model": model, "backend": backend, "variant": "", "status": status},
        ).info.run_id
        if p50 is not None:
            client.log_metric(child, "artifact_p50_ms", p50)
        if error is not None:
            client.log_metric(child, "validation/max_abs_error", error)
    return parent


def test_nightly_comparison_finds_breaks_slowdowns_and_drift(tmp_path: Path) -> None:
    tracking = TrackingConfig(uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    client, experiment_id = client_and_experiment(tracking, "nightly")
    first = _nightly(
        client,
        experiment_id,
        1_000,
        {
            ("resnet18", "torch_export"): ("ok", 10.0, 1e-6),
            ("sam", "torch_export"): ("ok", 100.0, 1e-6),
            ("mvit", "torch_export"): ("ok", 50.0, 1e-6),
            ("blip", "torch_export"): ("failed", None, None),
            ("yolo11_pose", "torch_export"): ("ok", 20.0, 1e-6),
        },
    )
    assert compare_with_previous(client, experiment_id, first, TrackingConfig()).previous_run_id is None
    second = _nightly(
        client,
        experiment_id,
        2_000,
        {
            ("resnet18", "torch_export"): ("failed", None, None),  # broke
            ("sam", "torch_export"): ("ok", 150.0, 1e-6),  # 50% slower
            ("mvit", "torch_export"): ("ok", 50.0, 1e-3),  # error drift
            ("blip", "torch_export"): ("ok", 30.0, 1e-6),  # fixed
            ("yolo11_pose", "torch_export"): ("ok", 21.0, 2e-6),  # within thresholds
        },
    )
    report = compare_with_previous(client, experiment_id, second, TrackingConfig(latency_regression=0.10))
    assert report.previous_run_id == first and report.regressed
    assert [line.split(":")[0] for line in report.status_changes] == ["resnet18/torch_export"]
    assert [line.split(":")[0] for line in report.latency_regressions] == ["sam/torch_export"]
    assert [line.split(":")[0] for line in report.error_drift] == ["mvit/torch_export"]
    assert [line.split(":")[0] for line in report.recoveries] == ["blip/torch_export"]
    assert "yolo11_pose" not in report.markdown().split("## Fixed")[0]

    cli = [sys.executable, "-m", "converter.tracking.nightly", "--experiment", "nightly", "--uri", tracking.uri]
    proc = subprocess.run(cli, capture_output=True, text=True, env=cli_env())
    assert proc.returncode == 1 and "Broke" in proc.stdout

    third = _nightly(client, experiment_id, 3_000, {("resnet18", "torch_export"): ("ok", 10.0, 1e-6)})
    quiet = compare_with_previous(client, experiment_id, third, TrackingConfig())
    assert not quiet.regressed and quiet.recoveries == ["resnet18/torch_export: failed -> ok"]
    assert subprocess.run(cli, capture_output=True, text=True, env=cli_env()).returncode == 0
