"""converter.job.config_checks: a composed job checked section by section before anything is
imported or written; independent errors reported at once, each naming its key and fix."""

from __future__ import annotations

import pytest

from converter.config.composition import CONF_DIR, CONFIG_NAME
from converter.config.schema import register_schema
from converter.errors import ConfigError, ConfigErrors
from converter.job.config_checks import check_job


def _composed(*overrides: str):
    from hydra import compose, initialize_config_dir

    register_schema()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="test"):
        return compose(CONFIG_NAME, list(overrides))


def test_a_valid_job_passes() -> None:
    check_job(_composed("+model=classification", "export=onnx"))


def test_errors_of_independent_sections_are_reported_at_once() -> None:
    cfg = _composed("+model=classification", "validate.atol=-1", "job.timeout_s=0", "device=tpu")
    with pytest.raises(ConfigErrors) as caught:
        check_job(cfg)
    assert [error.key for error in caught.value.errors] == ["validate.atol", "job.timeout_s", "device"]
    assert caught.value.paragraph().splitlines() == [
        "Config error at 'validate.atol': -1.0 is out of range. Fix: give null (the model's tolerance) or a "
        "tolerance of 0 or more",
        "Config error at 'job.timeout_s': 0.0 is out of range. Fix: give more than 0 seconds",
        "Config error at 'device': 'tpu' is not a device converter runs on. Fix: use device=cpu, device=cuda or "
        "device=cuda:N",
    ]
    assert caught.value.key == "validate.atol", "the first error stands for all where one key is expected"


def test_one_error_is_reported_as_itself() -> None:
    with pytest.raises(ConfigError) as caught:
        check_job(_composed("+model=classification", "export=onnx", "export.options.opset=banana"))
    assert not isinstance(caught.value, ConfigErrors)
    assert caught.value.key.startswith("export.options")


def test_a_model_input_without_shape_or_factory_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        check_job(_composed("+model=classification", "model.inputs.x.shape=null"))
    assert (caught.value.key, caught.value.problem) == ("model.inputs.x", "the input has neither a shape nor a factory")


@pytest.mark.guarantee(
    "Several config values are wrong at once",
    "every wrong section is named with its fix in one go (one paragraph each), exit 2, nothing written",
)
def test_the_cli_prints_every_error_and_exits_2(run_cli) -> None:
    run = run_cli("+model=classification", "validate.rtol=-2", "device=gpu")
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.startswith("Config error")]
    assert [line.split("'")[1] for line in lines] == ["validate.rtol", "device"]
    assert not (run.cwd / "outputs").exists()
