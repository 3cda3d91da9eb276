"""converter.cli.single_run: one job without --multirun is composed once (Hydra's own run composes
three times and preflight a fourth), checked before anything is written, and run as Hydra runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.cli.preflight import parse_argv
from converter.cli.single_run import run_single
from converter.errors import ConfigError


@pytest.fixture
def compositions(monkeypatch) -> list:
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    calls: list = []
    original = ConfigLoaderImpl.load_configuration

    def counted(self, config_name, overrides, *args, **kwargs):
        calls.append(list(overrides))
        return original(self, config_name, overrides, *args, **kwargs)

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration", counted)
    return calls


def test_one_job_is_composed_once_and_run_in_hydras_run_folder(compositions, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    seen = []

    def task(cfg) -> str:
        from hydra.core.hydra_config import HydraConfig

        seen.append((cfg.model.name, cfg.export.backend, Path(HydraConfig.get().runtime.output_dir)))
        return "ok"

    args = parse_argv(["+model=classification", "export=onnx", "tracking=off", "job=inprocess"])
    run_dir = run_single(args, task)
    assert len(compositions) == 1, compositions
    assert seen == [("classification", "onnx", run_dir)]
    assert run_dir.is_dir() and (run_dir / ".hydra" / "config.yaml").is_file()
    assert run_dir.is_relative_to(tmp_path / "outputs" / "runs")


def test_a_config_error_is_raised_before_anything_is_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = parse_argv(["+model=classification", "validate.atol=-1", "tracking=off"])
    with pytest.raises(ConfigError) as caught:
        run_single(args, lambda cfg: pytest.fail("the task must not run"))
    assert caught.value.key == "validate.atol"
    assert list(tmp_path.iterdir()) == []


def test_no_model_selected_runs_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_single(parse_argv(["tracking=off"]), lambda cfg: pytest.fail("nothing to run")) is None
    assert list(tmp_path.iterdir()) == []


def test_the_launching_process_types_the_job_once_from_check_to_artifact(tmp_path: Path, monkeypatch) -> None:
    """The preflight's check and the task share one typed config; the in-process pipeline takes it."""
    import converter.config.job_spec as job_spec
    from converter.sweep.task import task

    monkeypatch.chdir(tmp_path)
    typed = []
    original = job_spec.job_config
    monkeypatch.setattr(job_spec, "job_config", lambda job: typed.append(job["model"]["name"]) or original(job))
    monkeypatch.setattr(job_spec, "_TYPED", {})
    overrides = ["+model=classification", "export=torchscript_trace", "tracking=off", "job=inprocess"]
    run_dir = run_single(parse_argv([*overrides, "benchmark=off", "validate.num_random_inputs=0"]), task)
    assert typed == ["classification"]
    assert (run_dir / "model.pt").is_file()
