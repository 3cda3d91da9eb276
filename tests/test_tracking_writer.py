"""converter/tracking/writer.py: MLflow logged from a process of its own, the launcher's
requests carried out in order, and nothing lost or left running when the writer dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from converter.config.schema import TrackingConfig
from converter.records.results import JobResult
from converter.tracking import writer
from tests.conftest import cli_env

LAUNCH = textwrap.dedent(
    """
    import json, sys
    import psutil
    from converter.cli.main import main
    code = main(sys.argv[1:])
    print(json.dumps({"code": code, "mlflow_imported": "mlflow" in sys.modules,
                      "children": [p.pid for p in psutil.Process().children(recursive=True)]}))
    """
)


def launch(tmp_path: Path, *args: str) -> dict:
    env = {**cli_env(), "CONVERTER_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCH, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.stdout.strip(), proc.stderr[-3000:]
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "stdout": proc.stdout, "stderr": proc.stderr}


def test_a_sweep_is_logged_by_the_writer_and_the_launcher_never_imports_mlflow(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    args = ("--multirun", "+model=classification", "export=torch_export,torchscript_trace", "benchmark=off")
    args += ("diagnosis.verify_fix=false", "tracking.experiment=written")
    run = launch(tmp_path, *args)
    assert run["code"] == 0, run["stderr"][-3000:]
    assert run["mlflow_imported"] is False
    assert run["children"] == [], "the writer (and the spare) ended with the launcher's main"
    assert run["stdout"].count("logged to MLflow run ") == 2
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("written").experiment_id])
    parent = next(r for r in runs if r.data.tags.get("kind") == "sweep")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(r.info.run_name for r in children) == [
        "classification/torch_export",
        "classification/torchscript_trace",
    ]
    assert parent.info.status == "FINISHED" and {"summary.md", "summary.svg", "report.html", "jobs.json"} <= {
        f.path for f in client.list_artifacts(parent.info.run_id)
    }
    states = [json.loads(p.read_text()) for p in sorted((tmp_path / "outputs").rglob("tracking.json"))]
    assert [(s["logged"], s["artifact_logged"]) for s in states] == [(True, True), (True, True)]
    assert {s["run_id"] for s in states} == {r.info.run_id for r in children}

    # Again, from the job cache: each job's run points at the run that holds its artifact, uploaded once.
    again = launch(tmp_path, *args)
    assert again["code"] == 0 and again["mlflow_imported"] is False, again["stderr"][-3000:]
    runs = client.search_runs([client.get_experiment_by_name("written").experiment_id], order_by=["start_time ASC"])
    reused = [r for r in runs if r.data.tags.get("cached") == "true"]
    by_name = {r.info.run_name: r.info.run_id for r in children}
    assert sorted((r.info.run_name, r.data.tags["artifact_run_id"]) for r in reused) == sorted(by_name.items())
    assert [client.list_artifacts(r.info.run_id, "artifact") for r in reused] == [[], []]
    assert [f.path for f in client.list_artifacts(by_name["classification/torch_export"], "artifact")] == [
        "artifact/model.pt2"
    ]


def test_a_config_error_ends_the_unused_writer_at_once(tmp_path: Path) -> None:
    run = launch(tmp_path, "+model=classification", "export=onnx_typo")
    assert run["code"] == 2 and "there is no export config named 'onnx_typo'" in run["stderr"]
    assert run["children"] == [] and run["mlflow_imported"] is False


def job_request(tmp_path: Path, name: str) -> dict:
    run_dir = tmp_path / name
    run_dir.mkdir()
    tracking = TrackingConfig(uri=f"sqlite:///{tmp_path / 'mlflow.db'}", log_artifact_file=False)
    result = JobResult(name, "torch_export", "auto", "cpu", status="ok").to_dict()
    return dict(
        tracking=writer.tracking_fields(tracking),
        record={"model": {"name": name}},
        result=result,
        run_dir=str(run_dir),
        experiment="fallback",
        extra_tags=None,
    )


def test_what_a_killed_writer_left_unfinished_is_logged_here_in_order(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    own = writer.Writer()
    os.kill(own.process.pid, signal.SIGSTOP)  # it takes both requests off the pipe only after dying: never
    own.send("log_and_record", job_request(tmp_path, "first"), wait=False)
    own.send("log_and_record", job_request(tmp_path, "second"), wait=False)
    os.killpg(own.process.pid, signal.SIGKILL)
    own.close()
    assert own.process.returncode == -signal.SIGKILL
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("fallback").experiment_id], order_by=["start_time ASC"])
    assert [r.info.run_name for r in runs] == ["first/torch_export", "second/torch_export"]
    for name in ("first", "second"):
        assert json.loads((tmp_path / name / "tracking.json").read_text())["logged"] is True


def test_a_waited_request_returns_its_answer_or_raises_its_error(tmp_path: Path) -> None:
    own = writer.Writer()
    try:
        own.send("log_and_record", job_request(tmp_path, "logged"), wait=False)
        assert own.send(writer.DRAIN, {}, wait=True) is None
        assert json.loads((tmp_path / "logged" / "tracking.json").read_text())["logged"] is True
        missing = dict(tracking=writer.tracking_fields(TrackingConfig()), sweep_dir=str(tmp_path / "no"), status="X")
        with pytest.raises(writer.WriterError, match="^FileNotFoundError: .*no/.mlflow_parent.json"):
            own.send("finish_parent_run", missing, wait=True)
    finally:
        own.close()
    assert own.process.returncode == 0


def test_each_request_runs_in_the_launchers_environment_and_folder_of_the_moment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(writer.CALLS, "probe", lambda: (os.environ.get("CONVERTER_PROBE"), os.getcwd()))
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    request = {"id": 7, "call": "probe", "kwargs": {}, "env": {"CONVERTER_PROBE": "set"}, "cwd": str(tmp_path)}
    try:
        answer = writer.carry_out({**request, "log_level": 20})
        failed = writer.carry_out({**request, "call": "drain", "kwargs": {"extra": 1}, "log_level": 20})
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
    assert answer == {"id": 7, "value": ("set", str(tmp_path))}
    assert failed["error"].startswith("TypeError: ")
