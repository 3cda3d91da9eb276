"""converter's submitit_slurm preset: every key the plugin's schema has, sized from the job's own limits."""

from __future__ import annotations

import dataclasses

import pytest
from omegaconf import OmegaConf

from converter.sweep.isolation import slurm, slurm_limits
from tests.conftest import REPO

PRESET = REPO / "conf" / "hydra" / "launcher" / "submitit_slurm.yaml"


def composed(*overrides: str):
    """The job's config with Hydra's own section, composed as the CLI composes it."""
    from hydra import compose, initialize_config_dir

    from converter.cli.preflight import CONF_DIR, CONFIG_NAME
    from converter.config.schema import register_schema

    register_schema()
    slurm_limits.register_preset_support()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(CONFIG_NAME, list(overrides), return_hydra_config=True)


def test_the_preset_has_every_key_of_the_plugins_schema_and_names_converters_launcher() -> None:
    from hydra_plugins.hydra_submitit_launcher.config import SlurmQueueConf

    preset = OmegaConf.load(PRESET)
    assert set(preset) == {f.name for f in dataclasses.fields(SlurmQueueConf)}
    assert preset["_target_"] == "hydra_plugins.converter_launcher.slurm_launcher.SlurmLauncher"
    assert preset["max_num_timeout"] == 0, "a job Slurm times out is a result, never requeued"


@pytest.mark.parametrize(("max_memory_mb", "gb"), [(None, 5), (1500, 3), (3072, 4), (16384, 17)])
def test_memory_is_the_jobs_cap_plus_the_supervisor_in_whole_gib(max_memory_mb, gb: int) -> None:
    assert slurm_limits.memory_gb(max_memory_mb) == gb


def test_the_time_limit_covers_the_job_and_each_verified_fix_follow_up() -> None:
    assert slurm_limits.time_limit_min(3600, False, 3) == 65
    assert slurm_limits.time_limit_min(3600, True, 3) == 245
    assert slurm_limits.time_limit_min(20, True, 0) == 6


def test_cpus_follow_benchmark_threads() -> None:
    assert (slurm_limits.cpus(None), slurm_limits.cpus(4)) == (1, 4)


def test_the_composed_launcher_config_follows_the_jobs_settings() -> None:
    cfg = composed(
        "+model=classification",
        "hydra/launcher=submitit_slurm",
        "job.max_memory_mb=3072",
        "job.timeout_s=120",
        "diagnosis.verify_fix=false",
        "benchmark.threads=2",
    )
    launcher = cfg.hydra.launcher
    assert (launcher.mem_gb, launcher.timeout_min, launcher.cpus_per_task) == (4, 7, 2)
    assert launcher._target_.endswith("converter_launcher.slurm_launcher.SlurmLauncher")


def test_a_job_outside_slurm_has_no_slurm_end(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        monkeypatch.delenv(name, raising=False)
    assert slurm.own_slurm_end() is None and slurm.this_slurm_job() is None


def test_an_array_task_is_named_by_its_array_and_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "20")  # the array's last task shares the array's id
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "20")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "5")
    assert slurm.this_slurm_job() == "20_5"


def test_submitits_time_limit_warning_is_a_timeout_and_a_preemption_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from submitit.core.utils import UncompletedJobError

    monkeypatch.setenv("SLURM_JOB_ID", "7")
    assert slurm.slurm_warning(UncompletedJobError("Job not requeued because: timed-out too many times.")) == "TIMEOUT"
    assert slurm.slurm_warning(UncompletedJobError("Job not requeued because: preempted.")) == "PREEMPTED"
    assert slurm.slurm_warning(RuntimeError("timed-out")) is None
    status, failure = slurm.slurm_failure("TIMEOUT", "export", 30)
    assert (status, failure.category, failure.fix_overrides) == (
        "timeout",
        "timeout",
        ["hydra.launcher.timeout_min=60"],
    )
    status, failure = slurm.slurm_failure("CANCELLED by 0", "reference", 30)
    assert (status, failure.type, failure.fix_overrides) == ("crashed", "converter.slurm.CANCELLED", [])


def test_a_job_slurm_killed_before_its_supervisor_wrote_anything_gets_a_record(tmp_path) -> None:
    """The launcher's fallback (SIGKILL of the whole Slurm job, a failed node): the record is written
    from the stage file the job left, with Slurm's state; a record the job wrote itself stands."""
    import json

    from converter.records import stage
    from converter.sweep.task import record_slurm_end

    cfg = composed(
        "+model=classification", "hydra/launcher=submitit_slurm", "tracking=off", "hydra.launcher.timeout_min=30"
    )
    stage.announce(tmp_path, "export", {"load": 0.5, "reference": 0.25})
    assert record_slurm_end(cfg, tmp_path, "NODE_FAIL", None) == "crashed"
    result = json.loads((tmp_path / "result.json").read_text())
    assert (result["model"], result["backend"], result["status"]) == ("classification", "torch_export", "crashed")
    assert result["failure"]["stage"] == "export" and result["stages"] == {"load": 0.5, "reference": 0.25}
    assert result["process"]["slurm_state"] == "NODE_FAIL" and result["failure"]["type"] == "converter.slurm.NODE_FAIL"
    assert not (tmp_path / ".stage.json").exists()
    assert record_slurm_end(cfg, tmp_path, "TIMEOUT", None) == "crashed", "the first record stands"
