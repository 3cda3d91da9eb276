"""A target computing below float32 is held to 3x the error eager PyTorch makes at that precision
(converter/job/precision.py), not to a fixed atol that depends on the scale of the model's outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from converter.errors import PrecisionReferenceError
from converter.job.precision import MULTIPLIER, PrecisionReference, measure, widened
from converter.job.validate import Tolerance
from converter.tensors.inputs import InputCase
from tests.checks import run_in_process
from tests.helpers import MaskedScores, ScaledLinear, WritesIntoFloat32


def _cases(features: int = 256) -> list[InputCase]:
    generator = torch.Generator().manual_seed(0)
    return [InputCase(f"case{n}", {"x": torch.rand(n, features, generator=generator)}) for n in (1, 4)]


def _call(module: torch.nn.Module):
    return lambda inputs: module(inputs["x"])


def test_the_yardstick_is_eager_under_autocast_at_the_targets_dtype() -> None:
    module = ScaledLinear().eval()
    cases = _cases()
    with torch.no_grad():
        references = [module(case.inputs["x"]) for case in cases]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            lowered = [module(case.inputs["x"]).float() for case in cases]
    expected = max(float((low - ref).abs().max()) for low, ref in zip(lowered, references, strict=True))

    measured = measure(_call(module), cases, references, "bfloat16", "cpu")

    assert measured == PrecisionReference("bfloat16", pytest.approx(expected, rel=1e-6))
    assert measured.eager_max_abs_error > 0.05, "outputs near 100 lose more than any fixed bf16 atol allowed"
    assert measured.to_dict()["atol"] == pytest.approx(MULTIPLIER * expected, rel=1e-6)


def test_an_overflow_at_the_precision_is_an_error_naming_the_output_and_case() -> None:
    module = ScaledLinear(scale=1e6).eval()
    cases = _cases()
    with torch.no_grad():
        references = [module(case.inputs["x"]) for case in cases]
    with pytest.raises(
        PrecisionReferenceError, match=r"non-finite values in output of case case1 .* overflows at float16"
    ):
        measure(_call(module), cases, references, "float16", "cpu")


def test_equal_infinities_at_both_precisions_are_no_error() -> None:
    """An attention mask's -inf is -inf at bf16 too: no overflow, and the scores' error is measured."""
    module = MaskedScores().eval()
    cases = _cases()
    with torch.no_grad():
        references = [module(case.inputs["x"]) for case in cases]
    measured = measure(_call(module), cases, references, "bfloat16", "cpu")
    assert 0.0 < measured.eager_max_abs_error < 0.1


def test_eager_raising_under_autocast_is_a_precision_reference_error_naming_why() -> None:
    module = WritesIntoFloat32().eval()
    cases = _cases()
    with torch.no_grad():
        references = [module(case.inputs["x"]) for case in cases]
    with pytest.raises(PrecisionReferenceError, match=r"at bfloat16 \(torch.autocast\) raised RuntimeError: .*dtype"):
        measure(_call(module), cases, references, "bfloat16", "cpu")


def test_widening_only_raises_the_atol_and_names_the_option() -> None:
    configured = Tolerance(1e-3, 1e-3, {"atol": "model.tolerance.atol", "rtol": "model.tolerance.rtol"})
    wide = widened(configured, PrecisionReference("bfloat16", 0.02), "export.options.precision=bf16")
    assert wide == Tolerance(
        pytest.approx(0.06), 1e-3, {"atol": "export.options.precision=bf16", "rtol": "model.tolerance.rtol"}
    )
    assert widened(configured, PrecisionReference("bfloat16", 1e-4), "export.options.precision=bf16") is configured


def _scaled_linear_on_openvino(tmp_path: Path, precision: str, *more: str):
    pytest.importorskip("openvino", reason="the 'openvino' extra is not installed")
    return run_in_process(
        tmp_path,
        "+model=classification",
        "model.loader._target_=tests.helpers.ScaledLinear",
        *more,
        "model.inputs.x.shape=[2,256]",
        "security.allowed_prefixes=[tests]",
        "export=openvino",
        f"export.options.precision={precision}",
        "tracking=off",
        "benchmark=off",
        "validate.num_random_inputs=0",
    )


def test_openvino_at_bf16_validates_large_outputs_a_fixed_atol_refused(tmp_path: Path) -> None:
    result = _scaled_linear_on_openvino(tmp_path, "bf16")
    assert result.ok, result.failure
    reference = result.validation["precision_reference"]
    assert reference["dtype"] == "bfloat16" and reference["multiplier"] == MULTIPLIER
    assert reference["eager_max_abs_error"] > 0.05
    assert result.validation["atol"] == reference["atol"] == MULTIPLIER * reference["eager_max_abs_error"]
    assert result.validation["tolerance_source"]["atol"] == "export.options.precision=bf16"
    assert "reference" in result.stages


def test_openvino_at_f16_on_a_model_that_overflows_there_fails_with_bf16_as_the_fix(tmp_path: Path) -> None:
    result = _scaled_linear_on_openvino(tmp_path, "f16", "+model.loader.scale=1e6")
    failure = result.failure
    assert (failure.stage, failure.type) == ("reference", "converter.errors.PrecisionReferenceError")
    assert (failure.category, failure.fix_overrides) == ("validation_mismatch", ["export.options.precision=bf16"])
    assert "overflows at float16" in failure.hint and "bf16 keeps float32's exponent range" in failure.hint


@pytest.mark.parametrize(
    ("backend", "dtype", "fix"),
    [
        ("openvino", "float16", "export.options.precision=bf16"),
        ("openvino", "bfloat16", "export.options.precision=f32"),
        ("tensorrt", "float16", "export.options.precision=fp32"),
    ],
)
def test_an_overflow_is_diagnosed_with_the_backends_next_precision(backend: str, dtype: str, fix: str) -> None:
    from converter.config.schema import ConverterConfig, ExportConfig, ModelConfig
    from converter.diagnosis import FailureContext, diagnose

    context = FailureContext(
        stage="reference",
        type="converter.errors.PrecisionReferenceError",
        message=f"eager PyTorch at {dtype} (torch.autocast) gives non-finite values in output of case example where "
        f"float32 gives finite ones: the model overflows at {dtype}, so a target computing at it cannot be validated",
        job=ConverterConfig(
            model=ModelConfig(name="m", loader={}, inputs={}), export=ExportConfig(backend=backend, strict=True)
        ),
    )
    diagnosis = diagnose(context)
    assert (diagnosis.category, diagnosis.fix_overrides) == ("validation_mismatch", [fix])


def test_eager_raising_under_autocast_is_diagnosed_with_full_precision_as_the_fix() -> None:
    from converter.config.schema import ConverterConfig, ExportConfig, ModelConfig
    from converter.diagnosis import FailureContext, diagnose

    context = FailureContext(
        stage="reference",
        type="converter.errors.PrecisionReferenceError",
        message="eager PyTorch at float16 (torch.autocast) raised RuntimeError: Index put requires the source and "
        "destination dtypes match; it sets the tolerance of a target computing at float16, which cannot be validated",
        job=ConverterConfig(
            model=ModelConfig(name="m", loader={}, inputs={}), export=ExportConfig(backend="openvino", strict=True)
        ),
    )
    diagnosis = diagnose(context)
    assert (diagnosis.category, diagnosis.fix_overrides) == ("validation_mismatch", ["export.options.precision=f32"])
    assert "agree on dtypes" in diagnosis.hint
