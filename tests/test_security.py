"""Hostile configs and files are refused before anything runs; secrets from the environment stay out of records."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from registry.toys import Classification

HOSTILE = {
    "os.system": lambda tmp: [f"+model.loader.command='touch {tmp / 'pwned'}'"],
    "shutil.rmtree": lambda tmp: [f"+model.loader.path={tmp / 'victim'}"],
    "builtins.exec": lambda tmp: [f'+model.loader.source=\'open("{tmp / "pwned"}", "w")\''],
    "pathlib.Path.unlink": lambda tmp: [f"+model.loader.self={tmp / 'victim' / 'keep.txt'}"],
}


@pytest.mark.guarantee(
    "A config names code outside the allowlist (`os.system`, `shutil.rmtree`, `builtins.exec`, `pathlib.Path.unlink`)",
    "exit 2 before anything is imported, naming the key and how to allow it; no side effect",
)
@pytest.mark.parametrize("target", sorted(HOSTILE))
def test_a_hostile_loader_target_is_refused_with_no_side_effect(target: str, run_cli, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("still here")
    run = run_cli("+model=classification", f"model.loader._target_={target}", *HOSTILE[target](tmp_path))
    assert run.returncode == 2
    assert run.stderr.startswith(f"Config error at 'model.loader._target_': '{target}' is outside the modules")
    assert f"security.allowed_prefixes=[{target.split('.')[0]}]" in run.stderr and "Traceback" not in run.stderr
    assert (victim / "keep.txt").read_text() == "still here" and not (tmp_path / "pwned").exists()
    assert not (tmp_path / "outputs").exists()


@pytest.mark.guarantee(
    "A model YAML widens the allowlist or installs a Hydra callback",
    "exit 2: only the command line widens `security.allowed_prefixes`",
)
def test_a_model_yaml_cannot_widen_the_allowlist_or_install_callbacks(run_cli, user_model) -> None:
    conf = user_model(
        "sneaky",
        "# @package _global_\nmodel:\n  name: sneaky\n  loader: {_target_: os.getcwd}\n  inputs:\n    x: {shape: [2]}\n"
        "security:\n  allowed_prefixes: [os]\n",
    )
    run = run_cli("--config-dir", str(conf), "+model=sneaky")
    assert run.returncode == 2
    assert run.stderr.startswith("Config error at 'security.allowed_prefixes': a config file sets ['os']")
    user_model(
        "hooked",
        "# @package _global_\nmodel:\n  name: hooked\n  loader: {_target_: registry.toys.Classification}\n"
        "  inputs:\n    x: {shape: [2, 320]}\nhydra:\n  callbacks:\n    evil: {_target_: os.system, command: ls}\n",
    )
    run = run_cli("--config-dir", str(conf), "+model=hooked")
    assert run.returncode == 2 and run.stderr.startswith("Config error at 'hydra.callbacks.evil._target_'")


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.guarantee("A checkpoint pickle carries code", "exit 2, naming the globals it would call; nothing loaded")
def test_a_checkpoint_that_carries_code_is_refused(run_cli, tmp_path: Path) -> None:
    checkpoint = tmp_path / "evil.pt"
    torch.save({"state_dict": Classification().state_dict(), "hook": Payload()}, checkpoint)
    run = run_cli("+model=classification", f"model.checkpoint={checkpoint}")
    assert run.returncode == 2
    assert run.stderr.startswith(f"Config error at 'model.checkpoint': '{checkpoint}' is a pickle that names code (")
    assert "system" in run.stderr and not (tmp_path / "outputs").exists()


@pytest.mark.guarantee("`model.checkpoint` is not a checkpoint (`/etc/passwd`)", "exit 2 with one clear paragraph")
def test_a_file_that_is_not_a_checkpoint_gets_a_clear_message(run_cli) -> None:
    run = run_cli("+model=classification", "model.checkpoint=/etc/passwd")
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "Config error at 'model.checkpoint': '/etc/passwd' is not a checkpoint (neither a torch.save file nor a "
        ".safetensors file). Fix: give a state dict saved with torch.save(model.state_dict(), PATH) or "
        "safetensors' save_file"
    )


def test_safetensors_checkpoints_load_through_safetensors(run_cli, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    torch.manual_seed(7)
    trained = Classification()
    checkpoint = tmp_path / "weights.safetensors"
    save_file(trained.state_dict(), str(checkpoint))
    run = run_cli("+model=classification", f"model.checkpoint={checkpoint}", "export=torchscript_trace")
    assert run.returncode == 0, run.stderr[-2000:]
    x = torch.rand(2, 320)
    assert torch.allclose(torch.jit.load(run.result()["artifact"]["path"])(x), trained(x))


@pytest.mark.guarantee(
    "A config reads a secret with `${oc.env:...}`",
    "recorded as `<from environment>` in result.json, MLflow params and the logged config",
)
def test_values_from_the_environment_never_reach_mlflow_or_result_json(run_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONVERTER_TEST_SECRET", "s3cret-token")
    run = run_cli("+model=classification", "tracking=default", "model.library=${oc.env:CONVERTER_TEST_SECRET}")
    assert run.returncode == 0, run.stderr[-2000:]
    result = run.result()
    assert result["config"]["model"]["library"] == "<from environment>"
    assert result["config"]["tracking"]["uri"] == "<from environment>"  # CONVERTER_TRACKING_URI, set by run_cli
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    (mlrun,) = client.search_runs([client.get_experiment_by_name("classification").experiment_id])
    assert mlrun.data.params["model.library"] == "<from environment>"
    everything = json.dumps(mlrun.data.params) + json.dumps(mlrun.data.tags)
    assert "s3cret-token" not in everything and str(tmp_path / "mlflow.db") not in json.dumps(mlrun.data.params)
    logged_config = Path(client.download_artifacts(mlrun.info.run_id, "config.yaml", str(tmp_path))).read_text()
    assert "s3cret-token" not in logged_config
