"""Graph facts for every artifact: operator histogram, non-core ATen and custom operators,
run-time asserts, symbolic dims, parameters; in result.json, MLflow metrics and the summary."""

from __future__ import annotations

from pathlib import Path

from converter.reporting.summary import graph_facts_markdown
from converter.tracking.job_run import job_metrics
from tests.checks import run_in_process

QUICK = ["benchmark=off", "tracking=off", "security.allowed_prefixes=[tests]", "validate=off"]


def facts(tmp_path: Path, *overrides: str) -> dict:
    result = run_in_process(tmp_path / "run", *overrides, *QUICK)
    assert result.ok, result.failure
    return result.to_dict()


def toy(target: str, *more: str) -> list:
    return [
        "+model=classification",
        "model.name=toy",
        "~model.dynamic_shapes.x",
        "model.inputs.x.shape=[2,8]",
        f"model.loader._target_={target}",
        *more,
    ]


def test_an_exported_program_reports_its_operators_dims_and_parameters(tmp_path: Path) -> None:
    result = facts(tmp_path, "+model=classification")
    graph = result["graph"]
    # Linear 320->160, Linear 160->2: 51,682 float32 parameters
    assert (graph["parameters"], graph["parameter_bytes"]) == (51_682, 51_682 * 4)
    assert graph["operators"] == {"aten.linear.default": 2, "aten.sigmoid.default": 1}
    assert graph["non_core_aten_ops"] == ["aten.linear.default"]  # addmm is core; linear is not
    assert (graph["custom_ops"], graph["runtime_asserts"], graph["symbolic_dims"]) == ([], 0, 1)
    metrics = job_metrics(result, None)
    assert (metrics["graph/non_core_aten_ops"], metrics["graph/symbolic_dims"], metrics["graph/parameters"]) == (
        1,
        1,
        51_682,
    )
    table = "\n".join(graph_facts_markdown([result]))
    assert "| classification | torch_export | 3 | 1 | 0 | 0 | 1 | 51,682 (0.2 MiB) |" in table


def test_a_torch_check_on_a_value_is_one_run_time_assert(tmp_path: Path) -> None:
    graph = facts(tmp_path, *toy("tests.broken.ChecksAValue"))["graph"]
    assert graph["runtime_asserts"] == 1 and graph["operators"]["aten._assert_scalar.default"] == 1
    assert graph["symbolic_dims"] == 0


def test_a_custom_operator_is_named_in_a_trace(tmp_path: Path) -> None:
    graph = facts(tmp_path, *toy("tests.broken.CustomOp", "export=torchscript_trace"))["graph"]
    assert graph["custom_ops"] == ["converter_tests::scaled"]
    assert (graph["non_core_aten_ops"], graph["symbolic_dims"]) == (None, None)
    assert graph["operators"]["converter_tests::scaled"] == 1


def test_a_script_counts_the_nodes_inside_its_branches(tmp_path: Path) -> None:
    graph = facts(tmp_path, "+tiny=input_confirm", "export=torchscript_script")["graph"]
    assert graph["operators"]["prim::If"] == 1
    assert graph["operators"]["aten::neg"] == 1  # only inside the else branch
