"""export=executorch (converter/exporters/executorch.py): an XNNPACK-delegated .pte from the
torch.export program, run with ExecuTorch's runtime; a Dim the lowering narrows is recorded and
validated at the sizes that remain; graph facts give the delegated share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.checks import TEST_CONF, run_in_process

pytest.importorskip("executorch", reason="the 'executorch' extra is not installed")

QUICK = ["tracking=off", "benchmark=off", "validate.num_random_inputs=0", "export=executorch"]


def test_a_delegated_program_validates_and_says_what_xnnpack_took(tmp_path: Path) -> None:
    result = run_in_process(tmp_path, "+model=classification", *QUICK)
    assert result.ok, result.failure
    assert (Path(result.artifact.path) / "model.pte").is_file()
    assert [c["shapes"]["x"][0] for c in result.validation["cases"] if c["name"].startswith("dims")] == [1, 8, 16]
    assert result.graph["delegated_share"] == 1.0 and result.graph["not_delegated"] == {}


def test_without_a_delegate_nothing_is_delegated_and_the_portable_kernels_still_match(tmp_path: Path) -> None:
    result = run_in_process(tmp_path, "+model=classification", "export.options.delegate=none", *QUICK)
    assert result.ok, result.failure
    assert result.graph["delegated_share"] == 0.0
    assert "aten.sigmoid.default" in result.graph["not_delegated"]


def test_a_chunk_keeps_the_batch_dynamic_and_the_planned_bound_is_recorded(tmp_path: Path) -> None:
    """ExecuTorch's Edge verifier, run inside the lowering, pinned every Dim ahead of a chunk or split
    to the example's size: the program then refused batch 1 ("Attempted to resize a static tensor").
    XNNPACK's lowering plans this batch up to 15, which range_constraints does not show."""
    result = run_in_process(
        tmp_path,
        "+model=classification",
        "model.loader._target_=tests.helpers.GatedConvolution",
        "model.inputs.x.shape=[2,3,8,8]",
        "security.allowed_prefixes=[tests]",
        *QUICK,
    )
    assert result.ok, result.failure
    assert result.export_info["dims_supported"] == {"batch": {"min": 1, "max": 15, "declared_max": 16}}
    assert [c["shapes"]["x"][0] for c in result.validation["cases"] if c["name"].startswith("dims")] == [1, 8, 15]


def test_the_edge_verifier_still_refuses_a_mixed_dtype_cat_it_sees(tmp_path: Path) -> None:
    """It runs after the lowering now, on what the delegate did not take (here: all of it)."""
    result = run_in_process(
        tmp_path,
        "+model=classification",
        "model.loader._target_=tests.helpers.MixedDtypeCat",
        "security.allowed_prefixes=[tests]",
        "export.options.delegate=none",
        *QUICK,
    )
    assert (result.failure.stage, result.failure.type) == ("export", "torch._export.verifier.SpecViolationError")
    assert result.failure.category == "compiler_error"


def test_a_mixed_dtype_cat_of_a_delegates_output_converts_and_validates(tmp_path: Path) -> None:
    """The verifier, run on the lowered program, no longer sees the dtype of a value XNNPACK computes:
    the cat of SAM's integer labels with such a value is left to the portable kernel, which promotes as
    torch does. Inside the lowering the verifier refused it; validation against eager judges it now."""
    result = run_in_process(
        tmp_path,
        "--config-dir",
        TEST_CONF,
        "+model=labels_beside_scores",
        "security.allowed_prefixes=[tests]",
        *QUICK,
    )
    assert result.ok, result.failure
    assert result.graph["not_delegated"]["aten.cat.default"] == 1  # the cat stays outside XNNPACK
    assert result.validation["passed"] is True


