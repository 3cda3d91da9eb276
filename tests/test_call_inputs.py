"""Keyword, constant and list-of-tensor inputs through every backend that takes them: eager,
validation and the benchmark call the artifact the way eager is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.cli.preflight import compose_jobs, parse_argv
from converter.job.pipeline import run_job
from tests.checks import TEST_CONF

QUICK = ["--config-dir", TEST_CONF, "security.allowed_prefixes=[tests]", "tracking=off", "benchmark=quick"]
QUICK += ["benchmark.peak=false", "benchmark.cold_start=false", "benchmark.min_time_s=0", "benchmark.min_iterations=2"]

CASES = [
    ("fn_with_kwargs", "torch_export"),
    ("fn_with_kwargs", "torchscript_trace"),
    ("fn_with_kwargs", "onnx"),
    ("flip_and_shift", "torch_export"),
    ("flip_and_shift", "torchscript_trace"),
    ("flip_and_shift", "torchscript_script"),
    ("flip_and_shift", "onnx"),
    ("sum_images", "torch_export"),
    ("sum_images", "torchscript_trace"),
    ("sum_images", "torchscript_script"),
    ("sum_images", "onnx"),
]


@pytest.mark.parametrize("model, backend", CASES)
def test_the_artifact_is_called_as_eager_is(model: str, backend: str, tmp_path: Path) -> None:
    (job,) = compose_jobs(parse_argv([*QUICK, f"+model={model}", f"export={backend}"])).jobs
    result = run_job(job, tmp_path / "run")
    assert result.ok, result.failure
    assert result.validation["passed"] is True
    assert result.benchmark["speedup"] > 0
    if model == "flip_and_shift":  # the dynamic batch kept alongside the constant and the keyword
        assert [c["shapes"]["x"][0] for c in result.validation["cases"] if c["name"].startswith("dims")] == [1, 4, 8]
    if model == "sum_images":
        assert result.validation["cases"][0]["shapes"]["images"] == [[3, 16, 16]] * 3


def test_a_keyword_only_parameter_is_passed_by_its_name_without_keyword_true(tmp_path: Path) -> None:
    """ExportDB's failure mode (a keyword-only argument passed by position) cannot happen: the input
    named mykw0 reaches forward's mykw0, and result.json records how each input was passed."""
    (job,) = compose_jobs(parse_argv([*QUICK, "+model=fn_with_kwargs", "model.inputs.mykw0.keyword=false"])).jobs
    result = run_job(job, tmp_path / "run")
    assert result.ok, result.failure
    assert result.input_passing == {
        "pos0": "positional[0]",
        "tuple0": "positional[1]",
        "myargs0": "positional[2]",
        "myargs1": "positional[3]",
        "mykw0": "keyword",
        "input0": "keyword",
        "input1": "keyword",
    }


def test_a_call_is_split_as_declared_and_dims_go_by_parameter_name() -> None:
    """converter/tensors/calls.py alone: ExportDB's fn_with_kwargs signature, dims keyed as torch.export wants."""
    from converter.config.schema import InputConfig
    from converter.tensors.calls import by_parameter, constant_names, plain_call, split

    def forward(pos0, tuple0, *myargs, mykw0, **mykwargs): ...

    class Module:
        pass

    module = Module()
    module.forward = forward
    specs = {
        "pos0": InputConfig(shape=[4]),
        "tuple0": InputConfig(shape=[4]),
        "extra": InputConfig(shape=[4]),
        "mykw0": InputConfig(shape=[4], keyword=True),
        "input0": InputConfig(shape=[4], keyword=True),
        "flag": InputConfig(constant=True, value=True),
    }
    values = {name: name for name in specs}
    assert split(specs, values) == (("pos0", "tuple0", "extra", "flag"), {"mykw0": "mykw0", "input0": "input0"})
    assert (constant_names(specs), plain_call(specs)) == (["flag"], False)
    per_input = {name: f"dims:{name}" for name in specs}
    assert by_parameter(module, specs, per_input) == {
        "pos0": "dims:pos0",
        "tuple0": "dims:tuple0",
        "mykw0": "dims:mykw0",
        "mykwargs": {"input0": "dims:input0"},
        "myargs": ("dims:extra", "dims:flag"),
    }
