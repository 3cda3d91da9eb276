"""Keyword, constant and list-of-tensor inputs through every backend that takes them: eager,
validation and the benchmark call the artifact the way eager is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.preflight import compose_jobs, parse_argv
from converter.runner import run_job

TEST_CONF = Path(__file__).resolve().parent / "conf"
QUICK = ["--config-dir", str(TEST_CONF), "security.allowed_prefixes=[tests]", "tracking=off", "benchmark=quick"]
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


def test_a_keyword_only_argument_passed_positionally_fails_as_eager_would(tmp_path: Path) -> None:
    """ExportDB's failure mode: without `keyword: true` the call misses mykw0."""
    (job,) = compose_jobs(parse_argv([*QUICK, "+model=fn_with_kwargs", "model.inputs.mykw0.keyword=false"])).jobs
    result = run_job(job, tmp_path / "run")
    assert result.failure.stage == "reference"
    assert "missing 1 required keyword-only argument: 'mykw0'" in result.failure.message
