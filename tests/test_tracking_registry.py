"""tracking.register=true: validated artifacts become Model Registry versions, `latest-ok` follows the newest.

Against a real `mlflow server` (with a failed job that must not be registered): test_tracking's joblib sweep."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from converter.records.artifacts import sha256_of
from registry.toys import Classification

NAME = "classification-torch_export"


def _run_id(run) -> str:
    run_dir = Path(run.result()["artifact"]["path"]).parent
    return json.loads((run_dir / "tracking.json").read_text())["run_id"]


def _fetch_latest_ok(uri: str, destination: Path, monkeypatch) -> Path:
    """What a deployment job does: download `models:/NAME@latest-ok`, knowing no run id."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    return Path(
        mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{NAME}@latest-ok", dst_path=str(destination))
    )


def test_each_validated_run_is_a_version_and_latest_ok_moves_to_the_newest(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    register = ("tracking=default", f"tracking.uri={uri}", "tracking.register=true", "job.cache=false", "job=inprocess")
    first = run_cli("+model=classification", *register)
    first_run = _run_id(first)
    second = run_cli("+model=classification", *register)
    second_run, second_sha = _run_id(second), second.result()["artifact"]["sha256"]
    assert (first.returncode, second.returncode) == (0, 0), second.stderr[-2000:]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = {int(v.version): v for v in client.search_model_versions(f"name='{NAME}'")}
    assert sorted(versions) == [1, 2]
    assert (versions[1].run_id, versions[2].run_id) == (first_run, second_run)
    latest = client.get_model_version_by_alias(NAME, "latest-ok")
    assert int(latest.version) == 2 and latest.tags["max_abs_error"] == "0.0" and latest.tags["atol"] == "0.0001"
    assert [m.name for m in client.search_registered_models()] == [NAME]

    folder = _fetch_latest_ok(uri, tmp_path / "deploy", monkeypatch)
    artifact = folder / "model.pt2"
    assert sha256_of(artifact) == second_sha
    x = torch.rand(4, 320, 320)
    assert torch.export.load(str(artifact)).module()(x).shape == Classification()(x).shape


def test_registering_without_uploading_the_artifact_is_a_config_error(run_cli) -> None:
    run = run_cli(
        "+model=classification", "tracking=default", "tracking.register=true", "tracking.log_artifact_file=false"
    )
    assert run.returncode == 2
    assert run.stderr.startswith("Config error at 'tracking.register': registering needs the artifact in MLflow")
