"""The CLI as a user runs it: one process per job, real exports, artifacts reloaded from disk."""

import pytest
import torch

from tests.checks import check_ok_result

BACKENDS = ["torch_export", "torchscript_trace", "torchscript_script"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_classification_exports_and_validates_on_every_backend(backend: str, run_cli) -> None:
    run = run_cli("+model=classification", f"export={backend}")
    assert run.returncode == 0, run.stderr[-3000:]
    result = run.result()
    check_ok_result(result, backend)
    cases = {c["name"]: c for c in result["validation"]["cases"]}
    # the batch Dim [1, 16] is exercised at both ends and the middle
    assert [cases[f"dims[batch={b}]"]["shapes"]["x"][0] for b in (1, 8, 16)] == [1, 8, 16]
    assert result["validation"]["outputs"]["output"]["max_abs_error"] < 1e-4


def test_resnet18_dynamic_batch_with_torch_export(run_cli) -> None:
    run = run_cli("+model=resnet18", "model.inputs.x.shape=[2,3,64,64]", "validate.num_random_inputs=0")
    assert run.returncode == 0, run.stderr[-3000:]
    result = run.result()
    check_ok_result(result, "torch_export")
    assert result["versions"].get("torchvision")
    program = torch.export.load(result["artifact"]["path"])
    assert program.module()(torch.rand(5, 3, 64, 64)).shape == (5, 1000)


def test_static_export_reproduces_the_mvit_static_batch_failure(run_cli) -> None:
    """torchvision MViT's static batch, on a small model: exported without its Dim, the program refuses other batches."""
    run = run_cli("+model=classification", "export.dynamic=false")
    assert run.returncode == 1
    result = run.result()
    assert result["failure"]["stage"] == "validate"
    cases = {c["name"]: c for c in result["validation"]["cases"]}
    assert cases["example"]["passed"] is True
    assert "x.size()[0] == 3" in cases["dims[batch=1]"]["error"]  # torch 2.14 words it as a guard


def test_export_error_is_a_failed_result_with_the_exception_kept(run_cli) -> None:
    run = run_cli("+model=input_confirm", "export=torch_export")
    assert run.returncode == 1
    result = run.result()
    assert result["status"] == "failed"
    failure = result["failure"]
    assert failure["stage"] == "export"
    assert failure["type"].startswith("torch.")
    # export.strict=auto: strict failed, then non-strict, whose error is the one kept
    assert "Could not guard on data-dependent expression" in failure["message"] and "Traceback" in failure["traceback"]
    assert failure["category"] == "data_dependent"
    assert result["artifact"] is None and result["stages"]["export"] > 0


def test_multirun_runs_every_job_even_when_one_fails(run_cli) -> None:
    run = run_cli("--multirun", "+model=classification,input_confirm", "export=torchscript_trace")
    assert run.returncode == 1, "a failed job makes the sweep exit 1"
    statuses = {(r["model"], r["status"]) for r in run.results()}
    assert statuses == {("classification", "ok"), ("input_confirm", "failed")}


def test_user_model_from_config_dir_needs_no_engine_change(run_cli, user_model) -> None:
    conf = user_model(
        "dict_net",
        "# a user's model with a dict output, fixed by a wrapper\n"
        "name: dict_net\n"
        "loader: {_target_: tests.helpers.DictOutput}\n"
        "wrapper: {_target_: registry.common.SelectOutput, key: out}\n"
        "inputs:\n  x: {shape: [2, 4]}\n"
        "dynamic_shapes:\n  x: {0: {name: batch, min: 1, max: 8}}\n",
    )
    run = run_cli(
        "--config-dir",
        str(conf),
        "+model=dict_net",
        "export=torchscript_trace",
        "security.allowed_prefixes=[tests]",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    check_ok_result(run.result(), "torchscript_trace")


def test_dict_output_trace_fails_without_the_wrapper(run_cli, user_model) -> None:
    """DeepLabV3's dict: tracing refuses dict outputs until a wrapper returns one tensor."""
    conf = user_model(
        "dict_net", "name: dict_net\nloader: {_target_: tests.helpers.DictOutput}\ninputs:\n  x: {shape: [2, 4]}\n"
    )
    trusted = "security.allowed_prefixes=[tests]"
    run = run_cli("--config-dir", str(conf), "+model=dict_net", "export=torchscript_trace", trusted)
    assert run.returncode == 1
    failure = run.result()["failure"]
    assert (failure["stage"], failure["category"]) == ("export", "unsupported_output")
    assert failure["message"].startswith("Encountering a dict at the output of the tracer might cause the trace")
    # export.strict=false is the other fix: trace then keeps the dict, and validation compares both leaves
    run = run_cli(
        "--config-dir",
        str(conf),
        "+model=dict_net",
        "export=torchscript_trace",
        "export.strict=false",
        trusted,
    )
    assert run.returncode == 0, run.stderr[-2000:]
