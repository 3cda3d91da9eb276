"""An explicit value beats a model's default, and arguments to a target are checked before anything runs."""

from __future__ import annotations

import pytest

from converter.config.schema import DEFAULT_ATOL, ToleranceConfig, ValidateConfig
from converter.job.validate import effective_tolerance

MODEL_WITH_TOLERANCE = ToleranceConfig(atol=1e-3, rtol=2e-3)


@pytest.mark.parametrize(
    ("model", "validate", "expected"),
    [
        (
            MODEL_WITH_TOLERANCE,
            ValidateConfig(atol=None, rtol=None),
            (1e-3, 2e-3, "model.tolerance.atol", "model.tolerance.rtol"),
        ),
        (MODEL_WITH_TOLERANCE, ValidateConfig(atol=1e-9, rtol=0.0), (1e-9, 0.0, "validate.atol", "validate.rtol")),
        (
            MODEL_WITH_TOLERANCE,
            ValidateConfig(atol=1e-9, rtol=None),
            (1e-9, 2e-3, "validate.atol", "model.tolerance.rtol"),
        ),
        (None, ValidateConfig(atol=None, rtol=None), (DEFAULT_ATOL, DEFAULT_ATOL, "default", "default")),
    ],
)
def test_explicit_tolerance_beats_the_model_which_beats_the_default(model, validate, expected) -> None:
    tolerance = effective_tolerance(model, validate)
    assert (tolerance.atol, tolerance.rtol, tolerance.source["atol"], tolerance.source["rtol"]) == expected


def test_a_command_line_tolerance_is_the_one_validation_uses(run_cli) -> None:
    run = run_cli("+tiny=resnet18", "validate.atol=1e-9", "validate.rtol=0", "job=inprocess")
    assert run.returncode == 0, run.stderr[-2000:]
    validation = run.result()["validation"]
    assert (validation["atol"], validation["rtol"]) == (1e-9, 0.0)
    assert validation["tolerance_source"] == {"atol": "validate.atol", "rtol": "validate.rtol"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["+tiny=deeplabv3", "+model.loader.num_clases=3"],
            "Config error at 'model.loader.num_clases': 'registry.deeplab.build_deeplabv3' takes no argument "
            "'num_clases'. Fix: did you mean 'num_classes'? remove it, or use one of: variant, num_classes",
        ),
        (
            ["+tiny=deeplabv3", "+model.wrapper.kee=out"],
            "Config error at 'model.wrapper.kee': 'registry.common.SelectOutput' takes no argument 'kee'. "
            "Fix: did you mean 'key'? remove it, or use one of: model, key",
        ),
        (
            ["+model=classification", "+model.loader.width=3"],
            "Config error at 'model.loader.width': 'registry.toys.Classification' takes no argument 'width'. "
            "Fix: remove it, or use one of: none",
        ),
    ],
)
def test_a_misspelt_target_argument_is_a_config_error_before_anything_runs(overrides, message, run_cli) -> None:
    run = run_cli(*overrides)
    assert run.returncode == 2
    assert run.stderr.strip() == message
    assert not (run.cwd / "outputs").exists()


def test_a_keyword_a_target_passes_on_is_named_when_the_job_fails(run_cli) -> None:
    """torchvision's resnet18 takes **kwargs and hands them to ResNet: only the call can tell."""
    run = run_cli("+tiny=resnet18", "+model.loader.weightz=null")
    assert run.returncode == 1
    failure = run.result()["failure"]
    assert failure["stage"] == "load"
    assert failure["message"].startswith(
        "Config error at 'model.loader.weightz': 'torchvision.models.resnet18' (or what it calls) takes no argument"
    )
