"""export=openvino (converter/exporters/openvino.py): the torch.export program as OpenVINO IR,
exactly its dynamic dims kept dynamic, f32 and uncompressed unless asked, validated like every target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.checks import run_in_process

pytest.importorskip("openvino", reason="the 'openvino' extra is not installed")

QUICK = ["tracking=off", "benchmark=off", "validate.num_random_inputs=0", "export=openvino"]


def test_the_ir_keeps_exactly_the_programs_dynamic_dims_and_validates_at_each_size(tmp_path: Path) -> None:
    import openvino

    result = run_in_process(tmp_path, "+model=classification", *QUICK)
    assert result.ok, result.failure
    assert [c["shapes"]["x"][0] for c in result.validation["cases"] if c["name"].startswith("dims")] == [1, 8, 16]
    model = openvino.Core().read_model(str(Path(result.artifact.path) / "model.xml"))
    shape = model.inputs[0].get_partial_shape()
    assert shape[0].is_dynamic and [int(str(d)) for d in list(shape)[1:]] == [320, 320]
    assert result.graph["symbolic_dims"] == 1
    assert result.export_info["precision"] == "f32"


def test_a_dict_output_comes_back_as_eagers_dict(tmp_path: Path) -> None:
    result = run_in_process(
        tmp_path,
        "+model=classification",
        "model.loader._target_=tests.helpers.DictOutput",
        "model.inputs.x.shape=[2,4]",
        "security.allowed_prefixes=[tests]",
        *QUICK,
    )
    assert result.ok, result.failure
    assert sorted(result.validation["outputs"]) == ["output['aux']", "output['out']"]


def test_a_reduced_precision_widens_the_tolerance_to_three_times_eagers_error_at_it_and_says_so(
    tmp_path: Path,
) -> None:
    result = run_in_process(tmp_path, "+model=classification", "export.options.precision=bf16", *QUICK)
    assert result.ok, result.failure
    reference = result.validation["precision_reference"]
    assert reference["dtype"] == "bfloat16" and reference["eager_max_abs_error"] > 1e-3
    assert result.validation["atol"] == reference["atol"] == 3 * reference["eager_max_abs_error"]
    assert result.validation["tolerance_source"]["atol"] == "export.options.precision=bf16"
    sidecar = json.loads((Path(result.artifact.path) / "converter.json").read_text())
    assert sidecar["precision"] == "bf16"


def test_weights_stay_fp32_unless_compression_is_asked(tmp_path: Path) -> None:
    full = run_in_process(tmp_path / "full", "+model=classification", *QUICK)
    half = run_in_process(tmp_path / "half", "+model=classification", "export.options.compress_weights=true", *QUICK)
    assert full.ok and half.ok
    sizes = [(Path(r.artifact.path) / "model.bin").stat().st_size for r in (full, half)]
    assert 0.45 < sizes[1] / sizes[0] < 0.55


def test_an_unknown_precision_is_a_config_error(run_cli) -> None:
    run = run_cli("+model=classification", "export=openvino", "export.options.precision=int3")
    assert run.returncode == 2
    assert "precision 'int3' is not one of f32, bf16, f16" in run.stderr