def test_a_dim_the_lowering_makes_static_is_recorded_as_its_one_size() -> None:
    import torch
    from torch.export import Dim

    from converter.exporters.executorch import dims_supported

    class Node:
        op, name = "placeholder", "x"
        meta = {"val": torch.empty(2, 3)}  # a plain size where the Dim stood

    lowered = type(
        "Lowered",
        (),
        {"graph": type("Graph", (), {"nodes": [Node]}), "graph_signature": type("Sig", (), {"user_inputs": ["x"]})},
    )
    supported = dims_supported({"x": {0: Dim("batch", min=1, max=16)}}, lowered)
    assert supported == {"batch": {"min": 2, "max": 2, "declared_min": 1, "declared_max": 16}}


@pytest.mark.slow  # resnet18 lowered to XNNPACK (30 s); the delegated program test runs by default
def test_a_dim_the_lowering_narrows_is_recorded_and_validated_at_the_sizes_that_remain(tmp_path: Path) -> None:
    """XNNPACK bounds resnet18's batch at 15 whatever the Dim's max."""
    result = run_in_process(tmp_path, "+tiny=resnet18", "model.dynamic_shapes.x={0:{name:batch,min:1,max:32}}", *QUICK)
    assert result.ok, result.failure
    assert result.export_info["dims_supported"] == {"batch": {"min": 1, "max": 15, "declared_max": 32}}
    assert [c["shapes"]["x"][0] for c in result.validation["cases"] if c["name"].startswith("dims")] == [1, 8, 15]


def test_an_unknown_delegate_is_a_config_error(run_cli) -> None:
    run = run_cli("+model=classification", "export=executorch", "export.options.delegate=qnn")
    assert run.returncode == 2
    assert "delegate 'qnn' is not one of xnnpack, none" in run.stderr


def test_operators_are_named_by_their_overload_never_by_an_address() -> None:
    """A torch OpOverload (aten.sym_size.int, left outside a delegate where a Dim stays symbolic)
    carries a pybind11 function as `_op`: named by it, the operator escaped the list of
    non-operators and its name held a memory address."""
    import operator

    import torch
    from executorch.exir.dialects._ops import ops as exir_ops

    from converter.exporters.executorch import _op_name, left_out_operators

    assert _op_name(torch.ops.aten.sym_size.int) == "aten.sym_size.int"
    assert _op_name(exir_ops.edge.aten.convolution.default) == "aten.convolution.default"
    assert _op_name(operator.add) == "add"

    class Graph:  # the one attribute left_out_operators reads
        nodes = [
            type("Node", (), {"op": "call_function", "target": target})()
            for target in (torch.ops.aten.sym_size.int, exir_ops.edge.aten.mul.Tensor)
        ]

    assert left_out_operators(type("Lowered", (), {"graph": Graph})()) == {"aten.mul.Tensor": 1}


@pytest.mark.slow  # YOLO11n-pose lowered twice (90 s)
def test_yolos_raw_maps_are_diagnosed_and_returning_its_predictions_alone_is_verified(run_cli) -> None:
    """XNNPACK refuses a partition returning one tensor twice (YOLO's head returns its keypoint maps
    and decodes them too); the model's decoded predictions alone lower, with the batch dynamic."""
    run = run_cli("+tiny=yolo11_pose", "export=executorch", "diagnosis.verify_fix=true", "validate.num_random_inputs=0")
    assert run.returncode == 1, run.stderr[-2000:]
    failure = run.result()["failure"]
    assert failure["category"] == "unsupported_output"
    assert failure["fix_overrides"] == ["model.wrapper={_target_:registry.common.SelectOutput,key:0}"]
    assert failure["fix"]["verified"] == "passed"
    follow_up = json.loads((Path(failure["fix"]["run_dir"]) / "result.json").read_text())
    assert follow_up["status"] == "ok"
    assert follow_up["export_info"] is None  # no Dim narrowed
    cases = follow_up["validation"]["cases"]
    assert [c["shapes"]["images"][0] for c in cases if c["name"].startswith("dims")] == [1, 2, 4]
