"""converter.cli.sync: what an outage or a kill left unlogged goes to MLflow later, once.
(The outage itself, end to end: tests/test_tracking.py and the cluster's server, tests/test_cluster.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from converter.cli.sync import main, sync
from converter.config.schema import TrackingConfig


def _record(model: str) -> dict:
    """The config a job records: composed as the CLI composes it."""
    from hydra import compose, initialize_config_dir

    from converter.config.composition import CONF_DIR, resolved_without_hydra
    from converter.config.schema import register_schema

    register_schema()
    overrides = [f"+model={model}", "tracking.experiment=synced", "tracking.sweep=night"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="test"):
        return resolved_without_hydra(compose("config", overrides))


def _job_folder(folder: Path, model: str, status: str = "ok") -> Path:
    from converter.job.pipeline import new_result

    folder.mkdir(parents=True)
    record = _record(model)
    result = {**new_result(record).to_dict(), "status": status, "config": record, "stages": {"load": 0.1}}
    (folder / "result.json").write_text(json.dumps(result))
    return folder


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_a_sweep_left_unlogged_is_logged_once_and_its_parent_closed(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    sweep = tmp_path / "sweep"
    _job_folder(sweep / "0-classification-torch_export", "classification")
    _job_folder(sweep / "1-resnet18-torch_export", "resnet18", status="failed")
    (sweep / "sweep.json").write_text(json.dumps({"total": 2, "pid": _dead_pid(), "started": 0}))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = sync(sweep, TrackingConfig(uri=uri))
    assert (len(first.logged), first.already, first.failed) == (2, [], [])
    assert first.parents_closed == [str(sweep)], "its launcher is gone: the parent run is closed"
    second = sync(sweep, TrackingConfig(uri=uri))
    assert (second.logged, len(second.already), second.parents_closed) == ([], 2, [])
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("synced")
    runs = client.search_runs([experiment.experiment_id])
    children = sorted(r.data.tags.get("mlflow.runName", "") for r in runs if "mlflow.parentRunId" in r.data.tags)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(children) == 2 and len(parents) == 1
    assert parents[0].info.status == "KILLED", "no summary.md: the sweep never finished"
    for run_dir in sweep.glob("*-torch_export"):
        assert json.loads((run_dir / "tracking.json").read_text())["logged"] is True


@pytest.mark.parametrize(
    "argv, message",
    [
        (["{path}", "tracking.url=x"], "sync: unknown argument 'tracking.url=x'. Fix: give tracking.uri=URI"),
        (
            ["{path}/nowhere"],
            "sync: no folder at '{path}/nowhere'. Fix: give a run folder, a sweep folder or outputs/.",
        ),
    ],
)
def test_a_wrong_argument_or_folder_exits_2_naming_it(argv, message, tmp_path: Path, capsys) -> None:
    assert main([a.format(path=tmp_path) for a in argv]) == 2
    assert message.format(path=tmp_path) in capsys.readouterr().err
